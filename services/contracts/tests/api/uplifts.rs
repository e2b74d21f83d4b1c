//! Rate changes: an agreement priced on the provider's rate card follows its uplifts from
//! their dates without signatures (`agreement.varied`, `rate.uplifted`), and a variation
//! agreed after an uplift was made holds from its own date at the new rate.

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use uuid::Uuid;

use crate::agreements::{by_hand, person};
use crate::plan_events::*;
use crate::support::*;
use crate::variations::*;

/// 10 hours a week of personal care, given as hours at the authority's rate.
pub fn hours_line() -> proto::PlanLine {
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
async fn a_plan_s_hours_are_drafted_on_the_provider_s_only_rate_card() {
    let app = TestApp::spawn().await;
    let card = app
        .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .unwrap();
    app.set_defaults("fife", terms()).await.unwrap();
    let approved_plan = approved("fife", plan("fife", 1, vec![hours_line()]));
    app.publish(&approved_plan, &approved_plan.event_id).await;
    app.wait_for_plan_events(1).await;
    let listed = app
        .list(
            &practitioner("fife"),
            proto::ListAgreementsRequest {
                authority: "fife".into(),
                person_id: String::new(),
                page: None,
            },
        )
        .await
        .unwrap();
    let drafted = &listed.agreements[0];
    assert_eq!(
        weekly_of(drafted, 1),
        "253.70",
        "10 hours at 25.37, not the plan's 21.00"
    );
    let rate = drafted.rate.as_ref().unwrap();
    assert_eq!(
        (rate.rate_card_id.as_str(), rate.version),
        (card.id.as_str(), 1)
    );
}
