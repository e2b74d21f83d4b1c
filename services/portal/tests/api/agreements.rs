//! Agreement changes reach the agreement's provider, its holder and its payee: ended
//! agreements name only the payee, so the portal remembers the rest from the signing.

use sds_proto::v1::{self as proto, PayeeKind};

use crate::support::*;

struct ThirdPartyFund {
    agreement_id: String,
    person_id: String,
    provider_id: String,
    holder_id: String,
}

impl ThirdPartyFund {
    fn new() -> ThirdPartyFund {
        ThirdPartyFund {
            agreement_id: new_id(),
            person_id: new_id(),
            provider_id: new_id(),
            holder_id: new_id(),
        }
    }

    /// The agreement as contracts publishes it, with a representative who signs for the
    /// person (whose name must go no further).
    fn agreement(&self, version: u32, effective_from: &str) -> proto::Agreement {
        proto::Agreement {
            id: self.agreement_id.clone(),
            authority: AUTHORITY.into(),
            person_id: self.person_id.clone(),
            provider_id: self.provider_id.clone(),
            holding_model: proto::FundHoldingModel::ThirdParty as i32,
            holder_id: self.holder_id.clone(),
            version,
            effective_from: date(effective_from),
            recorded_on: date("2026-11-28"),
            payee_kind: PayeeKind::Holder as i32,
            payee_id: self.holder_id.clone(),
            representative: Some(proto::AgreementRepresentative {
                name: "Ann Innes".into(),
                ..proto::AgreementRepresentative::default()
            }),
            ..proto::Agreement::default()
        }
    }

    fn signed(&self) -> proto::Event {
        event(
            AUTHORITY,
            &self.agreement_id,
            1,
            proto::event::Body::AgreementSigned(proto::AgreementSigned {
                agreement: Some(self.agreement(1, "2026-12-01")),
            }),
        )
    }

    fn varied(&self) -> proto::Event {
        event(
            AUTHORITY,
            &self.agreement_id,
            2,
            proto::event::Body::AgreementVaried(proto::AgreementVaried {
                agreement: Some(self.agreement(2, "2026-11-18")),
                previous_version: 1,
            }),
        )
    }

    fn ended(&self) -> proto::Event {
        event(
            AUTHORITY,
            &self.agreement_id,
            2,
            proto::event::Body::AgreementEnded(proto::AgreementEnded {
                agreement_id: self.agreement_id.clone(),
                authority: AUTHORITY.into(),
                person_id: self.person_id.clone(),
                version: 2,
                last_day: date("2027-01-31"),
                recorded_on: date("2026-11-28"),
                payee_kind: PayeeKind::Holder as i32,
                payee_id: self.holder_id.clone(),
                ..proto::AgreementEnded::default()
            }),
        )
    }
}

#[tokio::test]
async fn an_ended_agreement_reaches_the_provider_known_from_its_signing_and_the_holder_it_pays() {
    let app = TestApp::spawn().await;
    let fund = ThirdPartyFund::new();
    let bystander = new_id();
    app.deliver(&fund.signed()).await;
    // Signing is the parties' own act: nobody is told of it.
    assert_eq!(app.row_counts().await, (0, 0));
    app.deliver(&fund.ended()).await;

    let expected = Some(proto::notification::Body::AgreementEnded(
        proto::AgreementEndedNotice {
            agreement_id: fund.agreement_id.clone(),
            person_id: fund.person_id.clone(),
            version: 2,
            last_day: date("2027-01-31"),
            recorded_on: date("2026-11-28"),
        },
    ));
    let mut provider_stream = app
        .subscribe(&provider(&fund.provider_id), "")
        .await
        .unwrap();
    let told = next(&mut provider_stream).await;
    assert_eq!(told.kind, proto::NotificationKind::AgreementEnded as i32);
    assert_eq!(told.body, expected);
    let mut holder_stream = app.subscribe(&holder(&fund.holder_id), "").await.unwrap();
    assert_eq!(next(&mut holder_stream).await.body, expected);
    assert_eq!(app.kept_for(&bystander).await, 0);
}

#[tokio::test]
async fn an_agreement_variation_tells_its_parties_once_each_and_never_the_representatives_name() {
    let app = TestApp::spawn().await;
    let fund = ThirdPartyFund::new();
    let mut provider_stream = app
        .subscribe(&provider(&fund.provider_id), "")
        .await
        .unwrap();
    app.deliver(&fund.varied()).await;

    let told = next(&mut provider_stream).await;
    assert_eq!(
        told.body,
        Some(proto::notification::Body::AgreementVaried(
            proto::AgreementVariedNotice {
                agreement_id: fund.agreement_id.clone(),
                person_id: fund.person_id.clone(),
                version: 2,
                previous_version: 1,
                effective_from: date("2026-11-18"),
                recorded_on: date("2026-11-28"),
            }
        ))
    );
    // The holder is both party and payee: told once.
    assert_eq!(app.kept_for(&fund.holder_id).await, 1);
    let naming: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notification WHERE body::text LIKE '%Innes%'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(naming, 0);
}
