//! Every RPC refuses a missing, expired or badly signed token with Unauthenticated (S1).

use std::time::Duration;

use sds_platform::TokenIssuer;
use sds_proto::v1::{self as proto, FrameworkStatus, KeyQuestion};
use sds_testkit::{authority_staff, bearer, expired_token};
use tonic::{Code, Request, Status};
use uuid::Uuid;

use crate::support::*;

#[derive(Debug, Clone, Copy)]
enum Rpc {
    RegisterProvider,
    UpdateProvider,
    GetProvider,
    SearchProviders,
    RecordCheck,
    RecordGrades,
    WithdrawGrades,
    ListGradeHistory,
    SetFrameworkStatus,
    SetCareInspectorateNumber,
    ImportCareInspectorateServices,
}

const EVERY_RPC: [Rpc; 11] = [
    Rpc::RegisterProvider,
    Rpc::UpdateProvider,
    Rpc::GetProvider,
    Rpc::SearchProviders,
    Rpc::RecordCheck,
    Rpc::RecordGrades,
    Rpc::WithdrawGrades,
    Rpc::ListGradeHistory,
    Rpc::SetFrameworkStatus,
    Rpc::SetCareInspectorateNumber,
    Rpc::ImportCareInspectorateServices,
];

fn with_token<T>(token: Option<&str>, message: T) -> Request<T> {
    match token {
        Some(token) => bearer(token, message),
        None => Request::new(message),
    }
}

/// Calls `rpc` with a request that would be accepted with a good token.
async fn call(app: &TestApp, rpc: Rpc, token: Option<&str>) -> Result<(), Status> {
    let mut client = app.client();
    let id = Uuid::now_v7().to_string();
    match rpc {
        Rpc::RegisterProvider => client
            .register_provider(with_token(
                token,
                proto::RegisterProviderRequest {
                    details: Some(details("Anyone")),
                    request_id: String::new(),
                },
            ))
            .await
            .map(drop),
        Rpc::UpdateProvider => client
            .update_provider(with_token(
                token,
                proto::UpdateProviderRequest {
                    id,
                    details: Some(details("Anyone")),
                    expected_version: None,
                },
            ))
            .await
            .map(drop),
        Rpc::GetProvider => client
            .get_provider(with_token(token, proto::GetProviderRequest { id }))
            .await
            .map(drop),
        Rpc::SearchProviders => client
            .search_providers(with_token(token, proto::SearchProvidersRequest::default()))
            .await
            .map(drop),
        Rpc::RecordCheck => client
            .record_check(with_token(
                token,
                proto::RecordCheckRequest {
                    provider_id: id,
                    check: Some(proto::Check {
                        kind: proto::CheckKind::Registration as i32,
                        reference: "R-1".into(),
                        checked_on: date("2025-01-01"),
                        expires_on: date("2027-01-01"),
                        status: 0,
                    }),
                },
            ))
            .await
            .map(drop),
        Rpc::RecordGrades => client
            .record_grades(with_token(
                token,
                proto::RecordGradesRequest {
                    provider_id: id,
                    grades: vec![grade(KeyQuestion::Setting, 5, "2025-01-01")],
                },
            ))
            .await
            .map(drop),
        Rpc::WithdrawGrades => client
            .withdraw_grades(with_token(
                token,
                proto::WithdrawGradesRequest {
                    provider_id: id,
                    inspected_on: date("2025-01-01"),
                    key_questions: vec![],
                    reason: "recorded against the wrong service".into(),
                    expected_version: None,
                },
            ))
            .await
            .map(drop),
        Rpc::ListGradeHistory => client
            .list_grade_history(with_token(
                token,
                proto::ListGradeHistoryRequest { provider_id: id },
            ))
            .await
            .map(drop),
        Rpc::SetFrameworkStatus => client
            .set_framework_status(with_token(
                token,
                proto::SetFrameworkStatusRequest {
                    provider_id: id,
                    authority: "aberdeenshire".into(),
                    status: FrameworkStatus::OnFramework as i32,
                },
            ))
            .await
            .map(drop),
        Rpc::SetCareInspectorateNumber => client
            .set_care_inspectorate_number(with_token(
                token,
                proto::SetCareInspectorateNumberRequest {
                    provider_id: id,
                    care_inspectorate_number: "CS2004071234".into(),
                    expected_version: None,
                },
            ))
            .await
            .map(drop),
        Rpc::ImportCareInspectorateServices => client
            .import_care_inspectorate_services(with_token(
                token,
                proto::ImportCareInspectorateServicesRequest { services: vec![] },
            ))
            .await
            .map(drop),
    }
}

#[tokio::test]
async fn every_rpc_refuses_a_missing_expired_badly_signed_or_malformed_token() {
    let app = TestApp::spawn().await;
    let staff = authority_staff("aberdeenshire", &[sds_platform::Role::Commissioning]);
    let expired = expired_token(&staff);
    let badly_signed = TokenIssuer::shared_secret("not-the-secret-this-server-trusts")
        .issue(&staff, Duration::from_secs(3600))
        .expect("sign token");
    let tokens: [(&str, Option<&str>, &str); 4] = [
        ("missing", None, "missing bearer token"),
        ("expired", Some(&expired), "expired"),
        ("badly signed", Some(&badly_signed), "signature"),
        ("malformed", Some("not-a-jwt"), "malformed"),
    ];

    for rpc in EVERY_RPC {
        for (what, token, expected_words) in tokens {
            let status = call(&app, rpc, token).await.expect_err("refused");
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{rpc:?} with a {what} token: {status:?}"
            );
            assert!(
                status.message().contains(expected_words),
                "{rpc:?}, {what}: {}",
                status.message()
            );
        }
    }
    assert_eq!(app.row_counts().await.providers, 0);
}

#[tokio::test]
async fn with_a_good_token_the_same_calls_get_past_authentication() {
    let app = TestApp::spawn().await;
    let token = commissioning("aberdeenshire");

    for rpc in EVERY_RPC {
        if let Err(status) = call(&app, rpc, Some(&token)).await {
            assert_ne!(status.code(), Code::Unauthenticated, "{rpc:?}: {status:?}");
        }
    }
}
