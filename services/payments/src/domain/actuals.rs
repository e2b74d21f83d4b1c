//! A provider's report of what it delivered in one period, judged against the plan: which
//! lines it may report, what the period then pays, how far it is from plan, and when a run
//! of periods beyond the agreement's tolerance calls for a review.
//!
//! What must stay true: a report covers every support line funded in its period (each
//! replaces that line's plan; a line left out would be paid nothing), while the fee stays
//! at plan in the schedule rule, following any later change; the plan it is judged against
//! is the one known on the day of the report, rounded as the schedule's base is; a run of
//! periods beyond tolerance is one run however often its periods are reported again.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::{Calendar, Money, Period, accrued_sevenths, money_from_pence, sevenths_to_pence};

use super::history::{History, LineKind};
use super::terms::{Basis, PaymentTiming, ScheduleTerms};

/// How many consecutive periods beyond tolerance call for a review.
pub const PERSISTENT_PERIODS: usize = 3;

/// A report above this many times the line's plan for the period is refused as a likely
/// typing mistake (delivery above plan within it is paid, and queried beyond tolerance).
const MOST_TIMES_PLAN: i64 = 5;

/// One line of a report as given: an amount, or hours for a line agreed as hours a week
/// (then `amount` is what they are paid at, worked out when the report is judged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedLine {
    pub plan_line: u32,
    pub amount: Money,
    pub hours: Option<Decimal>,
}

/// What `hours` delivered on an hours line is paid: the line's weekly amount per agreed
/// weekly hour, rounded to the penny once (half away from zero).
pub fn hours_amount(hours: Decimal, weekly: Money, hours_per_week: Decimal) -> Option<Money> {
    let pounds = hours
        .checked_mul(weekly.as_decimal())?
        .checked_div(hours_per_week)?;
    let pence = pounds
        .checked_mul(Decimal::ONE_HUNDRED)?
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let pence = i64::try_from(pence).ok()?;
    Money::from_pence(pence).ok()
}

/// A report judged against the plan, ready to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedReport {
    pub period: Period,
    /// What replaces the plan of the period's flexible lines: every support line reported.
    pub total: Money,
    /// The reported lines, and the plan's amount for each.
    pub lines: Vec<(ReportedLine, Money)>,
    pub reported: Money,
    pub planned: Money,
}

impl JudgedReport {
    /// How far delivery is from plan, in percent of plan (negative: under).
    pub fn variance_percent(&self) -> Option<Decimal> {
        variance_percent(self.reported, self.planned)
    }
}

fn variance_percent(reported: Money, planned: Money) -> Option<Decimal> {
    if planned.is_zero() {
        return None;
    }
    let difference = reported.as_decimal() - planned.as_decimal();
    Some((difference * Decimal::ONE_HUNDRED / planned.as_decimal()).round_dp(1))
}

/// The period's accrual of `lines`, in pence, rounded.
fn period_pence(lines: &[sds_money::AccrualLine], period: &Period) -> i128 {
    sevenths_to_pence(accrued_sevenths(lines, period.start, period.end))
}

/// What `hours` delivered on plan line `plan_line` in `period` are paid, at the rate of the
/// line in force on the period's last funded day as known when reported.
fn paid_for_hours(
    known: &[(&super::history::Line, sds_money::AccrualLine)],
    plan_line: u32,
    period: &Period,
    hours: Decimal,
) -> Result<Money, String> {
    let (line, _) = known
        .iter()
        .filter(|(line, accrual)| {
            line.kind == LineKind::Support
                && line.plan_line == plan_line
                && accrual.active_days_between(period.start, period.end) > 0
        })
        .max_by_key(|(_, accrual)| accrual.end().unwrap_or(NaiveDate::MAX).min(period.end))
        .ok_or_else(|| format!("plan line {plan_line} is not funded in the period"))?;
    let Some(hours_per_week) = line.hours_per_week else {
        return Err(format!(
            "plan line {plan_line} is agreed as an amount a week, not hours; report its amount"
        ));
    };
    if hours.is_sign_negative() {
        return Err("is negative; report what was delivered, 0 or more".to_owned());
    }
    hours_amount(hours, line.weekly, hours_per_week)
        .ok_or_else(|| format!("{hours} hours is beyond what can be paid; check the figure"))
}

