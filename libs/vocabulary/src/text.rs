//! Readers for free text: trimmed, bounded, on one line.

use crate::invalid::Invalid;

/// Free text fields (names, service types, localities) hold at most this many characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Trimmed text that must be given.
pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    optional_text(field, raw, max_chars)?
        .ok_or_else(|| Invalid::new(field, "is empty; it is required"))
}

/// Trimmed text, `None` when empty. Control characters are refused: every text here is a
/// single line a person reads, and none may smuggle separators into storage or logs.
pub fn optional_text(field: &str, raw: &str, max_chars: usize) -> Result<Option<String>, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let length = text.chars().count();
    if length > max_chars {
        return Err(Invalid::new(
            field,
            format!("is {length} characters long; at most {max_chars} are accepted"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            "contains a control character such as a tab or line break; use plain text on one line",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// A list of short texts (service types, localities): each entry trimmed and required,
/// repeats that differ only in case dropped, at most `max_items` entries.
pub fn text_list(
    field: &str,
    raw: &[String],
    max_items: usize,
    max_chars: usize,
) -> Result<Vec<String>, Invalid> {
    if raw.len() > max_items {
        return Err(Invalid::new(
            field,
            format!(
                "has {} entries; at most {max_items} are accepted",
                raw.len()
            ),
        ));
    }
    let mut kept: Vec<String> = Vec::with_capacity(raw.len());
    for (index, item) in raw.iter().enumerate() {
        let item_field = format!("{field}[{index}]");
        let text = optional_text(&item_field, item, max_chars)?.ok_or_else(|| {
            Invalid::new(&item_field, "is empty; remove the entry or give it text")
        })?;
        let folded = text.to_lowercase();
        if !kept.iter().any(|earlier| earlier.to_lowercase() == folded) {
            kept.push(text);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_limited_and_kept_on_one_line() {
        assert_eq!(
            required_text("name", "  Fife Care  ", 200).unwrap(),
            "Fife Care"
        );
        assert!(
            required_text("name", "   ", 200)
                .unwrap_err()
                .problem()
                .contains("empty")
        );
        let long = "x".repeat(201);
        assert!(
            required_text("name", &long, 200)
                .unwrap_err()
                .problem()
                .contains("201 characters")
        );
        assert!(
            optional_text("name", "two\nlines", 200)
                .unwrap_err()
                .problem()
                .contains("control character")
        );
    }

    #[test]
    fn list_entries_repeated_in_another_case_are_kept_once() {
        let raw = vec![
            "Day support".to_owned(),
            "day SUPPORT".to_owned(),
            "Respite".to_owned(),
        ];
        assert_eq!(
            text_list("service_types", &raw, 50, 200).unwrap(),
            vec!["Day support", "Respite"]
        );
        let error = text_list("service_types", &["".to_owned()], 50, 200).unwrap_err();
        assert_eq!(error.field(), "service_types[0]");
    }
}
