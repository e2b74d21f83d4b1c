//! The directory as contracts reads it: a provider's standing, asked for over gRPC just
//! before an agreement becomes active, so that what is checked is what the directory holds
//! on the day (a renewed insurance counts at once; nothing is copied to go stale).
//!
//! Contracts calls with a service identity of its own rather than the signer's token: the
//! check is made for the agreement's authority whoever signs last, and a person or a
//! provider signing must not need (or be given) a right to read the directory's record.
//! The identity is authority staff of the agreement's authority with no roles: enough to
//! read a provider, nothing to change one. Its token is signed with the process's service
//! key ([`TokenIssuer::for_services`]) and lives a few minutes.

use sds_platform::server::ServiceReach;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::NaiveDate;
use sds_directory::domain::{CareServiceStatus, CheckKind, FrameworkStatus, ProviderKind};
use sds_platform::{OrgKind, Principal, TokenIssuer};
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_vocabulary::AuthorityId;
use sds_vocabulary::named_enum::WireEnum as _;
use tonic::transport::Channel;
use tonic::{Code, Request};
use uuid::Uuid;

use crate::domain::standing::{CheckFact, ProviderStanding};
use crate::error::ContractsError;

/// The organisation id the service's tokens carry, so the directory's logs name who asked.
pub const SERVICE_ID: &str = "sds-contracts";

/// How long the service's own tokens live: one call's worth, so a leaked one soon stops.
const TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// How long contracts waits to reach the directory, and for its answer; a signer waits on
/// it, and an unreachable directory is answered `Unavailable` for them to retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A provider as the directory describes it: its name (for the refusal) and its standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryProvider {
    pub name: String,
    pub standing: ProviderStanding,
}

/// A client of the directory, cheap to clone; it connects when first used and reconnects
/// after the directory comes back.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Or why there is none: an address the configuration let through that is still no
    /// endpoint, reported by the first call rather than stopping the process.
    channel: Result<Channel, String>,
    tokens: Option<TokenIssuer>,
}

impl Directory {
    /// A client of the directory at `url`, or, when none is configured, of the directory
    /// in this process, reached as `reach` says.
    pub fn new(url: Option<&str>, reach: &ServiceReach, tokens: Option<TokenIssuer>) -> Directory {
        let channel = sds_platform::server::service_channel(
            "directory",
            url,
            reach,
            CONNECT_TIMEOUT,
            CALL_TIMEOUT,
        );
        Directory { channel, tokens }
    }

    /// What the directory holds about `provider`, read for `authority`.
    pub async fn provider(
        &self,
        provider: Uuid,
        authority: &AuthorityId,
    ) -> Result<DirectoryProvider, ContractsError> {
        let channel = self.channel.clone().map_err(|problem| anyhow!(problem))?;
        let tokens = self.tokens.as_ref().ok_or_else(|| {
            anyhow!("contracts has no key to sign its calls to the directory with: set SDS_SERVICE_KEY_FILE (see README, Configuration)")
        })?;
        let token = tokens
            .issue(&service_principal(authority), TOKEN_LIFETIME)
            .context("sign the token contracts calls the directory with")?;
        let mut request = Request::new(proto::GetProviderRequest {
            id: provider.to_string(),
        });
        let bearer = format!("Bearer {token}")
            .parse()
            .context("a signed token is ASCII")?;
        request.metadata_mut().insert("authorization", bearer);
        let answer = DirectoryServiceClient::new(channel)
            .get_provider(request)
            .await;
        match answer {
            Ok(response) => Ok(provider_of(&response.into_inner(), authority)?),
            Err(status) => Err(match status.code() {
                Code::NotFound => ContractsError::ProviderNotInDirectory(provider),
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                    ContractsError::DirectoryUnavailable(status.message().to_owned())
                }
                Code::Unimplemented => ContractsError::Internal(anyhow!(
                    "the server contracts calls as the directory does not serve it; set SDS_DIRECTORY_URL when contracts runs without the directory (sds serve --only)"
                )),
                // Anything else is this deployment's mistake (keys, addresses), not the
                // caller's: logged in full, hidden from them.
                _ => ContractsError::Internal(anyhow!(
                    "the directory refused contracts' GetProvider: {:?} {}",
                    status.code(),
                    status.message()
                )),
            }),
        }
    }
}

