//! Everything that can go wrong in the portal, named for what the caller does differently,
//! and its one mapping to a gRPC status (through [`ApiError`], which logs internal errors
//! once and hides their detail).

use sds_platform::{ApiError, StoreError};
use sds_vocabulary::Invalid;
use tonic::Status;

use crate::domain::cursor::NoLongerKept;
use crate::domain::subscriber::NotASubscriber;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Fix the request; the message names the field.
    #[error(transparent)]
    InvalidInput(#[from] Invalid),
    /// Subscribe with a provider's or a holder's token.
    #[error(transparent)]
    NotASubscriber(#[from] NotASubscriber),
    /// Subscribe from the start and read what was missed from the services.
    #[error(transparent)]
    NoLongerKept(#[from] NoLongerKept),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PortalError> for ApiError {
    fn from(error: PortalError) -> Self {
        match error {
            PortalError::InvalidInput(invalid) => ApiError::InvalidArgument(invalid.to_string()),
            PortalError::NotASubscriber(denied) => ApiError::PermissionDenied(denied.to_string()),
            PortalError::NoLongerKept(gone) => ApiError::FailedPrecondition(gone.to_string()),
            PortalError::Store(store) => ApiError::from(store),
        }
    }
}

impl From<PortalError> for Status {
    fn from(error: PortalError) -> Self {
        ApiError::from(error).into()
    }
}
