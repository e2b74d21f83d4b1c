//! Random agreement histories through the whole service: signed, varied (backdated or not)
//! and ended, then paid by runs on random dates into a real ledger. What the runs pay must
//! equal `sds_money`'s schedule rule applied to the same history built here independently,
//! instalment by instalment; no instalment is negative; and what was paid plus the closing
//! settlement is the rounded accrual under the final plan.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;
use sds_money::{
    AccrualLine, Calendar, Money, PlanVersion, ScheduleRequest, Timing, compute_schedule,
};
use sds_proto::v1::{self as proto, PaymentFrequency};
use sds_testkit::authority_staff;
use uuid::Uuid;

use crate::support::*;

/// A generated line: weekly pence, days after the agreement's start, length in days (or
/// open-ended).
type GeneratedLine = (i64, u64, Option<u64>);

/// One generated case: the agreement's calendar, its versions (each the complete set of
/// lines from the agreement's start, as known from its recorded day), an end, and the days
/// runs pay up to.
#[derive(Debug, Clone)]
struct Case {
    frequency: PaymentFrequency,
    arrears_lag: Option<u32>,
    start: NaiveDate,
    /// (recorded after the previous one by this many days, lines as (weekly pence, days
    /// after start, length in days or open))
    versions: Vec<(u64, Vec<GeneratedLine>)>,
    /// (last day as days after start, recorded days after the last version)
    end: Option<(u64, u64)>,
    /// Days after start the runs pay up to, increasing.
    runs: Vec<u64>,
}

fn case() -> impl Strategy<Value = Case> {
    let frequency = prop_oneof![
        Just(PaymentFrequency::FourWeekly),
        Just(PaymentFrequency::Quarterly),
        Just(PaymentFrequency::Monthly),
    ];
    let timing = prop_oneof![Just(None), (0u32..30).prop_map(Some)];
    let line = (0i64..60_000, 0u64..120, prop::option::of(1u64..300));
    let version = (0u64..120, prop::collection::vec(line, 1..3));
    (
        frequency,
        timing,
        0u64..365,
        prop::collection::vec(version, 1..4),
        prop::option::of((30u64..400, 0u64..60)),
        prop::collection::vec(0u64..200, 1..4),
    )
        .prop_map(|(frequency, arrears_lag, start, versions, end, run_gaps)| {
            let mut day = 0;
            let runs = run_gaps
                .into_iter()
                .map(|gap| {
                    day += gap;
                    day
                })
                .collect();
            Case {
                frequency,
                arrears_lag,
                start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Days::new(start),
                versions,
                end,
                runs,
            }
        })
}

struct Built {
    events: Vec<proto::Event>,
    expected: ScheduleRequest,
    run_dates: Vec<NaiveDate>,
}

/// The case as contracts would publish it, and the same history as the schedule rule reads
/// it, built without payments' own code.
fn build(case: &Case, authority: &str, agreement_id: Uuid) -> Built {
    let start = case.start;
    let mut events = Vec::new();
    let mut versions = Vec::new();
    let mut recorded = start - Days::new(10);
    for (index, (gap, lines)) in case.versions.iter().enumerate() {
        recorded = recorded + Days::new(*gap);
        let lines: Vec<(Money, NaiveDate, Option<NaiveDate>)> = lines
            .iter()
            .map(|(pence, from, length)| {
                let from = start + Days::new(*from);
                (
                    Money::from_pence(*pence).unwrap(),
                    from,
                    length.map(|length| from + Days::new(length)),
                )
            })
            .collect();
        let mut message = agreement(
            u32::try_from(index).unwrap() + 1,
            &start.to_string(),
            &recorded.to_string(),
            terms(case.frequency, case.arrears_lag, &start.to_string()),
            lines
                .iter()
                .enumerate()
                .map(|(number, (weekly, from, to))| {
                    line(
                        u32::try_from(number).unwrap() + 1,
                        &weekly.to_string(),
                        &from.to_string(),
                        to.map(|to| to.to_string()).as_deref(),
                    )
                })
                .collect(),
        );
        message.id = agreement_id.to_string();
        message.authority = authority.to_owned();
        events.push(if index == 0 {
            signed(message)
        } else {
            varied(message)
        });
        versions.push((recorded, lines));
    }
    let ending = case
        .end
        .map(|(last, after)| (start + Days::new(last), recorded + Days::new(after)));
    if let Some((last_day, recorded_on)) = ending {
        let mut event = ended(
            u32::try_from(case.versions.len()).unwrap(),
            &last_day.to_string(),
            &recorded_on.to_string(),
        );
        if let Some(proto::event::Body::AgreementEnded(body)) = event.body.as_mut() {
            body.agreement_id = agreement_id.to_string();
            body.authority = authority.to_owned();
        }
        event.authority = authority.to_owned();
        event.aggregate_id = agreement_id.to_string();
        events.push(event);
    }
    // What is known from each recorded day: the latest version's lines, cut at the last
    // day once the end is known. Versions recorded the same day: the later one counts.
    let known_on = |day: NaiveDate| -> Vec<AccrualLine> {
        let Some((_, lines)) = versions.iter().rev().find(|(recorded, _)| *recorded <= day) else {
            return Vec::new();
        };
        let last_day = ending
            .filter(|(_, recorded_on)| *recorded_on <= day)
            .map(|(last, _)| last);
        lines
            .iter()
            .filter_map(|(weekly, from, to)| {
                let from = (*from).max(start);
                let to = [*to, last_day].into_iter().flatten().min();
                if to.is_some_and(|to| to < from) {
                    return None;
                }
                AccrualLine::new(*weekly, from, to).ok()
            })
            .collect()
    };
    let mut days: Vec<NaiveDate> = versions.iter().map(|(recorded, _)| *recorded).collect();
    days.extend(ending.map(|(_, recorded_on)| recorded_on));
    days.sort();
    days.dedup();
    let run_dates: Vec<NaiveDate> = case
        .runs
        .iter()
        .map(|days| start + Days::new(*days))
        .collect();
    let expected = ScheduleRequest {
        calendar: match case.frequency {
            PaymentFrequency::FourWeekly => Calendar::FourWeekly {
                anchor: NaiveDate::from_ymd_opt(2026, 4, 6).unwrap(),
            },
            PaymentFrequency::Quarterly => Calendar::Quarterly,
            _ => Calendar::Monthly,
        },
        timing: if case.arrears_lag.is_some() {
            Timing::Arrears
        } else {
            Timing::Advance
        },
        payment_lag_days: case.arrears_lag.unwrap_or(0),
        until: *run_dates.last().unwrap(),
        versions: days
            .into_iter()
            .map(|day| PlanVersion {
                recorded_on: day,
                lines: known_on(day),
            })
            .collect(),
    };
    Built {
        events,
        expected,
        run_dates,
    }
}

