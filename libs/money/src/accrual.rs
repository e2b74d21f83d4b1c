//! Exact daily accrual of plan lines.
//!
//! A line of W a week accrues W/7 a day. W/7 is usually not a whole number of pence
//! (and 100/7 is not exact in any decimal type), so accrual is counted exactly as an
//! integer number of *pence-sevenths*: weekly pence times active days. Sums stay exact;
//! only the final figure is rounded to the penny (half away from zero). Instalments use
//! the cumulative method, `round(accrued to end of k) - round(accrued to end of k-1)`,
//! so no penny is created or lost over any span.

use chrono::NaiveDate;

use crate::calendar::Period;
use crate::money::{Money, MoneyError};

/// Why a plan line cannot accrue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccrualLineError {
    #[error("weekly amount {weekly_amount} is negative; a weekly amount must be 0.00 or more")]
    NegativeWeeklyAmount { weekly_amount: Money },
    #[error("end {end} is before start {start}")]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
}

/// One funded line of a plan: a weekly amount active from `start` to `end`, both
/// inclusive (`None` = open-ended). The constructor keeps the amount non-negative and
/// the end on or after the start. A *flexible* line is paid on reported delivery where
/// there is a report (see [`crate::schedule`]); every line is fixed unless marked. A
/// *contribution* line is what the person pays towards their budget: it accrues on the same
/// days in the same way, and is taken off what the payer owes (its accrual counts
/// negative), so a schedule pays the budget net of it and rounds only the net figure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccrualLine {
    weekly_amount: Money,
    start: NaiveDate,
    end: Option<NaiveDate>,
    flexible: bool,
    contribution: bool,
}

