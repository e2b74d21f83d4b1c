//! Reading a token: its header before the signature is checked, its claims into a
//! [`Principal`] after, and the words a refusal is given in. What must stay true: every
//! refusal says what is wrong with the token (never echoing it), and a principal is made
//! only from claims that passed every check here (issue time, lifetime, organisation kind,
//! identity claims of one printable line, authority ids).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tonic::Status;

use sds_vocabulary::{AuthorityId, NamedEnum, OrgKind, Role};

use super::{Authenticator, Principal, REQUIRED_CLAIMS};

/// Claims as a token carries them, every one optional, so that a missing one can be named
/// rather than reported as a malformed token.
#[derive(Debug, Deserialize)]
pub(super) struct ReceivedClaims {
    sub: Option<String>,
    iat: Option<u64>,
    exp: Option<u64>,
    org_kind: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    authorities: Vec<String>,
    #[serde(default)]
    person_id: Option<String>,
}

/// Identity claims (`sub`, `person_id`) hold at most this many characters.
const MAX_IDENTITY_CHARS: usize = 128;

/// How far a token's issue time may be ahead of this server's clock.
pub(super) const CLOCK_LEEWAY_SECONDS: u64 = 30;

/// Why a token the library refused was refused.
pub(super) fn refusal(kind: Option<&jsonwebtoken::errors::ErrorKind>) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        Some(ErrorKind::ExpiredSignature) => {
            "bearer token has expired; ask for a new one".to_owned()
        }
        Some(ErrorKind::ImmatureSignature) => {
            "bearer token is not valid yet (its nbf is in the future)".to_owned()
        }
        Some(ErrorKind::InvalidSignature) => {
            "bearer token signature is not valid for this server".to_owned()
        }
        Some(ErrorKind::InvalidIssuer) => "bearer token was not issued for sds".to_owned(),
        Some(ErrorKind::InvalidAlgorithm) => {
            "bearer token is signed with an algorithm this server does not accept".to_owned()
        }
        Some(ErrorKind::MissingRequiredClaim(claim)) => lacks(claim),
        _ => "bearer token is malformed".to_owned(),
    }
}

/// What a token's header says, read before its signature is checked so that what is wrong
/// with it can be named.
pub(super) struct TokenHeader {
    pub(super) alg: String,
    pub(super) kid: Option<String>,
}

impl TokenHeader {
    /// Refuses tokens that are not three base64url parts with a JSON header naming an
    /// algorithm, unsigned tokens (`alg: none`), and tokens whose header has extensions
    /// the reader must understand (`crit`), which this server understands none of.
    pub(super) fn read(token: &str) -> Result<Self, Status> {
        #[derive(Deserialize)]
        struct Raw {
            alg: Option<serde_json::Value>,
            kid: Option<serde_json::Value>,
            crit: Option<serde_json::Value>,
        }
        let malformed = || Status::unauthenticated("bearer token is malformed");
        let mut parts = token.split('.');
        let (Some(encoded), Some(_claims), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| malformed())?;
        let raw: Raw = serde_json::from_slice(&json).map_err(|_| malformed())?;
        let Some(serde_json::Value::String(alg)) = raw.alg else {
            return Err(malformed());
        };
        if alg.eq_ignore_ascii_case("none") {
            return Err(Status::unauthenticated(
                "bearer token is unsigned (alg none); this server accepts only signed tokens",
            ));
        }
        if raw.crit.is_some() {
            return Err(Status::unauthenticated(
                "bearer token header lists critical extensions (crit), which this server does not understand",
            ));
        }
        let kid = match raw.kid {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(kid)) => Some(kid),
            Some(_) => return Err(malformed()),
        };
        Ok(Self { alg, kid })
    }
}

fn lacks(claim: &str) -> String {
    format!(
        "bearer token lacks the claim {claim}; required: {}",
        REQUIRED_CLAIMS.join(", ")
    )
}

impl Authenticator {
    /// Checks what the signature check does not (issue time, lifetime, the kind of
    /// organisation, identity claims) and reads the claims into a [`Principal`] once.
    pub(super) fn principal_from_claims(
        &self,
        claims: ReceivedClaims,
    ) -> Result<Principal, Status> {
        let refuse = |message: String| Err(Status::unauthenticated(message));
        let Some(issued_at) = claims.iat else {
            return refuse(lacks("iat"));
        };
        let now = jsonwebtoken::get_current_timestamp();
        if issued_at > now + CLOCK_LEEWAY_SECONDS {
            return refuse(
                "bearer token was issued in the future (its iat is ahead of this server's clock); check the issuer's clock".to_owned(),
            );
        }
        let expires_at = claims.exp.unwrap_or_default();
        let lifetime = expires_at.saturating_sub(issued_at);
        if lifetime > self.max_lifetime.as_secs() {
            return refuse(format!(
                "bearer token is valid for {} hours from its iat; this server accepts at most {}",
                lifetime / 3600,
                self.max_lifetime.as_secs() / 3600
            ));
        }
        let Some(org_kind) = claims.org_kind else {
            return refuse(lacks("org_kind"));
        };
        let org_kind = OrgKind::parse("org_kind", &org_kind)
            .map_err(|invalid| Status::unauthenticated(format!("bearer token claim {invalid}")))?;
        let org_id = identity("sub", claims.sub.as_deref().unwrap_or_default())?;
        let person_id = claims
            .person_id
            .as_deref()
            .map(|raw| identity("person_id", raw))
            .transpose()?;
        let roles = claims
            .roles
            .iter()
            .filter_map(|name| Role::parse("roles", name).ok())
            .collect();
        let mut authorities = Vec::with_capacity(claims.authorities.len());
        for raw in &claims.authorities {
            let authority = AuthorityId::parse("authorities", raw).map_err(|invalid| {
                Status::unauthenticated(format!("bearer token claim {invalid}"))
            })?;
            authorities.push(authority);
        }
        Ok(Principal {
            org_id,
            org_kind,
            roles,
            authorities,
            person_id,
        })
    }
}

/// An identity claim in its one canonical form: trimmed, a UUID in lowercase with hyphens,
/// and only characters a person can see on one line (no controls, line or paragraph
/// separators, invisible or direction-changing marks), so it can never forge a log line or
/// pass for another organisation.
fn identity(claim: &str, raw: &str) -> Result<String, Status> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Status::unauthenticated(format!(
            "bearer token names no organisation or person (empty {claim})"
        )));
    }
    if text.chars().count() > MAX_IDENTITY_CHARS {
        return Err(Status::unauthenticated(format!(
            "bearer token claim {claim} is longer than {MAX_IDENTITY_CHARS} characters"
        )));
    }
    if text.chars().any(is_invisible_or_control) {
        return Err(Status::unauthenticated(format!(
            "bearer token claim {claim} contains a control, line-break or invisible character"
        )));
    }
    Ok(match uuid::Uuid::parse_str(text) {
        Ok(id) => id.hyphenated().to_string(),
        Err(_) => text.to_owned(),
    })
}

fn is_invisible_or_control(character: char) -> bool {
    character.is_control() || sds_vocabulary::text::is_invisible_or_direction_changing(character)
}
