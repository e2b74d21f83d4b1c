use std::io::ErrorKind;

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::labels::{julian, volume_serial};
use super::*;
use crate::exports::bank::fixtures::{credit, originator};

fn run() -> RunHeader {
    RunHeader {
        run_id: Uuid::from_u128(42),
        created_at: Utc.with_ymd_and_hms(2026, 1, 29, 10, 15, 0).unwrap(),
        processing_date: NaiveDate::from_ymd_opt(2026, 2, 3).unwrap(),
        credit_date: NaiveDate::from_ymd_opt(2026, 2, 4).unwrap(),
    }
}

fn credits() -> Vec<Credit> {
    vec![
        credit(1, "203040", "11112222", "Mòrag MacLeod", 154_000),
        credit(
            2,
            "309080",
            "33334444",
            "o'brien care (scotland) ltd",
            23_050,
        ),
        credit(
            3,
            "112233",
            "55556666",
            "Smith & Sons Home Support Services Ltd",
            9_999,
        ),
    ]
}

fn write(credits: &[Credit]) -> (String, BacsTotals) {
    let mut out = Vec::new();
    let totals = write_bacs(&mut out, &originator(), &run(), credits).unwrap();
    (String::from_utf8(out).unwrap(), totals)
}

fn lines(file: &str) -> Vec<&str> {
    let body = file
        .strip_suffix("\r\n")
        .expect("the last line ends with CR LF");
    body.split("\r\n").collect()
}

