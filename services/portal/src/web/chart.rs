//! The chart of budget against spend over time, as inline SVG with the same figures in a
//! table for screen readers and for print: the picture is marked `aria-hidden` because the
//! table says everything it shows, in order.

use rust_decimal::Decimal;

use super::html::escape;
use super::words::pounds;

/// One month: what the budget meant to spend and what was spent.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    /// "April 2026".
    pub label: String,
    pub budget: Decimal,
    pub spent: Decimal,
}

// The drawing's geometry in user units, in decimals like every other number here (the
// workspace refuses floating point).
const WIDTH: i64 = 640;
const HEIGHT: i64 = 300;
const LEFT: i64 = 20;
const BOTTOM: i64 = 260;
const TOP: i64 = 20;

/// A figure with the bar chart and its table; empty input gives a sentence instead.
pub fn budget_against_spend(months: &[Month]) -> String {
    if months.is_empty() {
        return "<p>There is nothing to show in a chart yet.</p>\n".to_owned();
    }
    let highest = months
        .iter()
        .flat_map(|month| [month.budget, month.spent])
        .max()
        .unwrap_or_default()
        .max(Decimal::ONE);
    let drawn = Decimal::from(BOTTOM - TOP);
    let scale = |amount: Decimal| -> Decimal {
        (amount.max(Decimal::ZERO) / highest).min(Decimal::ONE) * drawn
    };
    let count = Decimal::from(months.len());
    let slot = Decimal::from(WIDTH - LEFT) / count;
    let bar = (slot / Decimal::from(3)).min(Decimal::from(60));
    let one_place = |value: Decimal| value.round_dp(1);
    let mut bars = String::new();
    for (index, month) in months.iter().enumerate() {
        let x = Decimal::from(LEFT) + slot * Decimal::from(index) + slot / Decimal::from(6);
        let budget = scale(month.budget);
        let spent = scale(month.spent);
        bars.push_str(&format!(
            "<rect x=\"{x}\" y=\"{by}\" width=\"{bar}\" height=\"{budget}\" fill=\"#1d3f91\"/>\
             <rect x=\"{sx}\" y=\"{sy}\" width=\"{bar}\" height=\"{spent}\" fill=\"#00703c\"/>\
             <text x=\"{sx}\" y=\"{ty}\" font-size=\"14\" text-anchor=\"middle\" fill=\"#0b0c0c\">{label}</text>\n",
            x = one_place(x),
            by = one_place(Decimal::from(BOTTOM) - budget),
            bar = one_place(bar),
            budget = one_place(budget),
            sx = one_place(x + bar),
            sy = one_place(Decimal::from(BOTTOM) - spent),
            spent = one_place(spent),
            ty = BOTTOM + 20,
            label = escape(month.label.split(' ').next().unwrap_or_default()),
        ));
    }
    let mut rows = String::new();
    for month in months {
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td class=\"money\">{}</td><td class=\"money\">{}</td></tr>\n",
            escape(&month.label),
            pounds(month.budget),
            pounds(month.spent),
        ));
    }
    format!(
        "<figure>\n<figcaption>Your budget (blue, left) and what was spent (green, right) each month.</figcaption>\n\
         <svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-hidden=\"true\" focusable=\"false\">\n\
         <line x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{WIDTH}\" y2=\"{BOTTOM}\" stroke=\"#0b0c0c\"/>\n{bars}</svg>\n\
         <table>\n<caption>Budget and spend by month</caption>\n\
         <thead><tr><th scope=\"col\">Month</th><th scope=\"col\" class=\"money\">Budget</th>\
         <th scope=\"col\" class=\"money\">Spent</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</figure>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(label: &str, budget: i64, spent: i64) -> Month {
        Month {
            label: label.to_owned(),
            budget: Decimal::new(budget, 2),
            spent: Decimal::new(spent, 2),
        }
    }

    #[test]
    fn each_month_has_two_bars_and_a_table_row_with_money_to_the_penny() {
        let html = budget_against_spend(&[
            month("October 2026", 91_000, 84_000),
            month("November 2026", 90_000, 120_000),
        ]);
        assert_eq!(html.matches("<rect").count(), 4);
        assert!(html.contains("<th scope=\"row\">November 2026</th><td class=\"money\">£900.00</td><td class=\"money\">£1,200.00</td>"), "{html}");
        assert!(html.contains("aria-hidden=\"true\""));
        // The tallest bar reaches the top of the drawing area, and nothing goes above it.
        assert!(
            html.contains("y=\"20\" width") || html.contains("y=\"20.0\" width"),
            "{html}"
        );
    }

    #[test]
    fn no_months_is_a_sentence_not_an_empty_chart_and_labels_are_escaped() {
        assert!(budget_against_spend(&[]).contains("nothing to show"));
        let html = budget_against_spend(&[month("<b>x</b> 2026", 100, 0)]);
        assert!(!html.contains("<b>"), "{html}");
    }
}
