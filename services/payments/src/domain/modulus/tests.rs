use super::*;
use ModulusVerdict::{Invalid, NotChecked, Valid};

/// The rows of Vocalink's weight table covering the sort codes of the spec's published test
/// cases, as they stand in recent editions of the table. Only this excerpt is here: the
/// table is Vocalink's to distribute.
const SPEC_WEIGHTS: &str = "
070116 070116 MOD11    0    0    7    6    5    8    9    4    5    6    7    8    9   -1   12
070116 070116 MOD10    0    3    2    4    5    8    9    4    5    6    7    8    9   -1   13
074456 074456 MOD11    0    0    7    6    5    8    9    4    5    6    7    8    9   -1   12
074456 074456 MOD10    0    3    2    4    5    8    9    4    5    6    7    8    9   -1   13
086090 086090 MOD10    0    0    3    7    1    3    7    1    3    7    1    3    7    1    8
089000 089999 MOD10    0    0    0    0    0    0    7    1    3    7    1    3    7    1
090126 090129 MOD10    0    0    3    7    1    3    7    1    3    7    1    3    7    1
102400 107999 MOD11    0    0    0    0    0    0    8    7    6    5    4    3    2    1
110000 119280 DBLAL    0    0    2    1    2    1    2    1    2    1    2    1    2    1    1
134012 134020 MOD11    0    0    0    7    5    9    8    4    6    3    5    2    0    0    4
180002 180002 MOD11    0    0    0    0    0    0    8    7    6    5    4    3    2    1   14
200901 201159 MOD11    0    0    0    0    0    0    0    7    6    5    4    3    2    1    6
200901 201159 DBLAL    2    1    2    1    2    1    2    1    2    1    2    1    2    1    6
202700 203239 MOD11    0    0    0    0    0    0    0    7    6    5    4    3    2    1    6
202700 203239 DBLAL    2    1    2    1    2    1    2    1    2    1    2    1    2    1    6
309001 309633 MOD11    0    0    3    2    9    8    5    7    6    5    4    3    2    1    2
309001 309633 MOD11    0    0    3    2    9    8    1    7    6    5    4    3    2    1    9
309634 309634 MOD11    0    0    3    2    9    8    1    7    6    5    4    3    2    1
771900 772799 MOD11    0    0    1    2    5    3    6    4    8    7   10    9    3    1    7
820000 826097 MOD11    0    0    0    0    0    0    0    0    7    3    4    9    2    1
820000 826097 DBLAL    2    1    2    1    2    1    2    1    2    1    2    1    2    1    3
826919 827999 MOD11    0    0    0    0    0    0    0    0    7    3    4    9    2    1
826919 827999 DBLAL    2    1    2    1    2    1    2    1    2    1    2    1    2    1    3
870000 872791 MOD11    0    0    1    2    5    3    6    4    8    7   10    9    3    1   10
870000 872791 MOD11    0    0    5   10    9    8    0    7    6    5    4    3    2    1   11
938000 938696 MOD11    7    6    5    4    3    2    7    6    5    4    3    2    0    0    5
938000 938696 DBLAL    2    1    2    1    2    1    2    1    2    1    2    1    2    0    5
";

/// The line of Vocalink's substitution table that the spec's test case 15 relies on.
const SPEC_SUBSTITUTIONS: &str = "938600 938611\n";

fn spec_table() -> ModulusTable {
    ModulusTable::parse(SPEC_WEIGHTS, Some(SPEC_SUBSTITUTIONS)).expect("the excerpt parses")
}

fn table(weights: &str) -> ModulusTable {
    ModulusTable::parse(weights, None).expect("the fixture parses")
}

/// A weight row's text, as the file gives it.
fn row(from: &str, to: &str, method: &str, weights: &[i64; 14], exception: Option<u8>) -> String {
    let weights: Vec<String> = weights.iter().map(i64::to_string).collect();
    let exception = exception
        .map(|number| format!(" {number}"))
        .unwrap_or_default();
    format!("{from} {to} {method} {}{exception}\n", weights.join(" "))
}