/// Positions `from` to `to` of `line`, 1-based and inclusive as the Bacs layout counts.
fn field(line: &str, from: usize, to: usize) -> &str {
    &line[from - 1..to]
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

#[test]
fn a_realistic_run_writes_exactly_this_file() {
    let (file, _) = write(&credits());
    let hdr1 = |label: &str| {
        format!(
            "{label}A654321S   654321000043{}{} 26029 26034 000000{}",
            "00010001",
            spaces(6),
            spaces(20)
        )
    };
    let hdr2 = |label: &str| format!("{label}F0200000100{}00{}", spaces(35), spaces(28));
    // Destination, "0", code, the authority's account, four blanks, pence, the service
    // user's name, reference, destination name.
    let record = |to: &str, code: &str, pence: &str, reference: &str, name: &str| {
        format!(
            "{to}0{code}40123412345678{}{pence}HIGHLAND COUNCIL  {reference}{name}",
            spaces(4)
        )
    };
    let expected = [
        format!("VOL1000043{}654321{}1", spaces(31), spaces(32)),
        hdr1("HDR1"),
        hdr2("HDR2"),
        format!("UHL1 26034999999    000000001 DAILY  001{}", spaces(40)),
        record(
            "20304011112222",
            "99",
            "00000154000",
            "REM-2026-000101   ",
            "MORAG MACLEOD     ",
        ),
        record(
            "30908033334444",
            "99",
            "00000023050",
            "REM-2026-000102   ",
            "O BRIEN CARE SCOTL",
        ),
        record(
            "11223355556666",
            "99",
            "00000009999",
            "REM-2026-000103   ",
            "SMITH & SONS HOME ",
        ),
        record(
            "40123412345678",
            "17",
            "00000187049",
            "CONTRA            ",
            "HIGHLAND COUNCIL S",
        ),
        hdr1("EOF1"),
        hdr2("EOF2"),
        format!(
            "UTL1{}{}{}{}{}",
            "0000000187049",
            "0000000187049",
            "0000001",
            "0000003",
            spaces(36)
        ),
    ];
    assert_eq!(
        lines(&file),
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[test]
fn every_label_is_80_characters_and_every_record_100_each_ending_crlf() {
    let (file, _) = write(&credits());
    assert!(file.is_ascii());
    assert!(!file.replace("\r\n", "").contains(['\r', '\n']));
    let lines = lines(&file);
    for line in &lines {
        let label = ["VOL1", "HDR1", "HDR2", "UHL1", "EOF1", "EOF2", "UTL1"]
            .iter()
            .any(|label| line.starts_with(label));
        assert_eq!(line.len(), if label { 80 } else { 100 }, "{line:?}");
    }
}

#[test]
fn the_file_holds_the_four_labels_a_record_per_credit_the_contra_and_three_trailers() {
    let (file, totals) = write(&credits());
    let lines = lines(&file);
    assert_eq!(lines.len(), 4 + 3 + 1 + 3);
    let labels: Vec<&str> = lines.iter().map(|line| &line[..4]).collect();
    assert_eq!(&labels[..4], ["VOL1", "HDR1", "HDR2", "UHL1"]);
    assert_eq!(&labels[8..], ["EOF1", "EOF2", "UTL1"]);
    let codes: Vec<&str> = lines[4..8].iter().map(|line| field(line, 16, 17)).collect();
    assert_eq!(codes, ["99", "99", "99", "17"]);
    assert_eq!(
        totals,
        BacsTotals {
            credit_count: 3,
            credit_pence: 187_049,
            debit_count: 1,
            debit_pence: 187_049,
        }
    );
}

#[test]
fn the_contra_debits_the_authority_s_own_account_with_the_sum_of_the_credits() {
    let (file, _) = write(&credits());
    let lines = lines(&file);
    let contra = lines[7];
    let credited: i64 = lines[4..7]
        .iter()
        .map(|line| field(line, 36, 46).parse::<i64>().unwrap())
        .sum();
    assert_eq!(field(contra, 36, 46).parse::<i64>().unwrap(), credited);
    assert_eq!(credited, 187_049);
    assert_eq!(field(contra, 1, 14), "40123412345678");
    assert_eq!(field(contra, 18, 31), "40123412345678");
    assert_eq!(field(contra, 65, 82).trim_end(), "CONTRA");
}

#[test]
fn the_trailer_s_values_and_counts_are_those_of_the_records() {
    let many: Vec<Credit> = (1..=250)
        .map(|n| credit(n, "203040", "11112222", "Payee", 1_000 + n as i64 * 7))
        .collect();
    let (file, totals) = write(&many);
    let lines = lines(&file);
    let records = &lines[4..lines.len() - 3];
    let (mut debits, mut credits) = ((0_i64, 0_u64), (0_i64, 0_u64));
    for record in records {
        let pence: i64 = field(record, 36, 46).parse().unwrap();
        let side = match field(record, 16, 17) {
            "99" => &mut credits,
            "17" => &mut debits,
            code => panic!("unexpected transaction code {code}"),
        };
        side.0 += pence;
        side.1 += 1;
    }
    let utl1 = lines[lines.len() - 1];
    assert_eq!(field(utl1, 5, 17).parse::<i64>().unwrap(), debits.0);
    assert_eq!(field(utl1, 18, 30).parse::<i64>().unwrap(), credits.0);
    assert_eq!(field(utl1, 31, 37).parse::<u64>().unwrap(), debits.1);
    assert_eq!(field(utl1, 38, 44).parse::<u64>().unwrap(), credits.1);
    assert_eq!(debits, (credits.0, 1));
    assert_eq!(credits.1, 250);
    assert_eq!((totals.credit_pence, totals.credit_count), credits);
    assert_eq!((totals.debit_pence, totals.debit_count), debits);
}

#[test]
fn dates_are_a_space_then_the_year_and_the_day_of_the_year() {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(julian(day(2026, 2, 1)), " 26032");
    assert_eq!(julian(day(2026, 1, 1)), " 26001");
    assert_eq!(julian(day(2028, 12, 31)), " 28366");
    assert_eq!(julian(day(2030, 3, 1)), " 30060");
    let (file, _) = write(&credits());
    let lines = lines(&file);
    assert_eq!(
        field(lines[3], 5, 10),
        " 26034",
        "UHL1 carries the processing day"
    );
    assert_eq!(
        field(lines[1], 42, 47),
        " 26029",
        "HDR1 carries the creation day"
    );
}

#[test]
fn the_labels_carry_the_service_user_number_and_the_volume_serial() {
    let (file, _) = write(&credits());
    let lines = lines(&file);
    assert_eq!(field(lines[0], 42, 47), "654321");
    assert_eq!(field(lines[1], 5, 21), "A654321S   654321");
    assert_eq!(field(lines[1], 22, 27), field(lines[0], 5, 10));
    assert_eq!(field(lines[3], 29, 40), "1 DAILY  001");
    assert_eq!(volume_serial(Uuid::nil()), "000001");
    assert_eq!(volume_serial(Uuid::max()).len(), 6);
}

#[test]
fn names_are_cleaned_to_the_bacs_character_set_and_fitted_to_the_field() {
    assert_eq!(bacs_text("o'brien care", 18), "O BRIEN CARE      ");
    assert_eq!(bacs_text("  Smith  &   Sons  ", 12), "SMITH & SONS");
    assert_eq!(bacs_text("A.B./C-D", 10), "A.B./C-D  ");
    assert_eq!(bacs_text("Café \"Ltd\" <x>; 50%", 18), "CAFE LTD X 50     ");
    assert_eq!(bacs_text("Mòrag Ní Bhriain", 18), "MORAG NI BHRIAIN  ");
    assert_eq!(bacs_text("tab\tand\nnewline", 18), "TAB AND NEWLINE   ");
    assert_eq!(bacs_text("A VERY LONG NAME INDEED", 6), "A VERY");
    assert_eq!(bacs_text("", 4), "    ");
    assert_eq!(bacs_text("©™", 3), "   ");
}

#[test]
fn amounts_of_zero_or_below_or_too_large_for_the_field_and_empty_runs_are_refused() {
    let refused = |credits: &[Credit]| {
        let mut out = Vec::new();
        let error = write_bacs(&mut out, &originator(), &run(), credits).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(out.is_empty(), "nothing is written before a refusal");
        error.to_string()
    };
    refused(&[]);
    for pence in [0, -1, 100_000_000_000] {
        let mut credits = credits();
        credits[1].amount_pence = pence;
        let message = refused(&credits);
        assert!(
            message.contains(&Uuid::from_u128(2).to_string()),
            "{message}"
        );
    }
    // Each credit fits the field but their sum does not fit the UTL1's 13 digits.
    let mut too_much: Vec<Credit> = (0..101)
        .map(|n| credit(n, "401162", "41234567", "A", 99_999_999_999))
        .collect();
    too_much.truncate(101);
    refused(&too_much);
    let mut largest = credits();
    largest.truncate(1);
    largest[0].amount_pence = 99_999_999_999;
    assert_eq!(write(&largest).1.credit_pence, 99_999_999_999);
}

#[test]
fn bank_details_that_are_not_digits_of_their_length_are_refused_without_repeating_them() {
    let mut out = Vec::new();
    let mut bad = credits();
    bad[0].sort_code = "20-30-40".to_owned();
    let error = write_bacs(&mut out, &originator(), &run(), &bad).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(!error.to_string().contains("20-30-40"), "{error}");
    let mut bad = credits();
    bad[2].account_number = "5555666".to_owned();
    assert!(write_bacs(&mut out, &originator(), &run(), &bad).is_err());
    let mut wrong_sun = originator();
    wrong_sun.service_user_number = "B12345".to_owned();
    assert!(write_bacs(&mut out, &wrong_sun, &run(), &credits()).is_err());
    assert!(out.is_empty());
}

#[test]
fn the_same_run_writes_the_same_bytes() {
    assert_eq!(write(&credits()).0, write(&credits()).0);
}

#[test]
fn a_run_above_what_one_contra_holds_has_a_contra_after_each_group_that_fits() {
    // Two credits of 600,000,000.00 each: one contra cannot hold 1,200,000,000.00.
    let big = vec![
        credit(1, "401162", "41234567", "A", 60_000_000_000),
        credit(2, "839104", "00762319", "B", 60_000_000_000),
    ];
    let (file, totals) = write(&big);
    let lines = lines(&file);
    let codes: Vec<&str> = lines[4..lines.len() - 3]
        .iter()
        .map(|record| field(record, 16, 17))
        .collect();
    assert_eq!(codes, ["99", "17", "99", "17"]);
    assert_eq!(totals.debit_count, 2);
    assert_eq!(totals.debit_pence, 120_000_000_000);
    let trailer = lines[lines.len() - 1];
    assert_eq!(field(trailer, 5, 17), "0120000000000");
    assert_eq!(field(trailer, 18, 30), "0120000000000");
    assert_eq!(field(trailer, 31, 37), "0000002");
}
