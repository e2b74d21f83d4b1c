//! Readers for free text: trimmed, bounded, on one line.

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::invalid::Invalid;

/// Characters that change how text looks or reads without being seen: Unicode's default
/// ignorable code points (zero-width characters, joiners, variation selectors, fillers,
/// tag characters, the soft hyphen, invisible operators), bidirectional controls, the line
/// and paragraph separators, the byte-order mark, the blank braille pattern and the
/// interlinear annotation controls; and characters with no agreed appearance (private use
/// and noncharacters). Any of them lets one name pass for another.
pub fn is_invisible_or_direction_changing(character: char) -> bool {
    let code = u32::from(character);
    // Noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
    let noncharacter = (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE;
    noncharacter
        || matches!(
            character,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{E000}'..='\u{F8FF}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
                | '\u{F0000}'..='\u{10FFFF}'
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
            "contains an invisible or direction-changing character (such as a zero-width space, a variation selector, a filler or a right-to-left override) or a private-use character; use plain text",
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

/// Trimmed prose of several lines (a needs summary, a note) in composed form (NFC), `None`
/// when empty: line breaks are kept (a carriage return before one is dropped), but no other
/// control character, nor any invisible or direction-changing one, is accepted.
pub fn optional_paragraphs(
    field: &str,
    raw: &str,
    max_chars: usize,
) -> Result<Option<String>, Invalid> {
    let unified = raw.replace("\r\n", "\n");
    let lines: Vec<Option<String>> = unified
        .split('\n')
        .map(|line| optional_text(field, line, max_chars))
        .collect::<Result<_, _>>()?;
    let text = lines
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned();
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
    Ok(Some(text))
}

/// `text` with compatibility forms folded (NFKC: full-width digits become ASCII digits,
/// ligatures letters), for matching patterns in what people type, never for storing it.
pub fn compatibility_folded(text: &str) -> String {
    text.nfkc().collect()
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
    fn paragraphs_keep_their_line_breaks_and_refuse_what_text_refuses() {
        assert_eq!(
            optional_paragraphs("note", "  First line.\r\nSecond line.  ", 100),
            Ok(Some("First line.\nSecond line.".to_owned()))
        );
        assert_eq!(optional_paragraphs("note", " \n ", 100), Ok(None));
        for bad in [
            "a\u{0}b",
            "Aber\u{202e}deen",
            "AB1\u{200b}2 3CD",
            "tab\there",
        ] {
            let refused = optional_paragraphs("note", bad, 100).expect_err(bad);
            assert_eq!(refused.field(), "note");
        }
        assert!(optional_paragraphs("note", &"a".repeat(101), 100).is_err());
    }

    #[test]
    fn folding_turns_full_width_digits_into_ascii_ones() {
        assert_eq!(compatibility_folded("０１２２４"), "01224");
    }

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
            // What a probe of the directory found accepted: variation selectors, fillers,
            // tag characters, the grapheme joiner, the blank braille pattern, musical and
            // shorthand format controls, interlinear annotation, private use, noncharacters.
            "Deeside Ca\u{FE0F}re",
            "Deeside Care\u{E0020}",
            "Fife\u{E0041}Care",
            "Fife\u{E0100}Care",
            "Fife\u{034F}Care",
            "Fife\u{115F}Care",
            "Fife\u{3164}Care",
            "Fife\u{FFA0}Care",
            "Fife\u{180B}Care",
            "Fife\u{17B4}Care",
            "Fife\u{2800}Care",
            "Fife\u{FFF9}Care",
            "Fife\u{1D173}Care",
            "Fife\u{1BCA0}Care",
            "Fife\u{E000}Care",
            "Fife\u{FFFE}Care",
            "Fife\u{10FFFF}Care",
        ] {
            let error = required_text("name", sneaky, 200).unwrap_err();
            assert!(
                error.problem().contains("invisible or direction-changing"),
                "{sneaky:?}"
            );
        }
        for plain in [
            "Mòr Care",
            "Ścieżka",
            "Ceòl agus Craic",
            "日本語",
            "Fife Care – Glenrothes",
        ] {
            assert!(required_text("name", plain, 200).is_ok(), "{plain:?}");
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
