use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::Command;

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::exports::bank::fixtures::{credit, originator};

fn run() -> RunHeader {
    RunHeader {
        run_id: Uuid::from_u128(0x0194_2b1c_7d3e_7f00_9a1b_2c3d_4e5f_6071),
        created_at: Utc.with_ymd_and_hms(2026, 1, 29, 10, 15, 42).unwrap(),
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
            "O'Brien Care (Scotland) Ltd",
            23_050,
        ),
        credit(3, "112233", "55556666", "Glen Support Services", 9_999),
    ]
}

fn write(originator: &Originator, credits: &[Credit]) -> String {
    let mut out = Vec::new();
    write_pain001(&mut out, originator, &run(), credits).unwrap();
    String::from_utf8(out).unwrap()
}

/// The schema kept in the repository (`services/payments/formats`).
fn schema() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("formats/pain.001.001.03.xsd")
}

#[test]
fn the_schema_kept_in_the_repository_is_the_designs() {
    let kept = std::fs::read(schema()).expect("the schema kept in the repository");
    assert!(
        String::from_utf8_lossy(&kept).contains("urn:iso:std:iso:20022:tech:xsd:pain.001.001.03")
    );
    // Beside the repository when the design folder is there (a developer's checkout).
    let design = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/formats/pain.001.001.03.xsd");
    if let Ok(original) = std::fs::read(&design) {
        assert_eq!(
            kept,
            original,
            "the kept schema differs from {}",
            design.display()
        );
    }
}

/// What `xmllint --schema` says of `document`: `Ok` when it validates, `Err` with its
/// messages when not. Fails the test when xmllint is not installed: the schema check is the
/// point of these tests, so it must never be skipped silently.
fn xmllint(name: &str, document: &str) -> Result<(), String> {
    let file = std::env::temp_dir().join(format!(
        "sds-payments-pain001-{}-{name}.xml",
        std::process::id()
    ));
    std::fs::write(&file, document).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let output = match output {
        Ok(output) => output,
        Err(error) if error.kind() == ErrorKind::NotFound => panic!(
            "xmllint is not installed; install libxml2-utils (apt-get install libxml2-utils) to validate pain.001 against its schema"
        ),
        Err(error) => panic!("xmllint could not run: {error}"),
    };
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The text of every `<{tag}>` element (attributes allowed), in document order; elements
/// holding others are left out.
fn texts<'a>(document: &'a str, tag: &str) -> Vec<&'a str> {
    let close = format!("</{tag}>");
    document
        .split(&format!("<{tag}"))
        .skip(1)
        // `<Cd` also begins `<CdtrAgt>`: only the tag itself, ended or with attributes.
        .filter(|rest| rest.starts_with(['>', ' ']))
        .filter_map(|rest| {
            let start = rest.find('>')? + 1;
            let end = rest.find(&close)?;
            Some(&rest[start..end])
        })
        .collect()
}

