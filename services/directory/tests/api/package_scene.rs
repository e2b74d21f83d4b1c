//! What the tests of answers to package requests share: a published request, providers
//! that match it and one that does not, the person, and calls made as each of them.

use sds_platform::{AuthorityId, OrgKind, Principal, Role};
use sds_testkit::bearer;
use uuid::Uuid;

use crate::support::*;
use sds_proto::v1 as proto;

pub fn practitioner() -> String {
    sds_testkit::token_for(&sds_testkit::authority_staff(
        "aberdeenshire",
        &[Role::Practitioner],
    ))
}

pub fn person_token(person_id: &str) -> String {
    sds_testkit::token_for(&Principal {
        org_id: format!("person-{person_id}"),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![AuthorityId::parse("authority", "aberdeenshire").expect("valid")],
        person_id: Some(person_id.to_owned()),
    })
}

pub fn money(amount: &str) -> proto::Money {
    proto::Money {
        amount: amount.to_owned(),
    }
}

/// A request for day support in Aberdeenshire with a weekly budget of 250.00, starting in
/// three weeks, offers closing in one.
pub fn request_for(person_id: &str) -> proto::PublishPackageRequestRequest {
    proto::PublishPackageRequestRequest {
        authority: "aberdeenshire".to_owned(),
        person_id: person_id.to_owned(),
        plan_id: Uuid::now_v7().to_string(),
        line_number: 2,
        content: Some(proto::PackageRequestContent {
            needs_summary: "Day support three days a week; enjoys art and music.".to_owned(),
            service_types: vec!["Day support".to_owned()],
            locality: "Aberdeenshire".to_owned(),
            amount: Some(proto::package_request_content::Amount::WeeklyBudget(money(
                "250.00",
            ))),
            start_date: days_from_today(21),
            closing_date: days_from_today(7),
        }),
    }
}

pub fn offer(
    request: &proto::PackageRequest,
    provider: &proto::Provider,
    weekly: &str,
) -> proto::RespondToPackageRequestRequest {
    proto::RespondToPackageRequestRequest {
        request_id: request.id.clone(),
        provider_id: provider.id.clone(),
        kind: proto::PackageResponseKind::Offer as i32,
        price: Some(proto::respond_to_package_request_request::Price::WeeklyPrice(money(weekly))),
        earliest_start: days_from_today(21),
        note: "A key worker who knows the area.".to_owned(),
    }
}

pub fn decline(
    request: &proto::PackageRequest,
    provider: &proto::Provider,
) -> proto::RespondToPackageRequestRequest {
    proto::RespondToPackageRequestRequest {
        kind: proto::PackageResponseKind::Decline as i32,
        price: None,
        earliest_start: None,
        note: "No capacity until spring.".to_owned(),
        ..offer(request, provider, "1.00")
    }
}

/// A published request, three providers that match it (a very good one, a weak one, an
/// ungraded one) with their tokens, and one in another area.
pub struct Scene {
    pub app: TestApp,
    pub person_id: String,
    pub request: proto::PackageRequest,
    pub good: (proto::Provider, String),
    pub weak: (proto::Provider, String),
    pub ungraded: (proto::Provider, String),
    pub elsewhere: (proto::Provider, String),
}

impl Scene {
    pub async fn new() -> Scene {
        let app = TestApp::spawn_with_assessment().await;
        let good = app
            .provider_registers_itself(details("Garioch Day Opportunities"))
            .await;
        let weak = app
            .provider_registers_itself(details("Budget Day Care"))
            .await;
        let ungraded = app
            .provider_registers_itself(details("Huntly Art Club"))
            .await;
        let elsewhere = app
            .provider_registers_itself(proto::ProviderDetails {
                localities: vec!["Moray".to_owned()],
                ..details("Elgin Day Centre")
            })
            .await;
        let inspected = days_from_today(-100)
            .map(|date| date.iso)
            .unwrap_or_default();
        for (provider, value) in [(&good.0, 5), (&weak.0, 2)] {
            app.record_grades(
                &provider.id,
                vec![
                    grade(proto::KeyQuestion::SupportWellbeing, value, &inspected),
                    grade(proto::KeyQuestion::Leadership, value + 1, &inspected),
                ],
            )
            .await;
        }
        let person_id = app.person_with_plan().await;
        let request = app
            .client()
            .publish_package_request(bearer(&practitioner(), request_for(&person_id)))
            .await
            .expect("published")
            .into_inner();
        Scene {
            app,
            person_id,
            request,
            good,
            weak,
            ungraded,
            elsewhere,
        }
    }

    pub async fn list(&self, token: &str) -> Vec<proto::PackageRequest> {
        self.app
            .client()
            .list_package_requests(bearer(token, proto::ListPackageRequestsRequest::default()))
            .await
            .expect("listed")
            .into_inner()
            .requests
    }

    pub async fn get(&self, token: &str) -> Result<proto::PackageRequest, tonic::Status> {
        self.app
            .client()
            .get_package_request(bearer(
                token,
                proto::GetPackageRequestRequest {
                    id: self.request.id.clone(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn answer(
        &self,
        token: &str,
        answer: proto::RespondToPackageRequestRequest,
    ) -> Result<proto::PackageOffer, tonic::Status> {
        self.app
            .client()
            .respond_to_package_request(bearer(token, answer))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn offers(&self, token: &str) -> Result<Vec<proto::PackageOffer>, tonic::Status> {
        self.app
            .client()
            .list_offers(bearer(
                token,
                proto::ListOffersRequest {
                    request_id: self.request.id.clone(),
                },
            ))
            .await
            .map(|response| response.into_inner().offers)
    }

    pub async fn accept(
        &self,
        token: &str,
        offer: &proto::PackageOffer,
        version: u64,
    ) -> Result<proto::PackageRequest, tonic::Status> {
        self.app
            .client()
            .accept_offer(bearer(
                token,
                proto::AcceptOfferRequest {
                    request_id: self.request.id.clone(),
                    offer_id: offer.id.clone(),
                    offer_version: version,
                    holding_model: proto::FundHoldingModel::Provider as i32,
                    holder: String::new(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn withdraw(&self, token: &str) -> Result<proto::PackageRequest, tonic::Status> {
        self.app
            .client()
            .withdraw_package_request(bearer(
                token,
                proto::WithdrawPackageRequestRequest {
                    request_id: self.request.id.clone(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn events_of(&self, event_type: &str) -> Vec<proto::Event> {
        self.app
            .outbox_events()
            .await
            .into_iter()
            .filter(|event| event.event_type == event_type)
            .map(|event| event.event)
            .collect()
    }
}
