//! The JSON that `sds payments preview` reads and prints, and the validation that turns
//! it into a [`ScheduleRequest`].
//!
//! Input is read in two steps so that every complaint names the field and says what is
//! accepted: first the JSON is walked by hand into [`PreviewInput`] (strings and numbers
//! only, catching unknown, missing and wrongly typed fields), then [`preview`] turns
//! those strings into dates, amounts and a calendar, and applies the schedule rule.
//! Only JSON syntax errors come from serde_json, with their line and column.

use std::collections::BTreeSet;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::accrual::{AccrualLine, AccrualLineError};
use crate::calendar::{Calendar, Timing};
use crate::money::{Money, quoted_excerpt};
use crate::schedule::{PlanVersion, Schedule, ScheduleError, ScheduleRequest, compute_schedule};

/// The longest span a preview covers, from the earliest line start to `until`.
const MAX_PREVIEW_YEARS: u32 = 100;

const FREQUENCIES: &str = "four_weekly, quarterly, monthly";
const TIMINGS: &str = "advance, arrears";
const DATE_EXPECTATION: &str = "expected a date as YYYY-MM-DD";
const LAG_EXPECTATION: &str = "expected a whole number of days, 0 or more";
const AMOUNT_EXPECTATION: &str = "expected a string of pounds and pence such as \"375.00\"";

const INPUT_FIELDS: &[&str] = &[
    "frequency",
    "timing",
    "anchor_date",
    "payment_lag_days",
    "until",
    "versions",
];
const VERSION_FIELDS: &[&str] = &["recorded_on", "lines"];
const LINE_FIELDS: &[&str] = &["weekly_amount", "start", "end"];

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

