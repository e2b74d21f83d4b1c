//! Token keys from a JWKS (JSON Web Key Set), as an identity provider publishes them at
//! `/.well-known/jwks.json`, or from a local file.
//!
//! The set is loaded before the server takes requests and kept in memory; verifying a
//! token only reads it, so [`super::Authenticator::verify`] stays synchronous. A background
//! task fetches it again every `refresh`, and sooner when a token names a key id the set
//! does not hold (a key the provider has just added), at most once per
//! [`JwksOptions::unknown_key_refetch_interval`] however many such tokens arrive. A fetch
//! that fails keeps the last set that was fetched and is retried sooner (backing off up to
//! `refresh`).
//!
//! At start a file must read and hold a usable key, or the process does not start: it is
//! local, so anything wrong with it is a deployment mistake. A URL is tried for up to
//! [`JwksOptions::startup_wait`] (the identity provider may be restarting too); after that
//! the process starts anyway, logs an error, answers every token `Unavailable` until the
//! set loads, and keeps trying.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::AuthSetupError;
use crate::config::{DEFAULT_JWKS_REFRESH, JwksSource};

/// The soonest the set is fetched again for a token naming a key id it does not hold, after
/// the last fetch: so that tokens with made-up key ids cannot make this server hammer the
/// identity provider.
pub const DEFAULT_UNKNOWN_KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// How long one fetch of the set may take, connecting included.
pub const DEFAULT_JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest key set read; a real one is a few kilobytes.
pub const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// How long the process waits at start for a JWKS URL to answer before it starts anyway.
pub const DEFAULT_JWKS_STARTUP_WAIT: Duration = Duration::from_secs(30);

/// RSA keys shorter than this are not accepted from a set.
const MIN_RSA_MODULUS_BITS: usize = 2048;

/// The longest delay between two fetches at start.
const MAX_STARTUP_RETRY_DELAY: Duration = Duration::from_secs(5);

/// How the key set is fetched and kept fresh. [`JwksOptions::refreshed_every`] gives the
/// defaults; tests shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksOptions {
    /// How often the set is fetched again (`SDS_JWKS_REFRESH_SECONDS`).
    pub refresh: Duration,
    /// The soonest a token naming an unknown key id has the set fetched again, counted from
    /// the last fetch.
    pub unknown_key_refetch_interval: Duration,
    /// How long one fetch may take.
    pub fetch_timeout: Duration,
    /// The largest set read, in bytes.
    pub max_bytes: usize,
    /// How long a URL is retried at start before the process starts without a set.
    pub startup_wait: Duration,
}

impl JwksOptions {
    /// The defaults, fetching the set every `refresh`.
    pub fn refreshed_every(refresh: Duration) -> Self {
        Self {
            refresh,
            unknown_key_refetch_interval: DEFAULT_UNKNOWN_KEY_REFETCH_INTERVAL,
            fetch_timeout: DEFAULT_JWKS_FETCH_TIMEOUT,
            max_bytes: MAX_JWKS_BYTES,
            startup_wait: DEFAULT_JWKS_STARTUP_WAIT,
        }
    }
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self::refreshed_every(DEFAULT_JWKS_REFRESH)
    }
}

/// One key of the set, with the one algorithm tokens signed with it must name.
pub(super) struct SetKey {
    pub(super) algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

/// The usable keys of a set, by key id.
pub(super) type KeySet = HashMap<String, SetKey>;

/// The set as last loaded; cheap to clone.
#[derive(Clone)]
pub(super) struct JwksKeys {
    shared: Arc<Shared>,
    /// Asks the background task for a fetch; it ends when every sender is gone.
    wake: mpsc::Sender<()>,
}

struct Shared {
    source: JwksSource,
    /// `None` until a set has loaded.
    current: RwLock<Option<Arc<KeySet>>>,
}

impl JwksKeys {
    /// Loads the set (see the module's documentation for what happens when it cannot) and
    /// starts the task that keeps it fresh. Must be called within a Tokio runtime.
    pub(super) async fn load(
        source: JwksSource,
        options: JwksOptions,
    ) -> Result<Self, AuthSetupError> {
        let mut refresher = Refresher::default();
        let first = refresher.load_at_start(&source, &options).await?;
        let shared = Arc::new(Shared {
            source,
            current: RwLock::new(first.map(Arc::new)),
        });
        let (wake, asked) = mpsc::channel(1);
        tokio::spawn(refresher.keep_fresh(Arc::clone(&shared), options, asked));
        Ok(Self { shared, wake })
    }

