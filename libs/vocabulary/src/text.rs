//! Readers for free text: trimmed, bounded, on one line.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::invalid::Invalid;

/// Zero-width characters, bidirectional controls, the line and paragraph separators and
/// the byte-order mark: characters that change how text looks or reads without being seen.
pub fn is_invisible_or_direction_changing(character: char) -> bool {
    matches!(
        character,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

/// Free text fields (names, service types, localities) hold at most this many characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Trimmed text that must be given.
pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    optional_text(field, raw, max_chars)?
        .ok_or_else(|| Invalid::new(field, "is empty; it is required"))
}

/// Trimmed text in Unicode's composed form (NFC), `None` when empty. Every text here is a
/// single line a person reads, so control characters are refused (none may smuggle
/// separators into storage or logs), and so are invisible and direction-changing
/// characters and text made of combining marks alone (none may make one name look like
/// another). Composing first means that two spellings of "Mòr" compare and store alike.
pub fn optional_text(field: &str, raw: &str, max_chars: usize) -> Result<Option<String>, Invalid> {
    let composed: String = raw.trim().nfc().collect();
    let text = composed.as_str();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().any(is_invisible_or_direction_changing) {
        return Err(Invalid::new(
            field,
            "contains an invisible or direction-changing character (such as a zero-width space or a right-to-left override); use plain text",
        ));
    }
    if text.chars().all(is_combining_mark) {
        return Err(Invalid::new(
            field,
            "is made of combining marks alone; give letters a person can read",
        ));
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
    fn invisible_direction_changing_and_mark_only_text_is_refused_and_text_is_composed() {
        for sneaky in [
            "Fife\u{202E}Care",
            "Fife\u{200B}Care",
            "Fife\u{2028}Care",
            "\u{2066}Fife Care\u{2069}",
        ] {
            let error = required_text("name", sneaky, 200).unwrap_err();
            assert!(
                error.problem().contains("invisible or direction-changing"),
                "{sneaky:?}"
            );
        }
        let marks = required_text("name", "\u{0301}\u{0300}", 200).unwrap_err();
        assert!(marks.problem().contains("combining marks alone"), "{marks}");
        // "Mòr" typed with a separate grave accent is stored as the composed letter.
        assert_eq!(
            required_text("name", "Mo\u{0300}r", 200).unwrap(),
            "M\u{00F2}r"
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
