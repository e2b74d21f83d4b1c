//! `PreviewSchedule` answers what `sds payments preview` prints, and refuses what it
//! refuses with the same words and field paths: the request is built here from the same
//! JSON the CLI reads, and the answer compared with the CLI's own output.

use sds_payments::preview::preview_json;
use sds_proto::v1 as proto;
use serde_json::{Value, json};
use tonic::Code;

use crate::support::*;

/// The preview JSON as a `PreviewScheduleRequest`: keys that are absent stay unset, and an
/// enum name the proto does not know becomes a number it does not know either.
fn request_from_json(input: &Value) -> proto::PreviewScheduleRequest {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let day = |value: &Value| text(value).map(|iso| date(&iso));
    proto::PreviewScheduleRequest {
        frequency: match input["frequency"].as_str() {
            None => 0,
            Some("four_weekly") => proto::PaymentFrequency::FourWeekly as i32,
            Some("quarterly") => proto::PaymentFrequency::Quarterly as i32,
            Some("monthly") => proto::PaymentFrequency::Monthly as i32,
            Some(_) => 99,
        },
        timing: match input["timing"].as_str() {
            None => 0,
            Some("advance") => proto::ScheduleTiming::Advance as i32,
            Some("arrears") => proto::ScheduleTiming::Arrears as i32,
            Some(_) => 99,
        },
        anchor_date: day(&input["anchor_date"]),
        payment_lag_days: input["payment_lag_days"].as_i64().unwrap_or_default(),
        until: day(&input["until"]),
        versions: input["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|version| proto::ScheduleVersion {
                recorded_on: day(&version["recorded_on"]),
                lines: version["lines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|line| proto::ScheduleLine {
                        weekly_amount: text(&line["weekly_amount"]).map(|amount| money(&amount)),
                        start: day(&line["start"]),
                        end: day(&line["end"]),
                        flexible: line["flexible"].as_bool().unwrap_or_default(),
                        contribution: line["contribution"].as_bool().unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
        actuals: input["actuals"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|actual| proto::ReportedActual {
                period_start: day(&actual["period_start"]),
                reported_on: day(&actual["reported_on"]),
                amount: text(&actual["amount"]).map(|amount| money(&amount)),
            })
            .collect(),
    }
}

/// The answer as the CLI prints it.
fn response_as_json(response: &proto::PreviewScheduleResponse) -> Value {
    let day = |date: &Option<proto::Date>| json!(date.as_ref().expect("a date").iso);
    let amount = |money: &Option<proto::Money>| json!(money.as_ref().expect("an amount").amount);
    json!({
        "instalments": response.instalments.iter().map(|instalment| json!({
            "period_start": day(&instalment.period_start),
            "period_end": day(&instalment.period_end),
            "due_date": day(&instalment.due_date),
            "base": amount(&instalment.base),
            "adjustment": amount(&instalment.adjustment),
            "amount": amount(&instalment.amount),
        })).collect::<Vec<_>>(),
        "closing_settlement": amount(&response.closing_settlement),
    })
}

fn example(name: &str) -> (String, Value) {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/examples");
    let input = std::fs::read_to_string(format!("{directory}/{name}.input.json"))
        .expect("the example's input");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{directory}/{name}.expected.json"))
            .expect("the example's output"),
    )
    .expect("JSON");
    (input, expected)
}

#[tokio::test]
async fn the_worked_examples_answer_over_grpc_exactly_as_the_cli_prints_them() {
    let app = TestApp::spawn().await;
    for name in [
        "four-weekly-advance-backdated-increase",
        "quarterly-arrears-ended-after-the-fact",
    ] {
        let (input, expected) = example(name);
        let cli: Value =
            serde_json::from_str(&preview_json(&input).expect("the CLI's preview")).expect("JSON");
        assert_eq!(cli, expected, "{name}: the CLI");
        let request = request_from_json(&serde_json::from_str(&input).expect("JSON"));
        let answer = app
            .preview(&practitioner(AUTHORITY), request)
            .await
            .expect("a preview");
        assert_eq!(response_as_json(&answer), expected, "{name}: the service");
    }
}

#[tokio::test]
async fn any_verified_caller_may_preview_but_a_caller_without_a_token_may_not() {
    let app = TestApp::spawn().await;
    let (input, _) = example("four-weekly-advance-backdated-increase");
    let request = request_from_json(&serde_json::from_str(&input).expect("JSON"));
    for token in [
        provider(PROVIDER),
        person(PERSON),
        holder(HOLDER),
        finance(OTHER_AUTHORITY),
    ] {
        app.preview(&token, request.clone())
            .await
            .expect("a preview");
    }
    let refused = app
        .client()
        .preview_schedule(tonic::Request::new(request))
        .await;
    assert_eq!(refused.expect_err("refused").code(), Code::Unauthenticated);
}

/// A valid history to break one field of at a time.
fn valid() -> Value {
    json!({
        "frequency": "quarterly",
        "timing": "arrears",
        "payment_lag_days": 14,
        "until": "2026-12-31",
        "versions": [
            {"recorded_on": "2026-03-20", "lines": [{"weekly_amount": "100.00", "start": "2026-04-01", "end": null}]}
        ]
    })
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut input = valid();
    change(&mut input);
    input
}

#[tokio::test]
async fn bad_histories_are_refused_with_the_words_and_paths_the_cli_uses() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, Value)> = vec![
        (
            "frequency: missing",
            with(|input| {
                input.as_object_mut().unwrap().remove("frequency");
            }),
        ),
        (
            "timing: missing",
            with(|input| {
                input.as_object_mut().unwrap().remove("timing");
            }),
        ),
        (
            "anchor_date: missing",
            with(|input| input["frequency"] = json!("four_weekly")),
        ),
        (
            "anchor_date: \"2026-02-30\" is not a date",
            with(|input| {
                input["frequency"] = json!("four_weekly");
                input["anchor_date"] = json!("2026-02-30");
            }),
        ),
        (
            "payment_lag_days: -1 is negative",
            with(|input| input["payment_lag_days"] = json!(-1)),
        ),
        (
            "until: missing",
            with(|input| {
                input.as_object_mut().unwrap().remove("until");
            }),
        ),
        (
            "until: \"31/12/2026\" is not a date",
            with(|input| input["until"] = json!("31/12/2026")),
        ),
        (
            "until: 2026-03-01 is before the earliest line start",
            with(|input| input["until"] = json!("2026-03-01")),
        ),
        (
            "until: 2127-01-01 is more than 100 years",
            with(|input| input["until"] = json!("2127-01-01")),
        ),
        (
            "versions: empty",
            with(|input| input["versions"] = json!([])),
        ),
        (
            "versions: no version has any lines",
            with(|input| input["versions"][0]["lines"] = json!([])),
        ),
        (
            "versions[0].recorded_on: missing",
            with(|input| {
                input["versions"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("recorded_on");
            }),
        ),
        (
            "versions[1].recorded_on: 2026-03-20 is recorded twice",
            with(|input| {
                let first = input["versions"][0].clone();
                input["versions"].as_array_mut().unwrap().push(first);
            }),
        ),
        (
            "versions[0].lines[0].weekly_amount: missing",
            with(|input| {
                input["versions"][0]["lines"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("weekly_amount");
            }),
        ),
        (
            "versions[0].lines[0].weekly_amount",
            with(|input| input["versions"][0]["lines"][0]["weekly_amount"] = json!("100.001")),
        ),
        (
            "versions[0].lines[0].weekly_amount: -5.00 is negative",
            with(|input| input["versions"][0]["lines"][0]["weekly_amount"] = json!("-5.00")),
        ),
        (
            "versions[0].lines[0].start: missing",
            with(|input| {
                input["versions"][0]["lines"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("start");
            }),
        ),
        (
            "versions[0].lines[0].end: 2026-03-31 is before start 2026-04-01",
            with(|input| input["versions"][0]["lines"][0]["end"] = json!("2026-03-31")),
        ),
    ];
    for (words, input) in cases {
        let cli = preview_json(&input.to_string())
            .expect_err(words)
            .to_string();
        assert!(
            cli.starts_with(words),
            "the CLI says {cli:?}, not {words:?}"
        );
        let refused = app
            .preview(&practitioner(AUTHORITY), request_from_json(&input))
            .await
            .expect_err(words);
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{words}: {}",
            refused.message()
        );
        assert_eq!(
            refused.message(),
            cli,
            "{words}: the service and the CLI word it alike"
        );
    }
    assert!(
        app.row_counts().await.iter().all(|(_, count)| *count == 0),
        "a preview writes nothing"
    );
}

#[tokio::test]
async fn an_enum_value_the_service_does_not_know_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let mut request = request_from_json(&valid());
    request.frequency = 7;
    assert_refused(
        app.preview(&practitioner(AUTHORITY), request.clone()).await,
        Code::InvalidArgument,
        "frequency: unknown value 7; accepted: four_weekly, quarterly, monthly",
    );
    request = request_from_json(&valid());
    request.timing = 9;
    assert_refused(
        app.preview(&practitioner(AUTHORITY), request).await,
        Code::InvalidArgument,
        "timing: unknown value 9; accepted: advance, arrears",
    );
}