impl AccrualLine {
    pub fn new(
        weekly_amount: Money,
        start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> Result<AccrualLine, AccrualLineError> {
        if weekly_amount.is_negative() {
            return Err(AccrualLineError::NegativeWeeklyAmount { weekly_amount });
        }
        if let Some(end) = end
            && end < start
        {
            return Err(AccrualLineError::EndBeforeStart { start, end });
        }
        Ok(AccrualLine {
            weekly_amount,
            start,
            end,
            flexible: false,
            contribution: false,
        })
    }

    /// The same line, paid on reported delivery where a period has a report. A contribution
    /// stays fixed: what the person owes does not follow what the provider delivered.
    pub fn flexible(self) -> AccrualLine {
        AccrualLine {
            flexible: !self.contribution,
            ..self
        }
    }

    /// The same amount as the person's contribution: taken off what is owed.
    pub fn contribution(self) -> AccrualLine {
        AccrualLine {
            contribution: true,
            flexible: false,
            ..self
        }
    }

    pub fn is_flexible(&self) -> bool {
        self.flexible
    }

    pub fn is_contribution(&self) -> bool {
        self.contribution
    }

    /// The weekly amount as it counts towards what is owed: negative for a contribution.
    pub fn signed_weekly_pence(&self) -> i64 {
        if self.contribution {
            -self.weekly_amount.pence()
        } else {
            self.weekly_amount.pence()
        }
    }

    pub fn weekly_amount(&self) -> Money {
        self.weekly_amount
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> Option<NaiveDate> {
        self.end
    }

    /// Days from `from` to `to` (both inclusive) on which the line is active.
    pub fn active_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let first = from.max(self.start);
        let last = match self.end {
            Some(end) => to.min(end),
            None => to,
        };
        if last < first {
            return 0;
        }
        (last - first).num_days() + 1
    }

    /// Exact accrual from `from` to `to` (both inclusive), in pence-sevenths: negative for a
    /// contribution.
    pub fn accrued_sevenths(&self, from: NaiveDate, to: NaiveDate) -> i128 {
        i128::from(self.signed_weekly_pence()) * i128::from(self.active_days_between(from, to))
    }
}

/// Exact accrual of all `lines` from `from` to `to` (both inclusive), in pence-sevenths.
/// Zero when `to` is before `from`.
///
/// Cannot overflow: a line contributes at most about 1e14 pence a week times 2e8 days,
/// so i128 would need more lines than memory holds.
pub fn accrued_sevenths(lines: &[AccrualLine], from: NaiveDate, to: NaiveDate) -> i128 {
    let mut total = 0_i128;
    for line in lines {
        total += line.accrued_sevenths(from, to);
    }
    total
}

/// Converts pence-sevenths to whole pence, rounding half away from zero. (Seven is odd,
/// so an exact half never occurs, but the direction is fixed all the same.)
pub fn sevenths_to_pence(sevenths: i128) -> i128 {
    let whole = sevenths / 7;
    let remainder = sevenths % 7;
    if remainder.abs() * 2 >= 7 {
        whole + sevenths.signum()
    } else {
        whole
    }
}

/// Converts a whole number of pence to `Money`, failing beyond `NUMERIC(14,2)`.
pub fn money_from_pence(pence: i128) -> Result<Money, MoneyError> {
    match i64::try_from(pence) {
        Ok(pence) => Money::from_pence(pence),
        Err(_) => Err(MoneyError::OutOfRange {
            input: format!("{}.{:02}", pence / 100, (pence % 100).abs()),
        }),
    }
}

/// The accrual of `lines` from `from` to `to` (both inclusive), rounded to the penny.
pub fn rounded_accrual(
    lines: &[AccrualLine],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Money, MoneyError> {
    money_from_pence(sevenths_to_pence(accrued_sevenths(lines, from, to)))
}

/// Splits the accrual of `lines` over consecutive `periods` by the cumulative method:
/// the amount for period k is the rounded accrual from the first period's start to the
/// end of k, minus the same to the end of k-1. The results add up exactly to the
/// rounded accrual of the whole span.
pub fn cumulative_instalments(
    lines: &[AccrualLine],
    periods: &[Period],
) -> Result<Vec<Money>, MoneyError> {
    let Some(first) = periods.first() else {
        return Ok(Vec::new());
    };
    let mut instalments = Vec::with_capacity(periods.len());
    let mut rounded_so_far = 0_i128;
    for period in periods {
        let rounded_to_end = sevenths_to_pence(accrued_sevenths(lines, first.start, period.end));
        instalments.push(money_from_pence(rounded_to_end - rounded_so_far)?);
        rounded_so_far = rounded_to_end;
    }
    Ok(instalments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test dates are valid")
    }

    fn line(weekly: &str, start: &str, end: Option<&str>) -> AccrualLine {
        AccrualLine::new(
            Money::parse(weekly).expect("test amounts are valid"),
            date(start),
            end.map(date),
        )
        .expect("test lines are valid")
    }

    #[test]
    fn a_line_accrues_a_seventh_of_its_weekly_amount_per_active_day() {
        let lines = [line("210.00", "2026-04-20", None)];
        let accrued = accrued_sevenths(&lines, date("2026-04-06"), date("2026-05-03"));
        assert_eq!(accrued, 21_000 * 14);
        assert_eq!(
            rounded_accrual(&lines, date("2026-04-06"), date("2026-05-03"))
                .unwrap()
                .to_string(),
            "420.00"
        );
    }

    #[test]
    fn accrual_stops_after_the_inclusive_end_date() {
        let lines = [line("100.00", "2026-04-01", Some("2026-08-31"))];
        let rounded = rounded_accrual(&lines, date("2026-04-01"), date("2026-12-31")).unwrap();
        // 153 days at 100/7 a day is 2185.714..., which rounds to 2185.71.
        assert_eq!(rounded.to_string(), "2185.71");
    }

    #[test]
    fn accrual_over_an_empty_range_is_zero() {
        let lines = [line("100.00", "2026-04-01", None)];
        assert_eq!(
            accrued_sevenths(&lines, date("2026-05-01"), date("2026-04-30")),
            0
        );
        assert_eq!(
            accrued_sevenths(&lines, date("2026-01-01"), date("2026-03-31")),
            0
        );
    }

    #[test]
    fn sevenths_round_half_away_from_zero() {
        assert_eq!(sevenths_to_pence(3), 0);
        assert_eq!(sevenths_to_pence(4), 1);
        assert_eq!(sevenths_to_pence(-3), 0);
        assert_eq!(sevenths_to_pence(-4), -1);
        assert_eq!(sevenths_to_pence(14), 2);
    }

    #[test]
    fn cumulative_instalments_add_up_to_the_rounded_accrual_of_the_span() {
        let lines = [line("100.00", "2026-04-01", None)];
        let quarters = [
            Period {
                start: date("2026-04-01"),
                end: date("2026-06-30"),
            },
            Period {
                start: date("2026-07-01"),
                end: date("2026-09-30"),
            },
        ];
        let instalments = cumulative_instalments(&lines, &quarters).unwrap();
        let shown: Vec<String> = instalments.iter().map(Money::to_string).collect();
        assert_eq!(shown, ["1300.00", "1314.29"]);
    }

    #[test]
    fn lines_refuse_negative_amounts_and_ends_before_starts() {
        let negative = AccrualLine::new(Money::from_pence(-1).unwrap(), date("2026-04-01"), None);
        assert!(matches!(
            negative,
            Err(AccrualLineError::NegativeWeeklyAmount { .. })
        ));
        let backwards =
            AccrualLine::new(Money::zero(), date("2026-05-03"), Some(date("2026-05-01")));
        assert_eq!(
            backwards.unwrap_err().to_string(),
            "end 2026-05-01 is before start 2026-05-03"
        );
    }
}
