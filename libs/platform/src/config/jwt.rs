//! Where bearer tokens' keys come from: `SDS_JWT_SECRET`, `SDS_JWT_PUBLIC_KEYS_FILE`,
//! `SDS_JWKS_URL` or `SDS_JWKS_FILE`, with `SDS_JWKS_REFRESH_SECONDS` and
//! `SDS_SERVICE_KEY_ID`.

use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, LOCAL_JWT_SECRET, MIN_SHARED_SECRET_BYTES, parse_setting};

/// Token verification: HS256 with a shared secret for local use only, RS256 public keys
/// from a PEM file, or the RS256 and ES256 keys of a JWKS (JSON Web Key Set) as an identity
/// provider publishes them. At most one of `SDS_JWKS_URL`, `SDS_JWKS_FILE` and
/// `SDS_JWT_PUBLIC_KEYS_FILE` may be set; when none is, the shared secret is used, and that
/// is refused when `SDS_ENV=production`.
#[derive(Debug, Clone)]
pub enum JwtConfig {
    /// `SDS_JWT_SECRET` (HS256): local development and tests only; refused when
    /// `SDS_ENV=production`. Unset, [`LOCAL_JWT_SECRET`].
    SharedSecret(String),
    /// `SDS_JWT_PUBLIC_KEYS_FILE`: one or more PEM RS256 public keys, any of which may
    /// verify a token (read once at start).
    PublicKeysFile(PathBuf),
    /// A JWKS: tokens must name in their header (`kid`) a key of the set and the algorithm
    /// of that key (RS256 or ES256; HS256 and unsigned tokens are never accepted). Several
    /// keys may be in the set at once, so the identity provider can rotate its key: tokens
    /// signed with the old and the new key are both accepted while both are published, and
    /// the old ones are refused once it is removed.
    Jwks {
        /// `SDS_JWKS_URL` (an `http://` or `https://` URL, such as an OIDC provider's
        /// `https://login.example.scot/.well-known/jwks.json`; use https outside a trusted
        /// network) or `SDS_JWKS_FILE` (a local JWKS JSON file, for tests and air-gapped
        /// deployments).
        source: JwksSource,
        /// `SDS_JWKS_REFRESH_SECONDS` (default 300): how often the set is fetched (or the
        /// file read) again in the background. A token naming a key id not in the set also
        /// has the set fetched again, at most once every
        /// [`crate::auth::DEFAULT_UNKNOWN_KEY_REFETCH_INTERVAL`]. A failed fetch keeps the
        /// last set that was fetched.
        refresh: Duration,
        /// `SDS_SERVICE_KEY_ID`: the key id (`kid`) services put in the tokens they sign
        /// with `SDS_SERVICE_KEY_FILE`; the set must hold the public half of that key under
        /// this id. Required with `SDS_SERVICE_KEY_FILE`, refused without it.
        service_key_id: Option<String>,
    },
}

/// Where a JWKS is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// `SDS_JWKS_URL`, fetched with a GET (no redirects followed, answers up to 1 MiB, 5 s).
    Url(http::Uri),
    /// `SDS_JWKS_FILE`.
    File(PathBuf),
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwksSource::Url(url) => write!(f, "{url}"),
            JwksSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How often the JWKS is fetched again when `SDS_JWKS_REFRESH_SECONDS` is not set.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(300);

/// The settings that say where token keys come from; at most one may be set.
pub const JWT_KEY_SOURCES: [&str; 3] =
    ["SDS_JWKS_URL", "SDS_JWKS_FILE", "SDS_JWT_PUBLIC_KEYS_FILE"];

