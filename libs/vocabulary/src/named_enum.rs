//! Enums written once. [`named_enum!`] declares a domain enum with the name each variant
//! is stored and shown under; [`wire_enum!`] adds the mapping to and from its protobuf
//! enum. From those one declaration come: the accepted-values list in error messages,
//! parsing a name (`from_name`, [`NamedEnum::parse`]), the command-line spelling
//! (`non-care-business` for `non_care_business`), JSON (the name), and the wire number with
//! the refusal of unspecified and unknown numbers. A variant added to the proto then needs
//! one line here, plus its migration.
//!
//! Names must end the proto's own name in upper case (`PROVIDER_KIND_MICRO_PROVIDER` for
//! `micro_provider`); [`assert_names_follow_the_wire`] checks that in each service's tests.

use crate::invalid::{Invalid, shown};

/// An enum with a fixed set of named values.
pub trait NamedEnum: Copy + Eq + Sized + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// What one value is, for messages: `provider kind`.
    const WHAT: &'static str;

    /// The stored and shown name: `non_care_business`.
    fn name(self) -> &'static str;

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.name() == name)
    }

    /// Every name, comma-separated, for `accepted: ...` in messages.
    fn accepted() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|value| value.name()).collect();
        names.join(", ")
    }

    /// Reads a name given as text (a CSV cell, a JSON string, a command-line value); `-`
    /// and `_` are the same and case does not matter.
    fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        let wanted = raw.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.name().replace('-', "_") == wanted)
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!(
                        "is {}, which is not a known {}; accepted: {}",
                        shown(raw),
                        Self::WHAT,
                        Self::accepted()
                    ),
                )
            })
    }

    /// The command-line spelling: `non-care-business`.
    fn cli_name(self) -> String {
        self.name().replace('_', "-")
    }
}

/// A named enum with a protobuf twin.
pub trait WireEnum: NamedEnum {
    /// The number the protobuf enum gives this value.
    fn wire_number(self) -> i32;
    /// The protobuf enum's own name for this value: `PROVIDER_KIND_MICRO_PROVIDER`.
    fn wire_name(self) -> &'static str;
    /// Reads a protobuf enum number, refusing 0 (the sender left it unset) and numbers this
    /// build does not know (a newer or broken client), with the accepted names.
    fn from_wire(field: &str, raw: i32) -> Result<Self, Invalid>;
}

/// The refusal of an enum field left at 0.
pub fn unspecified<E: NamedEnum>(field: &str) -> Invalid {
    Invalid::new(
        field,
        format!("is unspecified; accepted: {}", E::accepted()),
    )
}

/// The refusal of an enum number this build does not know.
pub fn unknown_number<E: NamedEnum>(field: &str, raw: i32) -> Invalid {
    Invalid::new(
        field,
        format!(
            "is {raw}, which is not a known {}; accepted: {}",
            E::WHAT,
            E::accepted()
        ),
    )
}

/// Checks that every name is the end of its protobuf name in upper case, and that every
/// value survives the trip to the wire and back. Call it from a test per enum.
pub fn assert_names_follow_the_wire<E: WireEnum + std::fmt::Debug>() {
    for value in E::ALL.iter().copied() {
        let expected_suffix = format!("_{}", value.name().to_ascii_uppercase().replace('-', "_"));
        assert!(
            value.wire_name().ends_with(&expected_suffix),
            "{value:?} is named {:?} but its protobuf name is {}",
            value.name(),
            value.wire_name()
        );
        assert_eq!(E::from_wire("field", value.wire_number()), Ok(value));
        assert_eq!(E::from_name(value.name()), Some(value));
        assert_eq!(E::parse("field", &value.cli_name()), Ok(value));
    }
    assert_eq!(E::from_wire("field", 0), Err(unspecified::<E>("field")));
}

/// Declares an enum with a name per variant, and implements [`NamedEnum`], `Display`
/// and serde (as the name) for it.
///
/// ```
/// sds_vocabulary::named_enum! {
///     /// How often a fund is paid.
///     pub enum Frequency("payment frequency") {
///         FourWeekly = "four_weekly",
///         Quarterly = "quarterly",
///     }
/// }
/// use sds_vocabulary::NamedEnum;
/// assert_eq!(Frequency::from_name("quarterly"), Some(Frequency::Quarterly));
/// ```
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $crate::NamedEnum for $name {
            const ALL: &'static [Self] = &[$( $name::$variant ),+];
            const WHAT: &'static str = $what;

            fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str($crate::NamedEnum::name(*self))
            }
        }

        impl $crate::__private::Serialize for $name {
            fn serialize<S: $crate::__private::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::NamedEnum::name(*self))
            }
        }

        impl<'de> $crate::__private::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::string::String as $crate::__private::Deserialize>::deserialize(deserializer)?;
                <$name as $crate::NamedEnum>::from_name(&text).ok_or_else(|| {
                    <D::Error as $crate::__private::DeError>::custom(format!(
                        "{} is not a known {}; accepted: {}",
                        $crate::shown(&text),
                        $what,
                        <$name as $crate::NamedEnum>::accepted()
                    ))
                })
            }
        }
    };
}

/// [`named_enum!`] plus the mapping to and from a protobuf enum whose variants have the
/// same Rust names (prost's), implementing [`WireEnum`].
///
/// ```text
/// sds_vocabulary::wire_enum! {
///     pub enum ProviderKind("provider kind") => sds_proto::v1::ProviderKind {
///         RegisteredCareService = "registered_care_service",
///         MicroProvider = "micro_provider",
///     }
/// }
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) => $wire:ty {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $crate::named_enum! {
            $(#[$meta])*
            $vis enum $name ($what) {
                $( $(#[$variant_meta])* $variant = $text ),+
            }
        }

        impl $name {
            /// The protobuf value.
            pub fn to_wire(self) -> $wire {
                type Wire = $wire;
                match self {
                    $( $name::$variant => Wire::$variant ),+
                }
            }
        }

        impl $crate::named_enum::WireEnum for $name {
            fn wire_number(self) -> i32 {
                self.to_wire() as i32
            }

            fn wire_name(self) -> &'static str {
                self.to_wire().as_str_name()
            }

            fn from_wire(field: &str, raw: i32) -> Result<Self, $crate::Invalid> {
                type Wire = $wire;
                match Wire::try_from(raw) {
                    $( Ok(Wire::$variant) => Ok($name::$variant), )+
                    #[allow(unreachable_patterns)]
                    _ if raw == 0 => Err($crate::named_enum::unspecified::<$name>(field)),
                    #[allow(unreachable_patterns)]
                    _ => Err($crate::named_enum::unknown_number::<$name>(field, raw)),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::named_enum! {
        /// A test enum.
        pub enum Colour("colour") {
            DeepRed = "deep_red",
            Blue = "blue",
        }
    }

    #[test]
    fn a_named_enum_reads_its_names_in_either_spelling_and_lists_them_when_refusing() {
        assert_eq!(Colour::ALL, &[Colour::DeepRed, Colour::Blue]);
        assert_eq!(Colour::DeepRed.name(), "deep_red");
        assert_eq!(Colour::DeepRed.cli_name(), "deep-red");
        assert_eq!(Colour::parse("colour", " Deep-Red "), Ok(Colour::DeepRed));
        assert_eq!(
            Colour::parse("colour", "green").unwrap_err().to_string(),
            "colour is \"green\", which is not a known colour; accepted: deep_red, blue"
        );
        assert_eq!(Colour::DeepRed.to_string(), "deep_red");
    }
}
