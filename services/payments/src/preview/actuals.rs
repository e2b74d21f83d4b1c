//! The preview's reports of delivery (`actuals`), read and checked as the service checks
//! them: each for a whole period of the calendar, made after it ended, and only where
//! payment is in arrears on flexible lines.

use sds_money::{AccrualLine, Money, ReportedActual, ScheduleRequest, Timing};
use sds_vocabulary::shown;

use super::{AMOUNT_EXPECTATION, PreviewError, PreviewInput, invalid, parse_date};

/// The most reports one preview takes.
const MAX_ACTUALS: usize = 2_000;

/// The reports of delivery, checked: each for a period of the calendar, once a day, and
/// only where payment is in arrears (a period is paid in advance before anything is
/// delivered).
pub(super) fn reported_actuals(
    input: &PreviewInput,
    request: &ScheduleRequest,
) -> Result<Vec<ReportedActual>, PreviewError> {
    let any_flexible = request
        .versions
        .iter()
        .any(|version| version.lines.iter().any(AccrualLine::is_flexible));
    if !input.actuals.is_empty() && !any_flexible {
        return Err(invalid(
            "actuals",
            "given but no line is flexible; mark the lines paid on reported delivery with \"flexible\": true",
        ));
    }
    if !input.actuals.is_empty() && request.timing != Timing::Arrears {
        return Err(invalid(
            "actuals",
            "given for a schedule paid in advance; payment follows reported delivery only in arrears",
        ));
    }
    if input.actuals.len() > MAX_ACTUALS {
        return Err(invalid(
            "actuals",
            format!(
                "{} reports; a preview takes at most {MAX_ACTUALS}",
                input.actuals.len()
            ),
        ));
    }
    let mut actuals = Vec::with_capacity(input.actuals.len());
    for (index, actual) in input.actuals.iter().enumerate() {
        let path = format!("actuals[{index}]");
        let period_start = parse_date(&format!("{path}.period_start"), &actual.period_start)?;
        if request.calendar.period_containing(period_start).start != period_start {
            return Err(invalid(
                &format!("{path}.period_start"),
                format!(
                    "{period_start} is not the first day of a period; the period containing it starts {}",
                    request.calendar.period_containing(period_start).start
                ),
            ));
        }
        let reported_on = parse_date(&format!("{path}.reported_on"), &actual.reported_on)?;
        let period_end = request.calendar.period_containing(period_start).end;
        if reported_on <= period_end {
            return Err(invalid(
                &format!("{path}.reported_on"),
                format!(
                    "{reported_on} is not after the period's last day {period_end}; delivery is reported once a period has ended"
                ),
            ));
        }
        let amount = Money::parse(&actual.amount)
            .ok()
            .filter(|amount| !amount.is_negative())
            .ok_or_else(|| {
                invalid(
                    &format!("{path}.amount"),
                    format!(
                        "{} is not an amount; {AMOUNT_EXPECTATION}",
                        shown(&actual.amount)
                    ),
                )
            })?;
        actuals.push(ReportedActual {
            period_start,
            reported_on,
            amount,
        });
    }
    Ok(actuals)
}
