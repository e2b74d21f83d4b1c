//! A serde `Deserializer` over JSON that serde_json has already parsed, whose errors keep
//! their kind ([`Refusal`]: unknown field, missing field, wrong type, not an object).
//!
//! serde_json's own errors are finished sentences ("invalid type: integer `3`, expected a
//! string"); reading through this instead lets the preview word each kind itself, with the
//! field's path from serde_path_to_error and what the field accepts. Syntax errors never
//! reach here: the text is parsed into a [`Value`] first, keeping serde_json's line and
//! column for those.

use std::fmt;

use sds_vocabulary::shown;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Unexpected, Visitor};
use serde_json::Value;

/// Why serde refused part of the input, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// A key the object does not take; `accepted` lists the keys it does.
    UnknownField {
        key: String,
        accepted: &'static [&'static str],
    },
    /// A required key is absent.
    MissingField { key: &'static str },
    /// A value of the wrong JSON type where a field's value belongs. `found` reads on from
    /// "found": `the number 375`, `null`, `a list`.
    WrongType { found: String },
    /// Something other than an object where an object with `fields` belongs.
    NotAnObject {
        found: String,
        fields: &'static [&'static str],
    },
    /// Anything else serde reports, as it words it.
    Other(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnknownField { key, accepted } => write!(
                formatter,
                "unknown field {}; accepted: {}",
                shown(key),
                accepted.join(", ")
            ),
            Refusal::MissingField { key } => write!(formatter, "{key} is missing"),
            Refusal::WrongType { found } => write!(formatter, "found {found}"),
            Refusal::NotAnObject { found, fields } => write!(
                formatter,
                "found {found}; expected an object with fields {}",
                fields.join(", ")
            ),
            Refusal::Other(message) => formatter.write_str(message),
        }
    }
}

impl std::error::Error for Refusal {}

impl de::Error for Refusal {
    fn custom<T: fmt::Display>(message: T) -> Refusal {
        Refusal::Other(message.to_string())
    }

    fn invalid_type(found: Unexpected<'_>, _expected: &dyn de::Expected) -> Refusal {
        Refusal::WrongType {
            found: describe(found),
        }
    }

    // A number out of the field's range (a lag beyond i64) reads as a wrong value too.
    fn invalid_value(found: Unexpected<'_>, _expected: &dyn de::Expected) -> Refusal {
        Refusal::WrongType {
            found: describe(found),
        }
    }

    fn unknown_field(key: &str, accepted: &'static [&'static str]) -> Refusal {
        Refusal::UnknownField {
            key: key.to_owned(),
            accepted,
        }
    }

    fn missing_field(key: &'static str) -> Refusal {
        Refusal::MissingField { key }
    }
}

/// A found value as messages name it: `the string "14"`, `the number 1.5`, `a list`.
fn describe(found: Unexpected<'_>) -> String {
    match found {
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Bool(flag) => flag.to_string(),
        Unexpected::Unsigned(number) => format!("the number {number}"),
        Unexpected::Signed(number) => format!("the number {number}"),
        // Debug keeps the decimal point of a whole float (`1.0`), as it was written.
        Unexpected::Float(number) => format!("the number {number:?}"),
        Unexpected::Str(text) => format!("the string {}", shown(text)),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Map => "an object".to_owned(),
        other => other.to_string(),
    }
}

/// The JSON types as serde sees them; numbers keep whichever of u64, i64 or f64 holds them.
fn as_unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(flag) => Unexpected::Bool(*flag),
        Value::Number(number) => match (number.as_u64(), number.as_i64(), number.as_f64()) {
            (Some(unsigned), _, _) => Unexpected::Unsigned(unsigned),
            (None, Some(signed), _) => Unexpected::Signed(signed),
            (None, None, Some(float)) => Unexpected::Float(float),
            (None, None, None) => Unexpected::Other("a number"),
        },
        Value::String(text) => Unexpected::Str(text),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

/// Reads `T` from `value`, with the path of the field at fault on failure.
pub fn read<T: de::DeserializeOwned>(
    value: &Value,
) -> Result<T, serde_path_to_error::Error<Refusal>> {
    serde_path_to_error::deserialize(ValueReader(value))
}

