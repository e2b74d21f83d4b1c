//! The words every service shares, so each is written once: why input is refused
//! ([`Invalid`], with the field's path) and the readers that refuse it, calendar dates,
//! authority ids (also the authority token of event subjects), the role vocabulary of
//! tokens, organisation kinds, and [`wire_enum!`], which maps a domain enum to its
//! protobuf enum, its stored name, its command-line spelling and its JSON in one place.
//!
//! Pure: no IO, no clock.

pub mod authority;
pub mod csv_file;
pub mod date;
pub mod decimal;
pub mod delivery_csv;
pub mod id;
pub mod invalid;
pub mod named_enum;
pub mod org;
pub mod paging;
pub mod role;
pub mod text;

pub use authority::AuthorityId;
pub use invalid::{Invalid, shown};
pub use named_enum::NamedEnum;
pub use org::OrgKind;
pub use role::Role;

/// What the macros need from serde, named through this crate so that users need not
/// depend on serde themselves.
#[doc(hidden)]
pub mod __private {
    pub use serde::de::Error as DeError;
    pub use serde::{Deserialize, Deserializer, Serialize, Serializer};
}
