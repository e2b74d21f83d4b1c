//! Bearer-JWT authentication. Every RPC but health and reflection carries
//! `authorization: Bearer <token>`; the interceptor verifies it and leaves a [`Principal`]
//! in the request's extensions for handlers to authorise against.
//!
//! Locally tokens are HS256 with a shared secret (`sds token` issues them); in production
//! the identity provider signs RS256 and services hold only its public keys.

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

use sds_vocabulary::{AuthorityId, NamedEnum, OrgKind, Role};

use crate::config::JwtConfig;

/// The issuer every token must name.
pub const TOKEN_ISSUER: &str = "sds";

/// Who is calling, read once from a verified token at the edge: the organisation, its
/// kind, the caller's roles and the authorities the caller may act for (an HSCP's staff act
/// for their own authority; a national holder may act for several). Roles a token names that
/// this build does not know grant nothing and are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: String,
    pub org_kind: OrgKind,
    pub roles: Vec<Role>,
    pub authorities: Vec<AuthorityId>,
    /// For a supported person (or their representative), the person's own id.
    pub person_id: Option<String>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn may_act_for(&self, authority: &AuthorityId) -> bool {
        self.authorities.contains(authority)
    }

    /// The principal left by the interceptor. A handler reached without one is a wiring
    /// mistake, reported as `Unauthenticated` rather than a panic.
    pub fn of<T>(request: &Request<T>) -> Result<&Principal, Status> {
        request
            .extensions()
            .get::<Principal>()
            .ok_or_else(|| Status::unauthenticated("no verified bearer token on this request"))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: u64,
    exp: u64,
    org_kind: OrgKind,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    authorities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    person_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("read JWT public keys from {path}: {source}")]
    ReadKeys {
        path: String,
        source: std::io::Error,
    },
    #[error("JWT public keys file {path} holds no usable PEM public key: {reason}")]
    BadKeys { path: String, reason: String },
    #[error("sign token: {0}")]
    Sign(jsonwebtoken::errors::Error),
}

/// Verifies bearer tokens; cheap to clone (keys are shared).
#[derive(Clone)]
pub struct Authenticator {
    keys: std::sync::Arc<Vec<DecodingKey>>,
    validation: Validation,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Authenticator {
    pub fn from_config(config: &JwtConfig) -> Result<Self, AuthSetupError> {
        match config {
            JwtConfig::SharedSecret(secret) => Ok(Self::shared_secret(secret)),
            JwtConfig::PublicKeysFile(path) => Self::rsa_public_keys_file(path),
        }
    }

    pub fn shared_secret(secret: &str) -> Self {
        Self::new(
            vec![DecodingKey::from_secret(secret.as_bytes())],
            Algorithm::HS256,
        )
    }

    /// Reads one or more PEM public keys (several during a key rotation); a token is
    /// accepted when any of them verifies it.
    pub fn rsa_public_keys_file(path: &Path) -> Result<Self, AuthSetupError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AuthSetupError::ReadKeys {
            path: shown.clone(),
            source,
        })?;
        Self::rsa_public_keys_pem(&text).map_err(|reason| AuthSetupError::BadKeys {
            path: shown,
            reason,
        })
    }

    pub fn rsa_public_keys_pem(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for block in pem_blocks(text) {
            keys.push(
                DecodingKey::from_rsa_pem(block.as_bytes()).map_err(|error| error.to_string())?,
            );
        }
        if keys.is_empty() {
            return Err("no -----BEGIN ... PUBLIC KEY----- block".into());
        }
        Ok(Self::new(keys, Algorithm::RS256))
    }

    fn new(keys: Vec<DecodingKey>, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[TOKEN_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Tokens are told apart by issuer; an identity provider's `aud` claim must not make
        // an otherwise valid token unreadable.
        validation.validate_aud = false;
        validation.leeway = 30;
        Self {
            keys: std::sync::Arc::new(keys),
            validation,
        }
    }

    /// Verifies a raw token and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, Status> {
        let mut last_error = None;
        for key in self.keys.iter() {
            match decode::<Claims>(token, key, &self.validation) {
                Ok(data) => return principal_from_claims(data.claims),
                Err(error) => last_error = Some(error),
            }
        }
        use jsonwebtoken::errors::ErrorKind;
        let message = match last_error.as_ref().map(|error| error.kind()) {
            Some(ErrorKind::ExpiredSignature) => "bearer token has expired; ask for a new one",
            Some(ErrorKind::InvalidSignature) => {
                "bearer token signature is not valid for this server"
            }
            Some(ErrorKind::InvalidIssuer) => "bearer token was not issued for sds",
            Some(ErrorKind::InvalidAlgorithm) => {
                "bearer token is signed with an algorithm this server does not accept"
            }
            Some(ErrorKind::MissingRequiredClaim(_)) => {
                "bearer token lacks a required claim (sub, iss, exp)"
            }
            _ => "bearer token is malformed",
        };
        Err(Status::unauthenticated(message))
    }

    /// Checks the `authorization` metadata of a request and leaves the principal in its
    /// extensions.
    pub fn authenticate<T>(&self, mut request: Request<T>) -> Result<Request<T>, Status> {
        let header = request.metadata().get("authorization").ok_or_else(|| {
            Status::unauthenticated("missing bearer token: send `authorization: Bearer <token>`")
        })?;
        let header = header
            .to_str()
            .map_err(|_| Status::unauthenticated("authorization header is not text"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                Status::unauthenticated("authorization header must be `Bearer <token>`")
            })?;
        let principal = self.verify(token.trim())?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

impl tonic::service::Interceptor for Authenticator {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.authenticate(request)
    }
}

