//! How the pages reach the other services: over gRPC, to the service's configured address
//! or, when it runs in this process, to the process's own.
//!
//! Two ways of calling, chosen per call by whose rules should apply:
//! - **as the signed-in caller**, with their own token, wherever the other service already
//!   decides what that caller may see or do (the directory for a provider's requests and
//!   answers, contracts, payments and the ledger for a person's own agreements, schedules
//!   and statements). The other service then applies its own rules; the portal adds no
//!   privilege of its own.
//! - **as the portal**, with a short-lived service token of staff of the person's
//!   authority, only where the other service has no rule for the caller yet (assessment
//!   shows plans to staff only). The portal has already decided from the token that the
//!   person asks for their own record, and asks for nothing else.

use std::time::Duration;

use sds_platform::{OrgKind, Principal, TokenIssuer};
use sds_vocabulary::AuthorityId;
use tonic::Request;
use tonic::transport::Channel;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A page waits this long for one answer; the web listener's own timeout is the backstop.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const SERVICE_TOKEN_LIFETIME: Duration = Duration::from_secs(120);

/// The organisation id the portal's service tokens carry, so other services' logs name it.
pub const SERVICE_ID: &str = "sds-portal";

/// Channels to the services the pages read from; cheap to clone, connecting when first
/// used.
#[derive(Debug, Clone)]
pub struct Services {
    pub directory: Result<Channel, String>,
    pub assessment: Result<Channel, String>,
    pub contracts: Result<Channel, String>,
    pub payments: Result<Channel, String>,
    pub ledger: Result<Channel, String>,
    tokens: Option<TokenIssuer>,
}

/// Why a call could not be made or was refused.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Setup(String),
    #[error("{service} answered {code:?}: {message}")]
    Refused {
        service: &'static str,
        code: tonic::Code,
        message: String,
    },
}

impl CallError {
    pub fn refused(service: &'static str, status: tonic::Status) -> CallError {
        CallError::Refused {
            service,
            code: status.code(),
            message: status.message().to_owned(),
        }
    }

    /// Whether the other service said the request itself was wrong, so the person can fix
    /// it (as opposed to something failing on our side).
    pub fn is_the_callers_to_fix(&self) -> bool {
        matches!(
            self,
            CallError::Refused {
                code: tonic::Code::InvalidArgument
                    | tonic::Code::FailedPrecondition
                    | tonic::Code::AlreadyExists
                    | tonic::Code::Aborted
                    | tonic::Code::NotFound
                    | tonic::Code::PermissionDenied
                    | tonic::Code::OutOfRange,
                ..
            }
        )
    }

    /// What the other service said, for the person to act on.
    /// Whether the service called could not answer just now (it, or its database, is
    /// away): worth trying again shortly.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            CallError::Refused {
                code: tonic::Code::Unavailable | tonic::Code::DeadlineExceeded,
                ..
            }
        )
    }

    pub fn message(&self) -> &str {
        match self {
            CallError::Setup(problem) => problem,
            CallError::Refused { message, .. } => message,
        }
    }
}

impl Services {
    pub fn new(context: &sds_runtime::Context) -> Services {
        let channel = |service: &str, url: Option<&str>| {
            sds_platform::server::service_channel(
                service,
                url,
                &context.reach,
                CONNECT_TIMEOUT,
                CALL_TIMEOUT,
            )
        };
        let config = &context.config;
        Services {
            directory: channel("directory", config.directory_url.as_deref()),
            assessment: channel("assessment", config.assessment_url.as_deref()),
            contracts: channel("contracts", config.contracts_url.as_deref()),
            payments: channel("payments", config.payments_url.as_deref()),
            ledger: channel("ledger", config.ledger_url.as_deref()),
            tokens: context.service_tokens.clone(),
        }
    }

    pub fn channel(which: &Result<Channel, String>) -> Result<Channel, CallError> {
        which.clone().map_err(CallError::Setup)
    }

    /// `message` carrying the portal's own token, as staff of `authority`.
    pub fn as_portal<T>(
        &self,
        authority: &AuthorityId,
        message: T,
    ) -> Result<Request<T>, CallError> {
        let tokens = self.tokens.as_ref().ok_or_else(|| {
            CallError::Setup(
                "the portal has no key to sign its calls with: set SDS_SERVICE_KEY_FILE".to_owned(),
            )
        })?;
        let principal = Principal {
            org_id: SERVICE_ID.to_owned(),
            org_kind: OrgKind::Authority,
            roles: vec![],
            authorities: vec![authority.clone()],
            person_id: None,
        };
        let token = tokens
            .issue(&principal, SERVICE_TOKEN_LIFETIME)
            .map_err(|error| CallError::Setup(format!("sign the portal's token: {error}")))?;
        as_caller(&token, message)
    }
}

/// `message` carrying the signed-in caller's own token.
pub fn as_caller<T>(token: &str, message: T) -> Result<Request<T>, CallError> {
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| CallError::Setup("a token is not ASCII".to_owned()))?;
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", bearer);
    Ok(request)
}

#[cfg(test)]
mod service_id_tests {
    #[test]
    fn the_service_calls_as_a_subject_the_rate_limits_know_as_the_platforms_own() {
        assert!(sds_platform::auth::PLATFORM_SERVICES.contains(&super::SERVICE_ID));
    }
}
