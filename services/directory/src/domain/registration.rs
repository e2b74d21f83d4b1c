//! Retried registrations. A caller that registers a provider and never sees the answer (a
//! timeout, a dropped connection) retries; without a key the retry registers the provider
//! twice when staff register on someone's behalf (each call mints a new id). With a request
//! id, the first call registers and every retry with the same details gets that provider.
//!
//! What must stay true: one key, one provider, per calling organisation; a key reused for
//! different details is refused, never silently answered with the wrong provider.

use chrono::{DateTime, Utc};

use super::provider::ProviderId;
use sds_vocabulary::{Invalid, shown};

pub const MAX_REQUEST_ID_CHARS: usize = 100;

/// A caller's idempotency key: 1-100 printable ASCII characters, such as a UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// `None` for an empty field: the key is optional.
    pub fn parse(field: &str, raw: &str) -> Result<Option<RequestId>, Invalid> {
        if raw.is_empty() {
            return Ok(None);
        }
        let printable = raw.bytes().all(|byte| byte.is_ascii_graphic());
        if printable && raw.len() <= MAX_REQUEST_ID_CHARS {
            Ok(Some(RequestId(raw.to_owned())))
        } else {
            Err(Invalid::new(
                field,
                format!(
                    "{} is not a request id; use 1 to {MAX_REQUEST_ID_CHARS} printable ASCII characters without spaces, such as a UUID",
                    shown(raw)
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a key already claimed says about this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: register, under this key.
    New,
    /// The same key and the same details: a retry of the registration of this provider.
    Retry(ProviderId),
    /// The same key with other details: refused.
    Reused {
        provider: ProviderId,
        received_at: DateTime<Utc>,
    },
}

/// Whether an earlier request under the same key was this one.
pub fn judge(
    earlier_details: &[u8],
    earlier_provider: ProviderId,
    received_at: DateTime<Utc>,
    details: &[u8],
) -> Claim {
    if earlier_details == details {
        Claim::Retry(earlier_provider)
    } else {
        Claim::Reused {
            provider: earlier_provider,
            received_at,
        }
    }
}

/// The refusal of a key reused for other details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "request_id {request_id:?} was used at {received_at} to register provider {provider} with other details; a retry must send the same details, and a new registration needs a new request_id"
)]
pub struct RequestIdReused {
    pub request_id: String,
    pub provider: ProviderId,
    pub received_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_optional_printable_ascii_of_at_most_100_characters() {
        assert_eq!(RequestId::parse("request_id", "").unwrap(), None);
        let id = RequestId::parse("request_id", "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b").unwrap();
        assert_eq!(id.unwrap().as_str(), "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b");
        assert!(
            RequestId::parse("request_id", &"k".repeat(100))
                .unwrap()
                .is_some()
        );
        for bad in ["has space", "line\nbreak", "café", &"k".repeat(101)] {
            let error = RequestId::parse("request_id", bad).unwrap_err();
            assert_eq!(error.field(), "request_id");
            assert!(error.problem().contains("printable ASCII"), "{error}");
        }
    }

    #[test]
    fn the_same_details_under_a_key_are_a_retry_and_other_details_are_refused() {
        let provider = ProviderId::generate();
        let at = Utc::now();
        assert_eq!(judge(b"abc", provider, at, b"abc"), Claim::Retry(provider));
        assert_eq!(
            judge(b"abc", provider, at, b"abd"),
            Claim::Reused {
                provider,
                received_at: at
            }
        );
    }
}
