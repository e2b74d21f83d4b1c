//! Subjects: `sds.<authority>.<aggregate>.<event>`, e.g. `sds.aberdeenshire.plan.varied`.
//! Directory-wide facts that belong to no single authority use the authority `national`.
//! Both parts are validated where they are made (an [`AuthorityId`] and an
//! [`EventType`]), so a subject can always be built.

use sds_vocabulary::{AuthorityId, NamedEnum};

use crate::event_type::EventType;

/// The subject of an event of `event_type` for `authority`.
pub fn subject_for(authority: &AuthorityId, event_type: EventType) -> String {
    format!("sds.{authority}.{}", event_type.name())
}

/// The filter matching one event type for every authority, e.g. `sds.*.provider.registered`.
pub fn filter_for_event_type(event_type: EventType) -> String {
    format!("sds.*.{}", event_type.name())
}

/// The narrowest single filter matching every type in `event_types`: the type's own when
/// there is one, the aggregate's (`sds.*.provider.>`) when they share one, else every event.
/// One filter only, because nats-server 2.9 silently ignores a list of them.
pub fn filter_for_event_types(event_types: &[EventType]) -> String {
    match event_types {
        [single] => filter_for_event_type(*single),
        [first, rest @ ..]
            if rest
                .iter()
                .all(|other| other.aggregate_type() == first.aggregate_type()) =>
        {
            format!("sds.*.{}.>", first.aggregate_type())
        }
        _ => "sds.>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_put_the_authority_before_the_aggregate_and_event() {
        let aberdeenshire = AuthorityId::parse("authority", "aberdeenshire").unwrap();
        assert_eq!(
            subject_for(&aberdeenshire, EventType::ProviderUpdated),
            "sds.aberdeenshire.provider.updated"
        );
        assert_eq!(
            subject_for(&AuthorityId::national(), EventType::ProviderRegistered),
            "sds.national.provider.registered"
        );
    }

    #[test]
    fn a_consumer_of_several_types_gets_the_narrowest_single_filter() {
        assert_eq!(
            filter_for_event_types(&[EventType::ProviderUpdated]),
            "sds.*.provider.updated"
        );
        assert_eq!(
            filter_for_event_types(&[EventType::ProviderRegistered, EventType::ProviderUpdated]),
            "sds.*.provider.>"
        );
        assert_eq!(filter_for_event_types(&[]), "sds.>");
    }
}
