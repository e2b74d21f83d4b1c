//! The preview contract's tests: refusals by field path, the worked examples, and no panic on any input.

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
        "versions[0].lines[0].colour: unknown field; accepted: weekly_amount, start, end, flexible, contribution"
    );
    assert_eq!(
        with(|input| input["extra"] = 1.into()),
        "extra: unknown field; accepted: frequency, timing, anchor_date, payment_lag_days, until, versions, actuals"
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
        "input: found a list; expected an object with fields frequency, timing, anchor_date, payment_lag_days, until, versions, actuals"
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

#[test]
fn reported_delivery_replaces_a_periods_plan_and_is_refused_where_it_cannot_apply() {
    let mut input = valid_input();
    input["actuals"] = serde_json::json!([
        {"period_start": "2026-04-01", "reported_on": "2026-07-01", "amount": "1000.00"}
    ]);
    assert_eq!(
        error_for(&input),
        "actuals: given but no line is flexible; mark the lines paid on reported delivery with \"flexible\": true"
    );
    input["versions"][0]["lines"][0]["flexible"] = true.into();
    input["versions"][1]["lines"][0]["flexible"] = true.into();
    let output = preview_json(&input.to_string()).unwrap();
    assert!(output.contains("\"base\": \"1000.00\""), "{output}");
    let flexible = |input: &mut Value| {
        input["versions"][0]["lines"][0]["flexible"] = true.into();
    };

    assert_eq!(
        with(|input| {
            flexible(input);
            input["timing"] = "advance".into();
            input["actuals"] = serde_json::json!([
                {"period_start": "2026-04-01", "reported_on": "2026-07-01", "amount": "1.00"}
            ]);
        }),
        "actuals: given for a schedule paid in advance; payment follows reported delivery only in arrears"
    );
    assert_eq!(
        with(|input| {
            flexible(input);
            input["actuals"] = serde_json::json!([
                {"period_start": "2026-04-02", "reported_on": "2026-07-01", "amount": "1.00"}
            ]);
        }),
        "actuals[0].period_start: 2026-04-02 is not the first day of a period; the period containing it starts 2026-04-01"
    );
    assert!(
        with(|input| {
            flexible(input);
            input["actuals"] = serde_json::json!([
                {"period_start": "2026-04-01", "reported_on": "2026-07-01", "amount": "-1.00"}
            ]);
        })
        .starts_with("actuals[0].amount: \"-1.00\" is not an amount")
    );
    assert_eq!(
        with(|input| {
            flexible(input);
            input["actuals"] = serde_json::json!([
                {"period_start": "2026-04-01", "reported_on": "2026-06-30", "amount": "1.00"}
            ]);
        }),
        "actuals[0].reported_on: 2026-06-30 is not after the period's last day 2026-06-30; delivery is reported once a period has ended"
    );
}
