//! Activation waits on the provider's standing, read from the directory (running in the same
//! process, called over gRPC) when the last signature would make an agreement active: an
//! off-framework provider short of its checks is refused with everything to fix, and nothing
//! is written, so the same signature succeeds once the directory has what was missing.

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::{Code, Status};

use crate::agreements::{by_hand, person};
use crate::plan_events::*;
use crate::support::*;

/// A self-employed personal assistant the person chose off framework.
pub const ASSISTANT_ID: &str = "0192f0c1-0000-7000-8000-00000000c5b1";

impl TestApp {
    /// The provider `id` registered in the directory by itself, as a provider of `kind`.
    pub async fn register_provider(&self, id: &str, name: &str, kind: proto::ProviderKind) {
        self.directory
            .clone()
            .register_provider(bearer(
                &provider(id),
                proto::RegisterProviderRequest {
                    details: Some(proto::ProviderDetails {
                        name: name.into(),
                        kind: kind as i32,
                        service_types: vec!["Personal care".into()],
                        localities: vec!["Fife".into()],
                        ..proto::ProviderDetails::default()
                    }),
                    request_id: String::new(),
                },
            ))
            .await
            .expect("register the provider in the directory");
    }

    /// The provider `id` in the directory and on `authority`'s framework.
    pub async fn on_framework(&self, id: &str, authority: &str) {
        self.register_provider(
            id,
            "Kingdom Care",
            proto::ProviderKind::VoluntaryOrganisation,
        )
        .await;
        self.directory
            .clone()
            .set_framework_status(bearer(
                &commissioning(authority),
                proto::SetFrameworkStatusRequest {
                    provider_id: id.into(),
                    authority: authority.into(),
                    status: proto::FrameworkStatus::OnFramework as i32,
                },
            ))
            .await
            .expect("put the provider on the framework");
    }

    /// Records a check of the provider `id` as the provider itself.
    pub async fn record_check(
        &self,
        id: &str,
        kind: proto::CheckKind,
        reference: &str,
        checked_on: &str,
        expires_on: &str,
    ) {
        self.directory
            .clone()
            .record_check(bearer(
                &provider(id),
                proto::RecordCheckRequest {
                    provider_id: id.into(),
                    check: Some(proto::Check {
                        kind: kind as i32,
                        reference: reference.into(),
                        checked_on: date(checked_on),
                        expires_on: date(expires_on),
                        status: 0,
                    }),
                },
            ))
            .await
            .expect("record the check");
    }

    /// A draft agreement of the person with `provider` (holding the fund itself), signed by
    /// the person and the provider, so the authority's signature is the last.
    pub async fn signed_but_for_the_authority(&self, provider_id: &str) -> String {
        let event = approved(
            "fife",
            plan("fife", 1, vec![directed_line(1, provider_id, None)]),
        );
        self.publish(&event, &event.event_id).await;
        self.wait_for_plan_events(1).await;
        self.set_defaults("fife", terms()).await.unwrap();
        let drafted = self.draft(&practitioner("fife"), by_hand()).await.unwrap();
        self.sign(&person(PERSON_ID), &drafted.id, "")
            .await
            .unwrap();
        self.sign(&provider(provider_id), &drafted.id, "")
            .await
            .unwrap();
        drafted.id
    }