/// Who contracts calls the directory as: staff of the agreement's authority holding no
/// role, which reads a provider and can change nothing.
fn service_principal(authority: &AuthorityId) -> Principal {
    Principal {
        org_id: SERVICE_ID.to_owned(),
        org_kind: OrgKind::Authority,
        roles: Vec::new(),
        authorities: vec![authority.clone()],
        person_id: None,
    }
}

/// The directory's answer read into what activation is judged on. The framework status is
/// the one with `authority`; the Care Inspectorate status counts only for a provider with
/// a service number (the directory shows every other provider as active).
pub fn provider_of(
    message: &proto::Provider,
    authority: &AuthorityId,
) -> anyhow::Result<DirectoryProvider> {
    let details = message
        .details
        .as_ref()
        .context("the directory's provider has no details")?;
    let framework = message
        .frameworks
        .iter()
        .find(|membership| membership.authority == authority.as_str())
        .map(|membership| FrameworkStatus::from_wire("frameworks.status", membership.status))
        .transpose()?;
    let care_service = if details.care_inspectorate_number.is_empty() {
        None
    } else {
        Some(CareServiceStatus::from_wire(
            "care_service_status",
            message.care_service_status,
        )?)
    };
    let mut checks = Vec::with_capacity(message.checks.len());
    for check in &message.checks {
        let expires_on = check
            .expires_on
            .as_ref()
            .map(|date| {
                date.iso
                    .parse::<NaiveDate>()
                    .with_context(|| format!("check expiry {:?} is not a date", date.iso))
            })
            .transpose()?;
        checks.push(CheckFact {
            kind: CheckKind::from_wire("checks.kind", check.kind)?,
            expires_on,
        });
    }
    Ok(DirectoryProvider {
        name: details.name.clone(),
        standing: ProviderStanding {
            kind: ProviderKind::from_wire("details.kind", details.kind)?,
            framework,
            care_service,
            checks,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_calls_as_a_subject_the_rate_limits_know_as_the_platforms_own() {
        assert!(sds_platform::auth::PLATFORM_SERVICES.contains(&SERVICE_ID));
        assert!(sds_platform::auth::is_platform_service(&service_principal(
            &fife()
        )));
    }

    fn fife() -> AuthorityId {
        AuthorityId::parse("authority", "fife").unwrap()
    }

    fn assistant() -> proto::Provider {
        proto::Provider {
            details: Some(proto::ProviderDetails {
                name: "Jane Doe".into(),
                kind: ProviderKind::SelfEmployedPersonalAssistant.wire_number(),
                ..proto::ProviderDetails::default()
            }),
            checks: vec![proto::Check {
                kind: CheckKind::PublicLiabilityInsurance.wire_number(),
                expires_on: Some(proto::Date {
                    iso: "2026-10-31".into(),
                }),
                ..proto::Check::default()
            }],
            frameworks: vec![proto::FrameworkMembership {
                authority: "angus".into(),
                status: FrameworkStatus::OnFramework.wire_number(),
            }],
            care_service_status: CareServiceStatus::Active.wire_number(),
            ..proto::Provider::default()
        }
    }

    #[test]
    fn only_the_authoritys_own_framework_and_a_numbered_services_status_count() {
        let read = provider_of(&assistant(), &fife()).unwrap();
        assert_eq!(read.name, "Jane Doe");
        assert_eq!(
            read.standing,
            ProviderStanding {
                kind: ProviderKind::SelfEmployedPersonalAssistant,
                framework: None,
                care_service: None,
                checks: vec![CheckFact {
                    kind: CheckKind::PublicLiabilityInsurance,
                    expires_on: Some("2026-10-31".parse().unwrap()),
                }],
            }
        );
        let mut numbered = assistant();
        numbered.details.as_mut().unwrap().care_inspectorate_number = "CS2003012345".into();
        numbered.frameworks[0].authority = "fife".into();
        let read = provider_of(&numbered, &fife()).unwrap();
        assert_eq!(read.standing.framework, Some(FrameworkStatus::OnFramework));
        assert_eq!(read.standing.care_service, Some(CareServiceStatus::Active));
    }
}
