//! Everything that can go wrong in the directory, named for what the caller does
//! differently, and its one mapping to a gRPC status (through [`ApiError`], which logs
//! internal errors once and hides their detail).

use sds_platform::ApiError;
use tonic::Status;

use crate::domain::access::Denied;
use crate::domain::impersonation::{NameOfRegisteredService, NumberNeededByKind};
use crate::domain::plan_line::LineRefused;
use crate::domain::provider::StaleVersion;
use crate::domain::registration::RequestIdReused;
use crate::domain::withdrawal::NoSuchGrade;
use crate::domain::{CareInspectorateNumber, Invalid, ProviderId};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Fix the request; the message names the field.
    #[error(transparent)]
    InvalidInput(#[from] Invalid),
    /// Ask someone who may, or act on your own record.
    #[error(transparent)]
    NotAllowed(#[from] Denied),
    #[error("provider {0} is not in the directory")]
    ProviderNotFound(ProviderId),
    /// Look at the provider's grade history for the inspections it has.
    #[error(transparent)]
    NoSuchGrade(#[from] NoSuchGrade),
    /// Update the existing record instead.
    #[error("provider {0} is already registered; change it with UpdateProvider")]
    AlreadyRegistered(ProviderId),
    /// Choose a name that tells the provider apart, or have its number attached.
    #[error(transparent)]
    NameOfRegisteredService(#[from] NameOfRegisteredService),
    /// Change the kind first, or correct the number instead.
    #[error(transparent)]
    NumberNeededByKind(#[from] NumberNeededByKind),
    /// Send the same details again, or use a new request id for a new registration.
    #[error(transparent)]
    RequestIdReused(#[from] RequestIdReused),
    /// Find the provider that holds the number; one service number, one provider.
    #[error("Care Inspectorate number {0} already belongs to another provider in the directory")]
    CareInspectorateNumberTaken(CareInspectorateNumber),
    /// Read the record again and reapply the change.
    #[error(transparent)]
    StaleVersion(#[from] StaleVersion),
    /// A line of the person's plan already has an open package request.
    #[error(
        "line {line_number} of person {person_id}'s plan already has an open package request; withdraw it or wait for it to close"
    )]
    RequestOpen {
        person_id: uuid::Uuid,
        line_number: u32,
    },
    /// No such request, or none the caller may see: the two are not told apart.
    #[error(
        "package request {0} is not one you can see; list the requests you may see with ListPackageRequests"
    )]
    RequestNotFound(uuid::Uuid),
    /// No such answer on the request.
    #[error(
        "package request {request_id} has no offer {offer_id}; list its offers with ListOffers"
    )]
    OfferNotFound {
        request_id: uuid::Uuid,
        offer_id: uuid::Uuid,
    },
    /// The request is past taking this action: say why, and what can be done instead.
    #[error("package request {request_id} {why}")]
    RequestNotOpen { request_id: uuid::Uuid, why: String },
    /// The offer changed after the person was shown it.
    #[error(
        "offer {offer_id} is at version {current}, not {expected}: the provider changed it after it was shown; list the offers again and choose"
    )]
    OfferChanged {
        offer_id: uuid::Uuid,
        expected: u64,
        current: u64,
    },
    /// The person has no plan the caller may read (or is not a person of the authority).
    #[error(
        "person_id: {person_id} has no plan you can see among {authority}'s people in assessment; record the person and approve their plan there first"
    )]
    PlanNotFound {
        person_id: uuid::Uuid,
        authority: sds_vocabulary::AuthorityId,
    },
    /// The plan does not allow the request: the message names the field.
    #[error(transparent)]
    LineRefused(#[from] LineRefused),
    /// Assessment did not answer; nothing was written.
    #[error(
        "assessment could not be asked about the person's plan just now ({0}); nothing was published; try again"
    )]
    AssessmentUnavailable(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A database call that names what it was doing.
    #[error(transparent)]
    Store(#[from] sds_platform::StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sds_events::outbox::EnqueueError> for DirectoryError {
    fn from(error: sds_events::outbox::EnqueueError) -> Self {
        DirectoryError::Internal(anyhow::Error::new(error).context("write event to the outbox"))
    }
}

impl From<DirectoryError> for ApiError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::InvalidInput(invalid) => ApiError::InvalidArgument(invalid.to_string()),
            DirectoryError::NotAllowed(denied) => ApiError::PermissionDenied(denied.to_string()),
            DirectoryError::ProviderNotFound(_)
            | DirectoryError::NoSuchGrade(_)
            | DirectoryError::RequestNotFound(_)
            | DirectoryError::OfferNotFound { .. }
            | DirectoryError::PlanNotFound { .. } => ApiError::NotFound(error.to_string()),
            DirectoryError::AssessmentUnavailable(_) => ApiError::Unavailable(error.to_string()),
            DirectoryError::RequestNotOpen { .. } | DirectoryError::LineRefused(_) => {
                ApiError::FailedPrecondition(error.to_string())
            }
            DirectoryError::OfferChanged { .. } => ApiError::Aborted(error.to_string()),
            DirectoryError::AlreadyRegistered(_)
            | DirectoryError::RequestIdReused(_)
            | DirectoryError::CareInspectorateNumberTaken(_)
            | DirectoryError::RequestOpen { .. } => ApiError::AlreadyExists(error.to_string()),
            DirectoryError::NameOfRegisteredService(_) | DirectoryError::NumberNeededByKind(_) => {
                ApiError::FailedPrecondition(error.to_string())
            }
            DirectoryError::StaleVersion(stale) => ApiError::Aborted(stale.to_string()),
            DirectoryError::Database(database) => ApiError::from(database),
            DirectoryError::Store(store) => ApiError::from(store),
            DirectoryError::Internal(internal) => ApiError::Internal(internal),
        }
    }
}

impl From<DirectoryError> for Status {
    fn from(error: DirectoryError) -> Self {
        ApiError::from(error).into()
    }
}

/// Lets handlers refuse a caller with `?` straight from an access rule.
impl From<Denied> for Status {
    fn from(denied: Denied) -> Self {
        DirectoryError::from(denied).into()
    }
}
