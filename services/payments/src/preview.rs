//! The JSON contract of `sds payments preview`: the plan history it reads, the schedule it
//! prints, and the validation that turns the one into a [`ScheduleRequest`] for the pure
//! schedule rule in `sds_money`. It lives in the payments service, which serves the same
//! content over gRPC, and the CLI reads files through it; the money crate knows nothing of
//! JSON.
//!
//! Input is read in two steps so that every refusal names the field by its path
//! (`versions[0].lines[0].start`) and says what is accepted. First serde reads the JSON
//! into [`PreviewInput`]: strings and numbers only, refusing unknown keys
//! (`deny_unknown_fields`), missing keys and wrongly typed values, with the path from
//! serde_path_to_error and the kind of refusal from [`value_reader`]. Then
//! [`schedule_request`] turns those strings into dates, amounts and a calendar. Only JSON
//! syntax errors come from serde_json's parser, with their line and column.
//!
//! What must stay true: the input format, the output and the wording of refusals are what
//! README.md and the worked examples of DOMAIN.md show; scripts and people depend on them.

mod actuals;
mod value_reader;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use sds_money::{
    AccrualLine, AccrualLineError, Calendar, Money, PlanVersion, Schedule, ScheduleError,
    ScheduleRequest, Timing, compute_schedule_with_actuals,
};
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::{NamedEnum, shown};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use value_reader::Refusal;

/// The longest span a preview covers, from the earliest line start to `until`.
const MAX_PREVIEW_YEARS: u32 = 100;

const DATE_EXPECTATION: &str = "expected a date as YYYY-MM-DD";
const OPEN_END_EXPECTATION: &str = "expected a date as YYYY-MM-DD, or null for an open-ended line";
const LAG_EXPECTATION: &str = "expected a whole number of days, 0 or more";
const AMOUNT_EXPECTATION: &str = "expected a string of pounds and pence such as \"375.00\"";
const VERSIONS_EXPECTATION: &str = "expected a list of versions";
const LINES_EXPECTATION: &str = "expected a list of lines (an empty list means nothing is funded)";

sds_vocabulary::named_enum! {
    /// How often a plan is paid, naming its period calendar.
    pub enum Frequency("payment frequency") {
        FourWeekly = "four_weekly",
        Quarterly = "quarterly",
        Monthly = "monthly",
    }
}

sds_vocabulary::named_enum! {
    /// Whether a period is paid at its start or after its end.
    pub enum PaymentTiming("payment timing") {
        Advance = "advance",
        Arrears = "arrears",
    }
}

/// Why a preview could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The text is not JSON at all; the message carries serde_json's line and column.
    #[error("input is not valid JSON: {0}")]
    Syntax(serde_json::Error),
    /// A field is missing, unknown, of the wrong type or has a value that is not accepted.
    #[error("{path}: {problem}")]
    Invalid { path: String, problem: String },
    /// The input is well formed but the schedule overflows what the platform can hold.
    #[error("{0}")]
    Schedule(#[from] ScheduleError),
    #[error("could not write the preview as JSON: {0}")]
    Output(serde_json::Error),
}

