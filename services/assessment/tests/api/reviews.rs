//! Reviews: `review.due` is published once when an approved plan's review date arrives
//! (only for a person's latest approved version), and a `variance.persistent` event from
//! payments suggests a review once, however often it is delivered.

use std::time::Duration;

use prost::Message as _;
use sds_assessment::reviews::announce_due_reviews;
use sds_proto::v1::{self as proto, Event, SupportType};
use sds_testkit::{PrivateNats, TestProcess, TestSettings, bearer, wait_until};
use uuid::Uuid;

use crate::support::*;

async fn approved(app: &TestApp) -> proto::Plan {
    app.set_policy(policy("fife", "2026-04-01")).await;
    let someone = app.record_person("fife", person("SW-9001")).await;
    let staff = practitioner("fife");
    let mut client = app.client();
    client
        .set_indicative_budget(bearer(
            &staff,
            proto::SetIndicativeBudgetRequest {
                person_id: someone.id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::ByHand(
                    proto::BudgetByHand {
                        weekly: money("300.00"),
                        reason: "agreed".into(),
                    },
                )),
                set_on: None,
            },
        ))
        .await
        .unwrap();
    client
        .draft_plan(bearer(
            &staff,
            proto::DraftPlanRequest {
                person_id: someone.id.clone(),
                effective_from: date("2026-12-01"),
                lines: vec![proto::NewPlanLine {
                    support_type: SupportType::SocialSupport as i32,
                    amount: Some(proto::LineAmount {
                        amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                            amount: "120.00".into(),
                        })),
                    }),
                    arrangement: Some(proto::Arrangement {
                        arrangement: Some(proto::arrangement::Arrangement::DirectPayment(
                            proto::DirectPayment {},
                        )),
                    }),
                    start: date("2026-12-01"),
                    end: None,
                }],
            },
        ))
        .await
        .unwrap();
    client
        .submit_plan(bearer(
            &staff,
            proto::SubmitPlanRequest {
                person_id: someone.id.clone(),
                version: 1,
                over_budget_reason: String::new(),
            },
        ))
        .await
        .unwrap();
    client
        .approve_plan(bearer(
            &staff,
            proto::ApprovePlanRequest {
                person_id: someone.id.clone(),
                version: 1,
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn review_events(app: &TestApp) -> Vec<Event> {
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE event_type = 'review.due' ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    payloads
        .iter()
        .map(|payload| Event::decode(payload.as_slice()).unwrap())
        .collect()
}

#[tokio::test]
async fn a_review_is_announced_once_when_its_date_arrives() {
    let app = TestApp::spawn().await;
    let plan = approved(&app).await;
    assert_eq!(plan.review_due.as_ref().unwrap().iso, "2027-11-28");

    assert_eq!(
        announce_due_reviews(&app.pool, day("2027-11-27"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        announce_due_reviews(&app.pool, day("2027-11-28"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        announce_due_reviews(&app.pool, day("2027-12-15"))
            .await
            .unwrap(),
        0,
        "once"
    );

    let events = review_events(&app).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].aggregate_id, plan.person_id);
    assert_eq!(events[0].aggregate_version, 1);
    match &events[0].body {
        Some(proto::event::Body::ReviewDue(due)) => {
            assert_eq!(due.plan_version, 1);
            assert_eq!(due.review_due.as_ref().unwrap().iso, "2027-11-28");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn only_the_latest_approved_version_is_reviewed() {
    let app = TestApp::spawn().await;
    let plan = approved(&app).await;
    let staff = practitioner("fife");
    let mut client = app.client();
    client
        .vary_plan(bearer(
            &staff,
            proto::VaryPlanRequest {
                person_id: plan.person_id.clone(),
                version: 1,
                effective_from: date("2026-12-01"),
                changes: vec![],
                end_plan: true,
            },
        ))
        .await
        .unwrap();
    client
        .submit_plan(bearer(
            &staff,
            proto::SubmitPlanRequest {
                person_id: plan.person_id.clone(),
                version: 2,
                over_budget_reason: String::new(),
            },
        ))
        .await
        .unwrap();
    app.clock.set(
        sds_platform::ManualClock::on(day("2027-01-15"))
            .clock()
            .now(),
    );
    let ended = client
        .approve_plan(bearer(
            &staff,
            proto::ApprovePlanRequest {
                person_id: plan.person_id.clone(),
                version: 2,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ended.review_due.as_ref().unwrap().iso, "2028-01-15");

    assert_eq!(
        announce_due_reviews(&app.pool, day("2027-12-01"))
            .await
            .unwrap(),
        0,
        "version 1's date passed but it was overtaken"
    );
    assert_eq!(
        announce_due_reviews(&app.pool, day("2028-01-15"))
            .await
            .unwrap(),
        1
    );
    let events = review_events(&app).await;
    assert_eq!(events[0].aggregate_version, 2);
}

#[tokio::test]
async fn persistent_variance_suggests_one_review_however_often_it_is_delivered() {
    // A NATS of the test's own: the variance event must reach this process's consumer only.
    let nats = PrivateNats::start().await;
    let process = TestProcess::start_with(
        vec![sds_assessment::component()],
        TestSettings {
            nats_url: Some(nats.url()),
            clock: Some(sds_platform::ManualClock::on(day(TODAY)).clock()),
            ..TestSettings::default()
        },
    )
    .await;
    let pool = process.pool(sds_assessment::SCHEMA);
    let mut client =
        proto::assessment_service_client::AssessmentServiceClient::new(process.channel().await);
    let someone = client
        .record_person(bearer(
            &practitioner("fife"),
            proto::RecordPersonRequest {
                authority: "fife".into(),
                details: Some(person("SW-9100")),
            },
        ))
        .await
        .unwrap()
        .into_inner();

    let event_id = Uuid::now_v7();
    let envelope = Event {
        event_id: event_id.to_string(),
        event_type: "variance.persistent".into(),
        authority: "fife".into(),
        aggregate_type: "variance".into(),
        aggregate_id: someone.id.clone(),
        aggregate_version: 1,
        body: Some(proto::event::Body::VariancePersistent(
            proto::VariancePersistent {
                person_id: someone.id.clone(),
                reason: "delivery 30% under plan in each of the last 3 periods".into(),
                from: date("2026-08-01"),
                to: date("2026-10-31"),
            },
        )),
        ..Event::default()
    }
    .encode_to_vec();
    let jetstream = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    for message_id in [event_id.to_string(), "delivered-again".to_owned()] {
        sds_testkit::publish_event(
            &jetstream,
            "sds.fife.variance.persistent",
            &message_id,
            envelope.clone().into(),
        )
        .await;
    }

    wait_until(
        Duration::from_secs(10),
        "the review is suggested",
        || async {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM review_suggestion")
                .fetch_one(&pool)
                .await
                .ok()?;
            (count >= 1).then_some(())
        },
    )
    .await;
    // Let the second delivery be handled too.
    wait_until(
        Duration::from_secs(10),
        "both deliveries are acknowledged",
        || async {
            let stream = jetstream.get_stream("SDS_EVENTS").await.ok()?;
            let mut consumer: async_nats::jetstream::consumer::PullConsumer =
                stream.get_consumer("assessment-variance").await.ok()?;
            let info = consumer.info().await.ok()?;
            (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
        },
    )
    .await;
    let suggestions: Vec<(String,)> = sqlx::query_as("SELECT reason FROM review_suggestion")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        suggestions,
        vec![("delivery 30% under plan in each of the last 3 periods".to_owned(),)]
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM person_audit WHERE action = 'review.suggested'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
    process.shutdown().await;
}
