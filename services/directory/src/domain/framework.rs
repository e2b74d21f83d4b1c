//! A provider's standing with each authority's procurement: on its framework, on its open
//! list, or off framework. Off framework is also what a provider is for an authority that
//! has recorded nothing about it; people may still choose it, with basic checks instead.

use std::fmt;

use super::invalid::{Invalid, shown};

/// An authority id such as `aberdeenshire`: the token used in event subjects, so the same
/// characters are accepted (lowercase letters, digits, `-` and `_`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthorityId(String);

impl AuthorityId {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(field: &str, raw: &str) -> Result<AuthorityId, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(Invalid::new(
                field,
                "is empty; give the authority's id, such as aberdeenshire",
            ));
        }
        let well_formed = text.len() <= Self::MAX_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !well_formed {
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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuthorityId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameworkStatus {
    OnFramework,
    OpenList,
    OffFramework,
}

impl FrameworkStatus {
    pub const ALL: [FrameworkStatus; 3] = [
        FrameworkStatus::OnFramework,
        FrameworkStatus::OpenList,
        FrameworkStatus::OffFramework,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FrameworkStatus::OnFramework => "on_framework",
            FrameworkStatus::OpenList => "open_list",
            FrameworkStatus::OffFramework => "off_framework",
        }
    }

    pub fn from_name(name: &str) -> Option<FrameworkStatus> {
        FrameworkStatus::ALL
            .into_iter()
            .find(|status| status.name() == name)
    }
}

/// The status of a provider with one authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkMembership {
    pub authority: AuthorityId,
    pub status: FrameworkStatus,
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
    }
}
