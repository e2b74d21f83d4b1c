//! The social worker's flow across the platform as `sds serve` composes it: person,
//! policy, assessment, budget, plan, approval, a provider choice, a backdated variation and
//! the end of the plan, each through gRPC; every plan event reaches NATS JetStream exactly
//! once, in its own transaction's order, with the plan version as its aggregate version.
//! The provider chosen is one the directory registered: its Care Inspectorate number
//! reaches assessment through the directory's events and resolves to its directory id.

use std::time::Duration;

use prost::Message as _;
use sds_platform::{ManualClock, Role};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::{self as proto, Event};
mod support;

use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, authority_staff, bearer, token_for, wait_until,
};

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

/// Every event on `sds.fife.plan.>` in the stream, in stream order: (type, aggregate version).
async fn plan_events_in_stream(jetstream: &async_nats::jetstream::Context) -> Vec<(String, u64)> {
    let stream = jetstream
        .get_stream("SDS_EVENTS")
        .await
        .expect("the stream");
    let last = stream.cached_info().state.last_sequence;
    let mut seen = Vec::new();
    for sequence in 1..=last {
        let Ok(message) = stream.get_raw_message(sequence).await else {
            continue;
        };
        if !message.subject.starts_with("sds.fife.plan.") {
            continue;
        }
        let event = Event::decode(message.payload.as_ref()).expect("an envelope");
        seen.push((event.event_type, event.aggregate_version));
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_from_referral_to_its_end_publishes_each_event_once_with_its_version() {
    let nats = PrivateNats::start().await;
    let process = TestProcess::start_with(
        sds::components(),
        TestSettings {
            nats_url: Some(nats.url()),
            clock: Some(
                ManualClock::on(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()).clock(),
            ),
            ..TestSettings::default()
        },
    )
    .await;
    let mut client = AssessmentServiceClient::new(process.channel().await);
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    let person_id =
        support::plans::approved_option_2_plan(process.channel().await, "SW-E2E-1").await;
    let submit = |version: u32| proto::SubmitPlanRequest {
        person_id: person_id.clone(),
        version,
        over_budget_reason: "agreed at panel".into(),
    };
    let approve = |version: u32| proto::ApprovePlanRequest {
        person_id: person_id.clone(),
        version,
    };
    // The directory registers the service the person chose; assessment hears of it
    // through provider.registered and resolves its number to its directory id.
    let registered = support::register_indexed_care_service(
        &process,
        &commissioning,
        "Kingdom Home Support",
        "CS2004071234",
    )
    .await;
    let chosen = client
        .record_provider_choice(bearer(
            &practitioner,
            proto::RecordProviderChoiceRequest {
                person_id: person_id.clone(),
                version: 1,
                line_number: 1,
                provider: "CS2004071234".into(),
                holding_model: proto::FundHoldingModel::Provider as i32,
                holder: String::new(),
            },
        ))
        .await
        .expect("choice: v2")
        .into_inner();
    let Some(proto::arrangement::Arrangement::PersonDirected(directed)) = chosen.lines[0]
        .arrangement
        .as_ref()
        .and_then(|arrangement| arrangement.arrangement.clone())
    else {
        panic!("line 1 is option 2: {:?}", chosen.lines[0]);
    };
    assert_eq!(
        directed.provider, registered.id,
        "the number resolved to the directory id"
    );
    client
        .vary_plan(bearer(
            &practitioner,
            proto::VaryPlanRequest {
                person_id: person_id.clone(),
                version: 2,
                effective_from: date("2026-11-01"),
                changes: vec![proto::LineChange {
                    kind: Some(proto::line_change::Kind::Change(proto::LineChangeUpdate {
                        number: 1,
                        amount: Some(proto::LineAmount {
                            amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                                amount: "280.00".into(),
                            })),
                        }),
                        ..proto::LineChangeUpdate::default()
                    })),
                }],
                end_plan: false,
            },
        ))
        .await
        .expect("backdated variation: v3");
    client
        .submit_plan(bearer(&practitioner, submit(3)))
        .await
        .expect("submit v3");
    client
        .approve_plan(bearer(&practitioner, approve(3)))
        .await
        .expect("approve v3");
    client
        .vary_plan(bearer(
            &practitioner,
            proto::VaryPlanRequest {
                person_id: person_id.clone(),
                version: 3,
                effective_from: date("2027-01-01"),
                changes: vec![],
                end_plan: true,
            },
        ))
        .await
        .expect("end: v4");
    client
        .submit_plan(bearer(&practitioner, submit(4)))
        .await
        .expect("submit v4");
    client
        .approve_plan(bearer(&practitioner, approve(4)))
        .await
        .expect("approve v4");

    let jetstream =
        async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("nats"));
    let expected: Vec<(String, u64)> = vec![
        ("plan.approved".into(), 1),
        ("plan.provider_chosen".into(), 2),
        ("plan.varied".into(), 3),
        ("plan.ended".into(), 4),
    ];
    let seen = wait_until(
        Duration::from_secs(20),
        "every plan event is in the stream",
        || async {
            let seen = plan_events_in_stream(&jetstream).await;
            (seen.len() >= expected.len()).then_some(seen)
        },
    )
    .await;
    assert_eq!(seen, expected, "each once, in order, with its version");
    // The relay marks an event published only after the stream has acknowledged it, so
    // the last one can be in the stream a moment before its outbox row says so.
    let pool = process.pool(sds_assessment::SCHEMA);
    wait_until(
        Duration::from_secs(20),
        "every event of the outbox is published",
        || async {
            let unpublished: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&pool)
                    .await
                    .expect("outbox");
            (unpublished == 0).then_some(())
        },
    )
    .await;
    process.shutdown().await;
}