/// Amounts beyond what the platform holds are the report's fault: it names them.
fn money(pence: i128) -> Result<Money, (String, String)> {
    money_from_pence(pence).map_err(|error| ("lines".to_owned(), error.to_string()))
}

/// Judges a report of the period starting `period_start`, made on `today`. `Err` is the
/// refusal, naming the field under `path`.
pub fn judge(
    terms: &ScheduleTerms,
    history: &History,
    period_start: NaiveDate,
    lines: &[ReportedLine],
    today: NaiveDate,
) -> Result<JudgedReport, (String, String)> {
    if terms.basis != Basis::Actuals || terms.timing != PaymentTiming::Arrears {
        return Err((
            "agreement_id".to_owned(),
            format!(
                "agreement {} is paid as planned; delivery is reported only for agreements paid on actuals in arrears",
                terms.agreement_id
            ),
        ));
    }
    let calendar: Calendar = terms.calendar();
    let period = calendar.period_containing(period_start);
    if period.start != period_start {
        return Err((
            "period_start".to_owned(),
            format!(
                "{period_start} is not the first day of one of the agreement's periods; the period containing it starts {}",
                period.start
            ),
        ));
    }
    if period.end >= today {
        return Err((
            "period_start".to_owned(),
            format!(
                "the period {} to {} has not ended; report it from {}",
                period.start,
                period.end,
                period.end.succ_opt().unwrap_or(period.end)
            ),
        ));
    }
    if lines.is_empty() {
        return Err((
            "lines".to_owned(),
            "empty; give each plan line delivered with its amount".to_owned(),
        ));
    }
    let known = history.agreed_lines_known_on(today);
    let mut by_plan_line: BTreeMap<u32, Vec<sds_money::AccrualLine>> = BTreeMap::new();
    for (line, accrual) in &known {
        if line.kind == LineKind::Support {
            by_plan_line
                .entry(line.plan_line)
                .or_default()
                .push(accrual.clone());
        }
    }
    let funded: Vec<u32> = by_plan_line
        .iter()
        .filter(|(_, accruals)| period_pence(accruals, &period) > 0)
        .map(|(number, _)| *number)
        .collect();
    let mut judged = Vec::with_capacity(lines.len());
    let mut reported_pence: i128 = 0;
    for (index, line) in lines.iter().enumerate() {
        let path = format!("lines[{index}]");
        if lines[..index]
            .iter()
            .any(|earlier| earlier.plan_line == line.plan_line)
        {
            return Err((
                format!("{path}.plan_line"),
                format!(
                    "plan line {} is reported twice; give each line once",
                    line.plan_line
                ),
            ));
        }
        let planned = by_plan_line
            .get(&line.plan_line)
            .map(|accruals| period_pence(accruals, &period))
            .filter(|planned| *planned > 0)
            .ok_or_else(|| {
                (
                    format!("{path}.plan_line"),
                    format!(
                        "plan line {} is not funded by this agreement in that period; lines funded then: {}",
                        line.plan_line,
                        listed(&funded)
                    ),
                )
            })?;
        let (line, field) = match line.hours {
            None => (line.clone(), "amount"),
            Some(hours) => (
                ReportedLine {
                    amount: paid_for_hours(&known, line.plan_line, &period, hours)
                        .map_err(|problem| (format!("{path}.hours"), problem))?,
                    ..line.clone()
                },
                "hours",
            ),
        };
        if line.amount.is_negative() {
            return Err((
                format!("{path}.{field}"),
                "is negative; report what was delivered, 0 or more".to_owned(),
            ));
        }
        let amount = i128::from(line.amount.pence());
        if amount > planned * i128::from(MOST_TIMES_PLAN) {
            return Err((
                format!("{path}.{field}"),
                format!(
                    "{} is more than {MOST_TIMES_PLAN} times the plan for the period ({}); check the figure",
                    line.hours.map_or_else(
                        || line.amount.to_string(),
                        |hours| format!("{hours} hours at {}", line.amount)
                    ),
                    money(planned)?
                ),
            ));
        }
        reported_pence += amount;
        judged.push((line, money(planned)?));
    }
    // The report replaces the plan of every flexible line of the period, so each must be in
    // it: a line left out would otherwise be paid nothing.
    if let Some(missing) = funded
        .iter()
        .find(|number| !lines.iter().any(|line| line.plan_line == **number))
    {
        return Err((
            "lines".to_owned(),
            format!(
                "plan line {missing} is funded in the period and not reported; report every line funded then ({}), 0.00 for one not delivered",
                listed(&funded)
            ),
        ));
    }
    // What the schedule rule counts as the period's plan for these lines: the cumulative
    // rounding of its base, so a report equal to the plan changes nothing.
    let flexible: Vec<sds_money::AccrualLine> = by_plan_line.into_values().flatten().collect();
    let span_start = history.earliest_start().map_or(period.start, |start| {
        calendar.period_containing(start).start
    });
    let through = |end: NaiveDate| {
        if end < span_start {
            0
        } else {
            sevenths_to_pence(accrued_sevenths(&flexible, span_start, end))
        }
    };
    let planned_pence = through(period.end) - period.start.pred_opt().map_or(0, through);
    Ok(JudgedReport {
        period,
        total: money(reported_pence)?,
        lines: judged,
        reported: money(reported_pence)?,
        planned: money(planned_pence)?,
    })
}

