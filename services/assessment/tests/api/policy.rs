//! SetPolicy and GetPolicy: an authority's policy, effective-dated, never changed once set.

use sds_proto::v1::{self as proto, EligibilityLevel};
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn a_policy_reads_back_as_set_and_the_one_in_effect_is_the_latest_started() {
    let app = TestApp::spawn().await;
    let first = app.set_policy(policy("fife", "2025-04-01")).await;
    let second = app
        .set_policy(proto::PolicyDetails {
            eligibility_threshold: EligibilityLevel::Critical as i32,
            ..policy("fife", "2026-04-01")
        })
        .await;
    assert_eq!(first.details, Some(policy("fife", "2025-04-01")));

    let get = |at: &str| {
        let mut client = app.client();
        let at = at.to_owned();
        async move {
            client
                .get_policy(bearer(
                    &practitioner("fife"),
                    proto::GetPolicyRequest {
                        authority: "fife".into(),
                        at: date(&at),
                    },
                ))
                .await
        }
    };
    assert_eq!(get("2025-12-31").await.unwrap().into_inner(), first);
    assert_eq!(get("2026-04-01").await.unwrap().into_inner(), second);
    assert_eq!(
        get("").await.unwrap().into_inner(),
        second,
        "today by default"
    );
    let message = assert_code(get("2025-03-31").await, Code::NotFound);
    assert!(
        message.contains("no policy in effect on 2025-03-31"),
        "{message}"
    );
}

#[tokio::test]
async fn a_policy_never_changes_once_set_nor_is_undercut_by_an_earlier_one() {
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let before = app.row_counts().await;

    for effective_from in ["2026-04-01", "2025-04-01"] {
        let result = app
            .client()
            .set_policy(bearer(
                &commissioning("fife"),
                proto::SetPolicyRequest {
                    details: Some(policy("fife", effective_from)),
                },
            ))
            .await;
        let message = assert_code(result, Code::FailedPrecondition);
        assert!(message.contains("must start after it"), "{message}");
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn only_the_authoritys_commissioning_staff_set_its_policy() {
    let app = TestApp::spawn().await;
    for token in [
        practitioner("fife"),
        commissioning("angus"),
        provider_token(),
    ] {
        let result = app
            .client()
            .set_policy(bearer(
                &token,
                proto::SetPolicyRequest {
                    details: Some(policy("fife", "2026-04-01")),
                },
            ))
            .await;
        assert_code(result, Code::PermissionDenied);
    }
    assert_eq!(app.row_counts().await.policies, 0);
}

#[tokio::test]
async fn a_policy_not_yet_in_effect_is_replaced_by_another_from_its_date_and_one_years_away_is_refused()
 {
    // Today is 2026-11-28 in the test clock.
    let app = TestApp::spawn().await;
    app.set_policy(policy("fife", "2026-04-01")).await;
    let scheduled = app.set_policy(policy("fife", "2027-04-01")).await;
    assert_eq!(scheduled.details.unwrap().backdating_days, 90);

    // A correction of the scheduled policy, and another scheduled before it.
    let corrected = app
        .set_policy(proto::PolicyDetails {
            backdating_days: 60,
            ..policy("fife", "2027-04-01")
        })
        .await;
    assert_eq!(corrected.details.unwrap().backdating_days, 60);
    app.set_policy(policy("fife", "2027-01-01")).await;
    let policies: i64 = sqlx::query_scalar("SELECT count(*) FROM policy")
        .fetch_one(&app.pool)
        .await
        .expect("count policies");
    assert_eq!(
        policies, 3,
        "2026-04-01, 2027-01-01 and the corrected 2027-04-01"
    );

    // A typo of decades is refused, and nothing changes.
    let before = app.row_counts().await;
    let result = app
        .client()
        .set_policy(bearer(
            &commissioning("fife"),
            proto::SetPolicyRequest {
                details: Some(policy("fife", "2062-04-01")),
            },
        ))
        .await;
    let message = assert_invalid(result, "details.effective_from");
    assert!(message.contains("more than two years ahead"), "{message}");
    assert_eq!(app.row_counts().await, before);
}
