//! `PreviewSchedule`: the message is read into the preview's own [`PreviewInput`] (enums by
//! their names, dates and amounts as the text they carry) and answered by
//! [`crate::preview::preview`], so the service and `sds payments preview` share the rule,
//! the validation and every refusal's wording and field path.
//!
//! What must stay true: a field the JSON requires is reported missing here when its message
//! is absent or empty, with the same `path: missing; ...` words; the answer carries the
//! same figures as the JSON, field for field.

use sds_proto::v1 as proto;

use crate::preview::{
    PreviewActualInput, PreviewError, PreviewInput, PreviewLineInput, PreviewOutput,
    PreviewVersionInput, expectation_of, invalid,
};

use super::convert::{date_message, money_message};

/// The schedule rule applied to the request's history.
pub fn preview_schedule(
    request: &proto::PreviewScheduleRequest,
) -> Result<proto::PreviewScheduleResponse, PreviewError> {
    let input = preview_input(request)?;
    let output = crate::preview::preview(&input)?;
    Ok(response(&output))
}

fn preview_input(request: &proto::PreviewScheduleRequest) -> Result<PreviewInput, PreviewError> {
    let frequency = match proto::PaymentFrequency::try_from(request.frequency) {
        Ok(proto::PaymentFrequency::FourWeekly) => "four_weekly",
        Ok(proto::PaymentFrequency::Quarterly) => "quarterly",
        Ok(proto::PaymentFrequency::Monthly) => "monthly",
        Ok(proto::PaymentFrequency::Unspecified) => return Err(missing("frequency", "frequency")),
        Err(_) => return Err(unknown_number("frequency", request.frequency)),
    };
    let timing = match proto::ScheduleTiming::try_from(request.timing) {
        Ok(proto::ScheduleTiming::Advance) => "advance",
        Ok(proto::ScheduleTiming::Arrears) => "arrears",
        Ok(proto::ScheduleTiming::Unspecified) => return Err(missing("timing", "timing")),
        Err(_) => return Err(unknown_number("timing", request.timing)),
    };
    let versions = request
        .versions
        .iter()
        .enumerate()
        .map(|(version_index, version)| version_input(version_index, version))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PreviewInput {
        frequency: frequency.to_owned(),
        timing: timing.to_owned(),
        anchor_date: given_date(request.anchor_date.as_ref()),
        payment_lag_days: request.payment_lag_days,
        until: required_date("until", "until", request.until.as_ref())?,
        versions,
        actuals: request
            .actuals
            .iter()
            .enumerate()
            .map(|(index, actual)| {
                let path = format!("actuals[{index}]");
                Ok(PreviewActualInput {
                    period_start: required_date(
                        &format!("{path}.period_start"),
                        "period_start",
                        actual.period_start.as_ref(),
                    )?,
                    reported_on: required_date(
                        &format!("{path}.reported_on"),
                        "reported_on",
                        actual.reported_on.as_ref(),
                    )?,
                    amount: actual
                        .amount
                        .as_ref()
                        .map(|money| money.amount.clone())
                        .ok_or_else(|| missing(&format!("{path}.amount"), "amount"))?,
                })
            })
            .collect::<Result<Vec<_>, PreviewError>>()?,
    })
}

fn version_input(
    version_index: usize,
    version: &proto::ScheduleVersion,
) -> Result<PreviewVersionInput, PreviewError> {
    let path = format!("versions[{version_index}]");
    let lines = version
        .lines
        .iter()
        .enumerate()
        .map(|(line_index, line)| {
            let line_path = format!("{path}.lines[{line_index}]");
            Ok(PreviewLineInput {
                weekly_amount: line
                    .weekly_amount
                    .as_ref()
                    .map(|money| money.amount.clone())
                    .ok_or_else(|| {
                        missing(&format!("{line_path}.weekly_amount"), "weekly_amount")
                    })?,
                start: required_date(&format!("{line_path}.start"), "start", line.start.as_ref())?,
                end: given_date(line.end.as_ref()),
                flexible: line.flexible,
                contribution: line.contribution,
            })
        })
        .collect::<Result<Vec<_>, PreviewError>>()?;
    Ok(PreviewVersionInput {
        recorded_on: required_date(
            &format!("{path}.recorded_on"),
            "recorded_on",
            version.recorded_on.as_ref(),
        )?,
        lines,
    })
}

/// The date's text, or `None` when the message is absent or empty ("not given").
fn given_date(date: Option<&proto::Date>) -> Option<String> {
    date.map(|date| date.iso.clone())
        .filter(|iso| !iso.is_empty())
}

fn required_date(
    path: &str,
    field: &str,
    date: Option<&proto::Date>,
) -> Result<String, PreviewError> {
    given_date(date).ok_or_else(|| missing(path, field))
}

fn missing(path: &str, field: &str) -> PreviewError {
    invalid(path, format!("missing; {}", expectation_of(field)))
}

fn unknown_number(field: &str, number: i32) -> PreviewError {
    invalid(
        field,
        format!("unknown value {number}; {}", expectation_of(field)),
    )
}

fn response(output: &PreviewOutput) -> proto::PreviewScheduleResponse {
    proto::PreviewScheduleResponse {
        instalments: output
            .instalments
            .iter()
            .map(|instalment| proto::ScheduleInstalment {
                period_start: Some(date_message(instalment.period_start)),
                period_end: Some(date_message(instalment.period_end)),
                due_date: Some(date_message(instalment.due_date)),
                base: Some(money_message(instalment.base)),
                adjustment: Some(money_message(instalment.adjustment)),
                amount: Some(money_message(instalment.amount)),
                paid_by_run: String::new(),
            })
            .collect(),
        closing_settlement: Some(money_message(output.closing_settlement)),
    }
}
