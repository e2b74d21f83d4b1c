//! After an agreement is active: a plan variation (backdated) drafts a variation every party
//! signs, then `agreement.varied`; a rate card uplift moves agreements priced on it without
//! signatures (`agreement.varied`, `rate.uplifted`); a terms variation; notice and the plan's
//! end (`agreement.ended`); and replaying every consumed event changes nothing.

use chrono::{DateTime, Utc};
use prost::Message as _;
use sds_proto::v1::{self as proto, Event};
use sds_testkit::bearer;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::agreements::{by_hand, holder, person};
use crate::plan_events::*;
use crate::support::*;

impl TestApp {
    pub async fn sign_version(
        &self,
        token: &str,
        id: &str,
        version: u32,
    ) -> Result<proto::Agreement, Status> {
        self.client()
            .sign_agreement(bearer(
                token,
                proto::SignAgreementRequest {
                    agreement_id: id.into(),
                    version,
                    capacity: 0,
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Every party signs `version`; returns what the last signature answered.
    pub async fn all_sign(&self, id: &str, version: u32) -> proto::Agreement {
        for token in [person(PERSON_ID), provider(PROVIDER_ID), holder()] {
            self.sign_version(&token, id, version).await.unwrap();
        }
        self.sign_version(&practitioner("fife"), id, version)
            .await
            .unwrap()
    }

    /// An agreement drafted by hand from the held plan and signed by every party.
    pub async fn active_agreement(&self) -> proto::Agreement {
        self.on_framework(PROVIDER_ID, "fife").await;
        self.plan_held_undrafted().await;
        let drafted = self.draft(&practitioner("fife"), by_hand()).await.unwrap();
        let active = self.all_sign(&drafted.id, 1).await;
        assert_eq!(active.status, proto::AgreementStatus::Active as i32);
        active
    }

    pub async fn events_of(&self, event_type: &str) -> Vec<Event> {
        let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY position",
        )
        .bind(event_type)
        .fetch_all(&self.pool)
        .await
        .unwrap();
        payloads
            .iter()
            .map(|payload| Event::decode(payload.as_slice()).unwrap())
            .collect()
    }

    pub async fn version_rows(&self) -> Vec<(i32, String, String)> {
        sqlx::query_as(
            "SELECT version, state, cause FROM agreement_version ORDER BY agreement_id, version",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    pub async fn outbox_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub fn today_is(&self, iso: &str) {
        let noon: DateTime<Utc> = format!("{iso}T12:00:00Z").parse().unwrap();
        self.clock.set(noon);
    }

    pub async fn end(
        &self,
        token: &str,
        id: &str,
        last_day: &str,
    ) -> Result<proto::Agreement, Status> {
        self.client()
            .end_agreement(bearer(
                token,
                proto::EndAgreementRequest {
                    agreement_id: id.into(),
                    last_day: date(last_day),
                    reason: "The person has moved to another area".into(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }
}

fn varied_plan(version: u32, effective_from: &str, recorded_on: &str, weekly: &str) -> Event {
    let mut line = directed_line(1, PROVIDER_ID, Some(HOLDER_ID));
    line.weekly = weekly.into();
    let mut plan = plan("fife", version, vec![line, arranged_line(2)]);
    plan.effective_from = date(effective_from);
    plan.recorded_on = date(recorded_on);
    envelope(
        "fife",
        Uuid::now_v7(),
        proto::event::Body::PlanVaried(proto::PlanVaried { plan: Some(plan) }),
    )
}

/// A variation as assessment makes one: the changed line ends the day before the change
/// and a new line (`new_line`) carries the new amount from the change's date.
fn changed_plan(version: u32, effective_from: &str, recorded_on: &str, weekly: &str) -> Event {
    let day_before = chrono::NaiveDate::parse_from_str(effective_from, "%Y-%m-%d")
        .unwrap()
        .pred_opt()
        .unwrap()
        .to_string();
    let mut ended = directed_line(1, PROVIDER_ID, Some(HOLDER_ID));
    ended.end = date(&day_before);
    let mut new_line = directed_line(3, PROVIDER_ID, Some(HOLDER_ID));
    new_line.weekly = weekly.into();
    new_line.start = date(effective_from);
    let mut plan = plan("fife", version, vec![ended, arranged_line(2), new_line]);
    plan.effective_from = date(effective_from);
    plan.recorded_on = date(recorded_on);
    envelope(
        "fife",
        Uuid::now_v7(),
        proto::event::Body::PlanVaried(proto::PlanVaried { plan: Some(plan) }),
    )
}

/// The weekly amount of plan line `number` in `agreement`.
fn weekly_of(agreement: &proto::Agreement, number: u32) -> String {
    agreement
        .lines
        .iter()
        .find(|line| line.plan_line == number)
        .and_then(|line| line.weekly.clone())
        .map(|weekly| weekly.amount)
        .unwrap_or_default()
}

fn iso(date: &Option<proto::Date>) -> &str {
    date.as_ref().map_or("", |date| date.iso.as_str())
}

fn body_agreement(event: &Event) -> (&proto::Agreement, Option<u32>) {
    match &event.body {
        Some(proto::event::Body::AgreementSigned(signed)) => {
            (signed.agreement.as_ref().unwrap(), None)
        }
        Some(proto::event::Body::AgreementVaried(varied)) => (
            varied.agreement.as_ref().unwrap(),
            Some(varied.previous_version),
        ),
        other => panic!("not an agreement event: {other:?}"),
    }
}

#[tokio::test]
async fn a_backdated_plan_variation_is_signed_again_and_published_from_its_own_date() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    app.today_is("2027-01-15");
    let varied = changed_plan(2, "2027-01-04", "2027-01-15", "250.0000");
    app.publish(&varied, &varied.event_id).await;
    app.wait_for_plan_events(2).await;

    let pending = app.get(&practitioner("fife"), id).await.unwrap();
    assert_eq!(pending.version, 2);
    assert_eq!(pending.awaiting_version, 2);
    assert_eq!(pending.status, proto::AgreementStatus::Active as i32);
    assert_eq!(pending.state, proto::AgreementVersionState::Awaiting as i32);
    assert_eq!(
        pending.cause,
        proto::AgreementVersionCause::PlanVaried as i32
    );
    assert_eq!(iso(&pending.effective_from), "2027-01-04", "backdated");
    // Line 1 ends the day before; line 3 carries the new amount, in the same agreement.
    assert_eq!(iso(&pending.lines[0].end), "2027-01-03");
    assert_eq!(weekly_of(&pending, 3), "250.00");
    assert_eq!(
        app.agreements().await.len(),
        1,
        "no agreement of its own for line 3"
    );
    assert!(app.events_of("agreement.varied").await.is_empty());

    // Version 1 is agreed: signing it again is harmless, and version 2 is what is signed.
    app.sign_version(&provider(PROVIDER_ID), id, 1)
        .await
        .unwrap();
    let agreed = app.all_sign(id, 2).await;
    assert_eq!(agreed.state, proto::AgreementVersionState::Agreed as i32);
    assert_eq!(agreed.awaiting_version, 0);

    let events = app.events_of("agreement.varied").await;
    assert_eq!(events.len(), 1, "published once");
    let (published, previous) = body_agreement(&events[0]);
    assert_eq!(events[0].aggregate_version, 2);
    assert_eq!(previous, Some(1));
    assert_eq!(iso(&published.effective_from), "2027-01-04");
    assert_eq!(iso(&published.recorded_on), "2027-01-15");
    assert_eq!(weekly_of(published, 3), "250.00");
    assert_eq!(published.payee_id, HOLDER_ID);
    assert_eq!(published.representative.as_ref().unwrap().name, "");
    assert_eq!(app.events_of("agreement.signed").await.len(), 1);

    // The same amounts again in a later plan version ask nobody to sign anything.
    let mut same = changed_plan(3, "2027-01-04", "2027-01-20", "250.0000");
    if let Some(proto::event::Body::PlanVaried(varied)) = same.body.as_mut() {
        varied.plan.as_mut().unwrap().effective_from = date("2027-01-20");
    }
    app.publish(&same, &same.event_id).await;
    app.wait_for_plan_events(3).await;
    assert_eq!(app.get(&practitioner("fife"), id).await.unwrap().version, 2);
}

#[tokio::test]
async fn a_newer_plan_variation_replaces_one_still_awaiting_signatures() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    let first = varied_plan(2, "2026-12-14", TODAY, "240.0000");
    app.publish(&first, &first.event_id).await;
    app.wait_for_plan_events(2).await;
    app.sign_version(&person(PERSON_ID), id, 2).await.unwrap();
    let second = varied_plan(3, "2026-12-21", TODAY, "260.0000");
    app.publish(&second, &second.event_id).await;
    app.wait_for_plan_events(3).await;
    assert_eq!(
        app.version_rows().await,
        vec![
            (1, "agreed".into(), "drafted".into()),
            (2, "superseded".into(), "plan_varied".into()),
            (3, "awaiting".into(), "plan_varied".into()),
        ]
    );
    let message = assert_code(
        app.sign_version(&provider(PROVIDER_ID), id, 2).await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("replaced"), "{message}");
    let agreed = app.all_sign(id, 3).await;
    assert_eq!(agreed.lines[0].weekly.as_ref().unwrap().amount, "260.00");
    assert_eq!(app.events_of("agreement.varied").await.len(), 1);
}

/// 10 hours a week of personal care, given as hours at the authority's rate.
fn hours_line() -> proto::PlanLine {
    let mut line = directed_line(1, PROVIDER_ID, Some(HOLDER_ID));
    line.amount = Some(proto::LineAmount {
        amount: Some(proto::line_amount::Amount::HoursAtRate(
            proto::HoursAtRate {
                hours_per_week: "10".into(),
                hourly_rate: money("21.00"),
            },
        )),
    });
    line.weekly = "210.0000".into();
    line
}

impl TestApp {
    /// A draft for 10 hours a week priced on the provider's card (25.37 an hour from April
    /// 2026), the provider on fife's framework.
    pub async fn priced_draft(&self) -> (proto::RateCard, proto::Agreement) {
        self.on_framework(PROVIDER_ID, "fife").await;
        let card = self
            .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
            .await
            .unwrap();
        let held = approved("fife", plan("fife", 1, vec![hours_line()]));
        self.publish(&held, &held.event_id).await;
        self.wait_for_plan_events(1).await;
        self.set_defaults("fife", terms()).await.unwrap();
        let drafted = self
            .draft(
                &practitioner("fife"),
                proto::DraftAgreementRequest {
                    rate_card_id: card.id.clone(),
                    ..by_hand()
                },
            )
            .await
            .unwrap();
        (card, drafted)
    }

    pub async fn uplift_by(&self, card: &str, from: &str, percent: &str) {
        self.uplift(
            &provider(PROVIDER_ID),
            proto::ScheduleUpliftRequest {
                rate_card_id: card.into(),
                effective_from: date(from),
                uplift: Some(proto::schedule_uplift_request::Uplift::Percentage(
                    percent.into(),
                )),
            },
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_terms_variation_signed_after_an_uplift_was_made_holds_at_the_new_rate() {
    let app = TestApp::spawn().await;
    let (card, drafted) = app.priced_draft().await;
    let id = drafted.id.as_str();
    app.all_sign(id, 1).await;
    let mut terms = drafted.terms.clone().unwrap();
    terms.notice_days = 56;
    let pending = app
        .client()
        .vary_agreement(bearer(
            &practitioner("fife"),
            proto::VaryAgreementRequest {
                agreement_id: id.into(),
                effective_from: date("2026-12-10"),
                terms: Some(terms),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pending.awaiting_version, 2);
    // The uplift arrives while version 2 awaits signatures: version 3 moves version 1.
    app.uplift_by(&card.id, "2027-04-01", "4").await;
    app.all_sign(id, 2).await;
    // Version 2 is the agreement from 10 December; from 1 April it is repriced (version 4),
    // and version 3's 28 days' notice no longer applies.
    let now = app.get(&practitioner("fife"), id).await.unwrap();
    assert_eq!(now.version, 4);
    assert_eq!(iso(&now.effective_from), "2027-04-01");
    assert_eq!(now.terms.as_ref().unwrap().notice_days, 56);
    assert_eq!(weekly_of(&now, 1), "263.80");
    let varied: Vec<u64> = app
        .events_of("agreement.varied")
        .await
        .iter()
        .map(|event| event.aggregate_version)
        .collect();
    assert_eq!(
        varied,
        vec![3, 2, 4],
        "each version published once, as agreed"
    );
}

#[tokio::test]
async fn an_uplift_moves_agreements_priced_on_the_card_from_its_date_without_signatures() {
    let app = TestApp::spawn().await;
    let (card, drafted) = app.priced_draft().await;
    assert_eq!(
        drafted.lines[0].weekly.as_ref().unwrap().amount,
        "253.70",
        "10 hours at the card's 25.37, not the plan's 21.00"
    );
    let rate = drafted.rate.as_ref().unwrap();
    assert_eq!(
        (rate.rate_card_id.as_str(), rate.version),
        (card.id.as_str(), 1)
    );
    let id = drafted.id.as_str();
    app.all_sign(id, 1).await;

    app.uplift_by(&card.id, "2027-04-01", "4").await;

    // Each component up 4% to the penny: 26.38 an hour, so 263.80 a week from 1 April.
    let now = app.get(&person(PERSON_ID), id).await.unwrap();
    assert_eq!(now.version, 2);
    assert_eq!(now.cause, proto::AgreementVersionCause::RateChanged as i32);
    assert_eq!(now.state, proto::AgreementVersionState::Agreed as i32);
    assert!(now.signatures.is_empty(), "nobody signs a rate change");
    assert_eq!(iso(&now.effective_from), "2027-04-01");
    assert_eq!(now.lines[0].weekly.as_ref().unwrap().amount, "263.80");
    assert_eq!(now.rate.as_ref().unwrap().version, 2);
    assert!(
        now.unsigned.is_empty(),
        "nobody is asked to sign a rate change"
    );
    // The person reads today's money; the uplift is told once it is in force.
    let summary = app.summary(&person(PERSON_ID), id).await.unwrap();
    assert_eq!(summary.version, 1);
    assert!(
        summary.text.contains("£253.70 a week") && !summary.text.contains("263.80"),
        "{}",
        summary.text
    );

    let varied = app.events_of("agreement.varied").await;
    assert_eq!(varied.len(), 1);
    let (published, previous) = body_agreement(&varied[0]);
    assert_eq!(previous, Some(1));
    assert_eq!(iso(&published.effective_from), "2027-04-01");
    assert_eq!(iso(&published.recorded_on), TODAY);
    let uplifted = app.events_of("rate.uplifted").await;
    assert_eq!(uplifted.len(), 1);
    assert_eq!(uplifted[0].authority, "fife");
    let Some(proto::event::Body::RateUplifted(uplift)) = &uplifted[0].body else {
        panic!("unexpected {:?}", uplifted[0].body);
    };
    assert_eq!(uplift.rate_card_id, card.id);
    assert_eq!(uplift.rate_card_version, 2);
    assert_eq!(iso(&uplift.effective_from), "2027-04-01");
    assert_eq!(uplift.hourly_rate.as_ref().unwrap().amount, "26.38");
    assert_eq!(uplift.agreements.len(), 1);
    assert_eq!(uplift.agreements[0].agreement_id, id);
    assert_eq!(uplift.agreements[0].version, 2);
    assert_eq!(
        uplift.agreements[0].lines[0]
            .weekly
            .as_ref()
            .unwrap()
            .amount,
        "263.80"
    );
    let weekly = uplift.agreements[0].weekly.as_ref().unwrap();
    // The 7.5% fee is taken within the budget: 19.79 of the 263.80.
    assert_eq!(weekly.total.as_ref().unwrap().amount, "263.80");
    assert_eq!(weekly.fee.as_ref().unwrap().amount, "19.79");
    assert_eq!(weekly.support.as_ref().unwrap().amount, "244.01");

    // A plan variation backdated across the uplift: 12 hours from 1 March is priced at
    // the old rate until 31 March and follows the uplift from 1 April.
    app.today_is("2027-05-03");
    let mut ten_until_march = hours_line();
    ten_until_march.end = date("2027-02-28");
    let mut twelve = hours_line();
    twelve.number = 2;
    twelve.start = date("2027-03-01");
    twelve.amount = Some(proto::LineAmount {
        amount: Some(proto::line_amount::Amount::HoursAtRate(
            proto::HoursAtRate {
                hours_per_week: "12".into(),
                hourly_rate: money("21.00"),
            },
        )),
    });
    twelve.weekly = "252.0000".into();
    let mut later = plan("fife", 2, vec![ten_until_march, twelve]);
    later.effective_from = date("2027-03-01");
    later.recorded_on = date("2027-05-03");
    let event = envelope(
        "fife",
        Uuid::now_v7(),
        proto::event::Body::PlanVaried(proto::PlanVaried { plan: Some(later) }),
    );
    app.publish(&event, &event.event_id).await;
    app.wait_for_plan_events(2).await;
    let pending = app.get(&practitioner("fife"), id).await.unwrap();
    assert_eq!(pending.awaiting_version, 3);
    app.all_sign(id, 3).await;
    let varied = app.events_of("agreement.varied").await;
    let amounts: Vec<(u64, String, String)> = varied
        .iter()
        .map(|event| {
            let (agreement, _) = body_agreement(event);
            (
                event.aggregate_version,
                iso(&agreement.effective_from).to_owned(),
                agreement
                    .lines
                    .last()
                    .and_then(|line| line.weekly.clone())
                    .unwrap()
                    .amount,
            )
        })
        .collect();
    assert_eq!(
        amounts,
        vec![
            (2, "2027-04-01".into(), "263.80".into()),
            (3, "2027-03-01".into(), "304.44".into()),
            (4, "2027-04-01".into(), "316.56".into()),
        ],
        "12 x 25.37 from March, 12 x 26.38 from April"
    );
}

#[tokio::test]
async fn terms_are_varied_by_the_authority_and_signed_again() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    let mut terms = active.terms.clone().unwrap();
    terms.notice_days = 56;
    let vary = |terms: proto::AgreementTerms, effective: &str| proto::VaryAgreementRequest {
        agreement_id: id.into(),
        effective_from: date(effective),
        terms: Some(terms),
    };
    let mut moved = terms.clone();
    moved.start = date("2026-12-07");
    assert_invalid(
        app.client()
            .vary_agreement(bearer(&practitioner("fife"), vary(moved, "2027-01-01")))
            .await,
        "terms.start",
    );
    assert_invalid(
        app.client()
            .vary_agreement(bearer(
                &practitioner("fife"),
                vary(terms.clone(), "2026-11-30"),
            ))
            .await,
        "effective_from",
    );
    assert_code(
        app.client()
            .vary_agreement(bearer(
                &provider(PROVIDER_ID),
                vary(terms.clone(), "2027-01-01"),
            ))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        app.client()
            .vary_agreement(bearer(
                &practitioner("perth"),
                vary(terms.clone(), "2027-01-01"),
            ))
            .await,
        Code::NotFound,
    );
    assert_eq!(app.version_rows().await.len(), 1, "nothing written");
    let pending = app
        .client()
        .vary_agreement(bearer(&practitioner("fife"), vary(terms, "2027-01-01")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pending.awaiting_version, 2);
    assert_eq!(
        pending.cause,
        proto::AgreementVersionCause::TermsVaried as i32
    );
    let agreed = app.all_sign(id, 2).await;
    assert_eq!(agreed.terms.as_ref().unwrap().notice_days, 56);
    let events = app.events_of("agreement.varied").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        iso(&body_agreement(&events[0]).0.effective_from),
        "2027-01-01"
    );
}

#[tokio::test]
async fn notice_ends_an_agreement_no_sooner_than_the_notice_period_allows() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    let message = assert_invalid(
        app.end(&provider(PROVIDER_ID), id, "2026-12-10").await,
        "last_day",
    );
    assert!(
        message.contains("2026-12-26"),
        "names the earliest: {message}"
    );
    assert_code(
        app.end(&provider(OTHER_PROVIDER_ID), id, "2027-01-31")
            .await,
        Code::NotFound,
    );
    assert!(app.events_of("agreement.ended").await.is_empty());

    let ended = app
        .end(&provider(PROVIDER_ID), id, "2027-01-31")
        .await
        .unwrap();
    assert_eq!(ended.status, proto::AgreementStatus::Ended as i32);
    assert_eq!(iso(&ended.last_day), "2027-01-31");
    assert_eq!(ended.end_cause, proto::AgreementEndCause::Notice as i32);
    assert_eq!(
        app.end(&provider(PROVIDER_ID), id, "2027-01-31")
            .await
            .unwrap(),
        ended,
        "the same notice again changes nothing"
    );
    assert_code(
        app.end(&practitioner("fife"), id, "2027-02-28").await,
        Code::FailedPrecondition,
    );
    let summary = app.summary(&person(PERSON_ID), id).await.unwrap();
    assert!(
        summary.text.contains("and ends on 31 January 2027."),
        "the summary tells the person the last day: {}",
        summary.text
    );
    let events = app.events_of("agreement.ended").await;
    assert_eq!(events.len(), 1);
    let Some(proto::event::Body::AgreementEnded(end)) = &events[0].body else {
        panic!("unexpected {:?}", events[0].body);
    };
    assert_eq!(end.agreement_id, id);
    assert_eq!(iso(&end.last_day), "2027-01-31");
    assert_eq!(iso(&end.recorded_on), TODAY);
    assert_eq!(end.version, 1);
    assert_eq!(end.payee_id, HOLDER_ID);
    assert_eq!(end.cause, proto::AgreementEndCause::Notice as i32);
}

#[tokio::test]
async fn the_plan_s_end_ends_the_agreements_it_funds_and_replaying_every_event_changes_nothing() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    let varied = varied_plan(2, "2026-12-14", TODAY, "240.0000");
    app.publish(&varied, &varied.event_id).await;
    app.wait_for_plan_events(2).await;
    app.all_sign(id, 2).await;
    let mut ending = plan("fife", 3, vec![]);
    ending.ends_plan = true;
    ending.effective_from = date("2027-03-01");
    let ended = envelope(
        "fife",
        Uuid::now_v7(),
        proto::event::Body::PlanEnded(proto::PlanEnded { plan: Some(ending) }),
    );
    app.publish(&ended, &ended.event_id).await;
    app.wait_for_plan_events(3).await;
    let now = app.get(&person(PERSON_ID), id).await.unwrap();
    assert_eq!(now.status, proto::AgreementStatus::Ended as i32);
    assert_eq!(
        iso(&now.last_day),
        "2027-02-28",
        "the day before the plan ends"
    );
    assert_eq!(now.end_cause, proto::AgreementEndCause::PlanEnded as i32);
    let events = app.events_of("agreement.ended").await;
    assert_eq!(events.len(), 1);

    // Every consumed event again, under new message ids and as new events about the same
    // plan versions: nothing changes.
    let versions = app.version_rows().await;
    let outbox = app.outbox_count().await;
    let first = held_plan();
    for event in [&first, &varied, &ended] {
        app.publish(event, &format!("{}-again", event.event_id))
            .await;
        let mut copy = (*event).clone();
        copy.event_id = Uuid::now_v7().to_string();
        app.publish(&copy, &copy.event_id).await;
    }
    app.wait_for_plan_events(6).await;
    assert_eq!(app.version_rows().await, versions);
    assert_eq!(app.outbox_count().await, outbox);
    assert_eq!(
        app.get(&person(PERSON_ID), id).await.unwrap(),
        now,
        "the agreement is as it was"
    );
}

#[tokio::test]
async fn an_agreement_under_notice_follows_the_plan_until_its_last_day() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    app.end(&provider(PROVIDER_ID), id, "2027-01-31")
        .await
        .unwrap();
    // More support from 4 January, within the notice period: varied and signed as usual.
    app.today_is("2027-01-06");
    let more = changed_plan(2, "2027-01-04", "2027-01-06", "250.0000");
    app.publish(&more, &more.event_id).await;
    app.wait_for_plan_events(2).await;
    let pending = app.get(&practitioner("fife"), id).await.unwrap();
    assert_eq!(pending.awaiting_version, 2);
    let agreed = app.all_sign(id, 2).await;
    assert_eq!(weekly_of(&agreed, 3), "250.00");
    assert_eq!(iso(&agreed.last_day), "2027-01-31", "still ending then");
    assert_eq!(app.events_of("agreement.varied").await.len(), 1);
    // A change after the last day is moot; the plan ending sooner brings the end forward.
    let mut later = changed_plan(3, "2027-02-08", "2027-01-06", "260.0000");
    if let Some(proto::event::Body::PlanVaried(varied)) = later.body.as_mut() {
        varied.plan.as_mut().unwrap().lines[2].number = 4;
    }
    app.publish(&later, &later.event_id).await;
    app.wait_for_plan_events(3).await;
    assert_eq!(app.get(&practitioner("fife"), id).await.unwrap().version, 2);
    let mut ending = plan("fife", 4, vec![]);
    ending.ends_plan = true;
    ending.effective_from = date("2027-01-20");
    let ended = envelope(
        "fife",
        Uuid::now_v7(),
        proto::event::Body::PlanEnded(proto::PlanEnded { plan: Some(ending) }),
    );
    app.publish(&ended, &ended.event_id).await;
    app.wait_for_plan_events(4).await;
    let now = app.get(&person(PERSON_ID), id).await.unwrap();
    assert_eq!(iso(&now.last_day), "2027-01-19");
    assert_eq!(now.end_cause, proto::AgreementEndCause::PlanEnded as i32);
    let last_days: Vec<String> = app
        .events_of("agreement.ended")
        .await
        .iter()
        .map(|event| match &event.body {
            Some(proto::event::Body::AgreementEnded(end)) => iso(&end.last_day).to_owned(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(last_days, vec!["2027-01-31", "2027-01-19"]);
}
