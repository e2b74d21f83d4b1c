//! Agreements by hand: drafted from the person's plan copy, the draft changed, read and
//! listed by who may, and signed by each party from its own token; the last signature
//! publishes `agreement.signed` once.

use prost::Message as _;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1::{self as proto, Event};
use sds_testkit::{bearer, token_for};
use tonic::{Code, Status};

use crate::plan_events::*;
use crate::support::*;

pub fn holder() -> String {
    token_for(&Principal {
        org_id: HOLDER_ID.into(),
        org_kind: OrgKind::Holder,
        roles: vec![],
        authorities: vec![],
        person_id: None,
    })
}

pub fn person(id: &str) -> String {
    token_for(&Principal {
        org_id: id.into(),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![],
        person_id: Some(id.into()),
    })
}

impl TestApp {
    /// The person's plan held (line 1 option 2 with a third-party holder, line 2 option 3)
    /// before fife had defaults, so nothing was drafted; then fife's defaults.
    pub async fn plan_held_undrafted(&self) {
        let event = held_plan();
        self.publish(&event, &event.event_id).await;
        self.wait_for_plan_events(1).await;
        self.set_defaults("fife", terms()).await.unwrap();
    }

    pub async fn draft(
        &self,
        token: &str,
        request: proto::DraftAgreementRequest,
    ) -> Result<proto::Agreement, Status> {
        self.client()
            .draft_agreement(bearer(token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get(&self, token: &str, id: &str) -> Result<proto::Agreement, Status> {
        self.client()
            .get_agreement(bearer(
                token,
                proto::GetAgreementRequest {
                    agreement_id: id.into(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list(
        &self,
        token: &str,
        request: proto::ListAgreementsRequest,
    ) -> Result<proto::ListAgreementsResponse, Status> {
        self.client()
            .list_agreements(bearer(token, request))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn sign(
        &self,
        token: &str,
        id: &str,
        capacity: &str,
    ) -> Result<proto::Agreement, Status> {
        self.client()
            .sign_agreement(bearer(
                token,
                proto::SignAgreementRequest {
                    agreement_id: id.into(),
                    version: 1,
                    capacity: capacity_number(capacity),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn signed_events(&self) -> Vec<Event> {
        let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE event_type = 'agreement.signed' ORDER BY position",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        payloads
            .iter()
            .map(|payload| Event::decode(payload.as_slice()).unwrap())
            .collect()
    }
}

pub fn by_hand() -> proto::DraftAgreementRequest {
    proto::DraftAgreementRequest {
        authority: "fife".into(),
        person_id: PERSON_ID.into(),
        plan_lines: vec![1],
        outcomes: "I want to stay in my own home and get to the lunch club on Fridays".into(),
        representative: Some(proto::AgreementRepresentative {
            name: "Ann Innes".into(),
            capacity: capacity_number("welfare_guardian"),
        }),
        rate_card_id: String::new(),
    }
}

#[tokio::test]
async fn a_draft_by_hand_is_changed_until_signed_and_seen_only_by_the_authority_and_parties() {
    let app = TestApp::spawn().await;
    app.plan_held_undrafted().await;
    let staff = practitioner("fife");
    let drafted = app.draft(&staff, by_hand()).await.unwrap();
    assert_eq!(drafted.status, proto::AgreementStatus::Draft as i32);
    assert_eq!(drafted.state, proto::AgreementVersionState::Awaiting as i32);
    assert_eq!(drafted.holder_id, HOLDER_ID);
    assert_eq!(drafted.payee_kind, proto::PayeeKind::Holder as i32);
    assert_eq!(drafted.lines.len(), 1);
    assert_eq!(drafted.lines[0].weekly.as_ref().unwrap().amount, "210.13");
    let terms = drafted.terms.as_ref().unwrap();
    assert_eq!(terms.review_on.as_ref().unwrap().iso, "2027-06-01");
    assert_eq!(terms.notice_days, 28);
    let weekly = drafted.weekly.as_ref().unwrap();
    assert_eq!(
        weekly.fee.as_ref().unwrap().amount,
        "15.76",
        "7.5% within 210.13"
    );
    assert_eq!(
        drafted.unsigned,
        vec![
            proto::AgreementParty::Person as i32,
            proto::AgreementParty::Provider as i32,
            proto::AgreementParty::Authority as i32,
            proto::AgreementParty::Holder as i32,
        ]
    );

    let again = app.draft(&staff, by_hand()).await;
    assert!(assert_code(again, Code::FailedPrecondition).contains("already funded"));

    let updated = app
        .client()
        .update_agreement_draft(bearer(
            &staff,
            proto::UpdateAgreementDraftRequest {
                agreement_id: drafted.id.clone(),
                outcomes: "To keep my flat and see my friends".into(),
                representative: None,
                no_representative: true,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.outcomes, "To keep my flat and see my friends");
    assert_eq!(updated.representative, None);

    for token in [
        provider(PROVIDER_ID),
        holder(),
        person(PERSON_ID),
        staff.clone(),
    ] {
        assert_eq!(app.get(&token, &drafted.id).await.unwrap(), updated);
    }
    for token in [provider(OTHER_PROVIDER_ID), practitioner("angus")] {
        assert_code(app.get(&token, &drafted.id).await, Code::NotFound);
    }

    let everyone = proto::ListAgreementsRequest {
        authority: String::new(),
        person_id: String::new(),
        page: None,
    };
    for (token, count) in [
        (staff.clone(), 1),
        (provider(PROVIDER_ID), 1),
        (provider(OTHER_PROVIDER_ID), 0),
        (person(PERSON_ID), 1),
    ] {
        let listed = app.list(&token, everyone.clone()).await.unwrap();
        assert_eq!(listed.agreements.len(), count);
    }
    let of_person = app
        .list(
            &staff,
            proto::ListAgreementsRequest {
                person_id: PERSON_ID.into(),
                ..everyone.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(of_person.page.unwrap().total_matches, 1);
    assert_code(
        app.list(
            &practitioner("angus"),
            proto::ListAgreementsRequest {
                authority: "fife".into(),
                ..everyone
            },
        )
        .await,
        Code::PermissionDenied,
    );

    app.sign(&provider(PROVIDER_ID), &drafted.id, "")
        .await
        .unwrap();
    let late = app
        .client()
        .update_agreement_draft(bearer(
            &staff,
            proto::UpdateAgreementDraftRequest {
                agreement_id: drafted.id.clone(),
                outcomes: "Changed after a signature".into(),
                representative: None,
                no_representative: false,
            },
        ))
        .await;
    assert_code(late, Code::FailedPrecondition);
}

#[tokio::test]
async fn each_party_signs_as_itself_and_the_last_signature_publishes_agreement_signed_once() {
    let app = TestApp::spawn().await;
    app.on_framework(PROVIDER_ID, "fife").await;
    app.plan_held_undrafted().await;
    let drafted = app.draft(&practitioner("fife"), by_hand()).await.unwrap();
    let id = drafted.id.as_str();

    let first = app.sign(&person(PERSON_ID), id, "").await.unwrap();
    assert_eq!(
        first.signatures[0].capacity,
        capacity_number("welfare_guardian")
    );
    assert_eq!(
        app.sign(&person(PERSON_ID), id, "").await.unwrap(),
        first,
        "signing twice is harmless"
    );
    assert_code(
        app.sign(&provider(OTHER_PROVIDER_ID), id, "").await,
        Code::NotFound,
    );
    assert_code(
        app.sign(&staff("fife", &[Role::Finance]), id, "").await,
        Code::PermissionDenied,
    );
    app.sign(&provider(PROVIDER_ID), id, "").await.unwrap();
    app.sign(&holder(), id, "").await.unwrap();
    assert!(app.signed_events().await.is_empty(), "not until the last");
    let agreed = app.sign(&practitioner("fife"), id, "").await.unwrap();
    assert_eq!(agreed.status, proto::AgreementStatus::Active as i32);
    assert_eq!(agreed.state, proto::AgreementVersionState::Agreed as i32);
    assert_eq!(agreed.agreed_on.as_ref().unwrap().iso, TODAY);
    assert!(agreed.unsigned.is_empty());
    assert_eq!(
        app.sign(&practitioner("fife"), id, "").await.unwrap(),
        agreed,
        "a retry after the last signature is harmless"
    );

    let events = app.signed_events().await;
    assert_eq!(events.len(), 1, "published once");
    assert_eq!(events[0].aggregate_id, id);
    assert_eq!(events[0].aggregate_version, 1);
    assert_eq!(events[0].authority, "fife");
    let Some(proto::event::Body::AgreementSigned(signed)) = &events[0].body else {
        panic!("unexpected {:?}", events[0].body);
    };
    let published = signed.agreement.as_ref().unwrap();
    assert_eq!(published.person_id, PERSON_ID);
    assert_eq!(published.payee_id, HOLDER_ID);
    assert_eq!(
        published.holding_model,
        proto::FundHoldingModel::ThirdParty as i32
    );
    assert_eq!(published.lines[0].weekly.as_ref().unwrap().amount, "210.13");
    assert_eq!(published.lines[0].start.as_ref().unwrap().iso, "2026-12-01");
    let terms = published.terms.as_ref().unwrap();
    assert_eq!(terms.frequency, proto::PaymentFrequency::FourWeekly as i32);
    assert_eq!(terms.flex_tolerance_percent, "10");
    assert_eq!(terms.fee.as_ref().unwrap().percentage, "7.5");
    let weekly = published.weekly.as_ref().unwrap();
    assert_eq!(weekly.fee.as_ref().unwrap().amount, "15.76");
    assert_eq!(
        weekly.fee_placement,
        proto::FeePlacement::WithinBudget as i32
    );
    assert_eq!(
        published.representative.as_ref().unwrap().name,
        "",
        "no names in events"
    );
}
