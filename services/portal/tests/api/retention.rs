//! Notifications past their retention are pruned, each subscriber's oldest first, and a
//! resume from before what is kept is refused with what was lost, never answered with a gap.

use std::time::Duration;

use sds_testkit::wait_until;
use tonic::Code;

use crate::support::*;

/// Ages the subscriber's notifications numbered up to `through` past a day's retention.
async fn age(app: &TestApp, through: i64) {
    sqlx::query("UPDATE notification SET recorded_at = now() - interval '2 days' WHERE seq <= $1")
        .bind(through)
        .execute(&app.pool)
        .await
        .expect("aged");
}

async fn pruned_through(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT pruned_through FROM subscriber")
        .fetch_one(&app.pool)
        .await
        .expect("read")
}

#[tokio::test]
async fn old_notifications_are_pruned_and_a_cursor_from_before_what_is_kept_is_refused() {
    let app = TestApp::spawn_with_environment(vec![
        ("SDS_NOTIFICATION_RETENTION_DAYS", "1".to_owned()),
        ("SDS_PRUNE_INTERVAL_SECONDS", "1".to_owned()),
    ])
    .await;
    let deeside = new_id();
    let token = provider(&deeside);
    for number in [
        "R000000001",
        "R000000002",
        "R000000003",
        "R000000004",
        "R000000005",
    ] {
        app.deliver(&remittance(&deeside, number, "10.00")).await;
    }
    age(&app, 3).await;
    wait_until(
        Duration::from_secs(15),
        "the pruner removes 1 to 3",
        || async { (pruned_through(&app).await == 3).then_some(()) },
    )
    .await;
    let kept: Vec<i64> = sqlx::query_scalar("SELECT seq FROM notification ORDER BY seq")
        .fetch_all(&app.pool)
        .await
        .expect("read");
    assert_eq!(kept, [4, 5], "a prefix is pruned, nothing after it");

    // From before what is kept: refused, naming what was lost.
    let refused = app
        .subscribe(&token, "1")
        .await
        .expect_err("2 and 3 are gone");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("after: is 1, but notifications 2 to 3 are no longer kept"),
        "{}",
        refused.message()
    );
    // From the last pruned one, or the start: what is kept, in order, once.
    let mut resumed = app.subscribe(&token, "3").await.expect("3 was received");
    assert_eq!(seqs(&next_n(&mut resumed, 2).await), [4, 5]);
    let mut from_start = app.subscribe(&token, "").await.expect("everything kept");
    assert_eq!(seqs(&next_n(&mut from_start, 2).await), [4, 5]);

    // Numbering carries on after pruning.
    app.deliver(&remittance(&deeside, "R000000006", "10.00"))
        .await;
    assert_eq!(next(&mut resumed).await.seq, 6);
}
