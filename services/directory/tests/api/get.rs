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

#[tokio::test]
async fn a_personal_assistants_contact_details_are_shown_to_authority_staff_and_the_assistant_only()
{
    let app = TestApp::spawn().await;
    let (assistant, own_token) = app
        .provider_registers_itself(proto::ProviderDetails {
            kind: proto::ProviderKind::SelfEmployedPersonalAssistant as i32,
            contact_email: "ailsa@example.org".into(),
            contact_phone: "01224 123456".into(),
            ..details("Ailsa Personal Assistance")
        })
        .await;
    let contacts_seen_by = |token: String| {
        let mut client = app.client();
        let id = assistant.id.clone();
        async move {
            let got = client
                .get_provider(bearer(&token, proto::GetProviderRequest { id }))
                .await
                .expect("get")
                .into_inner();
            let details = got.details.expect("details");
            (details.contact_email, details.contact_phone)
        }
    };
    let shown = ("ailsa@example.org".to_owned(), "01224 123456".to_owned());
    let hidden = (String::new(), String::new());

    assert_eq!(
        contacts_seen_by(commissioning("aberdeenshire")).await,
        shown
    );
    assert_eq!(contacts_seen_by(own_token).await, shown);
    assert_eq!(contacts_seen_by(any_provider_token()).await, hidden);
    assert_eq!(contacts_seen_by(holder_token()).await, hidden);

    let found = app
        .search(proto::SearchProvidersRequest {
            text: "Ailsa".into(),
            ..Default::default()
        })
        .await;
    let details = found.providers[0].details.clone().expect("details");
    assert_eq!((details.contact_email, details.contact_phone), hidden);
    assert_eq!(
        details.name, "Ailsa Personal Assistance",
        "name, area and services stay"
    );
}