/// How tokens are verified (see [`JwtConfig`]).
pub(super) fn jwt_config(
    lookup: &impl Fn(&str) -> Option<String>,
    production: bool,
) -> Result<JwtConfig, ConfigError> {
    let set = |variable: &str| lookup(variable).filter(|value| !value.trim().is_empty());
    let sources: Vec<(&'static str, String)> = JWT_KEY_SOURCES
        .iter()
        .filter_map(|variable| set(variable).map(|value| (*variable, value)))
        .collect();
    if let [(first, _), (second, _), ..] = sources.as_slice() {
        return Err(ConfigError {
            variable: second,
            problem: format!(
                "is set together with {first}; set only one of {}",
                JWT_KEY_SOURCES.join(", ")
            ),
        });
    }
    let refresh_seconds: u64 = parse_setting(
        "SDS_JWKS_REFRESH_SECONDS",
        &lookup("SDS_JWKS_REFRESH_SECONDS").unwrap_or_else(|| "300".to_owned()),
        "a whole number of seconds",
    )?;
    if refresh_seconds == 0 {
        return Err(ConfigError {
            variable: "SDS_JWKS_REFRESH_SECONDS",
            problem: "is 0; it must be at least 1".into(),
        });
    }
    let service_key_id = set("SDS_SERVICE_KEY_ID").map(|kid| kid.trim().to_owned());
    let service_key_file = set("SDS_SERVICE_KEY_FILE");
    let source = match sources.first() {
        Some(("SDS_JWKS_URL", url)) => Some(JwksSource::Url(jwks_url(url.trim(), production)?)),
        Some(("SDS_JWKS_FILE", path)) => Some(JwksSource::File(PathBuf::from(path))),
        _ => None,
    };
    if let Some(source) = source {
        if service_key_file.is_some() && service_key_id.is_none() {
            return Err(ConfigError {
                variable: "SDS_SERVICE_KEY_ID",
                problem: "is not set, but SDS_SERVICE_KEY_FILE is and tokens are verified against a JWKS: give the key id (kid) under which the JWKS holds the service key's public half".into(),
            });
        }
        if service_key_id.is_some() && service_key_file.is_none() {
            return Err(ConfigError {
                variable: "SDS_SERVICE_KEY_ID",
                problem: "is set without SDS_SERVICE_KEY_FILE, the key it names".into(),
            });
        }
        return Ok(JwtConfig::Jwks {
            source,
            refresh: Duration::from_secs(refresh_seconds),
            service_key_id,
        });
    }
    if service_key_id.is_some() {
        return Err(ConfigError {
            variable: "SDS_SERVICE_KEY_ID",
            problem: "is only read when tokens are verified against a JWKS (SDS_JWKS_URL or SDS_JWKS_FILE)".into(),
        });
    }
    if let Some(path) = set("SDS_JWT_PUBLIC_KEYS_FILE") {
        return Ok(JwtConfig::PublicKeysFile(PathBuf::from(path)));
    }
    // Whoever holds a shared secret can mint any token, and every process holds it.
    if production {
        return Err(ConfigError {
            variable: "SDS_JWT_SECRET",
            problem: "HS256 shared secrets are for local development; set SDS_JWKS_URL (or SDS_JWKS_FILE, or SDS_JWT_PUBLIC_KEYS_FILE) in production".into(),
        });
    }
    let secret = lookup("SDS_JWT_SECRET").unwrap_or_else(|| LOCAL_JWT_SECRET.to_owned());
    // An empty or short secret (a template variable left blank) would let anyone mint
    // tokens.
    if secret.len() < MIN_SHARED_SECRET_BYTES {
        return Err(ConfigError {
            variable: "SDS_JWT_SECRET",
            problem: format!(
                "the secret is {} bytes long; at least {MIN_SHARED_SECRET_BYTES} are needed",
                secret.len()
            ),
        });
    }
    Ok(JwtConfig::SharedSecret(secret))
}

/// `SDS_JWKS_URL`: an absolute http(s) URL with a host and no credentials; https in
/// production, where whoever could answer for a plain http URL would choose the keys.
fn jwks_url(raw: &str, production: bool) -> Result<http::Uri, ConfigError> {
    let refuse = |problem: String| ConfigError {
        variable: "SDS_JWKS_URL",
        problem,
    };
    let example = "https://login.example.scot/.well-known/jwks.json";
    let url: http::Uri = raw
        .parse()
        .map_err(|_| refuse(format!("{raw:?} is not a URL such as {example}")))?;
    let scheme_ok = matches!(url.scheme_str(), Some("http" | "https"));
    let host_ok = url.host().is_some_and(|host| !host.is_empty());
    if !scheme_ok || !host_ok {
        return Err(refuse(format!(
            "{raw:?} is not an http:// or https:// URL such as {example}"
        )));
    }
    if production && url.scheme_str() != Some("https") {
        return Err(refuse(format!(
            "{raw:?} is not https; in production the key set is fetched over https only, since whoever answers a plain http request would choose the keys tokens are checked with"
        )));
    }
    if url
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'))
    {
        return Err(refuse(
            "carries credentials (user@host); a JWKS is public, give its URL without them".into(),
        ));
    }
    Ok(url)
}