fn text(digits: &[u8]) -> String {
    digits
        .iter()
        .map(|digit| char::from(b'0' + digit))
        .collect()
}

/// The spec's published test cases: number, sort code, account, verdict, what it shows.
const PUBLISHED_CASES: &str = "
 1 089999 66374958 valid   passes modulus 10
 2 107999 88837491 valid   passes modulus 11
 3 202959 63748472 valid   passes modulus 11 and double alternate
 4 871427 46238510 valid   exceptions 10 and 11: first check passes, second fails
 5 872427 46238510 valid   exceptions 10 and 11: first check fails, second passes
 6 871427 09123496 valid   exception 10: ab = 09 and g = 9, first check passes
 7 871427 99123496 valid   exception 10: ab = 99 and g = 9, first check passes
 8 820000 73688637 valid   exception 3: start of a range, c = 6 skips the second check
 9 827999 73988638 valid   exception 3: end of a range, c = 9 skips the second check
10 827101 28748352 valid   exception 3: c is not 6 or 9, both checks pass
11 134020 63849203 valid   exception 4: the remainder equals the check digit
12 118765 64371389 valid   exception 1: 27 added, passes double alternate
13 200915 41011166 valid   exception 6: fails the checks but is a foreign currency account
14 938611 07806039 valid   exception 5: passes
15 938600 42368003 valid   exception 5: passes with substitution
16 938063 55065200 valid   exception 5: both checks leave a remainder of 0 and pass
17 772798 99345694 valid   exception 7: passes, though it would fail the standard check
18 086090 06774744 valid   exception 8: passes
19 309070 02355688 valid   exceptions 2 and 9: first check passes
20 309070 12345668 valid   exceptions 2 and 9: first fails, second passes with substitution
21 309070 12345677 valid   exceptions 2 and 9: a != 0 and g != 9, passes
22 309070 99345694 valid   exceptions 2 and 9: a != 0 and g = 9, passes
23 938063 15764273 invalid exception 5: first check digit right, second wrong
24 938063 15764264 invalid exception 5: first check digit wrong, second right
25 938063 15763217 invalid exception 5: first check leaves a remainder of 1
26 118765 64371388 invalid exception 1: fails double alternate
27 203099 66831036 invalid passes modulus 11, fails double alternate
28 203099 58716970 invalid fails modulus 11, passes double alternate
29 089999 66374959 invalid fails modulus 10
30 107999 88837493 invalid fails modulus 11
31 074456 12345112 valid   exceptions 12 and 13: passes modulus 11, so no modulus 10 check
32 070116 34012583 valid   exceptions 12 and 13: passes modulus 11 (and would pass 10)
33 074456 11104102 valid   exceptions 12 and 13: fails modulus 11, passes modulus 10
34 180002 00000190 valid   exception 14: first check fails, second passes
";

#[test]
fn every_published_test_case_gets_the_published_verdict() {
    let table = spec_table();
    let mut cases = 0;
    for case in PUBLISHED_CASES
        .lines()
        .filter(|line| !line.trim().is_empty())
    {
        let fields: Vec<&str> = case.split_whitespace().collect();
        let [_, sort_code, account, verdict, ..] = fields.as_slice() else {
            panic!("a case line: {case}");
        };
        let expected = match *verdict {
            "valid" => Valid,
            "invalid" => Invalid,
            other => panic!("a verdict: {other}"),
        };
        assert_eq!(check(&table, sort_code, account), expected, "case {case}");
        cases += 1;
    }
    assert_eq!(cases, 34);
}

// Hand-computed cases for what the published ones leave open. Products are listed in the
// order u v w x y z a b c d e f g h; zero products are left out.

