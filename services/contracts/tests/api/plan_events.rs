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
        proto::event::Body::PlanVaried(varied) => ("plan.varied", varied.plan.as_ref()),
        proto::event::Body::PlanEnded(ended) => ("plan.ended", ended.plan.as_ref()),
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
        sds_testkit::publish_event(
            &jetstream,
            &format!("sds.{}.{}", event.authority, event.event_type),
            message_id,
            event.encode_to_vec().into(),
        )
        .await;
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

/// Fife's approval of the person's first plan: line 1 option 2 with a third-party holder,
/// line 2 option 3.
pub fn held_plan() -> Event {
    approved(
        "fife",
        plan(
            "fife",
            1,
            vec![
                directed_line(1, PROVIDER_ID, Some(HOLDER_ID)),
                arranged_line(2),
            ],
        ),
    )
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
    let first = held_plan();
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
pub fn provider_chosen(authority: &str, plan: proto::Plan, line_number: u32) -> Event {
    envelope(
        authority,
        Uuid::now_v7(),
        proto::event::Body::PlanProviderChosen(proto::PlanProviderChosen {
            plan: Some(plan),
            line_number,
        }),
    )
}

impl TestApp {
    /// Each agreement's provider, holder, status and funded lines, oldest first.
    pub async fn agreements(&self) -> Vec<(String, Option<String>, String, Vec<i32>)> {
        let rows: Vec<(uuid::Uuid, Option<uuid::Uuid>, String, Vec<i32>)> = sqlx::query_as(
            "SELECT provider_id, holder_id, status, funded_lines FROM agreement \
             ORDER BY created, id",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(provider, holder, status, lines)| {
                (
                    provider.to_string(),
                    holder.map(|holder| holder.to_string()),
                    status,
                    lines,
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn an_approved_plan_drafts_one_agreement_for_its_chosen_option_2_lines() {
    let app = TestApp::spawn().await;
    app.set_defaults("fife", terms()).await.unwrap();
    let first = held_plan();
    app.publish(&first, &first.event_id).await;
    app.wait_for_plan_events(1).await;
    let drafted = vec![(
        PROVIDER_ID.to_owned(),
        Some(HOLDER_ID.to_owned()),
        "draft".to_owned(),
        vec![1],
    )];
    assert_eq!(app.agreements().await, drafted, "only the option 2 line");
    let (lines, terms, outcomes, payee): (String, String, String, uuid::Uuid) = sqlx::query_as(
        "SELECT lines::text, terms::text, outcomes, payee_id FROM agreement_version",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(lines.contains(r#""weekly": "210.13""#), "{lines}");
    assert!(terms.contains(r#""start": "2026-12-01""#), "{terms}");
    assert!(terms.contains(r#""review_on": "2027-06-01""#), "{terms}");
    assert!(terms.contains(r#""fee_percentage": "7.50""#), "{terms}");
    assert_eq!(outcomes, "To be agreed with the person before signing");
    assert_eq!(payee.to_string(), HOLDER_ID, "a third-party holder is paid");

    // The same event again (a new message id, the same event id): nothing changes.
    app.publish(&first, "delivered-again").await;
    // A later choice for another provider drafts a second agreement.
    let mut other = directed_line(3, OTHER_PROVIDER_ID, None);
    other.start = date("2027-01-04");
    let chosen = provider_chosen(
        "fife",
        plan(
            "fife",
            2,
            vec![
                directed_line(1, PROVIDER_ID, Some(HOLDER_ID)),
                arranged_line(2),
                other,
            ],
        ),
        3,
    );
    app.publish(&chosen, &chosen.event_id).await;
    app.wait_for_plan_events(2).await;
    let mut both = drafted;
    both.push((
        OTHER_PROVIDER_ID.to_owned(),
        None,
        "draft".to_owned(),
        vec![3],
    ));
    assert_eq!(app.agreements().await, both);
}

#[tokio::test]
async fn without_contract_defaults_nothing_is_drafted() {
    let app = TestApp::spawn().await;
    let first = approved(
        "fife",
        plan(
            "fife",
            1,
            vec![directed_line(1, PROVIDER_ID, Some(HOLDER_ID))],
        ),
    );
    app.publish(&first, &first.event_id).await;
    app.wait_for_plan_events(1).await;
    assert_eq!(app.agreements().await, vec![]);
    assert_eq!(app.plan_copies().await.len(), 1, "the plan is still kept");
}
