//! Everything that can go wrong in payments, named for what the caller does differently,
//! and its one mapping to a gRPC status (through [`ApiError`], which logs internal errors
//! once and hides their detail).

use sds_platform::ApiError;
use tonic::Status;
use uuid::Uuid;

use crate::preview::PreviewError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// Fix the request; the message names the field by its path.
    #[error("{0}")]
    InvalidInput(String),
    /// Ask someone who may.
    #[error("{0}")]
    NotAllowed(String),
    /// Also what a caller who may not see the schedule is told.
    #[error("no schedule is recorded for agreement {0}")]
    ScheduleNotFound(Uuid),
    #[error(
        "run {run_id} for {run_date} is unfinished; run that date again to finish it before running another"
    )]
    RunUnfinished {
        run_id: Uuid,
        run_date: chrono::NaiveDate,
    },
    #[error("a payment run of {0} is in progress; wait for it to finish, then run again")]
    RunInProgress(sds_vocabulary::AuthorityId),
    /// The run's transfers are posted but its files could not be written.
    #[error(
        "the run's transfers are posted, but its finance files could not be written (see the server's log); the operator must fix SDS_EXPORTS_DIR, then run the same date again to finish the run"
    )]
    ExportsUnwritable,
    /// Something the operator or the authority's finance staff must set up first.
    #[error("{0}")]
    Unconfigured(String),
    #[error("no bank account is recorded for payee {0}")]
    NoBankAccount(Uuid),
    /// Also what a caller who may not see the remittance is told.
    #[error("no remittance {0} is recorded")]
    RemittanceNotFound(String),
    /// The ledger is not answering; the run can be run again to finish.
    #[error("the ledger is unavailable ({0}); run the same date again to finish the run")]
    LedgerUnavailable(String),
    /// Assessment, which holds people's case references, is not answering; ask again.
    #[error("assessment is unavailable ({0}); ask again shortly")]
    AssessmentUnavailable(String),
    /// An id the caller chose is taken by other content.
    #[error("{0}")]
    AlreadyRecorded(String),
    #[error(transparent)]
    Store(#[from] sds_platform::StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<PreviewError> for PaymentsError {
    fn from(error: PreviewError) -> PaymentsError {
        match error {
            // A history whose amounts overflow is still the caller's input.
            PreviewError::Invalid { .. } | PreviewError::Schedule(_) => {
                PaymentsError::InvalidInput(error.to_string())
            }
            PreviewError::Syntax(_) | PreviewError::Output(_) => {
                PaymentsError::Internal(anyhow::Error::new(error))
            }
        }
    }
}

impl From<PaymentsError> for ApiError {
    fn from(error: PaymentsError) -> ApiError {
        match error {
            PaymentsError::InvalidInput(message) => ApiError::InvalidArgument(message),
            PaymentsError::NotAllowed(message) => ApiError::PermissionDenied(message),
            PaymentsError::ScheduleNotFound(_)
            | PaymentsError::NoBankAccount(_)
            | PaymentsError::RemittanceNotFound(_) => ApiError::NotFound(error.to_string()),
            PaymentsError::RunUnfinished { .. }
            | PaymentsError::RunInProgress(_)
            | PaymentsError::Unconfigured(_)
            | PaymentsError::ExportsUnwritable => ApiError::FailedPrecondition(error.to_string()),
            PaymentsError::LedgerUnavailable(_) | PaymentsError::AssessmentUnavailable(_) => {
                ApiError::Unavailable(error.to_string())
            }
            PaymentsError::AlreadyRecorded(message) => ApiError::AlreadyExists(message),
            PaymentsError::Store(store) => ApiError::from(store),
            PaymentsError::Internal(internal) => ApiError::Internal(internal),
        }
    }
}

impl From<PaymentsError> for Status {
    fn from(error: PaymentsError) -> Status {
        ApiError::from(error).into()
    }
}