#[test]
fn exception_8_weighs_the_digits_of_090126_in_place_of_the_sort_code() {
    // The real 086090 row weighs 086090 and 090126 alike (both give 27), so this row is
    // made up: all weights 1, so the total is the sum of the digits weighed.
    let substituted = table(&row("123456", "123456", "MOD10", &[1; 14], Some(8)));
    let own = table(&row("123456", "123456", "MOD10", &[1; 14], None));
    // 0+9+0+1+2+6 = 18, plus the account's 2: 20, divisible by 10.
    assert_eq!(check(&substituted, "123456", "00000002"), Valid);
    // 1+2+3+4+5+6 = 21, plus 2: 23.
    assert_eq!(check(&own, "123456", "00000002"), Invalid);
}

#[test]
fn exception_10_keeps_the_weights_when_ab_is_09_but_g_is_not_9() {
    // First row, nothing zeroed: w 1*1, x 4*2=8, y 2*5=10, z 7*3=21, b 9*4=36: 76, 76 mod 11 =
    // 10. (Zeroing u to b would have left 0 and passed.) Second row: w 1*5=5, x 4*10=40,
    // y 2*9=18, z 7*8=56, b 9*7=63: 182, 182 mod 11 = 6. Neither passes.
    assert_eq!(check(&spec_table(), "871427", "09000000"), Invalid);
}

#[test]
fn exception_7_keeps_the_weights_when_g_is_not_9() {
    // w 2*1=2, x 7*2=14, y 9*5=45, z 8*3=24: 85, 85 mod 11 = 8; the account's digits are 0.
    // Zeroing u to b would have left 0 and passed.
    assert_eq!(check(&spec_table(), "772798", "00000000"), Invalid);
}

#[test]
fn exception_14_tries_again_only_when_h_is_0_1_or_9() {
    // 00000192: f 1*3=3, g 9*2=18, h 2*1=2: 23, 23 mod 11 = 1, so the first check fails.
    // Shifted, 00000019 would pass (f 1*2 + g 9*1 = 11), but h = 2 allows no second try.
    assert_eq!(check(&spec_table(), "180002", "00000192"), Invalid);
    // 00000191: f 3 + g 18 + h 1 = 22 passes outright; 00000199 fails (30 mod 11 = 8) and
    // passes shifted.
    assert_eq!(check(&spec_table(), "180002", "00000191"), Valid);
    assert_eq!(check(&spec_table(), "180002", "00000199"), Valid);
}

#[test]
fn exceptions_2_and_9_fail_when_both_checks_fail() {
    // a = 1, g = 7: exception 2's first weights 0 0 1 2 5 3 6 4 8 7 10 9 3 1. w 9, y 35,
    // a 6, b 8, c 24, d 28, e 50, f 54, g 21: 235, 235 mod 11 = 4. Second check, as 309634:
    // w 27, x 12, y 27, z 32, a 1, b 14, c 18, d 20, e 20, f 18, g 14: 203, 203 mod 11 = 5.
    assert_eq!(check(&spec_table(), "309070", "12345670"), Invalid);
}

#[test]
fn exceptions_10_and_11_fail_when_both_checks_fail() {
    // First: 1+8+10+21+24+24+16+21+80+45+3+1 = 254, mod 11 = 1. Second:
    // 5+40+18+56+42+12+15+32+15+2+1 = 238, mod 11 = 7.
    assert_eq!(check(&spec_table(), "871427", "46238511"), Invalid);
}

#[test]
fn exceptions_12_and_13_fail_when_both_checks_fail() {
    // Modulus 11: 28+24+25+48+9+8+15+24+35+8+9-3 = 230, mod 11 = 10. Modulus 10:
    // 21+8+16+25+48+9+8+15+24+35+8+9-3 = 223, mod 10 = 3.
    assert_eq!(check(&spec_table(), "074456", "12345113"), Invalid);
}

#[test]
fn exception_4_fails_when_the_remainder_is_not_the_check_digit() {
    // g and h weigh 0, so the total is case 11's, whose remainder is 3, not 4.
    assert_eq!(check(&spec_table(), "134020", "63849204"), Invalid);
}

