//! Ids as every service reads them from a request: a UUID, surrounding spaces ignored, a
//! refusal naming the field and showing what was given.

use uuid::Uuid;

use crate::{Invalid, shown};

/// Reads `raw` as a UUID.
pub fn id(field: &str, raw: &str) -> Result<Uuid, Invalid> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        Invalid::new(
            field,
            format!(
                "{} is not an id; expected a UUID such as 0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
                shown(raw)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_uuid_and_anything_else_is_refused_by_field() {
        let read = id("person_id", " 0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b ").expect("an id");
        assert_eq!(read.to_string(), "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b");
        let refused = id("person_id", "SW-1").expect_err("refused");
        assert_eq!(refused.field(), "person_id");
        assert!(refused.problem().contains("is not an id"), "{refused}");
    }
}
