//! Plan events as assessment publishes them, built here and published straight to the
//! test's own NATS, and ways to wait for the consumer to have handled them.

use std::time::Duration;

use prost::Message as _;
use sds_proto::v1::{self as proto, Event};
use sds_testkit::wait_until;
use uuid::Uuid;

use crate::support::*;

/// A person whose plan the tests publish.
pub const PERSON_ID: &str = "0192f0c1-0000-7000-8000-0000000000a1";
/// The third party holding the fund of the option 2 line.
pub const HOLDER_ID: &str = "0192f0c1-0000-7000-8000-0000000000b1";

pub fn weekly(amount: &str) -> Option<proto::LineAmount> {
    Some(proto::LineAmount {
        amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
            amount: amount.to_owned(),
        })),
    })
}

/// An option 2 line: the provider chosen, the fund held by `holder` (a third party) or by
/// the provider when `None`.
pub fn directed_line(number: u32, provider: &str, holder: Option<&str>) -> proto::PlanLine {
    proto::PlanLine {
        number,
        support_type: proto::SupportType::PersonalCare as i32,
        amount: weekly("210.0000"),
        weekly: "210.1250".into(),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(proto::arrangement::Arrangement::PersonDirected(
                proto::PersonDirected {
                    provider: provider.to_owned(),
                    holding_model: if holder.is_some() {
                        proto::FundHoldingModel::ThirdParty as i32
                    } else {
                        proto::FundHoldingModel::Provider as i32
                    },
                    holder: holder.unwrap_or_default().to_owned(),
                },
            )),
        }),
        option: 2,
        pending: String::new(),
        start: date("2026-12-01"),
        end: None,
    }
}

/// An option 3 line: the authority arranges it.
pub fn arranged_line(number: u32) -> proto::PlanLine {
    proto::PlanLine {
        number,
        support_type: proto::SupportType::DaySupport as i32,
        amount: weekly("80.00"),
        weekly: "80.0000".into(),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(proto::arrangement::Arrangement::AuthorityArranged(
                proto::AuthorityArranged {
                    provider: String::new(),
                },
            )),
        }),
        option: 3,
        pending: String::new(),
        start: date("2026-12-01"),
        end: None,
    }
}

pub fn plan(authority: &str, version: u32, lines: Vec<proto::PlanLine>) -> proto::Plan {
    proto::Plan {
        person_id: PERSON_ID.into(),
        authority: authority.into(),
        version,
        status: proto::PlanStatus::Approved as i32,
        effective_from: date("2026-12-01"),
        recorded_on: date(TODAY),
        lines,
        ..proto::Plan::default()
    }
}

/// The event envelope as the relay would publish it.
pub fn envelope(authority: &str, event_id: Uuid, body: proto::event::Body) -> Event {
    let (event_type, version) = match &body {
        proto::event::Body::PlanApproved(approved) => ("plan.approved", approved.plan.as_ref()),
        proto::event::Body::PlanProviderChosen(chosen) => {
            ("plan.provider_chosen", chosen.plan.as_ref())
        }
        other => panic!("not a plan event: {other:?}"),
    };
    Event {
        event_id: event_id.to_string(),
        event_type: event_type.into(),
        authority: authority.into(),
        aggregate_type: "plan".into(),
        aggregate_id: PERSON_ID.into(),
        aggregate_version: u64::from(version.map_or(1, |plan| plan.version)),
        body: Some(body),
        ..Event::default()
    }
}

impl TestApp {
    /// Publishes `event` with its own message id (a redelivery can use another).
    pub async fn publish(&self, event: &Event, message_id: &str) {
        let jetstream =
            async_nats::jetstream::new(async_nats::connect(self.nats.url()).await.unwrap());
        wait_until(
            Duration::from_secs(10),
            "the events stream exists",
            || async { jetstream.get_stream("SDS_EVENTS").await.ok().map(|_| ()) },
        )
        .await;
        let subject = format!("sds.{}.{}", event.authority, event.event_type);
        jetstream
            .send_publish(
                subject,
                async_nats::jetstream::message::PublishMessage::build()
                    .message_id(message_id)
                    .payload(event.encode_to_vec().into()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }

    /// Waits until the consumer has handled `count` plan events (its inbox rows).
    pub async fn wait_for_plan_events(&self, count: i64) {
        wait_until(
            Duration::from_secs(15),
            "the plan events are handled",
            || async {
                let handled: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM inbox WHERE consumer = 'contracts-plans'",
                )
                .fetch_one(&self.pool)
                .await
                .ok()?;
                (handled >= count).then_some(())
            },
        )
        .await;
    }

    pub async fn plan_copies(&self) -> Vec<(i32, String)> {
        sqlx::query_as("SELECT version, event_type FROM plan_copy ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

pub fn approved(authority: &str, plan: proto::Plan) -> Event {
    envelope(
        authority,
        Uuid::now_v7(),
        proto::event::Body::PlanApproved(proto::PlanApproved { plan: Some(plan) }),
    )
}

#[tokio::test]
async fn each_plan_version_is_copied_once_however_often_it_arrives() {
    let app = TestApp::spawn().await;
    let first = approved(
        "fife",
        plan(
            "fife",
            1,
            vec![
                directed_line(1, PROVIDER_ID, Some(HOLDER_ID)),
                arranged_line(2),
            ],
        ),
    );
    app.publish(&first, &first.event_id).await;
    app.wait_for_plan_events(1).await;
    // The same event again under another message id: the inbox drops it.
    app.publish(&first, "delivered-again").await;
    // Another event about the same version (a new event id) changes nothing either.
    let mut same_version = first.clone();
    same_version.event_id = Uuid::now_v7().to_string();
    app.publish(&same_version, &same_version.event_id).await;
    app.wait_for_plan_events(2).await;
    assert_eq!(app.plan_copies().await, vec![(1, "plan.approved".into())]);
}