/// One JSON value being read.
#[derive(Debug, Clone, Copy)]
struct ValueReader<'a>(&'a Value);

impl<'de> de::Deserializer<'de> for ValueReader<'_> {
    type Error = Refusal;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(flag) => visitor.visit_bool(*flag),
            Value::Number(_) => match as_unexpected(self.0) {
                Unexpected::Unsigned(unsigned) => visitor.visit_u64(unsigned),
                Unexpected::Signed(signed) => visitor.visit_i64(signed),
                Unexpected::Float(float) => visitor.visit_f64(float),
                other => Err(Refusal::Other(format!("{other} cannot be read"))),
            },
            Value::String(text) => visitor.visit_str(text),
            Value::Array(items) => {
                let mut items = SeqDeserializer::new(items.iter().map(ValueReader));
                let read = visitor.visit_seq(&mut items)?;
                items.end()?;
                Ok(read)
            }
            Value::Object(entries) => {
                let mut entries = MapDeserializer::new(
                    entries
                        .iter()
                        .map(|(key, value)| (key.as_str(), ValueReader(value))),
                );
                let read = visitor.visit_map(&mut entries)?;
                entries.end()?;
                Ok(read)
            }
        }
    }

    /// `null` and an absent key both read as `None`, as serde_json reads them.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refusal> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    /// Only an object reads as a struct (serde would also take a list of the fields in
    /// order, which no one writing this JSON means).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refusal> {
        match self.0 {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(Refusal::NotAnObject {
                found: describe(as_unexpected(other)),
                fields,
            }),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Refusal> for ValueReader<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        name: String,
        count: i64,
        note: Option<String>,
        inner: Vec<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        start: String,
    }

    fn refusal_of(value: serde_json::Value) -> (String, Refusal) {
        let error = read::<Outer>(&value).expect_err("refused");
        (error.path().to_string(), error.into_inner())
    }

    #[test]
    fn well_formed_json_reads_as_serde_json_would_read_it() {
        let value = json!({"name": "a", "count": -3, "note": null, "inner": [{"start": "x"}]});
        assert_eq!(
            read::<Outer>(&value).unwrap(),
            Outer {
                name: "a".to_owned(),
                count: -3,
                note: None,
                inner: vec![Inner {
                    start: "x".to_owned()
                }],
            }
        );
    }

    #[test]
    fn an_unknown_key_is_refused_at_its_own_path_with_the_accepted_keys() {
        let (path, refusal) =
            refusal_of(json!({"name": "a", "count": 1, "inner": [{"start": "x", "colour": 1}]}));
        assert_eq!(path, "inner[0].colour");
        assert_eq!(
            refusal,
            Refusal::UnknownField {
                key: "colour".to_owned(),
                accepted: &["start"]
            }
        );
    }

    #[test]
    fn a_missing_key_is_refused_at_its_parent_with_the_key_named() {
        let (path, refusal) = refusal_of(json!({"name": "a", "count": 1, "inner": [{}]}));
        assert_eq!(path, "inner[0]");
        assert_eq!(refusal, Refusal::MissingField { key: "start" });
    }

    #[test]
    fn a_value_of_the_wrong_type_is_described_as_it_was_found() {
        for (count, found) in [
            (json!("14"), "the string \"14\""),
            (json!(1.5), "the number 1.5"),
            (json!(1.0), "the number 1.0"),
            (json!(u64::MAX), "the number 18446744073709551615"),
            (json!(null), "null"),
            (json!([1]), "a list"),
        ] {
            let (path, refusal) = refusal_of(json!({"name": "a", "count": count, "inner": []}));
            assert_eq!(path, "count");
            assert_eq!(
                refusal,
                Refusal::WrongType {
                    found: found.to_owned()
                }
            );
        }
    }

    #[test]
    fn only_an_object_reads_as_a_struct() {
        let (path, refusal) = refusal_of(json!({"name": "a", "count": 1, "inner": [["x"]]}));
        assert_eq!(path, "inner[0]");
        assert_eq!(
            refusal,
            Refusal::NotAnObject {
                found: "a list".to_owned(),
                fields: &["start"]
            }
        );
    }
}
