//! What keeps the tables small and the facts in order: pruning after retention, and the
//! newest-version check.

use crate::support::*;

#[tokio::test]
async fn pruning_removes_only_published_outbox_rows_and_inbox_rows_past_retention() {
    let sandbox = sandbox().await;
    let events = commit_events(&sandbox.pool, 4).await;
    // Two published long ago, one published just now, one never published (and old).
    sqlx::query(
        "UPDATE outbox SET published_at = now() - interval '10 days', created_at = now() - interval '10 days' \
         WHERE event_id = ANY($1)",
    )
    .bind(&events[0..2])
    .execute(&sandbox.pool)
    .await
    .expect("age two published rows");
    sqlx::query("UPDATE outbox SET published_at = now() WHERE event_id = $1")
        .bind(events[2])
        .execute(&sandbox.pool)
        .await
        .expect("publish one row now");
    sqlx::query("UPDATE outbox SET created_at = now() - interval '400 days' WHERE event_id = $1")
        .bind(events[3])
        .execute(&sandbox.pool)
        .await
        .expect("age the unpublished row");
    sqlx::query(
        "INSERT INTO inbox (consumer, event_id, event_type, handled_at) VALUES \
         ('portal', $1, 'provider.registered', now() - interval '50 days'), \
         ('portal', $2, 'provider.registered', now() - interval '1 day')",
    )
    .bind(events[0])
    .bind(events[1])
    .execute(&sandbox.pool)
    .await
    .expect("record two handled events");

    let pruned = sds_events::prune(
        &sandbox.pool,
        sds_events::Retention {
            outbox: Duration::from_secs(7 * 24 * 3600),
            inbox: Duration::from_secs(45 * 24 * 3600),
        },
    )
    .await
    .expect("prune");

    assert_eq!((pruned.outbox_rows, pruned.inbox_rows), (2, 1));
    let outbox: Vec<Uuid> = sqlx::query_scalar("SELECT event_id FROM outbox ORDER BY position")
        .fetch_all(&sandbox.pool)
        .await
        .expect("read outbox");
    assert_eq!(
        outbox,
        events[2..].to_vec(),
        "the recent and the unpublished rows stay"
    );
    let inbox: Vec<Uuid> = sqlx::query_scalar("SELECT event_id FROM inbox")
        .fetch_all(&sandbox.pool)
        .await
        .expect("read inbox");
    assert_eq!(inbox, vec![events[1]]);
}
#[tokio::test]
async fn an_older_version_arriving_after_a_newer_one_is_recognised_as_stale() {
    let sandbox = sandbox().await;
    let mut transaction = sandbox.pool.begin().await.expect("begin");
    let mut seen = Vec::new();
    for version in [2, 1, 2, 3] {
        seen.push(
            sds_events::versions::advance(&mut transaction, "portal", "provider", "p-1", version)
                .await
                .expect("advance"),
        );
    }
    let other_consumer =
        sds_events::versions::advance(&mut transaction, "contracts", "provider", "p-1", 1)
            .await
            .expect("advance");
    transaction.commit().await.expect("commit");
    assert_eq!(seen, vec![true, false, false, true]);
    assert!(other_consumer, "each consumer keeps its own versions");
}
