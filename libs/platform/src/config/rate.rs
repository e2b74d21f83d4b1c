//! Per-principal request rate limits: `SDS_RATE_LIMIT_PER_SECOND` and
//! `SDS_RATE_LIMIT_BURST`.

use super::{ConfigError, parse_setting};
use crate::auth::RateLimit;

/// Requests a second one caller may make, sustained, unless configured otherwise.
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 200;

/// Requests one caller may make at once after a quiet spell, unless configured otherwise.
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 1000;

/// The limit `SDS_RATE_LIMIT_PER_SECOND` (a whole number, or `off`) and
/// `SDS_RATE_LIMIT_BURST` give; `None` when it is off.
pub(super) fn rate_limit(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<RateLimit>, ConfigError> {
    let positive =
        |variable: &'static str, raw: &str, accepted: &str| -> Result<u32, ConfigError> {
            let value: u32 = parse_setting(variable, raw, accepted)?;
            if value == 0 {
                return Err(ConfigError {
                    variable,
                    problem: "is 0, which would refuse every request; give at least 1".into(),
                });
            }
            Ok(value)
        };
    // Read even when the rate is off, so that a typo is found now rather than when the
    // limit is turned on.
    let burst = match lookup("SDS_RATE_LIMIT_BURST").as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(positive(
            "SDS_RATE_LIMIT_BURST",
            raw,
            "a whole number of requests",
        )?),
    };
    let per_second = match lookup("SDS_RATE_LIMIT_PER_SECOND")
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => DEFAULT_RATE_LIMIT_PER_SECOND,
        Some("off") => return Ok(None),
        Some(raw) => positive(
            "SDS_RATE_LIMIT_PER_SECOND",
            raw,
            "a whole number of requests a second, or off to lift the limit",
        )?,
    };
    Ok(Some(RateLimit {
        per_second,
        burst: burst.unwrap_or(DEFAULT_RATE_LIMIT_BURST.max(per_second)),
    }))
}
