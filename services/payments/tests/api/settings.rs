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
