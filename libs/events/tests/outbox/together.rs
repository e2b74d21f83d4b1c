//! Events already waiting are applied together, in one transaction, and still take effect
//! once each; one that fails in a group is settled alone and leaves the others applied.

use crate::support::*;

/// How many transactions wrote the `effects` rows.
async fn transactions_that_wrote_effects(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(DISTINCT xmin::text) FROM effects")
        .fetch_one(pool)
        .await
        .expect("count the transactions")
}

#[tokio::test]
async fn events_already_waiting_take_effect_once_each_in_far_fewer_transactions_than_events() {
    let sandbox = sandbox().await;
    let events = commit_events(&sandbox.pool, 100).await;
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let handler = RecordEffect::new("only");
    let calls = Arc::clone(&handler.calls);
    let consumer = start_consumer(&sandbox, test_consumer_config("grouped"), handler);
    wait_until(DEADLINE, "every event has taken effect", || async {
        (effects_per_event(&sandbox.pool).await.len() == events.len()).then_some(())
    })
    .await;
    wait_until_consumer_is_idle(&sandbox.jetstream, "grouped").await;

    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &events);
    assert_eq!(calls.load(Ordering::SeqCst), 100, "each handler ran once");
    let transactions = transactions_that_wrote_effects(&sandbox.pool).await;
    assert!(
        transactions <= 10,
        "100 waiting events were applied in groups of up to 32, not one transaction each: {transactions} transactions"
    );
    consumer.shut_down().await;
    relay.shut_down().await;
}

#[tokio::test]
async fn a_consumer_set_to_apply_one_at_a_time_commits_each_event_alone() {
    let sandbox = sandbox().await;
    let events = commit_events(&sandbox.pool, 20).await;
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let config = ConsumerConfig {
        together: 1,
        ..test_consumer_config("alone")
    };
    let consumer = start_consumer(&sandbox, config, RecordEffect::new("only"));
    wait_until(DEADLINE, "every event has taken effect", || async {
        (effects_per_event(&sandbox.pool).await.len() == events.len()).then_some(())
    })
    .await;

    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &events);
    assert_eq!(transactions_that_wrote_effects(&sandbox.pool).await, 20);
    consumer.shut_down().await;
    relay.shut_down().await;
}

#[tokio::test]
async fn an_event_that_fails_in_a_group_is_retried_alone_and_the_others_take_effect_once_without_running_twice()
 {
    let sandbox = sandbox().await;
    let events = commit_events(&sandbox.pool, 20).await;
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    // The first handler call writes its effect and then fails: the group's transaction,
    // that write included, is rolled back.
    let handler = RecordEffect::new("only");
    handler.failures_left.store(1, Ordering::SeqCst);
    let calls = Arc::clone(&handler.calls);
    let consumer = start_consumer(&sandbox, test_consumer_config("one-fails"), handler);
    wait_until(DEADLINE, "every event has taken effect", || async {
        (effects_per_event(&sandbox.pool).await.len() == events.len()).then_some(())
    })
    .await;
    wait_until_consumer_is_idle(&sandbox.jetstream, "one-fails").await;

    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &events);
    // However the events were grouped: the failed call, one call for each of the other 19,
    // and one for the failed event's redelivery. A handler run again on the same delivery,
    // or a group applied twice, would show here.
    assert_eq!(calls.load(Ordering::SeqCst), 21);
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE consumer = 'one-fails'")
        .fetch_one(&sandbox.pool)
        .await
        .expect("count inbox");
    assert_eq!(inbox, 20);
    consumer.shut_down().await;
    relay.shut_down().await;
}