fn invalid(path: &str, problem: impl Into<String>) -> PreviewError {
    PreviewError::Invalid {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// The preview request as written in JSON, before any value is interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewInput {
    pub frequency: String,
    pub timing: String,
    /// Needed for `four_weekly`; ignored otherwise.
    pub anchor_date: Option<String>,
    pub payment_lag_days: i64,
    pub until: String,
    pub versions: Vec<PreviewVersionInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewVersionInput {
    pub recorded_on: String,
    pub lines: Vec<PreviewLineInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewLineInput {
    pub weekly_amount: String,
    pub start: String,
    /// `None` (JSON `null` or absent) for an open-ended line.
    pub end: Option<String>,
}

/// What the preview prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewOutput {
    pub instalments: Vec<PreviewInstalment>,
    pub closing_settlement: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    let parsed = PreviewInput::from_json_value(&value)?;
    let output = preview(&parsed)?;
    serde_json::to_string_pretty(&output).map_err(PreviewError::Output)
}

/// Validates `input` and applies the schedule rule to it.
pub fn preview(input: &PreviewInput) -> Result<PreviewOutput, PreviewError> {
    let request = schedule_request(input)?;
    match compute_schedule(&request) {
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
pub fn schedule_request(input: &PreviewInput) -> Result<ScheduleRequest, PreviewError> {
    let calendar = match input.frequency.as_str() {
        "four_weekly" => {
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
        "quarterly" => Calendar::Quarterly,
        "monthly" => Calendar::Monthly,
        other => {
            return Err(invalid(
                "frequency",
                format!(
                    "unknown value \"{}\"; accepted: {FREQUENCIES}",
                    quoted_excerpt(other)
                ),
            ));
        }
    };
    let timing = match input.timing.as_str() {
        "advance" => Timing::Advance,
        "arrears" => Timing::Arrears,
        other => {
            return Err(invalid(
                "timing",
                format!(
                    "unknown value \"{}\"; accepted: {TIMINGS}",
                    quoted_excerpt(other)
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

fn plan_versions(inputs: &[PreviewVersionInput]) -> Result<Vec<PlanVersion>, PreviewError> {
    if inputs.is_empty() {
        return Err(invalid(
            "versions",
            "empty; give at least one version with recorded_on and lines",
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
    AccrualLine::new(weekly_amount, start, end).map_err(|error| match error {
        AccrualLineError::NegativeWeeklyAmount { weekly_amount } => invalid(
            &amount_path,
            format!("{weekly_amount} is negative; a weekly amount must be 0.00 or more"),
        ),
        AccrualLineError::EndBeforeStart { start, end } => {
            invalid(&end_path, format!("{end} is before start {start}"))
        }
    })
}

/// Strictly `YYYY-MM-DD`: four-digit year, two-digit month and day, a real date.
fn parse_date(path: &str, text: &str) -> Result<NaiveDate, PreviewError> {
    let not_a_date = || {
        invalid(
            path,
            format!(
                "\"{}\" is not a date; expected YYYY-MM-DD",
                quoted_excerpt(text)
            ),
        )
    };
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(not_a_date());
    }
    let number =
        |range: std::ops::Range<usize>| text.get(range).and_then(|part| part.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(not_a_date());
    };
    let year = i32::try_from(year).map_err(|_| not_a_date())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(not_a_date)
}

impl PreviewInput {
    /// Reads the request from parsed JSON, naming the path of any unknown, missing or
    /// wrongly typed field. Values are checked later, by [`preview`].
    pub fn from_json_value(value: &Value) -> Result<PreviewInput, PreviewError> {
        let object = object_with_fields(value, "input", "", INPUT_FIELDS)?;
        let frequency =
            required_string(object, "", "frequency", &format!("accepted: {FREQUENCIES}"))?;
        let timing = required_string(object, "", "timing", &format!("accepted: {TIMINGS}"))?;
        let anchor_date = optional_string(object, "", "anchor_date", DATE_EXPECTATION)?;
        let payment_lag_days = match object.get("payment_lag_days") {
            Some(Value::Number(number)) => number.as_i64().ok_or_else(|| {
                invalid(
                    "payment_lag_days",
                    format!("found the number {number}; {LAG_EXPECTATION}"),
                )
            })?,
            other => return Err(wrong_or_missing("payment_lag_days", other, LAG_EXPECTATION)),
        };
        let until = required_string(object, "", "until", DATE_EXPECTATION)?;
        let versions = match object.get("versions") {
            Some(Value::Array(items)) => {
                let mut versions = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    versions.push(version_from_json(item, &format!("versions[{index}]"))?);
                }
                versions
            }
            other => {
                return Err(wrong_or_missing(
                    "versions",
                    other,
                    "expected a list of versions",
                ));
            }
        };
        Ok(PreviewInput {
            frequency,
            timing,
            anchor_date,
            payment_lag_days,
            until,
            versions,
        })
    }
}

fn version_from_json(value: &Value, path: &str) -> Result<PreviewVersionInput, PreviewError> {
    let object = object_with_fields(value, path, path, VERSION_FIELDS)?;
    let recorded_on = required_string(object, path, "recorded_on", DATE_EXPECTATION)?;
    let lines_path = field_path(path, "lines");
    let lines = match object.get("lines") {
        Some(Value::Array(items)) => {
            let mut lines = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                lines.push(line_from_json(item, &format!("{lines_path}[{index}]"))?);
            }
            lines
        }
        other => {
            return Err(wrong_or_missing(
                &lines_path,
                other,
                "expected a list of lines (an empty list means nothing is funded)",
            ));
        }
    };
    Ok(PreviewVersionInput { recorded_on, lines })
}

fn line_from_json(value: &Value, path: &str) -> Result<PreviewLineInput, PreviewError> {
    let object = object_with_fields(value, path, path, LINE_FIELDS)?;
    Ok(PreviewLineInput {
        weekly_amount: required_string(object, path, "weekly_amount", AMOUNT_EXPECTATION)?,
        start: required_string(object, path, "start", DATE_EXPECTATION)?,
        end: optional_string(
            object,
            path,
            "end",
            "expected a date as YYYY-MM-DD, or null for an open-ended line",
        )?,
    })
}

/// The object at `path`, refusing anything else and any field not in `accepted`.
fn object_with_fields<'a>(
    value: &'a Value,
    shown_path: &str,
    path: &str,
    accepted: &[&str],
) -> Result<&'a Map<String, Value>, PreviewError> {
    let Value::Object(object) = value else {
        return Err(invalid(
            shown_path,
            format!(
                "found {}; expected an object with fields {}",
                describe(value),
                accepted.join(", ")
            ),
        ));
    };
    for key in object.keys() {
        if !accepted.contains(&key.as_str()) {
            return Err(invalid(
                &field_path(path, &quoted_excerpt(key)),
                format!("unknown field; accepted: {}", accepted.join(", ")),
            ));
        }
    }
    Ok(object)
}

fn required_string(
    object: &Map<String, Value>,
    path: &str,
    field: &str,
    expectation: &str,
) -> Result<String, PreviewError> {
    match object.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        other => Err(wrong_or_missing(
            &field_path(path, field),
            other,
            expectation,
        )),
    }
}

fn optional_string(
    object: &Map<String, Value>,
    path: &str,
    field: &str,
    expectation: &str,
) -> Result<Option<String>, PreviewError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        other => Err(wrong_or_missing(
            &field_path(path, field),
            other,
            expectation,
        )),
    }
}

fn wrong_or_missing(path: &str, found: Option<&Value>, expectation: &str) -> PreviewError {
    match found {
        None => invalid(path, format!("missing; {expectation}")),
        Some(value) => invalid(path, format!("found {}; {expectation}", describe(value))),
    }
}

fn field_path(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => format!("the string \"{}\"", quoted_excerpt(text)),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Deserializing goes through the same hand-written reader, so serde users get the same
/// field-path messages as [`preview_json`].
impl<'de> Deserialize<'de> for PreviewInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PreviewInput, D::Error> {
        let value = Value::deserialize(deserializer)?;
        PreviewInput::from_json_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_input() -> Value {
        serde_json::json!({
            "frequency": "quarterly",
            "timing": "arrears",
            "anchor_date": "2026-04-06",
            "payment_lag_days": 14,
            "until": "2026-12-31",
            "versions": [
                {"recorded_on": "2026-04-01", "lines": [
                    {"weekly_amount": "100.00", "start": "2026-04-01", "end": null}
                ]},
                {"recorded_on": "2026-11-20", "lines": [
                    {"weekly_amount": "100.00", "start": "2026-04-01", "end": "2026-08-31"}
                ]}
            ]
        })
    }

    fn error_for(input: &Value) -> String {
        match preview_json(&input.to_string()) {
            Ok(output) => format!("unexpectedly accepted: {output}"),
            Err(error) => error.to_string(),
        }
    }

    fn with(mutate: impl FnOnce(&mut Value)) -> String {
        let mut input = valid_input();
        mutate(&mut input);
        error_for(&input)
    }

    #[test]
    fn a_valid_request_produces_pretty_json_with_two_place_amounts() {
        let output = preview_json(&valid_input().to_string()).unwrap();
        assert!(
            output.contains("\"closing_settlement\": \"-428.58\""),
            "{output}"
        );
        assert!(output.contains("\"base\": \"1314.29\""), "{output}");
    }

    #[test]
    fn an_unknown_frequency_lists_the_accepted_values() {
        assert_eq!(
            with(|input| input["frequency"] = "weekly".into()),
            "frequency: unknown value \"weekly\"; accepted: four_weekly, quarterly, monthly"
        );
        assert_eq!(
            with(|input| input["timing"] = "later".into()),
            "timing: unknown value \"later\"; accepted: advance, arrears"
        );
    }

    #[test]
    fn an_end_before_its_start_names_the_line() {
        assert_eq!(
            with(|input| {
                input["versions"][1]["lines"][0]["start"] = "2026-05-03".into();
                input["versions"][1]["lines"][0]["end"] = "2026-05-01".into();
            }),
            "versions[1].lines[0].end: 2026-05-01 is before start 2026-05-03"
        );
    }

    #[test]
    fn amounts_with_three_decimals_or_a_minus_sign_are_refused() {
        assert_eq!(
            with(|input| input["versions"][0]["lines"][0]["weekly_amount"] = "1.234".into()),
            "versions[0].lines[0].weekly_amount: amount \"1.234\" has 3 decimal places; GBP takes at most 2"
        );
        assert_eq!(
            with(|input| input["versions"][0]["lines"][0]["weekly_amount"] = "-5".into()),
            "versions[0].lines[0].weekly_amount: -5.00 is negative; a weekly amount must be 0.00 or more"
        );
        assert_eq!(
            with(|input| input["versions"][0]["lines"][0]["weekly_amount"] = 375.into()),
            "versions[0].lines[0].weekly_amount: found the number 375; expected a string of pounds and pence such as \"375.00\""
        );
    }

    #[test]
    fn a_recorded_on_date_used_twice_is_refused_at_the_second_use() {
        assert_eq!(
            with(|input| {
                let copy = input["versions"][1].clone();
                input["versions"].as_array_mut().unwrap().push(copy);
            }),
            "versions[2].recorded_on: 2026-11-20 is recorded twice; each version needs its own date"
        );
    }

    #[test]
    fn negative_or_fractional_payment_lags_are_refused() {
        assert_eq!(
            with(|input| input["payment_lag_days"] = (-3).into()),
            "payment_lag_days: -3 is negative; expected a whole number of days, 0 or more"
        );
        assert_eq!(
            with(|input| input["payment_lag_days"] = "14".into()),
            "payment_lag_days: found the string \"14\"; expected a whole number of days, 0 or more"
        );
        assert!(
            with(|input| input["payment_lag_days"] = serde_json::json!(1.5))
                .starts_with("payment_lag_days: found the number 1.5")
        );
    }

    #[test]
    fn malformed_dates_are_quoted_back_with_the_expected_format() {
        assert_eq!(
            with(|input| input["until"] = "2026-13-01".into()),
            "until: \"2026-13-01\" is not a date; expected YYYY-MM-DD"
        );
        for bad in [
            "2026-4-01",
            "26-04-01",
            "2026/04/01",
            "2026-02-30",
            "+2026-04-01",
            "",
        ] {
            assert_eq!(
                with(|input| input["versions"][0]["recorded_on"] = bad.into()),
                format!("versions[0].recorded_on: \"{bad}\" is not a date; expected YYYY-MM-DD")
            );
        }
    }

    #[test]
    fn unknown_and_missing_fields_are_named_with_their_path() {
        assert_eq!(
            with(|input| input["versions"][0]["lines"][0]["colour"] = "blue".into()),
            "versions[0].lines[0].colour: unknown field; accepted: weekly_amount, start, end"
        );
        assert_eq!(
            with(|input| input["extra"] = 1.into()),
            "extra: unknown field; accepted: frequency, timing, anchor_date, payment_lag_days, until, versions"
        );
        assert_eq!(
            with(|input| {
                input.as_object_mut().unwrap().remove("until");
            }),
            "until: missing; expected a date as YYYY-MM-DD"
        );
        assert_eq!(
            with(|input| {
                input["versions"][0]["lines"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("start");
            }),
            "versions[0].lines[0].start: missing; expected a date as YYYY-MM-DD"
        );
        assert_eq!(
            error_for(&serde_json::json!([1, 2])),
            "input: found a list; expected an object with fields frequency, timing, anchor_date, payment_lag_days, until, versions"
        );
    }

    #[test]
    fn four_weekly_needs_an_anchor_but_other_frequencies_ignore_it() {
        assert_eq!(
            with(|input| {
                input["frequency"] = "four_weekly".into();
                input.as_object_mut().unwrap().remove("anchor_date");
            }),
            "anchor_date: missing; four_weekly needs the authority's period-calendar anchor date as YYYY-MM-DD"
        );
        let mut input = valid_input();
        input.as_object_mut().unwrap().remove("anchor_date");
        assert!(preview_json(&input.to_string()).is_ok());
    }

    #[test]
    fn a_history_without_versions_or_lines_is_refused() {
        assert_eq!(
            with(|input| input["versions"] = serde_json::json!([])),
            "versions: empty; give at least one version with recorded_on and lines"
        );
        assert_eq!(
            with(|input| {
                input["versions"][0]["lines"] = serde_json::json!([]);
                input["versions"][1]["lines"] = serde_json::json!([]);
            }),
            "versions: no version has any lines; give at least one line with weekly_amount and start"
        );
    }

    #[test]
    fn until_must_fall_within_100_years_of_the_earliest_start() {
        assert_eq!(
            with(|input| input["until"] = "2026-03-31".into()),
            "until: 2026-03-31 is before the earliest line start 2026-04-01"
        );
        assert_eq!(
            with(|input| input["until"] = "2126-04-02".into()),
            "until: 2126-04-02 is more than 100 years after the earliest line start 2026-04-01; preview at most 100 years at a time"
        );
        let mut input = valid_input();
        input["until"] = "2126-04-01".into();
        assert!(preview_json(&input.to_string()).is_ok());
    }

    #[test]
    fn json_syntax_errors_keep_their_line_and_column() {
        let error = preview_json("{\n  \"frequency\": ").unwrap_err();
        assert!(matches!(error, PreviewError::Syntax(_)));
        assert!(error.to_string().contains("line 2"), "{error}");
    }

    #[test]
    fn versions_may_arrive_in_any_order() {
        let mut reversed = valid_input();
        reversed["versions"].as_array_mut().unwrap().reverse();
        assert_eq!(
            preview_json(&reversed.to_string()).unwrap(),
            preview_json(&valid_input().to_string()).unwrap()
        );
    }

    #[test]
    fn serde_deserialization_reports_the_same_field_paths() {
        let mut input = valid_input();
        input["frequency"] = serde_json::json!(3);
        let error = serde_json::from_value::<PreviewInput>(input).unwrap_err();
        assert_eq!(
            error.to_string(),
            "frequency: found the number 3; accepted: four_weekly, quarterly, monthly"
        );
    }
}
