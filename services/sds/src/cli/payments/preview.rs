//! The JSON contract of `sds payments preview`: the plan history it reads, the schedule it
//! prints, and the validation that turns the one into a [`ScheduleRequest`] for the pure
//! schedule rule in `sds_money`. It lives here, at the edge that serves it; the money
//! crate knows nothing of JSON.
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

mod value_reader;

use std::collections::BTreeSet;

use chrono::{Months, NaiveDate};
use sds_money::{
    AccrualLine, AccrualLineError, Calendar, Money, PlanVersion, Schedule, ScheduleError,
    ScheduleRequest, Timing, compute_schedule,
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
    enum Frequency("payment frequency") {
        FourWeekly = "four_weekly",
        Quarterly = "quarterly",
        Monthly = "monthly",
    }
}

sds_vocabulary::named_enum! {
    /// Whether a period is paid at its start or after its end.
    enum PaymentTiming("payment timing") {
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

fn invalid(path: &str, problem: impl Into<String>) -> PreviewError {
    PreviewError::Invalid {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// The preview request as written in JSON, before any value is interpreted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewInput {
    frequency: String,
    timing: String,
    /// Needed for `four_weekly`; ignored otherwise.
    anchor_date: Option<String>,
    payment_lag_days: i64,
    until: String,
    versions: Vec<PreviewVersionInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewVersionInput {
    recorded_on: String,
    lines: Vec<PreviewLineInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewLineInput {
    weekly_amount: String,
    start: String,
    /// `None` (JSON `null` or absent) for an open-ended line.
    end: Option<String>,
}

/// What a field accepts, for "missing; ..." and "found ...; ..." messages. Every field of
/// the input structs above is named here: the field names are the contract.
fn expectation_of(field: &str) -> String {
    match field {
        "frequency" => format!("accepted: {}", Frequency::accepted()),
        "timing" => format!("accepted: {}", PaymentTiming::accepted()),
        "anchor_date" | "until" | "recorded_on" | "start" => DATE_EXPECTATION.to_owned(),
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
struct PreviewOutput {
    instalments: Vec<PreviewInstalment>,
    closing_settlement: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct PreviewInstalment {
    period_start: NaiveDate,
    period_end: NaiveDate,
    due_date: NaiveDate,
    base: Money,
    adjustment: Money,
    amount: Money,
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
fn preview(input: &PreviewInput) -> Result<PreviewOutput, PreviewError> {
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
mod tests {
    use std::path::PathBuf;

    use proptest::prelude::*;

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
    fn every_required_field_says_what_it_expects_when_missing_or_mistyped() {
        for (pointer, field) in [
            ("", "frequency"),
            ("", "timing"),
            ("", "payment_lag_days"),
            ("", "until"),
            ("", "versions"),
            ("/versions/0", "recorded_on"),
            ("/versions/0", "lines"),
            ("/versions/0/lines/0", "weekly_amount"),
            ("/versions/0/lines/0", "start"),
        ] {
            let missing = with(|input| {
                let parent = input.pointer_mut(pointer).unwrap();
                parent.as_object_mut().unwrap().remove(field);
            });
            assert!(
                missing.contains(&format!("{field}: missing; {}", expectation_of(field))),
                "{missing}"
            );
            let mistyped = with(|input| {
                input.pointer_mut(pointer).unwrap()[field] = serde_json::json!(true);
            });
            assert!(
                mistyped.contains(&format!("{field}: found true; {}", expectation_of(field))),
                "{mistyped}"
            );
            assert!(
                !expectation_of(field).contains("worked examples"),
                "{field}"
            );
        }
        assert_eq!(
            with(|input| input["versions"] = "all of them".into()),
            "versions: found the string \"all of them\"; expected a list of versions"
        );
        assert_eq!(
            with(|input| input["versions"][0] = serde_json::json!(null)),
            "versions[0]: found null; expected an object with fields recorded_on, lines"
        );
        assert_eq!(
            with(|input| input["versions"][0]["lines"][0]["end"] = 5.into()),
            "versions[0].lines[0].end: found the number 5; expected a date as YYYY-MM-DD, or null for an open-ended line"
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
    fn the_largest_weekly_amount_over_100_years_is_refused_rather_than_overflowing() {
        let input = serde_json::json!({
            "frequency": "monthly",
            "timing": "advance",
            "payment_lag_days": 0,
            "until": "2126-01-01",
            "versions": [{"recorded_on": "2026-01-01", "lines": [
                {"weekly_amount": "999999999999.99", "start": "2026-01-01", "end": null}
            ]}]
        });
        let error = preview_json(&input.to_string()).expect_err("the total cannot be held");
        assert!(
            error
                .to_string()
                .ends_with("shorten the span or lower the weekly amounts"),
            "{error}"
        );
    }

    #[test]
    fn the_largest_payment_lag_is_refused_rather_than_overflowing() {
        let input = serde_json::json!({
            "frequency": "monthly",
            "timing": "arrears",
            "payment_lag_days": i64::MAX,
            "until": "2026-02-01",
            "versions": [{"recorded_on": "2026-01-01", "lines": [
                {"weekly_amount": "1.00", "start": "2026-01-01", "end": null}
            ]}]
        });
        let error = preview_json(&input.to_string()).expect_err("the lag cannot be held");
        assert!(
            error.to_string().starts_with("payment_lag_days:"),
            "{error}"
        );
    }

    /// The worked examples of DOMAIN.md, kept beside the CLI tests, compared as JSON values.
    fn assert_worked_example_matches(name: &str) {
        let folder: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "examples"]
            .iter()
            .collect();
        let read = |suffix: &str| {
            let path = folder.join(format!("{name}.{suffix}.json"));
            std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
        };
        let output = preview_json(&read("input"))
            .unwrap_or_else(|error| panic!("{name}: preview refused the input: {error}"));
        let actual: Value = serde_json::from_str(&output).expect("preview prints JSON");
        let expected: Value = serde_json::from_str(&read("expected")).expect("expected is JSON");
        assert_eq!(actual, expected, "{name}: preview output was\n{output}");
    }

    #[test]
    fn four_weekly_advance_with_a_backdated_increase_matches_the_worked_example() {
        assert_worked_example_matches("four-weekly-advance-backdated-increase");
    }

    #[test]
    fn quarterly_arrears_with_a_line_ended_after_the_fact_matches_the_worked_example() {
        assert_worked_example_matches("quarterly-arrears-ended-after-the-fact");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn the_preview_never_panics_on_arbitrary_text(text in ".{0,200}") {
            let _ = preview_json(&text);
        }

        #[test]
        fn the_preview_never_panics_on_arbitrary_field_values(
            frequency in "[a-z_]{0,12}",
            anchor in "[0-9-]{0,12}",
            lag in any::<i64>(),
            until in "[0-9+-]{0,12}",
            amount in "[0-9.eE+-]{0,20}",
            start in "[0-9-]{8,10}",
        ) {
            let input = serde_json::json!({
                "frequency": frequency,
                "timing": "arrears",
                "anchor_date": anchor,
                "payment_lag_days": lag,
                "until": until,
                "versions": [{"recorded_on": "2026-04-01", "lines": [
                    {"weekly_amount": amount, "start": start, "end": null}
                ]}]
            });
            let _ = preview_json(&input.to_string());
        }
    }
}