    /// The set as last loaded; `None` when none has loaded yet.
    pub(super) fn current(&self) -> Option<Arc<KeySet>> {
        match self.shared.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Asks for the set to be fetched again soon (a token named a key id it does not
    /// hold); never waits, and asking often costs no more than asking once.
    pub(super) fn request_refresh(&self) {
        let _full_or_stopped = self.wake.try_send(());
    }

    pub(super) fn source(&self) -> &JwksSource {
        &self.shared.source
    }
}

/// What the background task remembers between fetches.
#[derive(Default)]
struct Refresher {
    /// When the last fetch started.
    last_attempt: Option<Instant>,
    /// Fetches that failed since the last that succeeded.
    failures: u32,
    /// The document the current set was read from, to log only changes.
    last_document: Vec<u8>,
}

impl Refresher {
    async fn load_at_start(
        &mut self,
        source: &JwksSource,
        options: &JwksOptions,
    ) -> Result<Option<KeySet>, AuthSetupError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(250);
        loop {
            self.last_attempt = Some(Instant::now());
            let reason = match read_key_set(source, options).await {
                Ok((document, keys, skipped)) => {
                    log_skipped(source, &skipped);
                    tracing::info!(source = %source, keys = %key_ids(&keys), "token keys loaded");
                    self.last_document = document;
                    return Ok(Some(keys));
                }
                Err(reason) => reason,
            };
            self.failures += 1;
            if let JwksSource::File(_) = source {
                return Err(AuthSetupError::Jwks {
                    origin: source.to_string(),
                    reason,
                });
            }
            if started.elapsed() + delay >= options.startup_wait {
                tracing::error!(
                    source = %source,
                    %reason,
                    "could not load the token keys within {} s; starting anyway, and every bearer token is refused (Unavailable) until they load",
                    options.startup_wait.as_secs()
                );
                // Retried from the shortest delay on, not after the backoff of the start.
                self.failures = 1;
                return Ok(None);
            }
            tracing::warn!(source = %source, %reason, "could not load the token keys yet; trying again");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_STARTUP_RETRY_DELAY);
        }
    }

    /// Fetches the set every `refresh` (sooner after a failure) and when asked, until every
    /// [`JwksKeys`] is dropped.
    async fn keep_fresh(
        mut self,
        shared: Arc<Shared>,
        options: JwksOptions,
        mut asked: mpsc::Receiver<()>,
    ) {
        loop {
            let last_attempt = self.last_attempt.unwrap_or_else(Instant::now);
            let next = last_attempt + self.delay(&options);
            let on_request = tokio::select! {
                () = tokio::time::sleep_until(next) => false,
                request = asked.recv() => match request {
                    Some(()) => true,
                    None => return,
                },
            };
            if on_request {
                // No sooner than the interval allows, and no later than the next refresh.
                let allowed = last_attempt + options.unknown_key_refetch_interval;
                tokio::time::sleep_until(allowed.min(next)).await;
                // Whoever asked meanwhile is answered by this fetch.
                while asked.try_recv().is_ok() {}
            }
            self.last_attempt = Some(Instant::now());
            self.refresh(&shared, &options).await;
            // Tokens refused while the fetch was under way are answered by it too.
            while asked.try_recv().is_ok() {}
        }
    }

    /// After a failure the next fetch comes sooner: the refetch interval, doubling with each
    /// failure, up to `refresh`.
    fn delay(&self, options: &JwksOptions) -> Duration {
        if self.failures == 0 {
            return options.refresh;
        }
        let doublings = self.failures.saturating_sub(1).min(16);
        options
            .unknown_key_refetch_interval
            .saturating_mul(1 << doublings)
            .min(options.refresh)
    }

    async fn refresh(&mut self, shared: &Shared, options: &JwksOptions) {
        let source = &shared.source;
        match read_key_set(source, options).await {
            Ok((document, keys, skipped)) => {
                self.failures = 0;
                if document == self.last_document {
                    tracing::debug!(source = %source, "token keys unchanged");
                    return;
                }
                log_skipped(source, &skipped);
                tracing::info!(source = %source, keys = %key_ids(&keys), "token keys refreshed");
                self.last_document = document;
                let keys = Arc::new(keys);
                match shared.current.write() {
                    Ok(mut current) => *current = Some(keys),
                    Err(poisoned) => *poisoned.into_inner() = Some(keys),
                }
            }
            Err(reason) => {
                self.failures = self.failures.saturating_add(1);
                let kept = match shared.current.read() {
                    Ok(current) => current.as_ref().map(|keys| key_ids(keys)),
                    Err(poisoned) => poisoned.into_inner().as_ref().map(|keys| key_ids(keys)),
                };
                let retry_in = self.delay(options).as_secs();
                match kept {
                    Some(kept) => tracing::warn!(
                        source = %source,
                        %reason,
                        kept = %kept,
                        "could not refresh the token keys; keeping the keys last loaded, trying again in {retry_in} s"
                    ),
                    None => tracing::error!(
                        source = %source,
                        %reason,
                        "could not load the token keys; every bearer token is refused until they load, trying again in {retry_in} s"
                    ),
                }
            }
        }
    }
}

/// Reads and parses the set: the document as read, the usable keys, and why the others
/// were left out.
async fn read_key_set(
    source: &JwksSource,
    options: &JwksOptions,
) -> Result<(Vec<u8>, KeySet, Vec<String>), String> {
    let document = super::fetch::read(source, options).await?;
    let (keys, skipped) = parse_key_set(&document)?;
    Ok((document, keys, skipped))
}

fn log_skipped(source: &JwksSource, skipped: &[String]) {
    for reason in skipped {
        tracing::warn!(source = %source, "a key of the token key set is not used: {reason}");
    }
}

/// The key ids of a set, sorted, for the logs (key ids are not personal data).
fn key_ids(keys: &KeySet) -> String {
    let mut ids: Vec<String> = keys.keys().map(|kid| shown(kid)).collect();
    ids.sort();
    ids.join(", ")
}

/// The usable keys of a JWKS document, and why each other key is not used. A document
/// that is not a JWKS, or holds no usable key, is an error: the last good set is kept.
pub(super) fn parse_key_set(document: &[u8]) -> Result<(KeySet, Vec<String>), String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(document)
        .map_err(|error| format!("not a JWKS (a JSON object with a \"keys\" array): {error}"))?;
    let mut keys = KeySet::new();
    let mut skipped = Vec::new();
    for (index, value) in document.keys.into_iter().enumerate() {
        let named = match value.get("kid").and_then(serde_json::Value::as_str) {
            Some(kid) => format!("key id {}", shown(kid)),
            None => format!("key #{}", index + 1),
        };
        match usable_key(value) {
            Ok((kid, _)) if keys.contains_key(&kid) => {
                skipped.push(format!("{named}: a second key with the same key id"));
            }
            Ok((kid, key)) => {
                keys.insert(kid, key);
            }
            Err(reason) => skipped.push(format!("{named}: {reason}")),
        }
    }
    if keys.is_empty() {
        let mut problem = "holds no usable key (RS256 or ES256 on P-256, with a kid)".to_owned();
        if !skipped.is_empty() {
            problem = format!("{problem}: {}", skipped.join("; "));
        }
        return Err(problem);
    }
    Ok((keys, skipped))
}