#[test]
fn exception_6_spares_only_accounts_with_a_from_4_to_8_and_g_equal_to_h() {
    // Modulus 11 for 31011166 and 91011166: b 7, d 5, e 4, f 3, g 12, h 6 = 37, mod 11 = 4.
    assert_eq!(check(&spec_table(), "200915", "31011166"), Invalid);
    assert_eq!(check(&spec_table(), "200915", "91011166"), Invalid);
    // 41011167: 7+5+4+3+12+7 = 38, mod 11 = 5.
    assert_eq!(check(&spec_table(), "200915", "41011167"), Invalid);
    // Every a from 4 to 8 with g = h is spared, whatever the checks would say.
    for a in 4..=8 {
        assert_eq!(
            check(&spec_table(), "200915", &format!("{a}1011144")),
            Valid
        );
    }
}

#[test]
fn exception_3_makes_both_checks_when_c_is_neither_6_nor_9() {
    // Modulus 11: c 49, d 12, e 32, f 27, g 14, h 9 = 143 = 11 * 13, passes. Double
    // alternate, digit sums of the products: 7+2+5+1+0+1+4+8+5+4+7+3+5+9 = 61, fails.
    assert_eq!(check(&spec_table(), "827101", "28748379"), Invalid);
}

#[test]
fn exception_5_without_a_substitution_table_weighs_the_sort_code_itself() {
    // Case 15 passes only as 938611. As 938600: modulus 11 totals
    // 63+18+40+24+28+12+15+24+24 = 248, remainder 6, so g would have to be 5, not 0.
    let without = ModulusTable::parse(SPEC_WEIGHTS, None).expect("the excerpt parses");
    assert_eq!(check(&without, "938600", "42368003"), Invalid);
}

// Input the checks cannot read.

#[test]
fn an_account_outside_every_range_is_not_checked() {
    let table = spec_table();
    assert_eq!(check(&table, "999999", "12345678"), NotChecked);
    assert_eq!(check(&table, "000000", "00000000"), NotChecked);
    // Just past the end of a range.
    assert_eq!(check(&table, "090130", "00000000"), NotChecked);
    assert_eq!(
        check(&ModulusTable::default(), "089999", "66374958"),
        NotChecked
    );
}

#[test]
fn a_malformed_sort_code_or_account_is_invalid_even_where_no_check_applies() {
    let table = spec_table();
    for (sort_code, account) in [
        ("08999", "66374958"),
        ("0899990", "66374958"),
        ("08-99-99", "66374958"),
        ("089999", "6637495"),
        ("089999", "663749580"),
        ("089999", "6637495a"),
        ("089999", " 6637495"),
        ("", ""),
        ("٠٨٩٩٩٩", "66374958"),
        ("999999", "1234567"),
    ] {
        assert_eq!(
            check(&table, sort_code, account),
            Invalid,
            "{sort_code:?} {account:?}"
        );
    }
}

// Reading the tables.

#[test]
fn a_table_reads_whitespace_separated_rows_and_skips_blank_lines() {
    let text = "\u{feff}089000 089999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1\r\n\r\n   \n\
                102400\t107999  MOD11 0 0 0 0 0 0 8 7 6 5 4 3 2 1\r\n";
    let table = table(text);
    assert_eq!(table.len(), 2);
    assert!(!table.is_empty());
    assert_eq!(check(&table, "089999", "66374958"), Valid);
    assert_eq!(check(&table, "107999", "88837491"), Valid);
    assert!(
        ModulusTable::parse("", Some(""))
            .expect("empty files parse")
            .is_empty()
    );
}

