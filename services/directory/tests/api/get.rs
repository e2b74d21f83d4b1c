//! GetProvider: any authenticated organisation may read any provider.

use sds_proto::v1 as proto;
use sds_testkit::{authority_staff, bearer, token_for};
use tonic::Code;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn any_authenticated_organisation_gets_a_provider() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Banchory Music Lessons"))
        .await;
    let social_worker = token_for(&authority_staff(
        "highland",
        &[sds_platform::Role::Practitioner],
    ));

    for token in [social_worker, holder_token(), any_provider_token()] {
        let got = app
            .client()
            .get_provider(bearer(
                &token,
                proto::GetProviderRequest {
                    id: provider.id.clone(),
                },
            ))
            .await
            .expect("get")
            .into_inner();
        assert_eq!(got, provider);
    }
}

#[tokio::test]
async fn getting_a_provider_not_in_the_directory_is_not_found() {
    let app = TestApp::spawn().await;
    let id = Uuid::now_v7().to_string();

    let result = app
        .client()
        .get_provider(bearer(
            &any_provider_token(),
            proto::GetProviderRequest { id: id.clone() },
        ))
        .await;

    let message = assert_code(result, Code::NotFound);
    assert!(message.contains(&id), "{message}");
}
