//! WithdrawPackageRequest: the authority takes back an open request (the person no longer
//! needs it, or it was made by mistake). The request is closed to answers and to acceptance
//! in the transaction that publishes `package.withdrawn`, so that every provider it was shown
//! to, and every provider that answered, is told once, by the portal.
//!
//! Who may: the staff who may publish the authority's requests. Anyone else who can see
//! the request (a provider it was shown to, the person) is refused `PERMISSION_DENIED`;
//! anyone who cannot see it learns nothing (`NOT_FOUND`). Withdrawing a withdrawn request
//! again changes nothing; an accepted one is refused, since the person's choice is already
//! on the plan line and is changed by varying the plan.

use sds_platform::Principal;
use sds_proto::v1 as proto;
use tracing::info;
use uuid::Uuid;

use super::package_requests::{content_message, request_message, uuid};
use crate::domain::access;
use crate::domain::package_access::{self, Shown};
use crate::domain::package_request::RequestStatus;
use crate::error::DirectoryError;
use crate::events;
use crate::store::{package_offers, package_requests};

impl super::DirectoryApi {
    pub(super) async fn withdraw_package_request(
        &self,
        principal: &Principal,
        request: proto::WithdrawPackageRequestRequest,
    ) -> Result<proto::PackageRequest, DirectoryError> {
        let viewer = package_access::viewer(principal)?;
        let request_id = uuid("request_id", &request.request_id)?;
        let mut transaction = self.pool.begin().await?;
        let (stored, _, _) = self
            .visible_request(&mut transaction, &viewer, request_id, true)
            .await?
            .ok_or(DirectoryError::RequestNotFound(request_id))?;
        access::ensure_may_publish_request(principal, &stored.authority)?;
        match (&stored.status, &stored.accepted) {
            (RequestStatus::Closed, _) => {
                // Withdrawn already: a retry changes nothing and tells no one again.
                transaction.rollback().await?;
                return Ok(request_message(&stored, Shown::Full, None));
            }
            (RequestStatus::Accepted, accepted) => {
                return Err(DirectoryError::RequestNotOpen {
                    request_id,
                    why: format!(
                        "is already accepted{}; the person's choice is on the plan line and is changed by varying the plan",
                        accepted
                            .as_ref()
                            .map(|accepted| format!(" (offer {})", accepted.offer_id))
                            .unwrap_or_default()
                    ),
                });
            }
            (RequestStatus::Open, _) => {}
        }
        let answered: Vec<Uuid> = package_offers::answers_to(&mut transaction, request_id)
            .await?
            .iter()
            .map(|answer| answer.provider_id)
            .collect();
        package_requests::record_withdrawal(
            &mut transaction,
            request_id,
            &principal.org_id,
            self.clock.now(),
        )
        .await?;
        let withdrawn = package_requests::load_request(&mut transaction, request_id, false)
            .await?
            .ok_or(DirectoryError::RequestNotFound(request_id))?;
        events::publish(
            &mut transaction,
            events::package_withdrawn(&withdrawn, content_message(&withdrawn.content), &answered),
        )
        .await?;
        transaction.commit().await?;
        info!(request_id = %request_id, answered = answered.len(), "package request withdrawn");
        Ok(request_message(&withdrawn, Shown::Full, None))
    }
}