#[test]
fn a_malformed_weight_row_is_refused_naming_its_line() {
    let good = "089000 089999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1\n";
    let cases = [
        (
            "089000 089999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7",
            "expected 17 or 18 fields",
        ),
        (
            "089000 089999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1 1 1",
            "expected 17 or 18 fields",
        ),
        (
            "089000 089999 MOD12 0 0 0 0 0 0 7 1 3 7 1 3 7 1",
            "unknown method \"MOD12\"",
        ),
        (
            "08900 089999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1",
            "sort code \"08900\" is not six",
        ),
        (
            "089999 089000 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1",
            "ends before it starts",
        ),
        (
            "089000 089999 MOD10 0 0 0 0 0 0 7 1 x 7 1 3 7 1",
            "weight \"x\" is not an integer",
        ),
        (
            "089000 089999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1 15",
            "exception \"15\" is not one",
        ),
        (
            "089000 089999 MOD10 0 0 0 0 0 0 7 1 3 7 1 3 7 1 0",
            "exception \"0\" is not one",
        ),
    ];
    for (bad, message) in cases {
        let text = format!("{good}\n{bad}\n");
        let error = ModulusTable::parse(&text, None).expect_err(bad);
        assert!(error.starts_with("line 3: "), "{error}");
        assert!(error.contains(message), "{error}");
    }
}

#[test]
fn a_table_giving_a_sort_code_a_third_check_is_refused() {
    let text = "\
        100000 199999 MOD10 0 0 0 0 0 0 0 0 0 0 0 0 0 1\n\
        150000 150000 MOD10 0 0 0 0 0 0 0 0 0 0 0 0 0 1\n\
        140000 160000 MOD11 0 0 0 0 0 0 0 0 0 0 0 0 0 1\n";
    let error = ModulusTable::parse(text, None).expect_err("three checks for 150000");
    assert!(
        error.starts_with("line 3: sort code 150000 would get a third check"),
        "{error}"
    );
    // Two overlapping rows are two checks, as the spec allows.
    let two = "\
        100000 199999 MOD10 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n\
        140000 160000 MOD11 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    assert_eq!(table(two).len(), 2);
}

#[test]
fn a_malformed_substitution_is_refused_naming_the_file_and_line() {
    let weights = "938000 938696 MOD11 7 6 5 4 3 2 7 6 5 4 3 2 0 0 5\n";
    for (substitutions, message) in [
        (
            "938600 938611\n938602\n",
            "substitutions: line 2: expected 2 fields",
        ),
        (
            "938600 938611 938612\n",
            "substitutions: line 1: expected 2 fields",
        ),
        (
            "938600 93861\n",
            "substitutions: line 1: sort code \"93861\" is not six digits",
        ),
        (
            "938600 938611\n\n938600 938343\n",
            "substitutions: line 3: sort code 938600 is already",
        ),
    ] {
        let error = ModulusTable::parse(weights, Some(substitutions)).expect_err(substitutions);
        assert!(error.starts_with(message), "{error}");
    }
}

#[test]
fn load_reads_both_files_and_names_the_file_in_its_errors() {
    let directory = std::env::temp_dir().join(format!("sds-modulus-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a scratch directory");
    let weights = directory.join("valacdos.txt");
    let substitutions = directory.join("scsubtab.txt");
    let broken = directory.join("broken.txt");
    std::fs::write(&weights, SPEC_WEIGHTS).expect("written");
    std::fs::write(&substitutions, SPEC_SUBSTITUTIONS).expect("written");
    std::fs::write(&broken, "938600\n").expect("written");

    let loaded = ModulusTable::load(&weights, Some(&substitutions)).expect("loads");
    assert_eq!(loaded.len(), spec_table().len());
    assert_eq!(check(&loaded, "938600", "42368003"), Valid);

    let error = ModulusTable::load(&weights, Some(&broken)).expect_err("a bad line");
    assert!(
        error.starts_with(&format!("{}: line 1: ", broken.display())),
        "{error}"
    );
    let missing = directory.join("missing.txt");
    let error = ModulusTable::load(&missing, None).expect_err("no such file");
    assert!(
        error.starts_with(&format!("{}: ", missing.display())),
        "{error}"
    );

    std::fs::remove_dir_all(&directory).expect("cleaned up");
}

mod properties;
