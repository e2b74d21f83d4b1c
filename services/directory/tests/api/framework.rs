//! SetFrameworkStatus: each authority's commissioning staff keep their own framework.

use sds_proto::v1::{self as proto, FrameworkStatus};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

fn set(
    provider_id: &str,
    authority: &str,
    status: FrameworkStatus,
) -> proto::SetFrameworkStatusRequest {
    proto::SetFrameworkStatusRequest {
        provider_id: provider_id.to_owned(),
        authority: authority.to_owned(),
        status: status as i32,
    }
}

#[tokio::test]
async fn commissioning_staff_set_framework_status_for_their_own_authority() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Portsoy Care Cooperative"))
        .await;

    app.set_framework_status(&provider.id, "moray", FrameworkStatus::OpenList)
        .await;
    app.set_framework_status(&provider.id, "aberdeenshire", FrameworkStatus::OpenList)
        .await;
    let promoted = app
        .set_framework_status(&provider.id, "aberdeenshire", FrameworkStatus::OnFramework)
        .await;

    let frameworks: Vec<(String, i32)> = promoted
        .frameworks
        .iter()
        .map(|membership| (membership.authority.clone(), membership.status))
        .collect();
    assert_eq!(
        frameworks,
        vec![
            (
                "aberdeenshire".to_owned(),
                FrameworkStatus::OnFramework as i32
            ),
            ("moray".to_owned(), FrameworkStatus::OpenList as i32),
        ]
    );
    assert_eq!(promoted.version, 4);
}

#[tokio::test]
async fn an_authority_cannot_set_framework_status_for_another_authority() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Nairn Day Care"))
        .await;
    let before = app.row_counts().await;

    let result = app
        .client()
        .set_framework_status(bearer(
            &commissioning("aberdeenshire"),
            set(&provider.id, "highland", FrameworkStatus::OffFramework),
        ))
        .await;

    let message = assert_code(result, Code::PermissionDenied);
    assert!(message.contains("highland"), "{message}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_provider_cannot_put_itself_on_a_framework() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Keen Provider"))
        .await;

    let result = app
        .client()
        .set_framework_status(bearer(
            &token,
            set(&provider.id, "aberdeenshire", FrameworkStatus::OnFramework),
        ))
        .await;

    assert_code(result, Code::PermissionDenied);
    assert_eq!(app.row_counts().await.frameworks, 0);
}

#[tokio::test]
async fn setting_the_status_a_provider_already_has_adds_no_version_and_no_event() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Banff Befrienders"))
        .await;
    let set_once = app
        .set_framework_status(&provider.id, "aberdeenshire", FrameworkStatus::OpenList)
        .await;
    let before = app.row_counts().await;

    let set_again = app
        .set_framework_status(&provider.id, "aberdeenshire", FrameworkStatus::OpenList)
        .await;

    assert_eq!(set_again, set_once, "the record is returned as it stands");
    assert_eq!(set_again.version, 2);
    assert_eq!(app.row_counts().await, before, "no version, no event");
}
