//! How payments calls another service: over gRPC, as a service identity of its own (finance
//! staff of the authority whose money or remittance it is working on), with a token signed
//! by the process's service key and short-lived.

use sds_platform::server::ServiceReach;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use sds_platform::{OrgKind, Principal, Role, TokenIssuer};
use sds_vocabulary::AuthorityId;
use tonic::Request;
use tonic::transport::Channel;

use crate::error::PaymentsError;

/// The organisation id payments' tokens carry, so the other service's logs name who asked.
pub const SERVICE_ID: &str = "sds-payments";

const TOKEN_LIFETIME: Duration = Duration::from_secs(300);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A channel to one service and the tokens to call it with; cheap to clone, connecting when
/// first used.
#[derive(Debug, Clone)]
pub struct ServiceCalls {
    service: &'static str,
    channel: Result<Channel, String>,
    tokens: Option<TokenIssuer>,
}

impl ServiceCalls {
    /// Calls to `service` at `url`, or, when none is configured, to the one in this process
    /// reached as `reach` says.
    pub fn new(
        service: &'static str,
        url: Option<&str>,
        reach: &ServiceReach,
        tokens: Option<TokenIssuer>,
        call_timeout: Duration,
    ) -> ServiceCalls {
        let channel = sds_platform::server::service_channel(
            service,
            url,
            reach,
            CONNECT_TIMEOUT,
            call_timeout,
        );
        ServiceCalls {
            service,
            channel,
            tokens,
        }
    }

    pub fn channel(&self) -> Result<Channel, PaymentsError> {
        Ok(self.channel.clone().map_err(|problem| anyhow!(problem))?)
    }

    /// `message` with a bearer token of payments acting for `authority`.
    pub fn request<T>(
        &self,
        authority: &AuthorityId,
        message: T,
    ) -> Result<Request<T>, PaymentsError> {
        let tokens = self.tokens.as_ref().ok_or_else(|| {
            anyhow!(
                "payments has no key to sign its calls to {} with: set SDS_SERVICE_KEY_FILE (see README, Configuration)",
                self.service
            )
        })?;
        let token = tokens
            .issue(&service_principal(authority), TOKEN_LIFETIME)
            .with_context(|| format!("sign the token payments calls {} with", self.service))?;
        let bearer = format!("Bearer {token}")
            .parse()
            .context("a signed token is ASCII")?;
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", bearer);
        Ok(request)
    }
}

/// Who payments calls as: finance staff of the authority whose money it moves.
fn service_principal(authority: &AuthorityId) -> Principal {
    Principal {
        org_id: SERVICE_ID.to_owned(),
        org_kind: OrgKind::Authority,
        roles: vec![Role::Finance],
        authorities: vec![authority.clone()],
        person_id: None,
    }
}

#[cfg(test)]
mod service_id_tests {
    #[test]
    fn the_service_calls_as_a_subject_the_rate_limits_know_as_the_platforms_own() {
        assert!(sds_platform::auth::PLATFORM_SERVICES.contains(&super::SERVICE_ID));
    }
}
