//! The text and number rules both bank files share: which characters a field may carry,
//! accents folded to the letters banks read, and the checks that keep every fixed-width
//! field its width (bank details all digits, amounts above zero and small enough).
//!
//! Refusals name the payee by id and never repeat bank details, so a message logged
//! anywhere carries none.

use std::io;

use crate::exports::bank::{Credit, Originator};

/// Bacs's character set: A-Z 0-9 . & / - and space; lower case is upper-cased, anything
/// else becomes a space, runs of spaces collapse, then it is cut or padded to `width`.
///
/// Accented letters first lose their accents (`Mòrag` → `MORAG`): Gaelic and other
/// European names are common among payees, and a letter turned into a space would read
/// `M RAG` on their statement.
pub fn bacs_text(text: &str, width: usize) -> String {
    let upper = text.to_uppercase();
    let cleaned = clean(
        &upper,
        |c| matches!(c, 'A'..='Z' | '0'..='9' | '.' | '&' | '/' | '-'),
    );
    let mut field: String = cleaned.chars().take(width).collect();
    let short = width - field.chars().count();
    field.extend(std::iter::repeat_n(' ', short));
    field
}

/// Folds accents, turns every character `keep` refuses into a space, collapses runs of
/// spaces and trims both ends. What comes back is ASCII, so its length in bytes is its
/// length in characters.
pub(in crate::exports) fn clean(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut cleaned = String::with_capacity(text.len());
    let mut push = |c: char| {
        let c = if keep(c) { c } else { ' ' };
        // A space is only kept between two kept characters: leading ones and runs vanish.
        if c != ' ' || !(cleaned.is_empty() || cleaned.ends_with(' ')) {
            cleaned.push(c);
        }
    };
    for c in text.chars() {
        match fold(c) {
            Some(plain) => plain.chars().for_each(&mut push),
            None => push(c),
        }
    }
    let kept = cleaned.trim_end().len();
    cleaned.truncate(kept);
    cleaned
}

/// Letters with accents and the typographic marks people paste from word processors, with
/// the plain characters they stand for.
const FOLDS: &[(&str, &str)] = &[
    ("ÀÁÂÃÄÅĀĂĄ", "A"),
    ("àáâãäåāăą", "a"),
    ("Æ", "AE"),
    ("æ", "ae"),
    ("ÇĆĈĊČ", "C"),
    ("çćĉċč", "c"),
    ("ÐĎĐ", "D"),
    ("ðďđ", "d"),
    ("ÈÉÊËĒĔĖĘĚ", "E"),
    ("èéêëēĕėęě", "e"),
    ("ĜĞĠĢ", "G"),
    ("ĝğġģ", "g"),
    ("ĤĦ", "H"),
    ("ĥħ", "h"),
    ("ÌÍÎÏĨĪĬĮİ", "I"),
    ("ìíîïĩīĭįı", "i"),
    ("Ĵ", "J"),
    ("ĵ", "j"),
    ("Ķ", "K"),
    ("ķ", "k"),
    ("ĹĻĽĿŁ", "L"),
    ("ĺļľŀł", "l"),
    ("ÑŃŅŇ", "N"),
    ("ñńņň", "n"),
    ("ÒÓÔÕÖØŌŎŐ", "O"),
    ("òóôõöøōŏő", "o"),
    ("Œ", "OE"),
    ("œ", "oe"),
    ("ŔŖŘ", "R"),
    ("ŕŗř", "r"),
    ("ŚŜŞŠȘ", "S"),
    ("śŝşšș", "s"),
    ("ß", "ss"),
    ("ŢŤŦȚ", "T"),
    ("ţťŧț", "t"),
    ("Þ", "TH"),
    ("þ", "th"),
    ("ÙÚÛÜŨŪŬŮŰŲ", "U"),
    ("ùúûüũūŭůűų", "u"),
    ("Ŵ", "W"),
    ("ŵ", "w"),
    ("ÝŸŶ", "Y"),
    ("ýÿŷ", "y"),
    ("ŹŻŽ", "Z"),
    ("źżž", "z"),
    ("‘’‛′", "'"),
    ("‐‑‒–—", "-"),
];

fn fold(c: char) -> Option<&'static str> {
    if c.is_ascii() {
        return None;
    }
    FOLDS
        .iter()
        .find(|(accented, _)| accented.contains(c))
        .map(|(_, plain)| *plain)
}

pub(in crate::exports) fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// `value` when it is exactly `len` ASCII digits.
pub(in crate::exports) fn digits<'a>(
    what: &str,
    value: &'a str,
    len: usize,
) -> io::Result<&'a str> {
    if value.len() == len && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(invalid(format!("{what}: expected {len} digits")))
    }
}

/// The originator's sort code and account number, checked.
pub(in crate::exports) fn originator_account(originator: &Originator) -> io::Result<(&str, &str)> {
    Ok((
        digits("the authority's sort code", &originator.sort_code, 6)?,
        digits(
            "the authority's account number",
            &originator.account_number,
            8,
        )?,
    ))
}

/// Checks every credit (bank details, an amount above zero and at most `max_pence`) and
/// returns their sum, itself at most `max_pence`: a run with no credit is refused, since
/// a bank file without payments is a mistake upstream, not something to submit.
pub(in crate::exports) fn checked_total(credits: &[Credit], max_pence: i64) -> io::Result<i64> {
    checked_total_within(credits, max_pence, max_pence)
}

/// As [`checked_total`], each credit at most `max_credit` and the total at most
/// `max_total` pence.
pub(in crate::exports) fn checked_total_within(
    credits: &[Credit],
    max_credit: i64,
    max_total: i64,
) -> io::Result<i64> {
    let max_pence = max_credit;
    if credits.is_empty() {
        return Err(invalid("a bank file needs at least one credit".to_owned()));
    }
    let mut total: i64 = 0;
    for credit in credits {
        let payee = credit.payee_id;
        digits(&format!("payee {payee}: sort code"), &credit.sort_code, 6)?;
        digits(
            &format!("payee {payee}: account number"),
            &credit.account_number,
            8,
        )?;
        if credit.amount_pence <= 0 {
            return Err(invalid(format!(
                "payee {payee}: a credit must be above zero pence"
            )));
        }
        if credit.amount_pence > max_pence {
            return Err(invalid(format!(
                "payee {payee}: a credit may be at most {max_pence} pence"
            )));
        }
        total = total
            .checked_add(credit.amount_pence)
            .filter(|sum| *sum <= max_total)
            .ok_or_else(|| {
                invalid(format!(
                    "the run's total may be at most {max_total} pence; split it into several files"
                ))
            })?;
    }
    Ok(total)
}
