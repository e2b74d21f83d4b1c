//! Everything that can go wrong in the ledger, named for what the caller does differently,
//! and its one mapping to a gRPC status (through [`ApiError`], which logs internal errors
//! once and hides their detail).

use sds_platform::ApiError;
use sds_vocabulary::Invalid;
use tonic::Status;
use uuid::Uuid;

use crate::domain::{Denied, Refused, TransferStatus};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Fix the request; the message names the field.
    #[error(transparent)]
    InvalidInput(#[from] Invalid),
    /// Ask someone who may.
    #[error(transparent)]
    NotAllowed(#[from] Denied),
    /// Also what a caller who may not see the fund is told.
    #[error("fund {0} is not recorded")]
    FundNotFound(Uuid),
    #[error("{field} names account {id}, which is not recorded")]
    AccountNotFound { field: String, id: Uuid },
    #[error("transfer {0} is not recorded")]
    TransferNotFound(Uuid),
    #[error(
        "transfer {0} is already recorded with other content; a transfer id is used once (ask again with the same content to read the original, or use a new id)"
    )]
    TransferIdUsed(Uuid),
    #[error(
        "fund {0} is already recorded with other details; a fund id is used once (ask again with the same details to read it, or use a new id)"
    )]
    FundIdUsed(Uuid),
    #[error(
        "this person already has an open fund with this holder: {0}; a person has one open fund per holder with an authority"
    )]
    OpenFundExists(Uuid),
    /// A batch refused by the balance rule or a closed fund; `at` is the transfer's place.
    #[error("{at}: {refused}")]
    Refused { at: String, refused: Refused },
    #[error("{field} is in fund {other}, not fund {fund}; a transfer moves money within one fund")]
    OtherFund {
        field: String,
        fund: Uuid,
        other: Uuid,
    },
    #[error(
        "transfer {id} is not pending (it is {status}); only a pending transfer is posted or voided"
    )]
    NotPending { id: Uuid, status: TransferStatus },
    #[error("transfer {id} was already {status}; a pending transfer is posted or voided once")]
    AlreadyResolved { id: Uuid, status: TransferStatus },
    #[error(
        "transfer {id} is {status}; only a posted transfer is reversed (a pending one is voided)"
    )]
    NotReversible { id: Uuid, status: TransferStatus },
    #[error("transfer {id} was already reversed by transfer {by}; a transfer is reversed once")]
    AlreadyReversed { id: Uuid, by: Uuid },
    #[error(
        "transfer {id} is itself the reversal of transfer {of}; a reversal is not reversed (if the original movement was right after all, record it again with a new id)"
    )]
    ReversesAReversal { id: Uuid, of: Uuid },
    #[error("fund {0} is closed; it takes no new payees")]
    FundClosed(Uuid),
    #[error("fund {fund} already pays {max} payees, the most a fund takes; it takes no new payee")]
    TooManyPayees { fund: Uuid, max: usize },
    #[error("fund {0} has pending transfers; post or void them before it closes")]
    PendingOutstanding(Uuid),
    #[error(
        "fund {fund} still holds {balance}; name destination_account_id to receive it, and transfer_id for the move"
    )]
    BalanceLeft { fund: Uuid, balance: String },
    /// The funds of a batch were read before a lock wait and one closed meanwhile; the
    /// batch runs again on what is recorded now (see `posting::lock_for_batch`).
    #[error("a fund of this batch closed while it waited for its accounts; ask again")]
    FundClosedMeanwhile,
    /// A batch that assumed its transfers new found one recorded (a retry); it runs again,
    /// looking them up first (see `posting::batch::Retries`).
    #[error("a transfer of this batch is already recorded; ask again")]
    RecordedMeanwhile,
    /// A database call that names what it was doing.
    #[error(transparent)]
    Store(#[from] sds_platform::StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl LedgerError {
    /// Whether a concurrent request recorded the same key first, or closed a fund the
    /// request had read: answered by running the request again, which then finds what the
    /// other recorded.
    pub fn is_race(&self) -> bool {
        match self {
            LedgerError::FundClosedMeanwhile | LedgerError::RecordedMeanwhile => true,
            LedgerError::Store(store) => store.is_unique_violation(),
            LedgerError::Database(database) => sds_platform::error::is_unique_violation(database),
            _ => false,
        }
    }
}

impl From<sds_events::EnqueueError> for LedgerError {
    /// As any other write: a database that went away is UNAVAILABLE to the caller.
    fn from(error: sds_events::EnqueueError) -> Self {
        LedgerError::Store(sds_platform::StoreError {
            operation: "insert outbox rows",
            source: error.into_database_error(),
        })
    }
}

impl From<LedgerError> for ApiError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::InvalidInput(invalid) => ApiError::InvalidArgument(invalid.to_string()),
            LedgerError::NotAllowed(denied) => ApiError::PermissionDenied(denied.to_string()),
            LedgerError::OtherFund { .. } => ApiError::InvalidArgument(error.to_string()),
            LedgerError::Refused {
                refused: Refused::NotLocked,
                ..
            } => ApiError::Internal(anyhow::anyhow!("{error}")),
            LedgerError::FundNotFound(_)
            | LedgerError::AccountNotFound { .. }
            | LedgerError::TransferNotFound(_) => ApiError::NotFound(error.to_string()),
            LedgerError::TransferIdUsed(_)
            | LedgerError::FundIdUsed(_)
            | LedgerError::OpenFundExists(_) => ApiError::AlreadyExists(error.to_string()),
            LedgerError::Refused { .. }
            | LedgerError::NotPending { .. }
            | LedgerError::AlreadyResolved { .. }
            | LedgerError::NotReversible { .. }
            | LedgerError::AlreadyReversed { .. }
            | LedgerError::ReversesAReversal { .. }
            | LedgerError::PendingOutstanding(_)
            | LedgerError::FundClosed(_)
            | LedgerError::TooManyPayees { .. }
            | LedgerError::BalanceLeft { .. } => ApiError::FailedPrecondition(error.to_string()),
            LedgerError::FundClosedMeanwhile | LedgerError::RecordedMeanwhile => {
                ApiError::Aborted(error.to_string())
            }
            LedgerError::Store(store) => ApiError::from(store),
            LedgerError::Database(database) => ApiError::from(database),
            LedgerError::Internal(internal) => ApiError::Internal(internal),
        }
    }
}

impl From<LedgerError> for Status {
    fn from(error: LedgerError) -> Self {
        ApiError::from(error).into()
    }
}
