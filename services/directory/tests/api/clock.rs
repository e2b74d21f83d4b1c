//! The directory reads "today" from the platform's clock: check statuses and the refusal of
//! future-dated grades and checks follow the clock a test (or a simulation) sets.

use chrono::NaiveDate;
use sds_platform::ManualClock;
use sds_proto::v1::{self as proto, CheckStatus, KeyQuestion};
use sds_testkit::bearer;

use crate::support::*;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn check_statuses_and_date_limits_follow_the_platform_clock() {
    let hand = ManualClock::on(day("2031-03-01"));
    let app = TestApp::spawn_with_clock(hand.clock()).await;
    let provider = app.commissioning_registers(details("Kemnay PA")).await;
    let staff = commissioning("aberdeenshire");

    // In 2031 an inspection of 2030 has happened, whatever the machine's date.
    let graded = app
        .record_grades(
            &provider.id,
            vec![grade(KeyQuestion::Setting, 5, "2030-11-02")],
        )
        .await;
    assert_eq!(graded.min_grade, 5);

    let checked = app
        .client()
        .record_check(bearer(
            &staff,
            proto::RecordCheckRequest {
                provider_id: provider.id.clone(),
                check: Some(proto::Check {
                    kind: proto::CheckKind::PvgMembership as i32,
                    reference: "PVG-1".into(),
                    checked_on: date("2030-03-20"),
                    expires_on: date("2031-03-20"),
                    status: 0,
                }),
            },
        ))
        .await
        .expect("a check made before the clock's today")
        .into_inner();
    assert_eq!(checked.checks[0].status, CheckStatus::Expiring as i32);

    hand.set(ManualClock::on(day("2031-03-21")).clock().now());
    let later = app.get(&provider.id).await;
    assert_eq!(later.checks[0].status, CheckStatus::Expired as i32);
    let tomorrow = app
        .client()
        .record_grades(bearer(
            &staff,
            proto::RecordGradesRequest {
                provider_id: provider.id.clone(),
                grades: vec![grade(KeyQuestion::Setting, 4, "2031-03-22")],
            },
        ))
        .await;
    assert_invalid(tomorrow, "grades[0].inspected_on");
}
