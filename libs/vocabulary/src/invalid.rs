//! Why input is refused.
//!
//! An [`Invalid`] names the field by its path in the request (`details.capacity`,
//! `grades[2].inspected_on`) and says what is wrong and what would be accepted, so the
//! message can be shown to a person as it is. Readers build the error with the field's own
//! name; callers place it inside its parent with [`Invalid::within`].

/// How much of a refused value is echoed back in a message.
const MAX_ECHOED_CHARS: usize = 40;

/// Input that a service refuses, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct Invalid {
    field: String,
    problem: String,
}

impl Invalid {
    /// `problem` reads on from the field name: `is -3; it must be 0 or more`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Invalid {
        Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Places the field inside `parent`: `capacity` within `details` is `details.capacity`.
    pub fn within(mut self, parent: &str) -> Invalid {
        self.field = format!("{parent}.{}", self.field);
        self
    }

    /// The path of the field at fault.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it, without the field name.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

/// A refused value as it is safe to echo: quoted, escaped and cut short.
pub fn shown(raw: &str) -> String {
    let mut shortened: String = raw.chars().take(MAX_ECHOED_CHARS).collect();
    if shortened.len() < raw.len() {
        shortened.push_str("...");
    }
    format!("{shortened:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_inside_a_parent_is_named_by_its_path() {
        let error = Invalid::new("capacity", "is -3; it must be 0 or more").within("details");
        assert_eq!(
            error.to_string(),
            "details.capacity is -3; it must be 0 or more"
        );
        assert_eq!(error.field(), "details.capacity");
    }

    #[test]
    fn long_values_are_echoed_cut_short() {
        let echoed = shown(&"a".repeat(1000));
        assert!(echoed.len() < 60, "{echoed}");
    }
}
