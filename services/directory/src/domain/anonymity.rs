//! Whether the free text of a package request is anonymous. A request goes to every provider
//! whose service types and area match, before the person has chosen any of them, so it must
//! not say who the person is: no name, date of birth, address, postcode, CHI number, contact
//! details or case reference.
//!
//! Text cannot be proved anonymous. What can be caught is what has a shape: an email
//! address, a postcode, a run of ten or more digits (a CHI number, a phone number), a date
//! written as day, month and year, and the words "date of birth" or "DOB". A name has no
//! shape, so the form that takes the text says so, and the text is shown to the social
//! worker as providers will see it before it is sent.
//!
//! A refusal says what was found and where (the character position), never the text found:
//! refusals are logged, and the text is personal data.

use sds_vocabulary::Invalid;

/// What the text must not hold, said once for every refusal.
const RULE: &str = "a package request goes to every matching provider before the person chooses, so it must not say who the person is (name, date of birth, address, postcode, CHI number, contact details or case reference)";

/// Refuses `text` (field `field`) if it holds something shaped like personal data.
pub fn ensure_anonymous(field: &str, text: &str) -> Result<(), Invalid> {
    // Full-width digits and other compatibility forms read as their plain forms.
    match find_personal_data(&sds_vocabulary::text::compatibility_folded(text)) {
        None => Ok(()),
        Some((what, at)) => Err(Invalid::new(
            field,
            format!("holds what looks like {what} at character {at}; {RULE}"),
        )),
    }
}

/// The first thing in `text` shaped like personal data, and the (1-based) character where
/// it starts.
fn find_personal_data(text: &str) -> Option<(&'static str, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = text.to_lowercase().chars().collect();
    let words = words(&chars);
    for (index, (start, word)) in words.iter().enumerate() {
        let at = start + 1;
        if is_email(word) {
            return Some(("an email address", at));
        }
        if is_date(word) || is_written_date(&words[index..]) {
            return Some(("a date", at));
        }
        let next = words.get(index + 1).map(|(_, next)| next.as_str());
        if is_postcode(word, next) {
            return Some(("a postcode", at));
        }
    }
    if let Some(at) = long_digit_run(&chars) {
        return Some(("a CHI number or phone number", at));
    }
    for phrase in ["date of birth", "d.o.b", "dob"] {
        if let Some(at) = find_word(&lower, phrase) {
            return Some(("a date of birth", at));
        }
    }
    None
}

/// The words of `chars` (split on whitespace), each with the index of its first character,
/// trimmed of the punctuation that ends a clause.
fn words(chars: &[char]) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    let mut start = None;
    for (index, character) in chars.iter().chain(std::iter::once(&' ')).enumerate() {
        match (character.is_whitespace(), start) {
            (false, None) => start = Some(index),
            (true, Some(from)) => {
                let word: String = chars[from..index].iter().collect();
                let word = word
                    .trim_end_matches([',', ';', ':', '.', ')', '!', '?', '"', '\''])
                    .trim_start_matches(['(', '"', '\''])
                    .to_owned();
                if !word.is_empty() {
                    words.push((from, word));
                }
                start = None;
            }
            _ => {}
        }
    }
    words
}

fn is_email(word: &str) -> bool {
    word.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
    })
}