    /// Agreements, signatures and events written.
    async fn written(&self) -> (i64, i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM agreement), (SELECT count(*) FROM agreement_signature), \
                    (SELECT count(*) FROM outbox)",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

fn status_of(agreement: &proto::Agreement) -> proto::AgreementStatus {
    proto::AgreementStatus::try_from(agreement.status).unwrap()
}

/// The last signature, the one that would make the agreement active.
async fn the_authority_signs(app: &TestApp, id: &str) -> Result<proto::Agreement, Status> {
    app.sign(&practitioner("fife"), id, "").await
}

#[tokio::test]
async fn an_assistant_with_pvg_but_expired_insurance_is_refused_until_it_is_renewed() {
    let app = TestApp::spawn().await;
    app.register_provider(
        ASSISTANT_ID,
        "Jane Doe",
        proto::ProviderKind::SelfEmployedPersonalAssistant,
    )
    .await;
    app.record_check(
        ASSISTANT_ID,
        proto::CheckKind::PvgMembership,
        "PVG1234567",
        "2026-01-10",
        "2031-01-09",
    )
    .await;
    app.record_check(
        ASSISTANT_ID,
        proto::CheckKind::ProofOfSelfEmployment,
        "",
        "2026-04-06",
        "2027-04-05",
    )
    .await;
    app.record_check(
        ASSISTANT_ID,
        proto::CheckKind::PublicLiabilityInsurance,
        "PL-2025-0077",
        "2025-11-01",
        "2026-10-31",
    )
    .await;
    let id = app.signed_but_for_the_authority(ASSISTANT_ID).await;
    let before = app.written().await;

    let message = assert_code(
        the_authority_signs(&app, &id).await,
        Code::FailedPrecondition,
    );
    assert_eq!(
        message,
        "provider Jane Doe (self_employed_personal_assistant) is not on fife's framework, so before the agreement starts it needs: public liability insurance: expired on 2026-10-31"
    );
    assert_eq!(app.written().await, before, "the signature is not recorded");
    let held = app.get(&practitioner("fife"), &id).await.unwrap();
    assert_eq!(status_of(&held), proto::AgreementStatus::Draft);
    assert_eq!(held.unsigned, vec![proto::AgreementParty::Authority as i32]);
    assert!(app.signed_events().await.is_empty());

    app.record_check(
        ASSISTANT_ID,
        proto::CheckKind::PublicLiabilityInsurance,
        "PL-2026-0112",
        "2026-11-27",
        "2027-11-26",
    )
    .await;
    let agreed = the_authority_signs(&app, &id).await.unwrap();
    assert_eq!(status_of(&agreed), proto::AgreementStatus::Active);
    let events = app.signed_events().await;
    assert_eq!(events.len(), 1, "published once the insurance is current");
    assert_eq!(events[0].aggregate_id, id);
}

#[tokio::test]
async fn a_provider_on_the_framework_starts_without_further_checks() {
    let app = TestApp::spawn().await;
    app.on_framework(PROVIDER_ID, "fife").await;
    let id = app.signed_but_for_the_authority(PROVIDER_ID).await;
    let agreed = the_authority_signs(&app, &id).await.unwrap();
    assert_eq!(status_of(&agreed), proto::AgreementStatus::Active);
    assert_eq!(app.signed_events().await.len(), 1);
}

#[tokio::test]
async fn a_provider_the_directory_does_not_list_is_refused_by_id() {
    let app = TestApp::spawn().await;
    let id = app.signed_but_for_the_authority(PROVIDER_ID).await;
    let message = assert_code(
        the_authority_signs(&app, &id).await,
        Code::FailedPrecondition,
    );
    assert!(
        message.starts_with(&format!(
            "provider {PROVIDER_ID} is not in the provider directory"
        )),
        "{message}"
    );
    assert!(app.signed_events().await.is_empty());
}

#[tokio::test]
async fn an_unreachable_directory_is_unavailable_and_nothing_is_written() {
    // Nothing listens on port 1; contracts must not fall back to activating unchecked.
    let app =
        TestApp::spawn_with(vec![("SDS_DIRECTORY_URL", "http://127.0.0.1:1".to_owned())]).await;
    // The person's and the provider's signatures complete nothing, so need no directory.
    let id = app.signed_but_for_the_authority(PROVIDER_ID).await;
    let before = app.written().await;
    let message = assert_code(the_authority_signs(&app, &id).await, Code::Unavailable);
    assert!(message.contains("sign again shortly"), "{message}");
    assert_eq!(app.written().await, before, "the signature is not recorded");
    let held = app.get(&practitioner("fife"), &id).await.unwrap();
    assert_eq!(status_of(&held), proto::AgreementStatus::Draft);
    assert!(app.signed_events().await.is_empty());
}
