//! Authority ids such as `aberdeenshire`: the token used in event subjects
//! (`sds.<authority>.<aggregate>.<event>`), in tokens' `authorities` claim and in records.

use std::fmt;

use crate::invalid::{Invalid, shown};

/// An authority id: lowercase letters, digits, `-` and `_`, so it can stand in a subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthorityId(String);

impl AuthorityId {
    pub const MAX_CHARS: usize = 64;

    /// The authority of facts that belong to every authority (the provider directory).
    pub const NATIONAL: &'static str = "national";

    pub fn parse(field: &str, raw: &str) -> Result<AuthorityId, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(Invalid::new(
                field,
                "is empty; give the authority's id, such as aberdeenshire",
            ));
        }
        if !is_subject_token(text) {
            return Err(Invalid::new(
                field,
                format!(
                    "{} is not an authority id; use up to {} lowercase letters, digits, - and _, such as aberdeenshire",
                    shown(raw),
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(AuthorityId(text.to_owned()))
    }

    /// `national`: the authority of directory-wide facts.
    pub fn national() -> AuthorityId {
        AuthorityId(Self::NATIONAL.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `text` may stand as one token of a NATS subject: lowercase letters, digits, `-`
/// and `_`, at most 64 characters, never a wildcard or separator.
pub fn is_subject_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= AuthorityId::MAX_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl fmt::Display for AuthorityId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl AsRef<str> for AuthorityId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_ids_are_subject_tokens() {
        assert_eq!(
            AuthorityId::parse("authority", "east-ayrshire")
                .unwrap()
                .as_str(),
            "east-ayrshire"
        );
        for bad in ["", "East Ayrshire", "fife.*", &"a".repeat(65)] {
            assert!(
                AuthorityId::parse("authority", bad).is_err(),
                "{bad} accepted"
            );
        }
        assert_eq!(AuthorityId::national().as_str(), "national");
    }
}