async fn check(app: &TestApp, case: &Case, number: usize) -> Result<(), TestCaseError> {
    let authority = format!("prop-{number}");
    let agreement_id = Uuid::now_v7();
    let built = build(case, &authority, agreement_id);
    app.prepare_banking_for(&authority).await;
    for event in &built.events {
        app.deliver(event).await;
    }
    let finance =
        sds_testkit::token_for(&authority_staff(&authority, &[sds_platform::Role::Finance]));
    for run_date in &built.run_dates {
        // Each run on its own day: a run pays at most a month ahead of today.
        app.clock
            .set(run_date.and_hms_opt(12, 0, 0).expect("noon").and_utc());
        let mut stream = app
            .client()
            .run_payments(sds_testkit::bearer(
                &finance,
                proto::RunPaymentsRequest {
                    authority: authority.clone(),
                    run_date: Some(date(&run_date.to_string())),
                },
            ))
            .await
            .expect("a run")
            .into_inner();
        while stream.message().await.expect("progress").is_some() {}
    }
    let paid: Vec<(NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT period_start, amount FROM instalment_payment WHERE agreement_id = $1 AND posted \
         ORDER BY period_start",
    )
    .bind(agreement_id)
    .fetch_all(&app.pool)
    .await
    .expect("paid instalments");
    let last_run = *built.run_dates.last().unwrap();
    let earliest_start = built
        .expected
        .versions
        .iter()
        .flat_map(|version| version.lines.iter().map(AccrualLine::start))
        .min();
    let expected: Vec<(NaiveDate, Decimal)> = if let Some(earliest_start) = earliest_start {
        let mut request = built.expected.clone();
        request.until = request.until.max(earliest_start);
        let schedule = compute_schedule(&request).expect("the rule's schedule");
        for instalment in &schedule.instalments {
            prop_assert!(!instalment.amount.is_negative());
        }
        schedule
            .instalments
            .iter()
            .filter(|instalment| instalment.due_date <= last_run)
            .map(|instalment| (instalment.period.start, instalment.amount.as_decimal()))
            .collect()
    } else {
        Vec::new()
    };
    prop_assert_eq!(&paid, &expected, "{:?}", case);

    // The live schedule's instalments plus its closing settlement are the rounded accrual of
    // its whole span under the final plan, built here independently.
    let schedule = app
        .client()
        .get_schedule(sds_testkit::bearer(
            &finance,
            proto::GetScheduleRequest {
                agreement_id: agreement_id.to_string(),
                until: Some(date(&last_run.to_string())),
            },
        ))
        .await
        .expect("the live schedule")
        .into_inner();
    let amount = |money: &Option<proto::Money>| -> Decimal {
        money
            .as_ref()
            .expect("an amount")
            .amount
            .parse()
            .expect("a decimal")
    };
    for instalment in &schedule.instalments {
        prop_assert!(amount(&instalment.amount) >= Decimal::ZERO);
    }
    let day = |date: &Option<proto::Date>| -> NaiveDate {
        date.as_ref().expect("a date").iso.parse().expect("a day")
    };
    if let (Some(latest), Some(first), Some(last)) = (
        built.expected.versions.last(),
        schedule.instalments.first(),
        schedule.instalments.last(),
    ) {
        let accrued = sds_money::rounded_accrual(
            &latest.lines,
            day(&first.period_start),
            day(&last.period_end),
        )
        .expect("an accrual");
        let listed: Decimal = schedule
            .instalments
            .iter()
            .map(|instalment| amount(&instalment.amount))
            .sum();
        prop_assert_eq!(
            listed + amount(&schedule.closing_settlement),
            accrued.as_decimal()
        );
    }
    Ok(())
}

#[test]
fn random_histories_paid_by_runs_agree_with_the_schedule_rule_to_the_penny() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let _entered = runtime.enter();
    let app = runtime.block_on(TestApp::spawn_with_ledger());
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    // Each case (shrinking included) under an authority of its own, so runs pay only it.
    let number = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&case(), |case| {
            let number = number.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            runtime.block_on(check(&app, &case, number))
        })
        .expect("every case agrees");
}
