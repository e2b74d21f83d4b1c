//! Bearer-JWT authentication. Every RPC but health and reflection carries
//! `authorization: Bearer <token>`; the interceptor verifies it and leaves a [`Principal`]
//! in the request's extensions for handlers to authorise against.
//!
//! Locally tokens are HS256 with a shared secret (`sds token` issues them); in production
//! the identity provider signs RS256 or ES256 and services hold only its public keys:
//! from a PEM file, or from its JWKS, fetched and kept fresh by [`jwks`] (from a URL by
//! [`fetch`]). Signing is [`issuer`]'s.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

use sds_vocabulary::{AuthorityId, OrgKind, Role};

use crate::config::{JwksSource, JwtConfig};

mod claims;
mod fetch;
mod issuer;
mod jwks;
mod rate;
use claims::{CLOCK_LEEWAY_SECONDS, ReceivedClaims, TokenHeader, refusal};
pub use issuer::TokenIssuer;
pub use jwks::{
    DEFAULT_JWKS_FETCH_TIMEOUT, DEFAULT_JWKS_STARTUP_WAIT, DEFAULT_UNKNOWN_KEY_REFETCH_INTERVAL,
    JwksOptions, MAX_JWKS_BYTES,
};
pub use rate::{PLATFORM_SERVICES, RateLimit, is_platform_service};

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
pub(super) struct Claims {
    pub(super) sub: String,
    pub(super) iss: String,
    pub(super) iat: u64,
    pub(super) exp: u64,
    pub(super) org_kind: OrgKind,
    #[serde(default)]
    pub(super) roles: Vec<String>,
    #[serde(default)]
    pub(super) authorities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) person_id: Option<String>,
}

/// The claims a token must carry; README lists exactly these.
pub const REQUIRED_CLAIMS: [&str; 5] = ["sub", "iss", "iat", "exp", "org_kind"];

/// The longest lifetime (`exp` - `iat`) accepted unless configured otherwise.
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

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
    #[error("read the service key from {path}: {source}")]
    ReadServiceKey {
        path: String,
        source: std::io::Error,
    },
    #[error("read the token key set (JWKS) from {origin}: {reason}")]
    Jwks { origin: String, reason: String },
    #[error(
        "tokens are verified against a JWKS, so the tokens services sign need a key id: set SDS_SERVICE_KEY_ID"
    )]
    NoServiceKeyId,
    #[error(
        "SDS_SERVICE_KEY_ID names the key {kid}, which the token key set from {origin} does not hold as an RS256 key; services could not verify each other's calls (publish the public half of SDS_SERVICE_KEY_FILE in the set under that key id)"
    )]
    ServiceKeyNotInJwks { kid: String, origin: String },
}

/// Verifies bearer tokens; cheap to clone (keys are shared).
#[derive(Clone)]
pub struct Authenticator {
    keys: Keys,
    validation: Validation,
    max_lifetime: Duration,
    /// `None`: callers are not rate limited.
    rate: Option<rate::RateLimiter>,
}

/// What tokens are verified with.
#[derive(Clone)]
enum Keys {
    /// A shared secret or PEM public keys, any of which may verify a token signed with the
    /// one algorithm of `validation`.
    Fixed(Arc<Vec<DecodingKey>>),
    /// A JWKS: the key a token's `kid` names verifies it, with that key's algorithm.
    Jwks(jwks::JwksKeys),
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Authenticator");
        match &self.keys {
            Keys::Fixed(keys) => debug.field("keys", &keys.len()),
            Keys::Jwks(set) => debug
                .field("jwks", &set.source().to_string())
                .field("keys", &set.current().map(|keys| keys.len())),
        };
        debug.finish()
    }
}

impl Authenticator {
    /// The authenticator `config` describes. With a JWKS, the set is loaded first (see
    /// [`JwtConfig::Jwks`] and [`Authenticator::jwks`]) and, when services sign with a key
    /// of their own (`SDS_SERVICE_KEY_ID`), the set must hold it as an RS256 key, or the
    /// process does not start; a set that could not be loaded at start cannot be checked.
    pub async fn from_config(config: &JwtConfig) -> Result<Self, AuthSetupError> {
        match config {
            JwtConfig::SharedSecret(secret) => Ok(Self::shared_secret(secret)),
            JwtConfig::PublicKeysFile(path) => Self::rsa_public_keys_file(path),
            JwtConfig::Jwks {
                source,
                refresh,
                service_key_id,
            } => {
                let authenticator =
                    Self::jwks(source.clone(), JwksOptions::refreshed_every(*refresh)).await?;
                if let (Some(kid), Keys::Jwks(set)) = (service_key_id, &authenticator.keys)
                    && let Some(keys) = set.current()
                    && keys.get(kid).map(|key| key.algorithm) != Some(Algorithm::RS256)
                {
                    return Err(AuthSetupError::ServiceKeyNotInJwks {
                        kid: jwks::shown(kid),
                        origin: source.to_string(),
                    });
                }
                Ok(authenticator)
            }
        }
    }

    /// Verifies tokens against the JWKS at `source`: loads it (a file must load; a URL is
    /// tried for up to [`JwksOptions::startup_wait`], after which tokens are refused as
    /// `Unavailable` until it loads) and keeps it fresh in the background, which needs a
    /// Tokio runtime. The background task ends when the last clone of the authenticator
    /// is dropped.
    pub async fn jwks(source: JwksSource, options: JwksOptions) -> Result<Self, AuthSetupError> {
        let keys = jwks::JwksKeys::load(source, options).await?;
        // The algorithm is set per token, from the key its kid names.
        Ok(Self::with_keys(Keys::Jwks(keys), Algorithm::RS256))
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
        Self::with_keys(Keys::Fixed(Arc::new(keys)), algorithm)
    }