fn listed(numbers: &[u32]) -> String {
    if numbers.is_empty() {
        "none".to_owned()
    } else {
        numbers
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A period's latest report, as far as variance goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodVariance {
    pub period: Period,
    pub reported: Money,
    pub planned: Money,
}

/// The run of consecutive periods beyond `tolerance_percent` that ends with the period
/// starting `latest`, when it is at least [`PERSISTENT_PERIODS`] long: its periods, first
/// to last. `periods` are every reported period's latest figures, in period order.
pub fn persistent_run(
    calendar: &Calendar,
    periods: &[PeriodVariance],
    latest: NaiveDate,
    tolerance_percent: Decimal,
) -> Option<Vec<PeriodVariance>> {
    let beyond = |variance: &PeriodVariance| {
        variance_percent(variance.reported, variance.planned)
            .is_some_and(|percent| percent.abs() > tolerance_percent)
    };
    let position = periods
        .iter()
        .position(|variance| variance.period.start == latest)?;
    if !beyond(&periods[position]) {
        return None;
    }
    let follows = |earlier: &Period, later: &Period| {
        earlier
            .end
            .succ_opt()
            .is_some_and(|day| calendar.period_containing(day) == *later)
    };
    // Outwards from the latest report while each neighbour is the adjacent period and
    // beyond too: a period reported again in the middle of a run finds the whole run.
    let mut first = position;
    while first > 0
        && follows(&periods[first - 1].period, &periods[first].period)
        && beyond(&periods[first - 1])
    {
        first -= 1;
    }
    let mut last = position;
    while last + 1 < periods.len()
        && follows(&periods[last].period, &periods[last + 1].period)
        && beyond(&periods[last + 1])
    {
        last += 1;
    }
    let run = periods[first..=last].to_vec();
    (run.len() >= PERSISTENT_PERIODS).then_some(run)
}

/// "delivery 30% under plan in each of the last 3 periods" and its like.
pub fn variance_reason(run: &[PeriodVariance]) -> String {
    let percents: Vec<Decimal> = run
        .iter()
        .filter_map(|variance| variance_percent(variance.reported, variance.planned))
        .collect();
    let under = percents.iter().all(|percent| percent.is_sign_negative());
    let over = percents.iter().all(|percent| percent.is_sign_positive());
    let smallest = percents
        .iter()
        .map(|percent| percent.abs())
        .min()
        .unwrap_or_default();
    let largest = percents
        .iter()
        .map(|percent| percent.abs())
        .max()
        .unwrap_or_default();
    let size = if smallest == largest {
        format!("{}%", smallest.normalize())
    } else {
        format!("{}% to {}%", smallest.normalize(), largest.normalize())
    };
    let direction = if under {
        "under"
    } else if over {
        "over"
    } else {
        "away from"
    };
    format!(
        "delivery {size} {direction} plan in each of {} consecutive periods",
        run.len()
    )
}

#[cfg(test)]
mod tests;
