//! Who subscribes: a provider or a third-party fund holder, known by its organisation id.
//! The subscriber is read from the verified token alone, so no request can ask for another
//! organisation's notifications.

use sds_platform::{OrgKind, Principal};
use uuid::Uuid;

sds_vocabulary::named_enum! {
    /// The kinds of organisation that are told things.
    pub enum SubscriberKind("subscriber kind") {
        Provider = "provider",
        Holder = "holder",
    }
}

/// One organisation's notification inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subscriber {
    pub kind: SubscriberKind,
    pub id: Uuid,
}

impl Subscriber {
    pub fn provider(id: Uuid) -> Subscriber {
        Subscriber {
            kind: SubscriberKind::Provider,
            id,
        }
    }

    pub fn holder(id: Uuid) -> Subscriber {
        Subscriber {
            kind: SubscriberKind::Holder,
            id,
        }
    }

    /// The subscriber a token speaks for, or why it speaks for none.
    pub fn of(principal: &Principal) -> Result<Subscriber, NotASubscriber> {
        let kind = match principal.org_kind {
            OrgKind::Provider => SubscriberKind::Provider,
            OrgKind::Holder => SubscriberKind::Holder,
            OrgKind::Authority | OrgKind::Person => {
                return Err(NotASubscriber(format!(
                    "notifications are for providers and third-party fund holders; your token is for an organisation of kind {}",
                    principal.org_kind
                )));
            }
        };
        // Compared as UUIDs, so the case a token spells its subject in does not matter.
        let id = Uuid::parse_str(&principal.org_id).map_err(|_| {
            NotASubscriber(
                "your token's organisation id is not a UUID, so it names no provider or holder; ask for a token whose subject is your organisation's id"
                    .to_owned(),
            )
        })?;
        Ok(Subscriber { kind, id })
    }

    /// The key a wake-up names the subscriber by (see `wakeups`).
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.id)
    }
}

/// A token that speaks for no provider or holder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotASubscriber(String);

#[cfg(test)]
mod tests {
    use super::*;
    use sds_platform::{AuthorityId, Role};

    fn principal(org_kind: OrgKind, org_id: &str) -> Principal {
        Principal {
            org_id: org_id.to_owned(),
            org_kind,
            roles: vec![Role::ProviderAdmin],
            authorities: vec![AuthorityId::national()],
            person_id: None,
        }
    }

    #[test]
    fn a_provider_or_holder_token_names_its_own_inbox_by_its_organisation_id() {
        let id = "0192F0C1-0000-7000-8000-0000000000C1";
        let provider = Subscriber::of(&principal(OrgKind::Provider, id)).unwrap();
        assert_eq!(provider, Subscriber::provider(Uuid::parse_str(id).unwrap()));
        assert_eq!(
            provider.key(),
            "provider:0192f0c1-0000-7000-8000-0000000000c1"
        );
        let holder = Subscriber::of(&principal(OrgKind::Holder, id)).unwrap();
        assert_eq!(holder.kind, SubscriberKind::Holder);
    }

    #[test]
    fn authority_staff_people_and_ids_that_are_not_uuids_subscribe_to_nothing() {
        let authority = Subscriber::of(&principal(OrgKind::Authority, "fife")).unwrap_err();
        assert!(
            authority.to_string().contains("kind authority"),
            "{authority}"
        );
        assert!(Subscriber::of(&principal(OrgKind::Person, "p-1")).is_err());
        let not_uuid = Subscriber::of(&principal(OrgKind::Provider, "acme")).unwrap_err();
        assert!(not_uuid.to_string().contains("not a UUID"), "{not_uuid}");
    }
}