    fn with_keys(keys: Keys, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[TOKEN_ISSUER]);
        // `iat` and `org_kind` are checked after decoding, so that each can be named too.
        validation.set_required_spec_claims(&["sub", "iss", "exp"]);
        // Tokens are told apart by issuer; an identity provider's `aud` claim must not make
        // an otherwise valid token unreadable.
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        Self {
            keys,
            validation,
            max_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
            rate: None,
        }
    }

    /// Refuses tokens whose `exp` is more than `max_lifetime` after their `iat`: a token that
    /// leaks should stop working soon.
    pub fn with_max_lifetime(mut self, max_lifetime: Duration) -> Self {
        self.max_lifetime = max_lifetime;
        self
    }

    /// Limits each caller to `limit` (see [`RateLimit`]); `None` lifts the limit. The
    /// buckets are shared by every clone of this authenticator, so by every service of the
    /// process.
    pub fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate = limit.map(rate::RateLimiter::new);
        self
    }

    /// Takes one request from `principal`'s rate limit (see [`RateLimit`]), or answers
    /// `ResourceExhausted` with the wait. [`Authenticator::authenticate`] does this for
    /// every gRPC call; a web page verifying its session with [`Authenticator::verify`]
    /// calls it itself, so that pages served by calling other services as the platform
    /// still count against the person who asked for them.
    pub fn admit(&self, principal: &Principal) -> Result<(), Status> {
        match &self.rate {
            Some(rate) => rate.admit(principal),
            None => Ok(()),
        }
    }

    /// Verifies a raw token and returns who it speaks for.
    ///
    /// Against a JWKS the token's header must name a key id (`kid`) the set holds and that
    /// key's algorithm; a key id the set does not hold has the set fetched again soon (the
    /// provider may have just added the key) while this token is refused, so the client's
    /// retry may pass.
    pub fn verify(&self, token: &str) -> Result<Principal, Status> {
        let header = TokenHeader::read(token)?;
        let claims = match &self.keys {
            Keys::Fixed(keys) => {
                let mut last_error = None;
                let mut verified = None;
                for key in keys.iter() {
                    match decode::<ReceivedClaims>(token, key, &self.validation) {
                        Ok(data) => {
                            verified = Some(data.claims);
                            break;
                        }
                        Err(error) => last_error = Some(error),
                    }
                }
                verified.ok_or_else(|| {
                    Status::unauthenticated(refusal(last_error.as_ref().map(|error| error.kind())))
                })?
            }
            Keys::Jwks(set) => self.verify_with_key_set(set, &header, token)?,
        };
        self.principal_from_claims(claims)
    }

    fn verify_with_key_set(
        &self,
        set: &jwks::JwksKeys,
        header: &TokenHeader,
        token: &str,
    ) -> Result<ReceivedClaims, Status> {
        let refuse = |message: String| Err(Status::unauthenticated(message));
        let algorithm = match header.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            other => {
                return refuse(format!(
                    "bearer token is signed with {}; this server accepts only RS256 and ES256 tokens signed with a key of its identity provider's key set",
                    jwks::shown(other)
                ));
            }
        };
        let Some(kid) = header.kid.as_deref() else {
            return refuse(
                "bearer token names no key id (kid) in its header; this server verifies tokens against its identity provider's key set (JWKS), whose keys are named by key id".to_owned(),
            );
        };
        let Some(keys) = set.current() else {
            set.request_refresh();
            return Err(Status::unavailable(
                "this server has not yet loaded the keys bearer tokens are verified with; try again shortly",
            ));
        };
        let Some(key) = keys.get(kid) else {
            set.request_refresh();
            return refuse(format!(
                "bearer token is signed with key id {}, which this server does not know",
                jwks::shown(kid)
            ));
        };
        if key.algorithm != algorithm {
            return refuse(format!(
                "bearer token says it is signed with {algorithm:?}, but its key id {} names an {:?} key",
                jwks::shown(kid),
                key.algorithm
            ));
        }
        let mut validation = self.validation.clone();
        validation.algorithms = vec![algorithm];
        decode::<ReceivedClaims>(token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(|error| Status::unauthenticated(refusal(Some(error.kind()))))
    }

    /// Checks the `authorization` metadata of a request and leaves the principal in its
    /// extensions.
    ///
    /// A refusal is logged once, in the request's span (which names the method), with its
    /// reason and never the token; an accepted caller's organisation is recorded on the span
    /// (`enduser.id`), so later refusals and errors of the request name who asked. A
    /// supported person is recorded as `person`, never by their id: logs carry no
    /// personal data, and an organisation's id is not personal.
    pub fn authenticate<T>(&self, request: Request<T>) -> Result<Request<T>, Status> {
        match self.read_bearer(request) {
            Ok(request) => {
                if let Some(principal) = request.extensions().get::<Principal>() {
                    let who = match principal.org_kind {
                        OrgKind::Person => "person",
                        _ => principal.org_id.as_str(),
                    };
                    tracing::Span::current().record("enduser.id", who);
                    if let Some(rate) = &self.rate
                        && let Err(status) = rate.admit(principal)
                    {
                        // Debug only: a caller far over its rate would otherwise flood the logs;
                        // the refusals are counted as RESOURCE_EXHAUSTED in the RPC metrics.
                        tracing::debug!(reason = %status.message(), "request refused: over the caller's rate limit");
                        return Err(status);
                    }
                }
                Ok(request)
            }
            Err(status) => {
                tracing::warn!(reason = %status.message(), "request refused: not authenticated");
                Err(status)
            }
        }
    }

    fn read_bearer<T>(&self, mut request: Request<T>) -> Result<Request<T>, Status> {
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

#[cfg(test)]
mod tests;
