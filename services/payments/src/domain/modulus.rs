//! UK bank account modulus checking, as Vocalink (now Pay.UK) specifies it in "Validating
//! account numbers" (the modulus checking specification, versions 7.x and 8.x).
//!
//! A sort code's checks come from Vocalink's weight table (`valacdos.txt`): each row gives a
//! range of sort codes, a method (MOD10, MOD11 or DBLAL), fourteen weights for the fourteen
//! digits `u v w x y z a b c d e f g h` (the six of the sort code, then the eight of the
//! account) and, optionally, an exception (1 to 14) that bends the method. A sort code in
//! two rows gets two checks, the first row's then the second's. Exception 5 also reads the
//! sort code substitution table (`scsubtab.txt`).
//!
//! Both tables are Vocalink's to distribute, not ours: the operator supplies them at
//! deployment and [`ModulusTable::load`] reads them; the tests use small inline excerpts.
//!
//! What must stay true, and why:
//! - Pure: no clock and no IO except [`ModulusTable::load`] reading the two files, so a
//!   verdict depends only on the table and the two numbers, and can be recomputed.
//! - [`check`] never panics, whatever it is given: it sits in front of bank details typed by
//!   people. A sort code that is not six ASCII digits, or an account that is not eight, is
//!   [`ModulusVerdict::Invalid`].
//! - A sort code in no row is [`ModulusVerdict::NotChecked`], never `Invalid`: the spec says
//!   no check can be made and the account is to be treated as valid, and refusing it would
//!   refuse real accounts at banks that publish no weights.
//! - No sort code gets more than two checks: the spec defines a first and a second check
//!   only, so [`ModulusTable::parse`] refuses a table that would give a third rather than
//!   guess how to combine it.
//! - The exceptions follow the spec's text, including its pairs where either check is
//!   enough (2 and 9, 10 and 11, 12 and 13): a stricter reading would refuse real accounts.
//! - A pass says only that the digits are consistent, not that the account exists.

mod check;
mod table;

pub use check::{ModulusVerdict, check};
pub use table::ModulusTable;

/// The `N` digit values of `text`, if it is exactly `N` ASCII digits.
fn digits<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes: &[u8; N] = text.as_bytes().try_into().ok()?;
    let mut values = [0u8; N];
    for (value, byte) in values.iter_mut().zip(bytes) {
        if !byte.is_ascii_digit() {
            return None;
        }
        *value = byte - b'0';
    }
    Some(values)
}

#[cfg(test)]
mod tests;
