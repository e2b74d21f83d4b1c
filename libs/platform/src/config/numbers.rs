//! Whole-number settings of at least one, with their units: a zero limit or interval is a
//! mistake, not a choice.

use std::time::Duration;

use super::{ConfigError, parse_setting};

const HOUR: u64 = 3600;

/// Reads whole-number settings through a lookup (the environment, or a test's map).
pub(super) struct Numbers<'a, L: Fn(&str) -> Option<String>> {
    pub(super) lookup: &'a L,
}

impl<L: Fn(&str) -> Option<String>> Numbers<'_, L> {
    /// The setting's text, or `default` when it is unset.
    pub(super) fn text(&self, variable: &str, default: &str) -> String {
        (self.lookup)(variable).unwrap_or_else(|| default.to_owned())
    }

    /// `variable` as a whole number of `unit` of at least 1; `default` when unset.
    pub(super) fn positive(
        &self,
        variable: &'static str,
        default: &str,
        unit: &str,
    ) -> Result<u64, ConfigError> {
        let value: u64 = parse_setting(
            variable,
            &self.text(variable, default),
            &format!("a whole number of {unit}"),
        )?;
        if value == 0 {
            return Err(ConfigError {
                variable,
                problem: "is 0; it must be at least 1".into(),
            });
        }
        Ok(value)
    }

    pub(super) fn seconds(
        &self,
        variable: &'static str,
        default: &str,
    ) -> Result<Duration, ConfigError> {
        self.positive(variable, default, "seconds")
            .map(Duration::from_secs)
    }

    pub(super) fn hours(
        &self,
        variable: &'static str,
        default: &str,
    ) -> Result<Duration, ConfigError> {
        self.positive(variable, default, "hours")
            .map(|hours| Duration::from_secs(hours.saturating_mul(HOUR)))
    }

    pub(super) fn count(
        &self,
        variable: &'static str,
        default: &str,
        unit: &str,
    ) -> Result<usize, ConfigError> {
        self.positive(variable, default, unit)
            .map(|value| usize::try_from(value).unwrap_or(usize::MAX))
    }
}
