//! Tokens for any principal, signed with the secret the spawned test services trust.

use std::time::Duration;

use sds_platform::{AuthorityId, OrgKind, Principal, Role, TokenIssuer};

pub const TEST_JWT_SECRET: &str = "test-secret-for-sds-testkit-at-least-32-bytes";

pub fn token_for(principal: &Principal) -> String {
    TokenIssuer::shared_secret(TEST_JWT_SECRET)
        .issue(principal, Duration::from_secs(3600))
        .expect("sign test token")
}

/// A token that expired an hour ago.
pub fn expired_token(principal: &Principal) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    TokenIssuer::shared_secret(TEST_JWT_SECRET)
        .issue_at(principal, now - 7200, now - 3600)
        .expect("sign test token")
}

/// Staff of `authority` holding `roles`.
pub fn authority_staff(authority: &str, roles: &[Role]) -> Principal {
    Principal {
        org_id: authority.to_owned(),
        org_kind: OrgKind::Authority,
        roles: roles.to_vec(),
        authorities: vec![
            AuthorityId::parse("authority", authority).expect("a valid authority id"),
        ],
        person_id: None,
    }
}

/// A provider organisation with id `org_id`.
pub fn provider_org(org_id: &str) -> Principal {
    Principal {
        org_id: org_id.to_owned(),
        org_kind: OrgKind::Provider,
        roles: vec![Role::ProviderAdmin],
        authorities: vec![],
        person_id: None,
    }
}

/// Adds `authorization: Bearer <token>` to a request.
pub fn bearer<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("token is ASCII"),
    );
    request
}