fn pence(pounds: &str) -> i64 {
    let (whole, fraction) = pounds.split_once('.').unwrap();
    assert_eq!(fraction.len(), 2, "two decimals: {pounds}");
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

#[test]
fn a_realistic_three_credit_run_validates_against_the_schema() {
    let document = write(&originator(), &credits());
    if let Err(messages) = xmllint("three-credits", &document) {
        panic!("the schema refuses the document:\n{messages}\n{document}");
    }
    assert!(document.contains(&format!(r#"<Document xmlns="{NAMESPACE}">"#)));
    assert!(document.is_ascii());
}

#[test]
fn the_validator_refuses_a_document_that_breaks_the_schema() {
    // Proves the check above can fail: a count that is not a number is refused.
    let document = write(&originator(), &credits()).replacen(
        "<NbOfTxs>3</NbOfTxs>",
        "<NbOfTxs>three</NbOfTxs>",
        1,
    );
    assert!(xmllint("broken", &document).is_err());
}

#[test]
fn counts_and_control_sums_are_those_of_the_transactions() {
    let document = write(&originator(), &credits());
    assert_eq!(texts(&document, "NbOfTxs"), ["3", "3"]);
    let amounts = texts(&document, "InstdAmt");
    assert_eq!(amounts, ["1540.00", "230.50", "99.99"]);
    let sum: i64 = amounts.iter().map(|amount| pence(amount)).sum();
    let control_sums = texts(&document, "CtrlSum");
    assert_eq!(control_sums, ["1870.49", "1870.49"]);
    assert_eq!(pence(control_sums[0]), sum);
    assert_eq!(
        document.matches(r#"<InstdAmt Ccy="GBP">"#).count(),
        3,
        "every amount is in pounds sterling"
    );
}

#[test]
fn the_header_accounts_and_agents_carry_the_run_and_the_bank_details() {
    let document = write(&originator(), &credits());
    assert_eq!(
        texts(&document, "MsgId"),
        ["01942b1c7d3e7f009a1b2c3d4e5f6071"]
    );
    assert_eq!(texts(&document, "CreDtTm"), ["2026-01-29T10:15:42"]);
    // The credit day, the working day after the Bacs processing day.
    assert_eq!(texts(&document, "ReqdExctnDt"), ["2026-02-04"]);
    assert_eq!(texts(&document, "PmtMtd"), ["TRF"]);
    assert_eq!(
        texts(&document, "MmbId"),
        ["401234", "203040", "309080", "112233"]
    );
    assert_eq!(texts(&document, "Cd"), ["GBDSC"; 4]);
    let ids = texts(&document, "Id");
    for account in [
        "40123412345678",
        "20304011112222",
        "30908033334444",
        "11223355556666",
    ] {
        assert!(ids.contains(&account), "{account} in {ids:?}");
    }
    assert_eq!(
        texts(&document, "EndToEndId"),
        ["REM-2026-000101", "REM-2026-000102", "REM-2026-000103"]
    );
    assert_eq!(texts(&document, "Ustrd"), texts(&document, "EndToEndId"));
    assert_eq!(
        texts(&document, "Nm"),
        [
            "Highland Council",
            "Highland Council",
            "Morag MacLeod",
            "O&apos;Brien Care (Scotland) Ltd",
            "Glen Support Services",
        ]
    );
}

#[test]
fn markup_characters_in_names_are_escaped_or_replaced_and_the_document_still_validates() {
    let mut authority = originator();
    authority.name = r#"Smith & Sons <Care> "Trust""#.to_owned();
    let mut credits = credits();
    credits[0].account_name = r#"O'Neil & Co <Ltd> "Home" 'Care'"#.to_owned();
    let document = write(&authority, &credits);
    if let Err(messages) = xmllint("markup", &document) {
        panic!("the schema refuses the document:\n{messages}\n{document}");
    }
    let names = texts(&document, "Nm");
    assert_eq!(names[0], "Smith &amp; Sons Care Trust");
    assert_eq!(names[2], "O&apos;Neil &amp; Co Ltd Home &apos;Care&apos;");
    for name in names {
        assert!(!name.contains(['<', '>', '"']), "{name}");
    }
    assert_eq!(
        escape(r#"<a & "b" 'c'>"#),
        "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;"
    );
}

#[test]
fn texts_are_cut_to_the_schema_s_lengths() {
    let mut long = credits();
    long[0].account_name = "Ross ".repeat(40);
    long[1].reference = "R".repeat(40);
    let document = write(&originator(), &long);
    xmllint("long", &document).unwrap();
    let names = texts(&document, "Nm");
    assert_eq!(
        names[2].len(),
        139,
        "cut at 140 and the trailing space dropped"
    );
    assert_eq!(texts(&document, "EndToEndId")[1], "R".repeat(35));
    assert_eq!(texts(&document, "Ustrd")[1], "R".repeat(40));
}

#[test]
fn empty_runs_amounts_of_zero_or_below_and_names_left_empty_are_refused() {
    let refused = |originator: &Originator, credits: &[Credit]| {
        let mut out = Vec::new();
        let error = write_pain001(&mut out, originator, &run(), credits).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(out.is_empty(), "nothing is written before a refusal");
    };
    refused(&originator(), &[]);
    for pence in [0, -5] {
        let mut credits = credits();
        credits[2].amount_pence = pence;
        refused(&originator(), &credits);
    }
    let mut credits = credits();
    credits[1].account_name = "<<>>".to_owned();
    refused(&originator(), &credits);
    let mut nameless = originator();
    nameless.name = "   ".to_owned();
    refused(&nameless, &self::credits());
    let mut bad_account = self::credits();
    bad_account[0].account_number = "1111222".to_owned();
    refused(&originator(), &bad_account);
}

#[test]
fn the_same_run_writes_the_same_bytes() {
    assert_eq!(
        write(&originator(), &credits()),
        write(&originator(), &credits())
    );
}
