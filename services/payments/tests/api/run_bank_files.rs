//! What a run sends to the bank and to its payees: one credit per payee in a Bacs Standard
//! 18 file and an ISO 20022 pain.001 file (validated against the published schema by a
//! real validator), one remittance per payee listing what it pays for, and payees without
//! bank details held back until they have some.

use std::path::Path;

use sds_proto::v1 as proto;
use tonic::Code;

use crate::run_support::*;
use crate::support::*;

fn file_named<'a>(summary: &'a proto::PaymentRunSummary, name: &str) -> &'a Path {
    summary
        .files
        .iter()
        .map(Path::new)
        .find(|path| path.file_name().is_some_and(|file| file == name))
        .unwrap_or_else(|| panic!("no {name} in {:?}", summary.files))
}

/// The schema the issue names, as kept in the repository (`services/payments/formats`).
fn pain001_schema() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("formats/pain.001.001.03.xsd")
}

fn assert_valid_pain001(path: &Path) {
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(pain001_schema())
        .arg(path)
        .output()
        .expect("xmllint runs (install Debian's libxml2-utils; deploy/local/test does)");
    assert!(
        output.status.success(),
        "{} does not validate: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn remittance(
    app: &TestApp,
    token: &str,
    number: &str,
) -> Result<proto::Remittance, tonic::Status> {
    app.client()
        .get_remittance(sds_testkit::bearer(
            token,
            proto::GetRemittanceRequest {
                number: number.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn second_provider_agreement() -> proto::Agreement {
    let mut second = first_version();
    second.id = "0192f0c1-0000-7000-8000-0000000000d2".to_owned();
    second.provider_id = OTHER_PROVIDER.to_owned();
    second.payee_id = OTHER_PROVIDER.to_owned();
    second.lines = vec![line(1, "70.00", "2026-04-20", None)];
    second
}

#[tokio::test]
async fn a_run_pays_each_payee_once_by_bacs_and_pain001_with_a_remittance_listing_what_for() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    app.deliver(&signed(second_provider_agreement())).await;
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(figures(&ran.summary), (6, 2, "2800.00".to_owned()));
    assert!(ran.summary.held.is_empty());

    // Bacs: 80-character labels, 100-character records, a credit per payee and a contra.
    let bacs = std::fs::read_to_string(file_named(&ran.summary, "bacs-standard18.txt")).unwrap();
    let lines: Vec<&str> = bacs.lines().collect();
    let labels = ["VOL1", "HDR1", "HDR2", "UHL1"];
    for (line, label) in lines.iter().zip(labels) {
        assert!(line.starts_with(label), "{line}");
        assert_eq!(line.len(), 80, "{line}");
    }
    let records = &lines[4..lines.len() - 3];
    assert_eq!(records.len(), 3, "two credits and a contra: {records:?}");
    assert!(records.iter().all(|record| record.len() == 100));
    let credit_of = |sort_code: &str| -> &str {
        records
            .iter()
            .find(|record| record.starts_with(sort_code) && &record[15..17] == "99")
            .unwrap_or_else(|| panic!("no credit to {sort_code}: {records:?}"))
    };
    let to_provider = credit_of("401162");
    assert_eq!(&to_provider[6..14], "41234567");
    assert_eq!(&to_provider[35..46], "00000210000", "2100.00 in pence");
    assert_eq!(
        &to_provider[17..31],
        "80226010203040",
        "from the paying account"
    );
    let to_other = credit_of("839104");
    assert_eq!(&to_other[35..46], "00000070000");
    let contra = records[2];
    assert_eq!(&contra[15..17], "17");
    assert_eq!(&contra[35..46], "00000280000");
    let trailer = lines.last().unwrap();
    assert!(trailer.starts_with("UTL1"), "{trailer}");
    assert_eq!(&trailer[4..17], "0000000280000", "debit value");
    assert_eq!(&trailer[17..30], "0000000280000", "credit value");
    assert_eq!(&trailer[30..37], "0000001", "debit count");
    assert_eq!(&trailer[37..44], "0000002", "credit count");

    // pain.001: valid against the published schema, with the same credits.
    let pain = file_named(&ran.summary, "pain001.xml");
    assert_valid_pain001(pain);
    let xml = std::fs::read_to_string(pain).unwrap();
    assert!(xml.contains("<NbOfTxs>2</NbOfTxs>"), "{xml}");
    assert!(xml.contains("<CtrlSum>2800.00</CtrlSum>"), "{xml}");

    // A remittance per payee, its number the reference the bank carries.
    let issued: Vec<proto::RemittanceIssued> = app
        .events_of("remittance.issued")
        .await
        .into_iter()
        .map(|event| match event.body {
            Some(proto::event::Body::RemittanceIssued(issued)) => issued,
            other => panic!("not a remittance: {other:?}"),
        })
        .collect();
    assert_eq!(issued.len(), 2);
    let to_provider_remittance = issued
        .iter()
        .find(|issued| issued.payee_id == PROVIDER)
        .expect("the provider's remittance");
    assert_eq!(to_provider_remittance.items, 3);
    assert_eq!(to_provider_remittance.total, Some(money("2100.00")));
    assert!(to_provider.contains(&to_provider_remittance.number));
    assert!(xml.contains(&format!(
        "<EndToEndId>{}</EndToEndId>",
        to_provider_remittance.number
    )));

    let read = remittance(&app, &provider(PROVIDER), &to_provider_remittance.number)
        .await
        .expect("the provider reads its remittance");
    assert_eq!(read.run_id, ran.summary.run_id);
    let amounts: Vec<(String, String)> = read
        .items
        .iter()
        .map(|item| {
            (
                item.period_start.clone().unwrap().iso,
                item.amount.clone().unwrap().amount,
            )
        })
        .collect();
    assert_eq!(
        amounts,
        vec![
            ("2026-04-06".to_owned(), "420.00".to_owned()),
            ("2026-05-04".to_owned(), "840.00".to_owned()),
            ("2026-06-01".to_owned(), "840.00".to_owned()),
        ]
    );
    assert!(read.items.iter().all(|item| item.person_id == PERSON));
    assert_eq!(
        remittance(&app, &finance(AUTHORITY), &to_provider_remittance.number)
            .await
            .expect("the authority reads it"),
        read
    );
    for stranger in [
        provider(OTHER_PROVIDER),
        finance(OTHER_AUTHORITY),
        person(PERSON),
    ] {
        assert_refused(
            remittance(&app, &stranger, &to_provider_remittance.number).await,
            Code::NotFound,
            "no remittance",
        );
    }
    assert_refused(
        remittance(&app, &finance(AUTHORITY), "R=1+2").await,
        Code::InvalidArgument,
        "number: ",
    );

    // Finishing nothing again issues nothing again.
    let again = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(again.summary.instalments, 0);
    assert_eq!(app.events_of("remittance.issued").await.len(), 2);
}

#[tokio::test]
async fn a_payee_without_bank_details_is_held_and_paid_by_the_next_run_once_they_are_entered() {
    let app = TestApp::spawn_ledger_unprepared().await;
    app.client()
        .set_payment_settings(sds_testkit::bearer(
            &finance(AUTHORITY),
            proto::SetPaymentSettingsRequest {
                authority: AUTHORITY.to_owned(),
                anchor_date: Some(date("2026-04-06")),
                journal_codes: None,
                paying_account: Some(paying_account()),
                contribution_arrears_periods: 0,
            },
        ))
        .await
        .expect("the paying account");
    app.deliver(&signed(first_version())).await;
    let held = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(figures(&held.summary), (0, 0, "0.00".to_owned()));
    assert_eq!(
        held.summary.held,
        vec![proto::HeldPayee {
            payee_id: PROVIDER.to_owned(),
            instalments: 3,
            total: Some(money("2100.00")),
        }]
    );
    assert_eq!(held.summary.files.len(), 1, "the journal alone");
    assert!(app.events_of("remittance.issued").await.is_empty());

    app.set_payee_account(&finance(AUTHORITY), PROVIDER, payee_account(PROVIDER))
        .await
        .expect("entered");
    let paid = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    assert_eq!(figures(&paid.summary), (3, 1, "2100.00".to_owned()));
    assert!(paid.summary.held.is_empty());
    assert_eq!(app.events_of("remittance.issued").await.len(), 1);
}

#[tokio::test]
async fn a_run_without_a_paying_account_is_refused_and_records_nothing() {
    let app = TestApp::spawn_ledger_unprepared().await;
    app.deliver(&signed(first_version())).await;
    let rows = app.row_counts().await;
    assert_refused(
        app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
            .await,
        Code::FailedPrecondition,
        "no paying account",
    );
    assert_eq!(app.row_counts().await, rows);
}

#[tokio::test]
async fn a_run_finished_again_writes_its_bank_files_byte_for_byte_the_same() {
    let app = TestApp::spawn_with_ledger().await;
    app.deliver(&signed(first_version())).await;
    let ran = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");
    let read = |summary: &proto::PaymentRunSummary| -> Vec<Vec<u8>> {
        summary
            .files
            .iter()
            .map(|path| std::fs::read(path).unwrap())
            .collect()
    };
    let first = read(&ran.summary);
    // As if the process had died after writing the files but before the transaction that
    // completes the run and enqueues its events.
    sqlx::query("UPDATE payment_run SET status = 'posting', completed_at = NULL, instalments = NULL, payees = NULL, total = NULL")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "DELETE FROM outbox WHERE event_type IN ('remittance.issued', 'payment.run.completed')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    for path in &ran.summary.files {
        std::fs::remove_file(path).unwrap();
    }
    let finished = app
        .run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("finished");
    assert!(finished.summary.resumed);
    assert_eq!(finished.summary.files, ran.summary.files);
    assert_eq!(read(&finished.summary), first);
    assert_eq!(app.events_of("remittance.issued").await.len(), 1);
}

#[tokio::test]
async fn a_remittance_shows_the_case_reference_and_the_name_only_to_the_provider_the_person_chose()
{
    let app = TestApp::spawn_with_ledger().await;
    let person = app
        .assessment
        .clone()
        .record_person(sds_testkit::bearer(
            &practitioner(AUTHORITY),
            proto::RecordPersonRequest {
                authority: AUTHORITY.to_owned(),
                details: Some(proto::PersonDetails {
                    case_reference: "SW-0042".to_owned(),
                    display_name: "Morag Innes".to_owned(),
                    date_of_birth: Some(date("1941-02-17")),
                    locality: "Banchory".to_owned(),
                    client_groups: vec![proto::ClientGroup::ElderlyFrail as i32],
                }),
            },
        ))
        .await
        .expect("a person")
        .into_inner();
    let mut chosen = first_version();
    chosen.person_id = person.id.clone();
    let mut held = held_by_third_party(second_provider_agreement());
    held.person_id = person.id.clone();
    app.deliver(&signed(chosen)).await;
    app.deliver(&signed(held)).await;
    app.run_payments(&finance(AUTHORITY), AUTHORITY, "2026-06-01")
        .await
        .expect("a run");

    let number_of = |payee: &str| {
        let issued = app.events_of("remittance.issued");
        let payee = payee.to_owned();
        async move {
            issued
                .await
                .into_iter()
                .find_map(|event| match event.body {
                    Some(proto::event::Body::RemittanceIssued(issued))
                        if issued.payee_id == payee =>
                    {
                        Some(issued.number)
                    }
                    _ => None,
                })
                .expect("a remittance")
        }
    };
    let to_provider = remittance(&app, &provider(PROVIDER), &number_of(PROVIDER).await)
        .await
        .expect("the provider's remittance");
    assert!(!to_provider.items.is_empty());
    assert!(
        to_provider
            .items
            .iter()
            .all(|item| item.case_reference == "SW-0042"
                && item.person_name == "Morag Innes"
                && item.person_id == person.id)
    );

    // Assessment keeps who the names were read for.
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT actor FROM assessment.person_audit WHERE action = 'person.looked_up'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actors, vec![format!("sds-payments for {PROVIDER}")]);

    let to_holder = remittance(&app, &holder(HOLDER), &number_of(HOLDER).await)
        .await
        .expect("the holder's remittance");
    assert!(!to_holder.items.is_empty());
    assert!(
        to_holder
            .items
            .iter()
            .all(|item| item.case_reference == "SW-0042" && item.person_name.is_empty()),
        "{to_holder:?}"
    );
}