/// Day, month and year: `12/03/1950`, `12-3-50`, `12.03.1950`.
fn is_date(word: &str) -> bool {
    for separator in ['/', '-', '.'] {
        let parts: Vec<&str> = word.split(separator).collect();
        if let [day, month, year] = parts.as_slice() {
            let numeric = |part: &str, lengths: &[usize]| {
                lengths.contains(&part.len()) && part.chars().all(|c| c.is_ascii_digit())
            };
            if numeric(day, &[1, 2]) && numeric(month, &[1, 2]) && numeric(year, &[2, 4]) {
                return true;
            }
        }
    }
    false
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A month's name in full or by its first three letters (`Sept` too).
fn is_month(word: &str) -> bool {
    let lower = word.to_lowercase();
    let lower = lower.trim_end_matches('.');
    lower.len() >= 3
        && MONTHS
            .iter()
            .any(|month| *month == lower || (month.starts_with(lower) && lower.len() <= 4))
}

/// A day of the month: `12`, `3rd`, `21st`.
fn is_day(word: &str) -> bool {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    (1..=2).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && ["", "st", "nd", "rd", "th"].contains(&suffix.to_lowercase().as_str())
}

fn is_year(word: &str) -> bool {
    [2, 4].contains(&word.len()) && word.chars().all(|c| c.is_ascii_digit())
}

/// A date written with the month's name, starting at the first of `words`: `12 March
/// 1941`, `3rd Sept 41`, `March 12 1941`.
fn is_written_date(words: &[(usize, String)]) -> bool {
    match words {
        [(_, first), (_, second), (_, third), ..] => {
            (is_day(first) && is_month(second) && is_year(third))
                || (is_month(first) && is_day(second) && is_year(third))
        }
        _ => false,
    }
}

/// A UK postcode, written as one word (`AB123CD`) or two (`AB12 3CD`): an outward code of
/// one or two letters, a digit, and a digit or letter or neither; an inward code of a
/// digit and two letters.
fn is_postcode(word: &str, next: Option<&str>) -> bool {
    let upper = word.to_ascii_uppercase();
    match next {
        Some(next) if is_outward(&upper) && is_inward(&next.to_ascii_uppercase()) => true,
        _ => {
            upper.len() >= 5
                && upper.is_char_boundary(upper.len() - 3)
                && is_outward(&upper[..upper.len() - 3])
                && is_inward(&upper[upper.len() - 3..])
        }
    }
}

fn is_outward(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    let letters = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) || chars.len() <= letters || chars.len() > letters + 2 {
        return false;
    }
    let rest = &chars[letters..];
    rest[0].is_ascii_digit()
        && rest
            .get(1)
            .is_none_or(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

fn is_inward(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    chars.len() == 3
        && chars[0].is_ascii_digit()
        && chars[1].is_ascii_uppercase()
        && chars[2].is_ascii_uppercase()
}

/// Where ten or more digits run together (single spaces or hyphens between them allowed, as
/// phone and CHI numbers are written), as a 1-based character position.
fn long_digit_run(chars: &[char]) -> Option<usize> {
    let mut start = 0;
    let mut digits = 0;
    let mut previous_was_separator = false;
    for (index, character) in chars.iter().enumerate() {
        if character.is_ascii_digit() {
            if digits == 0 {
                start = index;
            }
            digits += 1;
            previous_was_separator = false;
            if digits >= 10 {
                return Some(start + 1);
            }
        } else if (*character == ' ' || *character == '-') && digits > 0 && !previous_was_separator
        {
            previous_was_separator = true;
        } else {
            digits = 0;
            previous_was_separator = false;
        }
    }
    None
}

/// Where `phrase` stands in `lower` as words of its own (not inside a longer word), as a
/// 1-based character position.
fn find_word(lower: &[char], phrase: &str) -> Option<usize> {
    let phrase: Vec<char> = phrase.chars().collect();
    let boundary = |c: Option<&char>| c.is_none_or(|c| !c.is_alphanumeric());
    (0..lower.len().saturating_sub(phrase.len() - 1)).find_map(|start| {
        let end = start + phrase.len();
        (lower[start..end] == phrase[..]
            && boundary(start.checked_sub(1).and_then(|before| lower.get(before)))
            && boundary(lower.get(end)))
        .then_some(start + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_needs_summary_without_personal_data_passes() {
        for text in [
            "Support with personal care each morning and help to get to the day centre on \
             Tuesdays; enjoys gardening and music. Lives in Inverurie.",
            "Three short breaks a year, 2 nights each, for a man in his 70s.",
            "10 hours a week, flexible, from 1 April; walking, swimming (M4 pool).",
            "Needs help 7 days a week at 08:00 and 20:00.",
            "",
        ] {
            assert_eq!(ensure_anonymous("needs_summary", text), Ok(()), "{text}");
        }
    }

    #[test]
    fn what_has_the_shape_of_personal_data_is_refused_naming_what_and_where() {
        let cases = [
            ("Contact jo.bloggs@example.org first", "an email address", 9),
            ("Lives at AB12 3CD with her son", "a postcode", 10),
            ("Lives at ab123cd", "a postcode", 10),
            ("Postcode EH1 1YZ.", "a postcode", 10),
            ("Born 12/03/1950, lives alone", "a date", 6),
            ("seen on 1-4-26", "a date", 9),
            ("CHI 0103501234", "a CHI number or phone number", 5),
            (
                "call 01467 620 981 after 6",
                "a CHI number or phone number",
                6,
            ),
            ("born 12 March 1941, widowed", "a date", 6),
            ("since 3rd Sept 41", "a date", 7),
            ("from March 12 1941", "a date", 6),
            (
                "call \u{ff10}\u{ff11}\u{ff12}\u{ff12}\u{ff14}\u{ff15}\u{ff15}\u{ff15}\u{ff11}\u{ff12}",
                "a CHI number or phone number",
                6,
            ),
            ("DOB: 1950", "a date of birth", 1),
            ("her date of birth is in March", "a date of birth", 5),
        ];
        for (text, what, at) in cases {
            let refused = ensure_anonymous("needs_summary", text).expect_err(text);
            assert_eq!(refused.field(), "needs_summary");
            assert_eq!(
                refused.problem(),
                format!("holds what looks like {what} at character {at}; {RULE}"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_refusal_never_repeats_the_text_it_found() {
        let refused = ensure_anonymous("needs_summary", "email jo.bloggs@example.org")
            .expect_err("an email address");
        assert!(!refused.to_string().contains("bloggs"), "{refused}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_judged_without_panicking(text in "\\PC{0,200}") {
            let judged = ensure_anonymous("needs_summary", &text);
            if let Err(refused) = judged {
                proptest::prop_assert!(refused.problem().ends_with(RULE));
            }
        }

        #[test]
        fn any_postcode_shaped_text_is_refused(
            outward in "[A-Z]{1,2}[0-9][0-9A-Z]?",
            inward in "[0-9][A-Z]{2}",
            spaced in proptest::bool::ANY,
        ) {
            let postcode = if spaced { format!("{outward} {inward}") } else { format!("{outward}{inward}") };
            let text = format!("lives at {postcode} now");
            proptest::prop_assert!(ensure_anonymous("needs_summary", &text).is_err(), "{}", text);
        }
    }

    #[test]
    fn words_that_merely_contain_the_letters_are_not_taken_for_a_date_of_birth() {
        assert_eq!(
            ensure_anonymous("needs_summary", "Likes dobbies garden centre"),
            Ok(())
        );
    }
}