/// A key of the set that tokens may be verified with: it has a key id, is for signatures,
/// and is an RSA key of at least 2048 bits (RS256) or a P-256 key (ES256), with no `alg`
/// or that one. Shared secrets (`oct`) are never used, whatever their `alg`.
fn usable_key(value: serde_json::Value) -> Result<(String, SetKey), String> {
    let jwk: Jwk =
        serde_json::from_value(value).map_err(|error| format!("not a JSON Web Key: {error}"))?;
    let kid = jwk
        .common
        .key_id
        .clone()
        .filter(|kid| !kid.is_empty())
        .ok_or("has no key id (kid)")?;
    if let Some(usage) = &jwk.common.public_key_use
        && *usage != jsonwebtoken::jwk::PublicKeyUse::Signature
    {
        return Err("is not for signatures (its use is not \"sig\")".into());
    }
    if let Some(operations) = &jwk.common.key_operations
        && !operations.contains(&KeyOperations::Verify)
    {
        return Err("is not for verifying (its key_ops lack \"verify\")".into());
    }
    let declared = jwk.common.key_algorithm;
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::OctetKey(_) => {
            return Err("is a shared secret (kty oct); HS256 tokens are never accepted".into());
        }
        AlgorithmParameters::RSA(rsa) => {
            if !matches!(declared, None | Some(KeyAlgorithm::RS256)) {
                return Err(format!(
                    "is an RSA key for {declared:?}; only RS256 is accepted for RSA keys"
                ));
            }
            let modulus = URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_err(|_| "has a modulus (n) that is not base64url")?;
            let bits = significant_bits(&modulus);
            if bits < MIN_RSA_MODULUS_BITS {
                return Err(format!(
                    "is an RSA key of {bits} bits; at least {MIN_RSA_MODULUS_BITS} are needed"
                ));
            }
            Algorithm::RS256
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            if ec.curve != EllipticCurve::P256 {
                return Err(format!(
                    "is an EC key on {:?}; only P-256 (ES256) is accepted",
                    ec.curve
                ));
            }
            if !matches!(declared, None | Some(KeyAlgorithm::ES256)) {
                return Err(format!(
                    "is a P-256 key for {declared:?}; only ES256 is accepted for P-256 keys"
                ));
            }
            let coordinate = |value: &str| URL_SAFE_NO_PAD.decode(value).ok().map(|b| b.len());
            if coordinate(&ec.x) != Some(32) || coordinate(&ec.y) != Some(32) {
                return Err("has coordinates (x, y) that are not 32 bytes of base64url".into());
            }
            Algorithm::ES256
        }
        _ => return Err("is neither an RSA nor an EC key".into()),
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|error| format!("cannot be read: {error}"))?;
    Ok((kid, SetKey { algorithm, key }))
}

fn significant_bits(big_endian: &[u8]) -> usize {
    let Some(first) = big_endian.iter().position(|byte| *byte != 0) else {
        return 0;
    };
    let leading = usize::try_from(big_endian[first].leading_zeros()).unwrap_or(8);
    (big_endian.len() - first) * 8 - leading
}

/// Text from a token or a key set as it may appear in a message or a log line: printable
/// ASCII, anything else escaped, at most 64 characters, in quotes.
pub(super) fn shown(text: &str) -> String {
    const MOST: usize = 64;
    let mut shown: String = text
        .chars()
        .take(MOST)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > MOST {
        shown.push_str("...");
    }
    format!("\"{shown}\"")
}

#[cfg(test)]
mod tests;
