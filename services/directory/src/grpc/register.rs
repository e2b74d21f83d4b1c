//! RegisterProvider: a new provider at version 1 with its `provider.registered` event, once
//! per request id. The request id is claimed in the transaction that writes the provider,
//! so a registration and its key commit together or not at all.

use prost::Message as _;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use tracing::info;

use crate::domain::access::{self, Registrant};
use crate::domain::impersonation::NameOfRegisteredService;
use crate::domain::registration::{Claim, RequestId, RequestIdReused};
use crate::domain::{Invalid, ProviderDetails, ProviderId};
use crate::error::DirectoryError;
use crate::{events, store};

use super::convert::{details_message, required_details};
use super::{DirectoryApi, loaded, shown_to};

#[derive(Debug)]
pub struct Registration {
    pub details: ProviderDetails,
    pub request_id: Option<RequestId>,
}

impl TryFrom<proto::RegisterProviderRequest> for Registration {
    type Error = Invalid;

    fn try_from(request: proto::RegisterProviderRequest) -> Result<Self, Invalid> {
        Ok(Registration {
            details: required_details(request.details)?,
            request_id: RequestId::parse("request_id", &request.request_id)?,
        })
    }
}

impl DirectoryApi {
    /// Adds a provider at version 1 and publishes `provider.registered`; with a request id
    /// seen before, returns the provider that registration created instead.
    pub(super) async fn register(
        &self,
        principal: &Principal,
        registrant: Registrant,
        registration: Registration,
    ) -> Result<proto::Provider, DirectoryError> {
        let Registration {
            details,
            request_id,
        } = registration;
        let id = match registrant {
            Registrant::Itself(id) => id,
            Registrant::OnBehalf => ProviderId::generate(),
        };
        let today = self.today();
        let mut transaction = self.pool.begin().await?;
        if let Some(request_id) = &request_id {
            // The validated details, so that a retry spelt differently on the wire (spaces
            // around a name, say) is still the same request.
            let encoded = details_message(&details).encode_to_vec();
            let scope = access::request_scope(principal);
            match store::claim_request_id(&mut transaction, &scope, request_id, &encoded, id)
                .await?
            {
                Claim::New => {}
                Claim::Retry(earlier) => {
                    let record = loaded(
                        store::load_provider(&mut transaction, earlier).await?,
                        earlier,
                    )?;
                    transaction.rollback().await?;
                    info!(provider_id = %earlier, by = %principal.org_id, "provider registration retried");
                    return Ok(shown_to(principal, &record, today));
                }
                Claim::Reused {
                    provider,
                    received_at,
                } => {
                    return Err(DirectoryError::RequestIdReused(RequestIdReused {
                        request_id: request_id.as_str().to_owned(),
                        provider,
                        received_at: received_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    }));
                }
            }
        }
        // A record with its own service number is a registered service itself, named as
        // the Care Inspectorate registered it (names repeat across real services).
        let namesake = match details.care_inspectorate_number {
            Some(_) => None,
            None => store::registered_service_named(&mut transaction, &details.name, id).await?,
        };
        if let Some(number) = namesake {
            return Err(DirectoryError::NameOfRegisteredService(
                NameOfRegisteredService {
                    name: details.name,
                    number,
                },
            ));
        }
        let stewards = access::stewards_of_registration(principal, registrant);
        store::insert_provider(&mut transaction, id, &details, &stewards, &principal.org_id)
            .await?;
        let record = loaded(store::load_provider(&mut transaction, id).await?, id)?;
        events::publish(&mut transaction, events::registered(&record, today)).await?;
        transaction.commit().await?;
        info!(provider_id = %id, by = %principal.org_id, "provider registered");
        Ok(super::convert::provider_message(&record, today))
    }
}
