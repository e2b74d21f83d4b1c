//! The one place where errors become gRPC status codes.
//!
//! Services define their own `thiserror` enums named for what the caller does differently
//! and convert them into [`ApiError`]; this module maps those to `tonic::Status`. Internal
//! errors are logged here, once, with their chain, and the caller sees an opaque message.

use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself is wrong; the message says what and what is accepted.
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// The request is well formed but the record is not in a state that allows it
    /// (for instance a stale `expected_version`).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A test-and-set lost: the record moved on since the caller read it (a stale
    /// `expected_version`). gRPC's `ABORTED`, which client libraries know to retry after
    /// reading again.
    #[error("{0}")]
    Aborted(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    /// A dependency (database, bus) is not answering; the caller may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    pub fn denied(message: impl Into<String>) -> Self {
        Self::PermissionDenied(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::InvalidArgument(message) => Status::new(Code::InvalidArgument, message),
            ApiError::NotFound(message) => Status::new(Code::NotFound, message),
            ApiError::AlreadyExists(message) => Status::new(Code::AlreadyExists, message),
            ApiError::FailedPrecondition(message) => Status::new(Code::FailedPrecondition, message),
            ApiError::Aborted(message) => Status::new(Code::Aborted, message),
            ApiError::PermissionDenied(message) => {
                // In the request's span, which names the method and the caller.
                tracing::warn!(reason = %message, "request refused: permission denied");
                Status::new(Code::PermissionDenied, message)
            }
            ApiError::Unauthenticated(message) => Status::new(Code::Unauthenticated, message),
            ApiError::Unavailable(message) => {
                tracing::warn!(reason = %message, "dependency unavailable");
                Status::new(Code::Unavailable, message)
            }
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                Status::new(Code::Internal, "internal error; it has been logged")
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    /// Database errors that a caller can act on get their own codes; everything else is
    /// internal. Constraint names are not shown to callers.
    fn from(error: sqlx::Error) -> Self {
        match unavailable(&error) {
            Some(message) => ApiError::Unavailable(message.into()),
            None => ApiError::Internal(anyhow::Error::new(error)),
        }
    }
}

/// What to tell a caller when the database, not the request, is at fault.
fn unavailable(error: &sqlx::Error) -> Option<&'static str> {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            Some("the database is not answering; try again shortly")
        }
        sqlx::Error::Database(db)
            if db.code().as_deref() == Some(pg_codes::SERIALIZATION_FAILURE) =>
        {
            Some("the record changed while this request ran; try again")
        }
        // The server is shutting down or restarting (class 57P: operator intervention) or
        // the connection broke (class 08): the request may succeed once it is back.
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")) =>
        {
            Some("the database is not answering; try again shortly")
        }
        _ => None,
    }
}

/// A database error with the operation that failed, as a short verb phrase (`insert
/// provider`, `lock provider`), so that an internal error in the log says what failed.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {source}")]
pub struct StoreError {
    pub operation: &'static str,
    #[source]
    pub source: sqlx::Error,
}

impl StoreError {
    /// Whether the database, not the request, is at fault (not answering, restarting, a
    /// serialization failure): worth trying again shortly.
    pub fn is_unavailable(&self) -> bool {
        unavailable(&self.source).is_some()
    }

    /// Whether PostgreSQL refused a duplicate key.
    pub fn is_unique_violation(&self) -> bool {
        is_unique_violation(&self.source)
    }
}

/// Names the operation of a database call: `.operation("insert provider")?`. (Not
/// `context`, which would clash with `anyhow::Context` where both are in scope.)
pub trait StoreContext<T> {
    fn operation(self, operation: &'static str) -> Result<T, StoreError>;
}

impl<T> StoreContext<T> for Result<T, sqlx::Error> {
    fn operation(self, operation: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError { operation, source })
    }
}

impl From<StoreError> for ApiError {
    /// As for a bare [`sqlx::Error`], but an internal error carries the operation into the
    /// log.
    fn from(error: StoreError) -> Self {
        match unavailable(&error.source) {
            Some(message) => ApiError::Unavailable(message.into()),
            None => ApiError::Internal(anyhow::Error::new(error)),
        }
    }
}

/// PostgreSQL SQLSTATE codes that code branches on, named once.
pub mod pg_codes {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const SERIALIZATION_FAILURE: &str = "40001";
}

/// Whether `error` is PostgreSQL refusing a duplicate key.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(pg_codes::UNIQUE_VIOLATION))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_own_code_with_its_message() {
        let status: Status = ApiError::invalid("capacity is -1; it must be 0 or more").into();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "capacity is -1; it must be 0 or more");
        let status: Status = ApiError::denied("not yours").into();
        assert_eq!(status.code(), Code::PermissionDenied);
    }

    #[test]
    fn a_store_error_names_its_operation_in_the_log_and_keeps_its_code() {
        let failed: Result<(), sqlx::Error> = Err(sqlx::Error::RowNotFound);
        let error = failed.operation("lock provider").unwrap_err();
        assert_eq!(
            error.to_string(),
            "lock provider: no rows returned by a query that expected to return at least one row"
        );
        assert!(matches!(ApiError::from(error), ApiError::Internal(_)));
        let timed_out: Result<(), sqlx::Error> = Err(sqlx::Error::PoolTimedOut);
        let status: Status =
            ApiError::from(timed_out.operation("insert provider").unwrap_err()).into();
        assert_eq!(status.code(), Code::Unavailable);
    }

    #[test]
    fn a_permission_refusal_is_logged_once_with_its_reason() {
        let logs = crate::telemetry::tests_support::CapturedLogs::default();
        tracing::subscriber::with_default(logs.subscriber(), || {
            let _: Status = ApiError::denied("only commissioning staff may grade").into();
        });
        let text = logs.text();
        assert_eq!(
            text.matches("request refused: permission denied").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("only commissioning staff may grade"),
            "{text}"
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_detail() {
        let status: Status =
            ApiError::Internal(anyhow::anyhow!("password=hunter2 in connection string")).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("hunter2"));
    }
}
