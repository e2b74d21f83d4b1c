//! The authority's payment settings: its finance staff set the four-weekly anchor, which
//! schedules made from then on follow; schedules already made keep their periods.

use sds_proto::v1::{self as proto, PaymentFrequency};
use tonic::Code;

use crate::support::*;

impl TestApp {
    async fn set_settings(
        &self,
        token: &str,
        authority: &str,
        anchor: Option<&str>,
    ) -> Result<proto::PaymentSettings, tonic::Status> {
        self.client()
            .set_payment_settings(sds_testkit::bearer(
                token,
                proto::SetPaymentSettingsRequest {
                    authority: authority.to_owned(),
                    anchor_date: anchor.map(date),
                    journal_codes: None,
                    paying_account: None,
                    contribution_arrears_periods: 0,
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn settings(
        &self,
        token: &str,
        authority: &str,
    ) -> Result<proto::PaymentSettings, tonic::Status> {
        self.client()
            .get_payment_settings(sds_testkit::bearer(
                token,
                proto::GetPaymentSettingsRequest {
                    authority: authority.to_owned(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }
}

fn four_weekly_from(version: u32, id_suffix: &str) -> proto::Agreement {
    let mut agreement = agreement(
        version,
        "2026-04-20",
        "2026-04-01",
        terms(PaymentFrequency::FourWeekly, None, "2026-04-20"),
        vec![line(1, "210.00", "2026-04-20", None)],
    );
    agreement.id = format!("0192f0c1-0000-7000-8000-0000000000{id_suffix}");
    agreement
}

#[tokio::test]
async fn a_new_anchor_shapes_schedules_made_after_it_and_leaves_earlier_ones_as_they_were() {
    let app = TestApp::spawn().await;
    let defaults = app
        .settings(&practitioner(AUTHORITY), AUTHORITY)
        .await
        .expect("the defaults");
    assert_eq!(defaults.anchor_date, Some(date("2026-04-06")));
    assert!(!defaults.set);

    let before = four_weekly_from(1, "e1");
    app.deliver(&signed(before.clone())).await;
    let set = app
        .set_settings(&finance(AUTHORITY), AUTHORITY, Some("2026-04-20"))
        .await
        .expect("finance sets the anchor");
    assert!(set.set);
    let after = four_weekly_from(1, "e2");
    app.deliver(&signed(after.clone())).await;

    let first_due = |schedule: &proto::Schedule| schedule.instalments[0].due_date.clone();
    let earlier = app
        .schedule(&finance(AUTHORITY), &before.id)
        .await
        .expect("a schedule");
    assert_eq!(first_due(&earlier), Some(date("2026-04-06")));
    assert_eq!(
        earlier.history.expect("history").anchor_date,
        Some(date("2026-04-06"))
    );
    let later = app
        .schedule(&finance(AUTHORITY), &after.id)
        .await
        .expect("a schedule");
    assert_eq!(first_due(&later), Some(date("2026-04-20")));
    assert_eq!(later.instalments[0].amount, Some(money("840.00")));
    assert_eq!(
        app.settings(&finance(AUTHORITY), AUTHORITY)
            .await
            .expect("the settings")
            .anchor_date,
        Some(date("2026-04-20"))
    );
}

#[tokio::test]
async fn only_the_authoritys_finance_staff_set_its_settings_and_only_its_staff_read_them() {
    let app = TestApp::spawn().await;
    for token in [
        practitioner(AUTHORITY),
        finance(OTHER_AUTHORITY),
        provider(PROVIDER),
        person(PERSON),
    ] {
        assert_refused(
            app.set_settings(&token, AUTHORITY, Some("2026-04-20"))
                .await,
            Code::PermissionDenied,
            "payment settings of fife are set by its finance staff",
        );
    }
    for token in [
        finance(OTHER_AUTHORITY),
        provider(PROVIDER),
        holder(HOLDER),
        person(PERSON),
    ] {
        assert_refused(
            app.settings(&token, AUTHORITY).await,
            Code::PermissionDenied,
            "payment settings of fife are read by its staff",
        );
    }
    assert!(app.row_counts().await.iter().all(|(_, count)| *count == 0));
}

#[tokio::test]
async fn journal_codes_are_kept_with_the_settings_and_a_code_a_finance_system_would_not_take_is_refused()
 {
    let app = TestApp::spawn().await;
    let set = |codes: proto::JournalCodes| {
        let mut client = app.client();
        async move {
            client
                .set_payment_settings(sds_testkit::bearer(
                    &finance(AUTHORITY),
                    proto::SetPaymentSettingsRequest {
                        authority: AUTHORITY.to_owned(),
                        anchor_date: Some(date("2026-04-06")),
                        journal_codes: Some(codes),
                        paying_account: None,
                        contribution_arrears_periods: 0,
                    },
                ))
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let codes = proto::JournalCodes {
        expense_account: "5120".to_owned(),
        bank_account: "9001".to_owned(),
        cost_centre: "SDS-OPT2".to_owned(),
    };
    set(codes.clone()).await.expect("codes set");
    let read = app
        .settings(&practitioner(AUTHORITY), AUTHORITY)
        .await
        .expect("settings");
    assert_eq!(read.journal_codes, Some(codes.clone()));
    let rows = app.row_counts().await;
    for (field, bad) in [
        ("expense_account", "=SUM(A1)"),
        ("bank_account", ""),
        ("cost_centre", "a cost centre far too long"),
    ] {
        let mut wrong = codes.clone();
        match field {
            "expense_account" => wrong.expense_account = bad.to_owned(),
            "bank_account" => wrong.bank_account = bad.to_owned(),
            _ => wrong.cost_centre = bad.to_owned(),
        }
        assert_refused(
            set(wrong).await,
            Code::InvalidArgument,
            &format!("journal_codes.{field}: "),
        );
    }
    assert_eq!(app.row_counts().await, rows);
    assert_eq!(
        app.settings(&finance(AUTHORITY), AUTHORITY)
            .await
            .expect("settings")
            .journal_codes,
        Some(codes)
    );
}

#[tokio::test]
async fn bad_settings_are_refused_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        ("", Some("2026-04-20"), "authority is empty"),
        (
            "Fife!",
            Some("2026-04-20"),
            "authority \"Fife!\" is not an authority id",
        ),
        (AUTHORITY, None, "anchor_date: missing"),
        (
            AUTHORITY,
            Some("2026-04-31"),
            "anchor_date: \"2026-04-31\" is not a date",
        ),
    ];
    for (authority, anchor, words) in cases {
        assert_refused(
            app.set_settings(&finance(AUTHORITY), authority, anchor)
                .await,
            Code::InvalidArgument,
            words,
        );
    }
    assert!(app.row_counts().await.iter().all(|(_, count)| *count == 0));
}
