//! RecordCheck: basic checks with expiry dates, and the status worked out from them.

use sds_proto::v1::{self as proto, CheckKind, CheckStatus};
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

fn check(kind: CheckKind, reference: &str, expires_in_days: i64) -> proto::Check {
    proto::Check {
        kind: kind as i32,
        reference: reference.to_owned(),
        checked_on: days_from_today(-300),
        expires_on: days_from_today(expires_in_days),
        status: CheckStatus::Unspecified as i32,
    }
}

fn record(provider_id: &str, check: proto::Check) -> proto::RecordCheckRequest {
    proto::RecordCheckRequest {
        provider_id: provider_id.to_owned(),
        check: Some(check),
    }
}

#[tokio::test]
async fn a_check_shows_valid_expiring_or_expired_by_its_expiry_date() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(proto::ProviderDetails {
            kind: proto::ProviderKind::SelfEmployedPersonalAssistant as i32,
            ..details("Ailsa Personal Assistance")
        })
        .await;

    for recorded in [
        check(CheckKind::PvgMembership, "PVG-1234", 400),
        check(CheckKind::PublicLiabilityInsurance, "PL-77", 10),
        check(CheckKind::ProofOfSelfEmployment, "UTR 1234567890", -1),
    ] {
        app.client()
            .record_check(bearer(&token, record(&provider.id, recorded)))
            .await
            .expect("record check");
    }

    let checks = app.get(&provider.id).await.checks;
    let statuses: Vec<(i32, i32)> = checks
        .iter()
        .map(|check| (check.kind, check.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (CheckKind::PvgMembership as i32, CheckStatus::Valid as i32),
            (
                CheckKind::ProofOfSelfEmployment as i32,
                CheckStatus::Expired as i32
            ),
            (
                CheckKind::PublicLiabilityInsurance as i32,
                CheckStatus::Expiring as i32
            ),
        ]
    );
    assert_eq!(checks[0].reference, "PVG-1234");
    assert_eq!(checks[0].expires_on, days_from_today(400));
}

#[tokio::test]
async fn recording_a_check_of_the_same_kind_again_replaces_it() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Strathdon Yoga"))
        .await;
    app.client()
        .record_check(bearer(
            &token,
            record(
                &provider.id,
                check(CheckKind::PublicLiabilityInsurance, "PL-2025", 5),
            ),
        ))
        .await
        .expect("first policy");

    let renewed = app
        .client()
        .record_check(bearer(
            &token,
            record(
                &provider.id,
                check(CheckKind::PublicLiabilityInsurance, "PL-2026", 365),
            ),
        ))
        .await
        .expect("renewed policy")
        .into_inner();

    assert_eq!(renewed.checks.len(), 1);
    assert_eq!(renewed.checks[0].reference, "PL-2026");
    assert_eq!(renewed.checks[0].status, CheckStatus::Valid as i32);
    assert_eq!(renewed.version, 3);
}

#[tokio::test]
async fn commissioning_staff_record_checks_for_a_provider() {
    let app = TestApp::spawn().await;
    let provider = app
        .commissioning_registers(proto::ProviderDetails {
            kind: proto::ProviderKind::SelfEmployedPersonalAssistant as i32,
            ..details("Iain Personal Assistance")
        })
        .await;

    let checked = app
        .client()
        .record_check(bearer(
            &commissioning("highland"),
            record(&provider.id, check(CheckKind::PvgMembership, "PVG-99", 200)),
        ))
        .await
        .expect("record check")
        .into_inner();

    assert_eq!(checked.checks.len(), 1);
    assert_eq!(checked.checks[0].status, CheckStatus::Valid as i32);
}

#[tokio::test]
async fn a_provider_cannot_record_a_check_on_another_provider() {
    let app = TestApp::spawn().await;
    let (victim, _) = app
        .provider_registers_itself(details("Huntly Swimming Club"))
        .await;
    let (_, intruder_token) = app.provider_registers_itself(details("Other Club")).await;
    let before = app.row_counts().await;

    let result = app
        .client()
        .record_check(bearer(
            &intruder_token,
            record(&victim.id, check(CheckKind::Registration, "REG-1", 100)),
        ))
        .await;

    assert_code(result, Code::PermissionDenied);
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_check_on_a_provider_not_in_the_directory_is_not_found() {
    let app = TestApp::spawn().await;

    let result = app
        .client()
        .record_check(bearer(
            &commissioning("aberdeenshire"),
            record(
                &Uuid::now_v7().to_string(),
                check(CheckKind::Registration, "REG-1", 100),
            ),
        ))
        .await;

    assert_code(result, Code::NotFound);
    assert_eq!(app.row_counts().await.checks, 0);
}

#[tokio::test]
async fn a_check_dated_in_the_future_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Forward Planning Care"))
        .await;
    let before = app.row_counts().await;
    let mut early = check(CheckKind::PvgMembership, "PVG-9", 400);
    early.checked_on = days_from_today(1);

    let refused = app
        .client()
        .record_check(bearer(&token, record(&provider.id, early)))
        .await;

    let message = assert_invalid(refused, "check.checked_on");
    assert!(
        message.contains("is after today") && message.contains("once it has been made"),
        "{message}"
    );
    assert_eq!(app.row_counts().await, before);
}
