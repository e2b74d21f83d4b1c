//! The checks: the three standard methods and the spec's exceptions 1 to 14.
//!
//! Digits are named as the spec names them: `u v w x y z` for the sort code, `a b c d e f
//! g h` for the account.

use super::digits;
use super::table::{Method, ModulusTable, SortCode, WeightRow};

/// An account's eight digit values.
type Account = [u8; 8];

/// What the table says of a sort code and account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModulusVerdict {
    /// The account passes every check the table gives for its sort code.
    Valid,
    /// It fails.
    Invalid,
    /// The sort code is in no range of the table: by the spec, no check can be made and the
    /// account is to be treated as valid.
    NotChecked,
}

/// sort_code: exactly 6 ASCII digits; account: exactly 8 ASCII digits (callers normalise
/// 6/7-digit accounts by left-padding zeros). Panics never; for malformed input returns
/// Invalid.
pub fn check(table: &ModulusTable, sort_code: &str, account: &str) -> ModulusVerdict {
    let (Some(sort_code), Some(account)) = (digits::<6>(sort_code), digits::<8>(account)) else {
        return ModulusVerdict::Invalid;
    };
    let mut rows = table.rows_for(&sort_code);
    let Some(first) = rows.next() else {
        return ModulusVerdict::NotChecked;
    };
    let second = rows.next();
    if is_foreign_currency(first, second, &account) {
        return ModulusVerdict::Valid;
    }
    let passes = |row: &WeightRow| row_passes(table, row, &sort_code, &account);
    let valid = match second {
        None => passes(first),
        // `||` and `&&` short-circuit as the spec does: the second check is made only when
        // its outcome can change the verdict.
        Some(second) if either_check_suffices(first, second) => passes(first) || passes(second),
        Some(second) => passes(first) && passes(second),
    };
    if valid {
        ModulusVerdict::Valid
    } else {
        ModulusVerdict::Invalid
    }
}

/// Exception 6: where `a` is 4 to 8 and `g` equals `h`, the account is a foreign currency
/// account the checks cannot be used on, and the spec deems it valid.
fn is_foreign_currency(first: &WeightRow, second: Option<&WeightRow>, account: &Account) -> bool {
    let [a, .., g, h] = *account;
    let marked = std::iter::once(first)
        .chain(second)
        .any(|row| row.exception == Some(6));
    marked && (4..=8).contains(&a) && g == h
}

/// The spec's pairs where the account is valid if either check passes: 2 and 9 (a Lloyds
/// account failing its own check may be a euro account held at 309634), 10 and 11, and 12
/// and 13 (Nationwide).
fn either_check_suffices(first: &WeightRow, second: &WeightRow) -> bool {
    matches!(
        (first.exception, second.exception),
        (Some(2), Some(9)) | (Some(10), Some(11)) | (Some(12), Some(13))
    )
}

/// Whether the account passes one row's check, the row's exception applied.
fn row_passes(
    table: &ModulusTable,
    row: &WeightRow,
    sort_code: &SortCode,
    account: &Account,
) -> bool {
    let [a, b, c, .., g, h] = *account;
    // Exception 3: where `c` is 6 or 9 the (double alternate) check is not made.
    if row.exception == Some(3) && matches!(c, 6 | 9) {
        return true;
    }
    let weighed_sort_code = match row.exception {
        // Exception 5: the substitute from scsubtab, if the sort code has one.
        Some(5) => table.substitute(sort_code),
        // Exception 8: checked as though the sort code were 090126.
        Some(8) => [0, 9, 0, 1, 2, 6],
        // Exception 9: Lloyds euro accounts are all held at 309634.
        Some(9) => [3, 0, 9, 6, 3, 4],
        _ => *sort_code,
    };
    let weights = match row.exception {
        // Exception 2: where `a` is not 0, the spec's own weights replace the row's, those
        // for `g` = 9 leaving out `u` to `b`.
        Some(2) if a != 0 && g != 9 => [0, 0, 1, 2, 5, 3, 6, 4, 8, 7, 10, 9, 3, 1],
        Some(2) if a != 0 => [0, 0, 0, 0, 0, 0, 0, 0, 8, 7, 10, 9, 3, 1],
        Some(7) if g == 9 => without_u_to_b(row.weights),
        Some(10) if matches!((a, b), (0, 9) | (9, 9)) && g == 9 => without_u_to_b(row.weights),
        _ => row.weights,
    };
    let passes = |account: &Account| {
        passes_method(
            row.method,
            row.exception,
            &weights,
            &weighed_sort_code,
            account,
        )
    };
    // Exception 14 (Coutts): an account failing the check whose `h` is 0, 1 or 9 is checked
    // again without `h`, its other digits moved right and a 0 put first.
    passes(account)
        || (row.exception == Some(14) && matches!(h, 0 | 1 | 9) && passes(&without_h(account)))
}

/// The account with `h` dropped, the other digits moved right and a 0 put first.
fn without_h(account: &Account) -> Account {
    let mut shifted = [0; 8];
    shifted[1..].copy_from_slice(&account[..7]);
    shifted
}

/// The weights with the eight for `u` to `b` set to 0, as exceptions 7 and 10 ask.
fn without_u_to_b(mut weights: [i64; 14]) -> [i64; 14] {
    weights[..8].fill(0);
    weights
}

fn passes_method(
    method: Method,
    exception: Option<u8>,
    weights: &[i64; 14],
    sort_code: &SortCode,
    account: &Account,
) -> bool {
    let [.., g, h] = account.map(i64::from);
    let products = sort_code
        .iter()
        .chain(account)
        .zip(weights)
        .map(|(digit, weight)| i64::from(*digit) * weight);
    match method {
        Method::Mod10 => products.sum::<i64>().rem_euclid(10) == 0,
        Method::Mod11 => {
            let remainder = products.sum::<i64>().rem_euclid(11);
            match exception {
                // Exception 4: the remainder must equal the two-digit check digit `gh`.
                Some(4) => remainder == 10 * g + h,
                // Exception 5: `g` is a check digit, 11 less the remainder, where 0 stands
                // for 11; a remainder of 1 would need a check digit of 10, so fails.
                Some(5) => remainder != 1 && (11 - remainder) % 11 == g,
                _ => remainder == 0,
            }
        }
        Method::DoubleAlternate => {
            let mut total: i64 = products.map(digit_sum).sum();
            // Exception 1: 27 is added to the total before dividing.
            if exception == Some(1) {
                total += 27;
            }
            let remainder = total.rem_euclid(10);
            match exception {
                // Exception 5: `h` is a check digit, 10 less the remainder, where 0 stands
                // for 10.
                Some(5) => (10 - remainder) % 10 == h,
                _ => remainder == 0,
            }
        }
    }
}

/// The sum of a product's decimal digits (18 counts 1 + 8), as the double alternate method
/// adds them. No published double alternate row has a negative weight; one would subtract
/// its digits, keeping the sign the weight gave.
fn digit_sum(product: i64) -> i64 {
    let mut rest = product.unsigned_abs();
    let mut sum = 0;
    while rest > 0 {
        sum += rest % 10;
        rest /= 10;
    }
    // A u64 has at most 20 digits, so their sum fits back.
    let sum = i64::try_from(sum).unwrap_or(i64::MAX);
    if product < 0 { -sum } else { sum }
}
