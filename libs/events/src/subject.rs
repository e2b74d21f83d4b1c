//! Subjects: `sds.<authority>.<aggregate>.<event>`, e.g. `sds.aberdeenshire.plan.varied`.
//! Directory-wide facts that belong to no single authority use the authority `national`.

/// The authority token for facts that belong to every authority (the provider directory).
pub const NATIONAL: &str = "national";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{what} {value:?} cannot be part of a subject: use lowercase letters, digits, '-' and '_'")]
pub struct SubjectError {
    pub what: &'static str,
    pub value: String,
}

/// The subject of an event of `event_type` (`"<aggregate>.<event>"`) for `authority`.
pub fn subject_for(authority: &str, event_type: &str) -> Result<String, SubjectError> {
    check_token("authority", authority)?;
    let (aggregate, event) = event_type.split_once('.').ok_or_else(|| SubjectError {
        what: "event type",
        value: event_type.to_owned(),
    })?;
    check_token("aggregate", aggregate)?;
    // Event names may themselves be dotted (`payment.run.completed`).
    for part in event.split('.') {
        check_token("event", part)?;
    }
    Ok(format!("sds.{authority}.{aggregate}.{event}"))
}

/// The filter matching one event type for every authority, e.g. `sds.*.provider.registered`.
pub fn filter_for_event_type(event_type: &str) -> String {
    format!("sds.*.{event_type}")
}

fn check_token(what: &'static str, value: &str) -> Result<(), SubjectError> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(SubjectError {
            what,
            value: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_put_the_authority_before_the_aggregate_and_event() {
        assert_eq!(
            subject_for("aberdeenshire", "plan.varied").unwrap(),
            "sds.aberdeenshire.plan.varied"
        );
        assert_eq!(
            subject_for("national", "payment.run.completed").unwrap(),
            "sds.national.payment.run.completed"
        );
    }

    #[test]
    fn wildcards_and_spaces_cannot_reach_a_subject() {
        assert!(subject_for("*", "plan.varied").is_err());
        assert!(subject_for("aberdeen shire", "plan.varied").is_err());
        assert!(subject_for("fife", "plan").is_err());
        assert!(subject_for("fife", "plan.>").is_err());
    }
}