fn principal_from_claims(claims: Claims) -> Result<Principal, Status> {
    if claims.sub.trim().is_empty() {
        return Err(Status::unauthenticated(
            "bearer token names no organisation (empty sub)",
        ));
    }
    let roles = claims
        .roles
        .iter()
        .filter_map(|name| Role::parse("roles", name).ok())
        .collect();
    let mut authorities = Vec::with_capacity(claims.authorities.len());
    for raw in &claims.authorities {
        let authority = AuthorityId::parse("authorities", raw)
            .map_err(|invalid| Status::unauthenticated(format!("bearer token claim {invalid}")))?;
        authorities.push(authority);
    }
    Ok(Principal {
        org_id: claims.sub,
        org_kind: claims.org_kind,
        roles,
        authorities,
        person_id: claims.person_id,
    })
}

fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
        if line.starts_with("-----END ")
            && let Some(block) = current.take()
        {
            blocks.push(block);
        }
    }
    blocks
}

/// Signs tokens: HS256 for local use and tests, RS256 where a private key is at hand.
#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    algorithm: Algorithm,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl TokenIssuer {
    pub fn shared_secret(secret: &str) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            algorithm: Algorithm::HS256,
        }
    }

    pub fn rsa_private_key_pem(pem: &[u8]) -> Result<Self, AuthSetupError> {
        Ok(Self {
            key: EncodingKey::from_rsa_pem(pem).map_err(AuthSetupError::Sign)?,
            algorithm: Algorithm::RS256,
        })
    }

    /// A token for `principal`, valid for `valid_for` from now.
    pub fn issue(
        &self,
        principal: &Principal,
        valid_for: Duration,
    ) -> Result<String, AuthSetupError> {
        let now = jsonwebtoken::get_current_timestamp();
        self.issue_at(principal, now, now + valid_for.as_secs())
    }

    /// A token with explicit issue and expiry times (seconds since the epoch); tests use it
    /// for expired tokens.
    pub fn issue_at(
        &self,
        principal: &Principal,
        issued_at: u64,
        expires_at: u64,
    ) -> Result<String, AuthSetupError> {
        let claims = Claims {
            sub: principal.org_id.clone(),
            iss: TOKEN_ISSUER.to_owned(),
            iat: issued_at,
            exp: expires_at,
            org_kind: principal.org_kind,
            roles: principal
                .roles
                .iter()
                .map(|role| role.name().to_owned())
                .collect(),
            authorities: principal
                .authorities
                .iter()
                .map(|authority| authority.as_str().to_owned())
                .collect(),
            person_id: principal.person_id.clone(),
        };
        encode(&Header::new(self.algorithm), &claims, &self.key).map_err(AuthSetupError::Sign)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_PRIVATE: &str = include_str!("../tests/fixtures/test-rsa-private.pem");
    const RSA_PUBLIC: &str = include_str!("../tests/fixtures/test-rsa-public.pem");

    fn commissioning_officer() -> Principal {
        Principal {
            org_id: "aberdeenshire".into(),
            org_kind: OrgKind::Authority,
            roles: vec![Role::Commissioning],
            authorities: vec![AuthorityId::parse("authorities", "aberdeenshire").unwrap()],
            person_id: None,
        }
    }

    fn request_with(token: &str) -> Request<()> {
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        request
    }

    #[test]
    fn a_shared_secret_token_round_trips_to_the_same_principal() {
        let issuer = TokenIssuer::shared_secret("s3cret");
        let token = issuer
            .issue(&commissioning_officer(), Duration::from_secs(60))
            .unwrap();
        let request = Authenticator::shared_secret("s3cret")
            .authenticate(request_with(&token))
            .unwrap();
        assert_eq!(Principal::of(&request).unwrap(), &commissioning_officer());
    }

    #[test]
    fn missing_expired_and_badly_signed_tokens_are_unauthenticated() {
        let authenticator = Authenticator::shared_secret("s3cret");
        let missing = authenticator.authenticate(Request::new(())).unwrap_err();
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        assert!(missing.message().contains("missing bearer token"));

        let now = jsonwebtoken::get_current_timestamp();
        let expired = TokenIssuer::shared_secret("s3cret")
            .issue_at(&commissioning_officer(), now - 7200, now - 3600)
            .unwrap();
        let status = authenticator
            .authenticate(request_with(&expired))
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(status.message().contains("expired"), "{}", status.message());

        let forged = TokenIssuer::shared_secret("other")
            .issue(&commissioning_officer(), Duration::from_secs(60))
            .unwrap();
        let status = authenticator
            .authenticate(request_with(&forged))
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(
            status.message().contains("signature"),
            "{}",
            status.message()
        );

        let status = authenticator
            .authenticate(request_with("not-a-jwt"))
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn rs256_tokens_verify_against_the_public_key_only() {
        let issuer = TokenIssuer::rsa_private_key_pem(RSA_PRIVATE.as_bytes()).unwrap();
        let token = issuer
            .issue(&commissioning_officer(), Duration::from_secs(60))
            .unwrap();
        let authenticator = Authenticator::rsa_public_keys_pem(RSA_PUBLIC).unwrap();
        let request = authenticator.authenticate(request_with(&token)).unwrap();
        assert_eq!(Principal::of(&request).unwrap().org_id, "aberdeenshire");

        // A local HS256 token must not pass a production verifier.
        let local = TokenIssuer::shared_secret("s3cret")
            .issue(&commissioning_officer(), Duration::from_secs(60))
            .unwrap();
        let status = authenticator
            .authenticate(request_with(&local))
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn roles_are_read_once_and_unknown_ones_grant_nothing() {
        let issuer = TokenIssuer::shared_secret("s3cret");
        let claims = Claims {
            sub: "fife".into(),
            iss: TOKEN_ISSUER.into(),
            iat: jsonwebtoken::get_current_timestamp(),
            exp: jsonwebtoken::get_current_timestamp() + 60,
            org_kind: OrgKind::Authority,
            roles: vec![
                "team_manager".into(),
                "social_worker".into(),
                "finance".into(),
            ],
            authorities: vec!["fife".into()],
            person_id: None,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &issuer.key).unwrap();
        let principal = Authenticator::shared_secret("s3cret")
            .verify(&token)
            .unwrap();
        assert_eq!(principal.roles, vec![Role::TeamManager, Role::Finance]);
        assert!(principal.may_act_for(&AuthorityId::parse("a", "fife").unwrap()));

        let bad_authority = Claims {
            authorities: vec!["Fife Council".into()],
            ..claims
        };
        let token = encode(&Header::new(Algorithm::HS256), &bad_authority, &issuer.key).unwrap();
        let status = Authenticator::shared_secret("s3cret")
            .verify(&token)
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(
            status.message().contains("authorities"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn a_keys_file_without_keys_is_refused() {
        assert!(Authenticator::rsa_public_keys_pem("nothing here").is_err());
    }
}