pub(crate) fn invalid(path: &str, problem: impl Into<String>) -> PreviewError {
    PreviewError::Invalid {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// The preview request as written in JSON, before any value is interpreted. The service's
/// `PreviewSchedule` fills the same structure from its message, so both are validated and
/// refused by the same code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    pub frequency: String,
    pub timing: String,
    /// Needed for `four_weekly`; ignored otherwise.
    pub anchor_date: Option<String>,
    pub payment_lag_days: i64,
    pub until: String,
    pub versions: Vec<PreviewVersionInput>,
    /// What providers reported they delivered, where payment follows it (arrears only);
    /// absent or empty for a schedule paid as planned.
    #[serde(default)]
    pub actuals: Vec<PreviewActualInput>,
}

/// A provider's report of one period's delivery: the period's first day, the day it was
/// reported and the amount for the whole period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewActualInput {
    pub period_start: String,
    pub reported_on: String,
    pub amount: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewVersionInput {
    pub recorded_on: String,
    pub lines: Vec<PreviewLineInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewLineInput {
    pub weekly_amount: String,
    pub start: String,
    /// `None` (JSON `null` or absent) for an open-ended line.
    pub end: Option<String>,
    /// Paid on reported delivery where a period has a report; absent means false.
    #[serde(default)]
    pub flexible: bool,
    /// The person's contribution, taken off what is owed; absent means false.
    #[serde(default)]
    pub contribution: bool,
}

/// What a field accepts, for "missing; ..." and "found ...; ..." messages. Every field of
/// the input structs above is named here: the field names are the contract.
pub(crate) fn expectation_of(field: &str) -> String {
    match field {
        "frequency" => format!("accepted: {}", Frequency::accepted()),
        "timing" => format!("accepted: {}", PaymentTiming::accepted()),
        "anchor_date" | "until" | "recorded_on" | "start" | "period_start" | "reported_on" => {
            DATE_EXPECTATION.to_owned()
        }
        "amount" => AMOUNT_EXPECTATION.to_owned(),
        "flexible" | "contribution" => "expected true or false".to_owned(),
        "actuals" => {
            "expected a list of reports with period_start, reported_on and amount".to_owned()
        }
        "end" => OPEN_END_EXPECTATION.to_owned(),
        "payment_lag_days" => LAG_EXPECTATION.to_owned(),
        "weekly_amount" => AMOUNT_EXPECTATION.to_owned(),
        "versions" => VERSIONS_EXPECTATION.to_owned(),
        "lines" => LINES_EXPECTATION.to_owned(),
        _ => "see the worked examples for the expected input".to_owned(),
    }
}

/// What the preview prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewOutput {
    pub instalments: Vec<PreviewInstalment>,
    pub closing_settlement: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewInstalment {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub due_date: NaiveDate,
    pub base: Money,
    pub adjustment: Money,
    pub amount: Money,
}

impl From<Schedule> for PreviewOutput {
    fn from(schedule: Schedule) -> PreviewOutput {
        let instalments = schedule
            .instalments
            .into_iter()
            .map(|instalment| PreviewInstalment {
                period_start: instalment.period.start,
                period_end: instalment.period.end,
                due_date: instalment.due_date,
                base: instalment.base,
                adjustment: instalment.adjustment,
                amount: instalment.amount,
            })
            .collect();
        PreviewOutput {
            instalments,
            closing_settlement: schedule.closing_settlement,
        }
    }
}

/// Reads preview JSON and prints the preview as pretty JSON.
pub fn preview_json(input: &str) -> Result<String, PreviewError> {
    let value: Value = serde_json::from_str(input).map_err(PreviewError::Syntax)?;
    let parsed: PreviewInput = value_reader::read(&value).map_err(refused_by_serde)?;
    let output = preview(&parsed)?;
    serde_json::to_string_pretty(&output).map_err(PreviewError::Output)
}

/// Words a serde refusal as the preview words every refusal: `path: problem; expectation`.
fn refused_by_serde(error: serde_path_to_error::Error<Refusal>) -> PreviewError {
    let mut path = String::new();
    let mut last_key = String::new();
    for segment in error.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key } => {
                last_key.clone_from(key);
                if !path.is_empty() {
                    path.push('.');
                }
                // Keys are echoed as values are: escaped and cut short, here without quotes.
                let shown_key = shown(key);
                let unquoted = shown_key
                    .strip_prefix('"')
                    .and_then(|inner| inner.strip_suffix('"'))
                    .unwrap_or(&shown_key);
                path.push_str(unquoted);
            }
            other => path.push_str(&format!(".{other}")),
        }
    }
    let within = |field: &str| {
        if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    match error.into_inner() {
        // The path already ends with the unknown key.
        Refusal::UnknownField { accepted, .. } => invalid(
            &path,
            format!("unknown field; accepted: {}", accepted.join(", ")),
        ),
        // The path is the object's; the key is named by the refusal.
        Refusal::MissingField { key } => {
            invalid(&within(key), format!("missing; {}", expectation_of(key)))
        }
        Refusal::WrongType { found } => invalid(
            &path,
            format!("found {found}; {}", expectation_of(&last_key)),
        ),
        Refusal::NotAnObject { found, fields } => invalid(
            if path.is_empty() { "input" } else { &path },
            format!(
                "found {found}; expected an object with fields {}",
                fields.join(", ")
            ),
        ),
        Refusal::Other(message) => invalid(if path.is_empty() { "input" } else { &path }, message),
    }
}

