//! Everything that can go wrong in assessment and budgeting, named for what the caller does
//! differently, and its one mapping to a gRPC status (through [`ApiError`], which logs
//! internal errors once and hides their detail).

use chrono::NaiveDate;
use sds_platform::ApiError;
use sds_vocabulary::AuthorityId;
use tonic::Status;
use uuid::Uuid;

use crate::domain::Invalid;
use crate::domain::access::Denied;
use crate::domain::{ApprovalRefusal, PlanError};

#[derive(Debug, thiserror::Error)]
pub enum AssessmentError {
    /// Fix the request; the message names the field.
    #[error(transparent)]
    InvalidInput(#[from] Invalid),
    /// Ask someone who may.
    #[error(transparent)]
    NotAllowed(#[from] Denied),
    #[error("person {0} is not recorded")]
    PersonNotFound(Uuid),
    /// Set a policy first (commissioning staff).
    #[error(
        "{authority} has no policy in effect on {on}; its commissioning staff set one with SetPolicy"
    )]
    NoPolicy {
        authority: AuthorityId,
        on: NaiveDate,
    },
    #[error("{authority} has no policy in effect on {on}")]
    PolicyNotFound {
        authority: AuthorityId,
        on: NaiveDate,
    },
    /// Policies follow one another: a new one starts after the latest.
    #[error(
        "{authority} has a policy in effect from {latest}, so a new one must start after it, not on {requested}; a policy in effect is never changed or undercut (one not yet in effect is replaced by setting another from its date)"
    )]
    PolicyNotAfterLatest {
        authority: AuthorityId,
        latest: NaiveDate,
        requested: NaiveDate,
    },
    /// A policy in effect is never changed: a new one takes over from its own date.
    #[error(
        "{authority} already has a policy from {effective_from}; a policy is never changed once set: set a new one from a later date"
    )]
    PolicyExists {
        authority: AuthorityId,
        effective_from: NaiveDate,
    },
    /// A plan rule refused: the message says what to do instead.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The caller's devolved limit does not cover the plan, or no policy is in effect.
    #[error(transparent)]
    Approval(#[from] ApprovalRefusal),
    #[error("person {0} has no support plan yet; draft one with DraftPlan")]
    NoPlan(Uuid),
    #[error("person {person} has no plan version {version}; the latest is {latest}")]
    NoSuchVersion {
        person: Uuid,
        version: u32,
        latest: u32,
    },
    #[error(
        "version {version} is not the latest version of the plan ({latest}); get the plan again"
    )]
    NotLatest { version: u32, latest: u32 },
    #[error("the plan's latest version {version} is {status}; {what}")]
    PlanInState {
        version: u32,
        status: String,
        what: &'static str,
    },
    #[error(
        "person {0} has no indicative budget; set one with SetIndicativeBudget before submitting the plan"
    )]
    NoBudget(Uuid),
    /// A database call that names what it was doing.
    #[error(transparent)]
    Store(#[from] sds_platform::StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<AssessmentError> for ApiError {
    fn from(error: AssessmentError) -> Self {
        match error {
            AssessmentError::InvalidInput(invalid) => {
                ApiError::InvalidArgument(invalid.to_string())
            }
            AssessmentError::NotAllowed(denied) => ApiError::PermissionDenied(denied.to_string()),
            AssessmentError::PersonNotFound(_) => ApiError::NotFound(error.to_string()),
            AssessmentError::NoPolicy { .. } | AssessmentError::PolicyNotAfterLatest { .. } => {
                ApiError::FailedPrecondition(error.to_string())
            }
            AssessmentError::PolicyNotFound { .. } => ApiError::NotFound(error.to_string()),
            AssessmentError::PolicyExists { .. } => ApiError::AlreadyExists(error.to_string()),
            AssessmentError::Plan(PlanError::Invalid(invalid)) => {
                ApiError::InvalidArgument(invalid.to_string())
            }
            AssessmentError::Plan(PlanError::OverBudgetWithoutReason { .. }) => {
                ApiError::InvalidArgument(format!("over_budget_reason is missing: {error}"))
            }
            AssessmentError::Plan(_)
            | AssessmentError::NotLatest { .. }
            | AssessmentError::PlanInState { .. }
            | AssessmentError::NoBudget(_) => ApiError::FailedPrecondition(error.to_string()),
            AssessmentError::Approval(ApprovalRefusal::Plan(plan)) => {
                ApiError::from(AssessmentError::Plan(plan))
            }
            AssessmentError::Approval(ApprovalRefusal::NoPolicyInEffect { .. }) => {
                ApiError::FailedPrecondition(error.to_string())
            }
            AssessmentError::Approval(_) => ApiError::PermissionDenied(error.to_string()),
            AssessmentError::NoPlan(_) | AssessmentError::NoSuchVersion { .. } => {
                ApiError::NotFound(error.to_string())
            }
            AssessmentError::Store(store) => ApiError::from(store),
            AssessmentError::Database(database) => ApiError::from(database),
            AssessmentError::Internal(internal) => ApiError::Internal(internal),
        }
    }
}

impl From<AssessmentError> for Status {
    fn from(error: AssessmentError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<Denied> for Status {
    fn from(denied: Denied) -> Self {
        AssessmentError::from(denied).into()
    }
}
