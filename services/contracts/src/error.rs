//! Everything that can go wrong in contracts, named for what the caller does differently,
//! and its one mapping to a gRPC status (through [`ApiError`], which logs internal errors
//! once and hides their detail).

use chrono::NaiveDate;
use sds_platform::ApiError;
use sds_vocabulary::{AuthorityId, Invalid};
use tonic::Status;
use uuid::Uuid;

use crate::domain::SignRefused;
use crate::domain::access::Denied;

#[derive(Debug, thiserror::Error)]
pub enum ContractsError {
    /// Fix the request; the message names the field.
    #[error(transparent)]
    InvalidInput(#[from] Invalid),
    /// Ask someone who may.
    #[error(transparent)]
    NotAllowed(#[from] Denied),
    #[error(
        "{0} has no contract defaults yet; its commissioning staff set them with SetContractDefaults"
    )]
    NoDefaults(AuthorityId),
    #[error("rate card {0} is not recorded")]
    RateCardNotFound(Uuid),
    /// Also what a caller who may not see the agreement is told.
    #[error("agreement {0} is not recorded")]
    AgreementNotFound(Uuid),
    #[error(
        "no approved plan of this person is held for {0}; agreements are drafted from an approved plan"
    )]
    NoPlan(AuthorityId),
    #[error("the person's latest plan version ends the plan; nothing is left to fund")]
    PlanEnded,
    #[error(
        "plan line {line} is already funded by another agreement of the person; a line is funded once"
    )]
    AlreadyFunded { line: u32 },
    #[error("someone has signed this draft, so it no longer changes; vary the agreement instead")]
    SignaturesStarted,
    #[error("version {asked} is not awaiting signatures; {}", awaiting_hint(*.awaiting))]
    NotAwaiting { asked: u32, awaiting: Option<u32> },
    #[error(
        "the agreement has ended (its last day of support is {0}); it is no longer signed, varied or ended again"
    )]
    Ended(NaiveDate),
    #[error(
        "the agreement is not active yet; a draft changes through UpdateAgreementDraft or the plan, and is withdrawn with EndAgreement"
    )]
    NotActive,
    #[error(transparent)]
    SignRefused(#[from] SignRefused),
    /// An off-framework provider lacks what it must show before the agreement starts; the
    /// message lists every requirement missing or expired (see `domain::standing`).
    #[error("{0}")]
    ProviderStanding(String),
    #[error(
        "provider {0} is not in the provider directory, so its standing cannot be checked before the agreement starts; register it there"
    )]
    ProviderNotInDirectory(Uuid),
    /// The directory did not answer; nothing was written, so signing again works.
    #[error(
        "the provider directory cannot be reached to check the provider before the agreement starts ({0}); nothing was recorded, sign again shortly"
    )]
    DirectoryUnavailable(String),
    /// A rate card's versions follow one another: a new one starts after the latest.
    #[error(
        "the rate card's latest version is from {latest}, so a new one must start after it, not on {requested}; a version in force is never changed or undercut"
    )]
    NotAfterLatest {
        latest: NaiveDate,
        requested: NaiveDate,
    },
    #[error("the uplifted rate is too large to represent; check the uplift")]
    UpliftOutOfRange,
    /// A database call that names what it was doing.
    #[error(transparent)]
    Store(#[from] sds_platform::StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn awaiting_hint(awaiting: Option<u32>) -> String {
    match awaiting {
        Some(version) => format!("sign version {version}, which is"),
        None => "no version of this agreement is awaiting signatures".to_owned(),
    }
}

impl From<ContractsError> for ApiError {
    fn from(error: ContractsError) -> Self {
        match error {
            ContractsError::InvalidInput(invalid) => ApiError::InvalidArgument(invalid.to_string()),
            ContractsError::NotAllowed(denied) => ApiError::PermissionDenied(denied.to_string()),
            ContractsError::NoDefaults(_)
            | ContractsError::RateCardNotFound(_)
            | ContractsError::AgreementNotFound(_)
            | ContractsError::NoPlan(_) => ApiError::NotFound(error.to_string()),
            ContractsError::NotAfterLatest { .. }
            | ContractsError::UpliftOutOfRange
            | ContractsError::AlreadyFunded { .. }
            | ContractsError::PlanEnded
            | ContractsError::SignaturesStarted
            | ContractsError::NotAwaiting { .. }
            | ContractsError::Ended(_)
            | ContractsError::NotActive
            | ContractsError::SignRefused(_)
            | ContractsError::ProviderStanding(_)
            | ContractsError::ProviderNotInDirectory(_) => {
                ApiError::FailedPrecondition(error.to_string())
            }
            ContractsError::DirectoryUnavailable(_) => ApiError::Unavailable(error.to_string()),
            ContractsError::Store(store) => ApiError::from(store),
            ContractsError::Database(database) => ApiError::from(database),
            ContractsError::Internal(internal) => ApiError::Internal(internal),
        }
    }
}

impl From<ContractsError> for Status {
    fn from(error: ContractsError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<Denied> for Status {
    fn from(denied: Denied) -> Self {
        ContractsError::from(denied).into()
    }
}
