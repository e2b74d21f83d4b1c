//! The person's choice of a provider's offer, and the agreement that follows it signed by
//! every party: the part of the flow the simulation makes for each of its people, with the
//! fund held by the provider, a third party or the authority ([`Holding`]).

use anyhow::Context as _;
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use uuid::Uuid;

use super::drive::{schedule_versions, sign_by_everyone};
use super::{Calendar, Platform, bearer, date, eventually};

/// The person's option 2 line 1 goes out as a package request; the provider offers, the
/// person accepts; once contracts has drafted the agreement every party signs it, and
/// payments makes its schedule. Returns the agreement as signed.
pub async fn choose_and_sign(
    platform: &Platform,
    calendar: &Calendar,
    person_id: &str,
    provider: &proto::Provider,
) -> anyhow::Result<proto::Agreement> {
    choose_and_sign_held(platform, calendar, person_id, provider, &Holding::Provider).await
}

/// Who holds the fund the person chooses: the provider, a third party (which signs too)
/// or the authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holding {
    Provider,
    ThirdParty { holder_id: String },
    Authority,
}

/// [`choose_and_sign`] with the fund held as `holding` says.
pub async fn choose_and_sign_held(
    platform: &Platform,
    calendar: &Calendar,
    person_id: &str,
    provider: &proto::Provider,
    holding: &Holding,
) -> anyhow::Result<proto::Agreement> {
    let (holding_model, holder) = match holding {
        Holding::Provider => (proto::FundHoldingModel::Provider, String::new()),
        Holding::ThirdParty { holder_id } => {
            (proto::FundHoldingModel::ThirdParty, holder_id.clone())
        }
        Holding::Authority => (proto::FundHoldingModel::Authority, String::new()),
    };
    let authority = platform.authority.as_str().to_owned();
    let practitioner = platform.staff(&[Role::Practitioner]);
    let finance = platform.staff(&[Role::Finance]);
    let provider_token = platform.provider(&provider.id);
    let person = platform.person(person_id);
    let mut directory = DirectoryServiceClient::new(platform.directory.clone());
    let mut contracts = ContractsServiceClient::new(platform.contracts.clone());
    let payments = PaymentsServiceClient::new(platform.payments.clone());
    // Package request, offer, acceptance.
    let details = provider.details.clone().unwrap_or_default();
    let request = directory
        .publish_package_request(bearer(
            &practitioner,
            proto::PublishPackageRequestRequest {
                authority: authority.clone(),
                person_id: person_id.to_owned(),
                plan_id: Uuid::now_v7().to_string(),
                line_number: 1,
                content: Some(proto::PackageRequestContent {
                    needs_summary: "Help getting up and dressed each morning.".into(),
                    service_types: details.service_types.iter().take(1).cloned().collect(),
                    locality: details.localities.first().cloned().unwrap_or_default(),
                    amount: Some(proto::package_request_content::Amount::WeeklyBudget(
                        proto::Money {
                            amount: "210.00".into(),
                        },
                    )),
                    start_date: date(calendar.support_starts()),
                    closing_date: date(calendar.request_closes()),
                }),
            },
        ))
        .await
        .context("publish the package request")?
        .into_inner();
    let offer = directory
        .respond_to_package_request(bearer(
            &provider_token,
            proto::RespondToPackageRequestRequest {
                request_id: request.id.clone(),
                provider_id: provider.id.clone(),
                kind: proto::PackageResponseKind::Offer as i32,
                price: Some(
                    proto::respond_to_package_request_request::Price::WeeklyPrice(proto::Money {
                        amount: "210.00".into(),
                    }),
                ),
                earliest_start: date(calendar.support_starts()),
                note: "Two regular carers for mornings.".into(),
            },
        ))
        .await
        .context("the provider offers")?
        .into_inner();
    let ranked = directory
        .list_offers(bearer(
            &person,
            proto::ListOffersRequest {
                request_id: request.id.clone(),
            },
        ))
        .await
        .context("the person lists the offers")?
        .into_inner()
        .offers;
    anyhow::ensure!(
        ranked
            .first()
            .is_some_and(|first| first.id == offer.id && first.rank == 1),
        "the offer is ranked first: {ranked:?}"
    );
    directory
        .accept_offer(bearer(
            &person,
            proto::AcceptOfferRequest {
                request_id: request.id.clone(),
                offer_id: offer.id.clone(),
                offer_version: offer.version,
                holding_model: holding_model as i32,
                holder: holder.clone(),
            },
        ))
        .await
        .context("the person accepts the offer")?;

    // The choice reaches the plan line; contracts drafts the agreement from it.
    let agreement = eventually("contracts drafts the agreement", || {
        let mut contracts = contracts.clone();
        let request = bearer(
            &practitioner,
            proto::ListAgreementsRequest {
                authority: authority.clone(),
                person_id: person_id.to_owned(),
                page: None,
            },
        );
        async move {
            Ok(contracts
                .list_agreements(request)
                .await
                .ok()
                .and_then(|listed| listed.into_inner().agreements.into_iter().next()))
        }
    })
    .await?;
    anyhow::ensure!(
        agreement.provider_id == provider.id,
        "the agreement is with the chosen provider"
    );
    let holder_token = (!holder.is_empty()).then(|| platform.holder(&holder));
    let signers: Vec<&str> = [person.as_str(), provider_token.as_str()]
        .into_iter()
        .chain(holder_token.as_deref())
        .chain([practitioner.as_str()])
        .collect();
    let agreement =
        sign_by_everyone(&mut contracts, &agreement.id, agreement.version, &signers).await?;
    anyhow::ensure!(
        agreement.status == proto::AgreementStatus::Active as i32,
        "every party signed: {agreement:?}"
    );
    eventually("payments makes the schedule", || {
        schedule_versions(&payments, &finance, &agreement.id, 1)
    })
    .await?;

    Ok(agreement)
}
