//! Properties of the checks over generated tables and numbers.

use super::*;
use proptest::prelude::*;

fn digit() -> impl Strategy<Value = u8> {
    0u8..=9
}

/// A weight that may be a multiple of 11 or 10, or negative, as some published rows are.
fn any_weight() -> impl Strategy<Value = i64> {
    -30i64..=30
}

/// The digit for the last place that makes `passes` true, if one does.
fn completing_digit(mut passes: impl FnMut(u8) -> bool) -> Option<u8> {
    (0..=9).find(|&last| passes(last))
}

fn weighted_total(digits: &[u8; 14], weights: &[i64; 14]) -> i64 {
    digits
        .iter()
        .zip(weights)
        .map(|(digit, weight)| i64::from(*digit) * weight)
        .sum()
}

fn split(digits: &[u8; 14]) -> (String, String) {
    (text(&digits[..6]), text(&digits[6..]))
}

/// The sort code and account with the digit at `position` changed by `shift` (mod 10).
fn with_digit_changed(digits: &[u8; 14], position: usize, shift: u8) -> [u8; 14] {
    let mut changed = *digits;
    changed[position] = (changed[position] + shift) % 10;
    changed
}

proptest! {
    #[test]
    fn a_completed_modulus_11_account_passes_until_a_digit_not_weighed_by_a_multiple_of_11_changes(
        mut weights in proptest::array::uniform14(any_weight()),
        last_weight in (1i64..=30).prop_filter("coprime with 11", |weight| weight % 11 != 0),
        prefix in proptest::array::uniform13(digit()),
        position in 0usize..14,
        shift in 1u8..=9,
    ) {
        weights[13] = last_weight;
        let table = table(&row("000000", "999999", "MOD11", &weights, None));
        let mut digits = [0u8; 14];
        digits[..13].copy_from_slice(&prefix);
        let last = completing_digit(|last| {
            digits[13] = last;
            weighted_total(&digits, &weights) % 11 == 0
        });
        // A total that only a last digit of 10 would complete has no account.
        prop_assume!(last.is_some());
        digits[13] = last.unwrap_or_default();
        let (sort_code, account) = split(&digits);
        prop_assert_eq!(check(&table, &sort_code, &account), Valid);

        // The total moves by the weight times a difference of 1 to 9: a multiple of 11
        // exactly when the weight is one.
        let (sort_code, account) = split(&with_digit_changed(&digits, position, shift));
        let expected = if weights[position] % 11 == 0 { Valid } else { Invalid };
        prop_assert_eq!(check(&table, &sort_code, &account), expected);
    }

    #[test]
    fn a_completed_modulus_10_account_passes_until_a_digit_weighed_coprime_with_10_changes(
        mut weights in proptest::array::uniform14(any_weight()),
        last_weight in prop::sample::select(vec![-9i64, -7, -3, -1, 1, 3, 7, 9, 11, 13, 17, 19]),
        prefix in proptest::array::uniform13(digit()),
        position in 0usize..14,
        shift in 1u8..=9,
    ) {
        weights[13] = last_weight;
        let table = table(&row("000000", "999999", "MOD10", &weights, None));
        let mut digits = [0u8; 14];
        digits[..13].copy_from_slice(&prefix);
        // A last weight coprime with 10 always has a completing digit.
        let last = completing_digit(|last| {
            digits[13] = last;
            weighted_total(&digits, &weights) % 10 == 0
        });
        prop_assert!(last.is_some());
        digits[13] = last.unwrap_or_default();
        let (sort_code, account) = split(&digits);
        prop_assert_eq!(check(&table, &sort_code, &account), Valid);

        let (sort_code, account) = split(&with_digit_changed(&digits, position, shift));
        let verdict = check(&table, &sort_code, &account);
        let weight = weights[position];
        if weight % 2 != 0 && weight % 5 != 0 {
            prop_assert_eq!(verdict, Invalid);
        }
        if weight % 10 == 0 {
            prop_assert_eq!(verdict, Valid);
        }
    }

    #[test]
    fn a_double_alternate_check_weighing_2_1_catches_every_changed_digit(
        prefix in proptest::array::uniform13(digit()),
        position in 0usize..14,
        shift in 1u8..=9,
    ) {
        // Under weight 1 a digit adds itself; under weight 2 it adds the digits of its
        // double, 0 2 4 6 8 1 3 5 7 9 for 0 to 9: either way distinct digits add amounts
        // distinct mod 10.
        let weights = [2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1];
        let table = table(&row("000000", "999999", "DBLAL", &weights, None));
        let mut digits = [0u8; 14];
        digits[..13].copy_from_slice(&prefix);
        let last = completing_digit(|last| {
            digits[13] = last;
            let (sort_code, account) = split(&digits);
            check(&table, &sort_code, &account) == Valid
        });
        prop_assert!(last.is_some());
        digits[13] = last.unwrap_or_default();
        let (sort_code, account) = split(&with_digit_changed(&digits, position, shift));
        prop_assert_eq!(check(&table, &sort_code, &account), Invalid);
    }

    #[test]
    fn a_sort_code_is_not_checked_exactly_when_no_range_covers_it(
        bounds in proptest::collection::vec(0u32..1_000_000, 0..10),
        sort_code in 0u32..1_000_000,
        account in proptest::array::uniform8(digit()),
    ) {
        // Disjoint ranges from sorted bounds; all-zero weights pass every covered account.
        let mut bounds = bounds;
        bounds.sort_unstable();
        bounds.dedup();
        let ranges: Vec<(u32, u32)> =
            bounds.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect();
        let weights_file: String = ranges
            .iter()
            .map(|(from, to)| {
                row(&format!("{from:06}"), &format!("{to:06}"), "MOD10", &[0; 14], None)
            })
            .collect();
        let table = table(&weights_file);
        let covered = ranges.iter().any(|(from, to)| (*from..=*to).contains(&sort_code));
        let expected = if covered { Valid } else { NotChecked };
        let verdict = check(&table, &format!("{sort_code:06}"), &text(&account));
        prop_assert_eq!(verdict, expected);
    }

    #[test]
    fn malformed_input_is_invalid_and_never_panics(
        sort_code in prop_oneof!["[0-9]{0,8}", "\\PC{0,8}"],
        account in prop_oneof!["[0-9]{0,10}", "\\PC{0,10}"],
    ) {
        // One row covering every sort code with all-zero weights: well-formed input passes.
        let table = table(&row("000000", "999999", "MOD11", &[0; 14], None));
        let well_formed = |text: &str, length: usize| {
            text.len() == length && text.bytes().all(|byte| byte.is_ascii_digit())
        };
        let expected =
            if well_formed(&sort_code, 6) && well_formed(&account, 8) { Valid } else { Invalid };
        prop_assert_eq!(check(&table, &sort_code, &account), expected);
    }

    #[test]
    fn parsing_any_text_never_panics(
        weights in "([0-9A-Z -]{0,60}\n){0,4}",
        substitutions in "([0-9 ]{0,16}\n){0,3}",
        sort_code in "[0-9]{6}",
        account in "[0-9]{8}",
    ) {
        if let Ok(table) = ModulusTable::parse(&weights, Some(&substitutions)) {
            let _ = check(&table, &sort_code, &account);
        }
    }

    #[test]
    fn exception_6_spares_every_account_with_a_from_4_to_8_and_g_equal_to_h(
        a in 4u8..=8,
        middle in proptest::array::uniform5(digit()),
        g in digit(),
    ) {
        let account = format!("{a}{}{g}{g}", text(&middle));
        prop_assert_eq!(check(&spec_table(), "200915", &account), Valid);
    }

    #[test]
    fn exception_14_accepts_an_account_whose_first_seven_digits_pass_when_h_is_0_1_or_9(
        first_six in proptest::array::uniform6(digit()),
        h in prop::sample::select(vec![0u8, 1, 9]),
    ) {
        // The Coutts row weighs 0abcdefg as 8 7 6 5 4 3 2 1 (the 0 counting nothing):
        // choose g so that it passes.
        let g = completing_digit(|g| {
            let total: i64 = first_six
                .iter()
                .chain([&g])
                .zip([7, 6, 5, 4, 3, 2, 1])
                .map(|(digit, weight)| i64::from(*digit) * weight)
                .sum();
            total % 11 == 0
        });
        prop_assume!(g.is_some());
        let account = format!("{}{}{h}", text(&first_six), g.unwrap_or_default());
        prop_assert_eq!(check(&spec_table(), "180002", &account), Valid);
    }

    #[test]
    fn exception_3_with_c_6_or_9_gives_the_first_check_alone(
        ab in proptest::array::uniform2(digit()),
        c in prop::sample::select(vec![6u8, 9]),
        rest in proptest::array::uniform5(digit()),
    ) {
        let first_alone = table("820000 826097 MOD11 0 0 0 0 0 0 0 0 7 3 4 9 2 1\n");
        let account = format!("{}{c}{}", text(&ab), text(&rest));
        let alone = check(&first_alone, "820000", &account);
        prop_assert_eq!(check(&spec_table(), "820000", &account), alone);
    }

    #[test]
    fn paired_exceptions_pass_when_either_check_passes_and_other_pairs_need_both(
        account in proptest::array::uniform8(digit()),
    ) {
        let account = text(&account);
        let pass = |rows: &str, sort_code: &str| check(&table(rows), sort_code, &account) == Valid;
        // Exceptions 10 and 11 (the real rows), each row also checked alone.
        let first = "870000 872791 MOD11 0 0 1 2 5 3 6 4 8 7 10 9 3 1 10\n";
        let second = "870000 872791 MOD11 0 0 5 10 9 8 0 7 6 5 4 3 2 1 11\n";
        let either = pass(first, "871427") || pass(second, "871427");
        prop_assert_eq!(pass(&format!("{first}{second}"), "871427"), either);
        // Exceptions 12 and 13 (the real rows).
        let first = "074456 074456 MOD11 0 0 7 6 5 8 9 4 5 6 7 8 9 -1 12\n";
        let second = "074456 074456 MOD10 0 3 2 4 5 8 9 4 5 6 7 8 9 -1 13\n";
        let either = pass(first, "074456") || pass(second, "074456");
        prop_assert_eq!(pass(&format!("{first}{second}"), "074456"), either);
        // No exceptions: both checks must pass.
        let first = "040010 040014 MOD11 0 0 0 0 0 0 0 7 6 5 4 3 2 1\n";
        let second = "040010 040014 DBLAL 2 1 2 1 2 1 2 1 2 1 2 1 2 1\n";
        let both = pass(first, "040012") && pass(second, "040012");
        prop_assert_eq!(pass(&format!("{first}{second}"), "040012"), both);
    }
}