/// Validates `input` and applies the schedule rule to it.
pub fn preview(input: &PreviewInput) -> Result<PreviewOutput, PreviewError> {
    let request = schedule_request(input)?;
    let actuals = actuals::reported_actuals(input, &request)?;
    match compute_schedule_with_actuals(&request, &BTreeMap::new(), &actuals) {
        Ok(schedule) => Ok(schedule.into()),
        Err(ScheduleError::DueDateOutOfRange { period_start }) => Err(invalid(
            "payment_lag_days",
            format!(
                "{} days puts the due date of the period starting {period_start} past the last \
                 date the calendar supports; {LAG_EXPECTATION}",
                request.payment_lag_days
            ),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Turns the strings of a preview request into a validated [`ScheduleRequest`].
fn schedule_request(input: &PreviewInput) -> Result<ScheduleRequest, PreviewError> {
    let frequency = Frequency::from_name(&input.frequency).ok_or_else(|| {
        invalid(
            "frequency",
            format!(
                "unknown value {}; accepted: {}",
                shown(&input.frequency),
                Frequency::accepted()
            ),
        )
    })?;
    let calendar = match frequency {
        Frequency::FourWeekly => {
            let anchor_text = input.anchor_date.as_deref().ok_or_else(|| {
                invalid(
                    "anchor_date",
                    "missing; four_weekly needs the authority's period-calendar anchor date as YYYY-MM-DD",
                )
            })?;
            Calendar::FourWeekly {
                anchor: parse_date("anchor_date", anchor_text)?,
            }
        }
        Frequency::Quarterly => Calendar::Quarterly,
        Frequency::Monthly => Calendar::Monthly,
    };
    let timing = match PaymentTiming::from_name(&input.timing) {
        Some(PaymentTiming::Advance) => Timing::Advance,
        Some(PaymentTiming::Arrears) => Timing::Arrears,
        None => {
            return Err(invalid(
                "timing",
                format!(
                    "unknown value {}; accepted: {}",
                    shown(&input.timing),
                    PaymentTiming::accepted()
                ),
            ));
        }
    };
    if input.payment_lag_days < 0 {
        return Err(invalid(
            "payment_lag_days",
            format!("{} is negative; {LAG_EXPECTATION}", input.payment_lag_days),
        ));
    }
    let payment_lag_days = u32::try_from(input.payment_lag_days).map_err(|_| {
        invalid(
            "payment_lag_days",
            format!("{} is too large; {LAG_EXPECTATION}", input.payment_lag_days),
        )
    })?;
    let until = parse_date("until", &input.until)?;
    let versions = plan_versions(&input.versions)?;

    let earliest_start = versions
        .iter()
        .flat_map(|version| version.lines.iter().map(AccrualLine::start))
        .min()
        .ok_or_else(|| {
            invalid(
                "versions",
                "no version has any lines; give at least one line with weekly_amount and start",
            )
        })?;
    if until < earliest_start {
        return Err(invalid(
            "until",
            format!("{until} is before the earliest line start {earliest_start}"),
        ));
    }
    // A bound on the span keeps a mistyped year from making the CLI list millennia.
    let latest_until = earliest_start.checked_add_months(Months::new(MAX_PREVIEW_YEARS * 12));
    if latest_until.is_none_or(|latest| until > latest) {
        return Err(invalid(
            "until",
            format!(
                "{until} is more than {MAX_PREVIEW_YEARS} years after the earliest line start \
                 {earliest_start}; preview at most {MAX_PREVIEW_YEARS} years at a time"
            ),
        ));
    }
    Ok(ScheduleRequest {
        calendar,
        timing,
        payment_lag_days,
        until,
        versions,
    })
}

/// The most versions, lines in all and reports one preview takes: far beyond any real
/// agreement's history, and a bound on the work one request can ask for.
const MAX_VERSIONS: usize = 200;
const MAX_LINES: usize = 2_000;

fn plan_versions(inputs: &[PreviewVersionInput]) -> Result<Vec<PlanVersion>, PreviewError> {
    if inputs.is_empty() {
        return Err(invalid(
            "versions",
            "empty; give at least one version with recorded_on and lines",
        ));
    }
    if inputs.len() > MAX_VERSIONS {
        return Err(invalid(
            "versions",
            format!(
                "{} versions; a preview takes at most {MAX_VERSIONS}",
                inputs.len()
            ),
        ));
    }
    let lines: usize = inputs.iter().map(|version| version.lines.len()).sum();
    if lines > MAX_LINES {
        return Err(invalid(
            "versions",
            format!("{lines} lines in all; a preview takes at most {MAX_LINES}"),
        ));
    }
    let mut dates_seen: BTreeSet<NaiveDate> = BTreeSet::new();
    let mut versions = Vec::with_capacity(inputs.len());
    for (version_index, version_input) in inputs.iter().enumerate() {
        let version_path = format!("versions[{version_index}]");
        let recorded_on_path = format!("{version_path}.recorded_on");
        let recorded_on = parse_date(&recorded_on_path, &version_input.recorded_on)?;
        if !dates_seen.insert(recorded_on) {
            return Err(invalid(
                &recorded_on_path,
                format!("{recorded_on} is recorded twice; each version needs its own date"),
            ));
        }
        let mut lines = Vec::with_capacity(version_input.lines.len());
        for (line_index, line_input) in version_input.lines.iter().enumerate() {
            let line_path = format!("{version_path}.lines[{line_index}]");
            lines.push(accrual_line(&line_path, line_input)?);
        }
        versions.push(PlanVersion { recorded_on, lines });
    }
    versions.sort_by_key(|version| version.recorded_on);
    Ok(versions)
}

fn accrual_line(line_path: &str, input: &PreviewLineInput) -> Result<AccrualLine, PreviewError> {
    let amount_path = format!("{line_path}.weekly_amount");
    let weekly_amount = Money::parse(&input.weekly_amount)
        .map_err(|error| invalid(&amount_path, error.to_string()))?;
    let start = parse_date(&format!("{line_path}.start"), &input.start)?;
    let end_path = format!("{line_path}.end");
    let end = match &input.end {
        Some(text) => Some(parse_date(&end_path, text)?),
        None => None,
    };
    let line = AccrualLine::new(weekly_amount, start, end).map_err(|error| match error {
        AccrualLineError::NegativeWeeklyAmount { weekly_amount } => invalid(
            &amount_path,
            format!("{weekly_amount} is negative; a weekly amount must be 0.00 or more"),
        ),
        AccrualLineError::EndBeforeStart { start, end } => {
            invalid(&end_path, format!("{end} is before start {start}"))
        }
    })?;
    match (input.flexible, input.contribution) {
        (true, true) => Err(invalid(
            &format!("{line_path}.flexible"),
            "a contribution is never flexible: what the person owes does not follow delivery; \
             give flexible or contribution, not both"
                .to_owned(),
        )),
        (true, false) => Ok(line.flexible()),
        (false, true) => Ok(line.contribution()),
        (false, false) => Ok(line),
    }
}

/// Strictly `YYYY-MM-DD`, any year: the 100-year bound on the span is checked apart.
fn parse_date(path: &str, text: &str) -> Result<NaiveDate, PreviewError> {
    parse_iso_date(text).ok_or_else(|| {
        invalid(
            path,
            format!("{} is not a date; expected YYYY-MM-DD", shown(text)),
        )
    })
}

#[cfg(test)]
mod tests;
