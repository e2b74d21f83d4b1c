//! The outbox relay: every committed event reaches the stream once, across crashes,
//! outages, several relays and a NATS that lost its store.

use crate::support::*;

#[tokio::test]
async fn a_committed_event_is_published_once_with_its_id_as_message_id_and_a_rolled_back_one_never()
{
    let sandbox = sandbox().await;
    let (mut observer, _observer_client) = count_raw_publishes(&sandbox.nats.url()).await;
    let relay = start_relay(&sandbox, RelayConfig::default());

    let committed = commit_events(&sandbox.pool, 1).await;
    let mut rolled_back = sandbox.pool.begin().await.expect("begin");
    let discarded = enqueue(&mut rolled_back, provider_registered())
        .await
        .expect("enqueue");
    rolled_back.rollback().await.expect("rollback");
    // Committed after the rolled-back one: once it is out, the relay is past that point.
    let later = commit_events(&sandbox.pool, 1).await;
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let expected = [committed[0], later[0]];
    assert_stream_holds_each_once(&sandbox.jetstream, &expected).await;
    let publishes = collect_publishes(&mut observer, 2).await;
    assert_eq!(
        publishes,
        vec![committed[0].to_string(), later[0].to_string()],
        "each event published once, in commit order"
    );
    let rows: Vec<Uuid> =
        sqlx::query_scalar("SELECT event_id FROM outbox WHERE published_at IS NOT NULL")
            .fetch_all(&sandbox.pool)
            .await
            .expect("read outbox");
    assert_eq!(HashSet::<Uuid>::from_iter(rows), HashSet::from(expected));
    assert!(!expected.contains(&discarded));

    relay.shut_down().await;
    let idle_relay = Relay::new(
        sandbox.pool.clone(),
        sandbox.jetstream.clone(),
        RelayConfig::default(),
    );
    assert_eq!(idle_relay.publish_pending_once().await.expect("round"), 0);
}
#[tokio::test]
async fn a_relay_that_dies_between_publishing_and_marking_leaves_each_event_in_the_stream_once() {
    let sandbox = sandbox().await;
    die_at_first_mark(&sandbox.pool).await;
    let events = commit_events(&sandbox.pool, 5).await;
    let (mut observer, _observer_client) = count_raw_publishes(&sandbox.nats.url()).await;

    let dying_relay = Relay::new(
        sandbox.pool.clone(),
        sandbox.jetstream.clone(),
        RelayConfig::default(),
    );
    let crash = dying_relay.publish_pending_once().await;
    assert!(crash.is_err(), "the first relay dies before marking");
    assert_eq!(unpublished_rows(&sandbox.pool).await, 5);
    assert_stream_holds_each_once(&sandbox.jetstream, &events).await;

    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;
    let consumer = start_consumer(
        &sandbox,
        test_consumer_config("after_crash"),
        RecordEffect::new("only"),
    );
    wait_until_consumer_is_idle(&sandbox.jetstream, "after_crash").await;

    let publishes = collect_publishes(&mut observer, 10).await;
    assert_eq!(publishes.len(), 10, "every event was published twice");
    assert_stream_holds_each_once(&sandbox.jetstream, &events).await;
    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &events);
    consumer.shut_down().await;
    relay.shut_down().await;
}
#[tokio::test]
async fn events_committed_while_nats_is_down_are_retried_and_delivered_once_it_is_back() {
    let mut sandbox = sandbox().await;
    let relay = start_relay(&sandbox, RelayConfig::default());

    sandbox.nats.stop();
    let events = commit_events(&sandbox.pool, 20).await;
    wait_until(
        OUTAGE_DEADLINE,
        "the relay has failed to publish and recorded it",
        || async {
            let attempts: i32 = sqlx::query_scalar("SELECT min(attempts) FROM outbox")
                .fetch_one(&sandbox.pool)
                .await
                .ok()?;
            (attempts > 0).then_some(())
        },
    )
    .await;
    assert_eq!(unpublished_rows(&sandbox.pool).await, 20);
    let last_error: Option<String> = sqlx::query_scalar("SELECT last_error FROM outbox LIMIT 1")
        .fetch_one(&sandbox.pool)
        .await
        .expect("read last error");
    assert!(last_error.is_some_and(|error| !error.is_empty()));

    sandbox.nats.resume().await;
    wait_until_all_published(&sandbox.pool, OUTAGE_DEADLINE).await;
    let consumer = start_consumer(
        &sandbox,
        test_consumer_config("after_outage"),
        RecordEffect::new("only"),
    );
    wait_until_consumer_is_idle(&sandbox.jetstream, "after_outage").await;

    assert_stream_holds_each_once(&sandbox.jetstream, &events).await;
    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &events);
    consumer.shut_down().await;
    relay.shut_down().await;
}
#[tokio::test]
async fn two_relays_on_one_schema_publish_every_event_exactly_once() {
    let sandbox = sandbox().await;
    let events = commit_events(&sandbox.pool, 1000).await;
    let (mut observer, _observer_client) = count_raw_publishes(&sandbox.nats.url()).await;
    // Small batches, so the two relays take turns many times.
    let config = RelayConfig {
        batch_size: 20,
        ..RelayConfig::default()
    };

    let first = start_relay(&sandbox, config.clone());
    let second = start_relay(&sandbox, config);
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let publishes = collect_publishes(&mut observer, events.len()).await;
    let distinct: HashSet<&String> = publishes.iter().collect();
    assert_eq!(distinct.len(), events.len(), "no event was published twice");
    assert_stream_holds_each_once(&sandbox.jetstream, &events).await;
    first.shut_down().await;
    second.shut_down().await;
}
#[tokio::test]
async fn a_relay_killed_mid_backlog_loses_nothing_and_its_successor_duplicates_nothing() {
    let sandbox = sandbox().await;
    let committed = commit_events(&sandbox.pool, 5000).await;
    let config = RelayConfig {
        batch_size: 50,
        ..RelayConfig::default()
    };
    let doomed = start_relay(&sandbox, config.clone());
    wait_until(
        DEADLINE,
        "the first relay has published its first batch",
        // Small batches keep the backlog draining for a while; waiting for a partly drained
        // outbox instead could miss the moment on a fast machine and fail for no reason.
        || async { (unpublished_rows(&sandbox.pool).await < 5000).then_some(()) },
    )
    .await;
    // A crash: every future of the relay is dropped wherever it stands (claimed, publishing,
    // awaiting acks or marking), and its open transactions roll back.
    doomed.task.abort();
    let _ = doomed.task.await;

    let successor = start_relay(&sandbox, config);
    wait_until_all_published(&sandbox.pool, DEADLINE).await;
    assert_stream_holds_each_once(&sandbox.jetstream, &committed).await;
    successor.shut_down().await;
}
#[tokio::test]
async fn a_commit_wakes_the_relay_without_waiting_for_its_poll() {
    let sandbox = sandbox().await;
    let relay = start_relay(
        &sandbox,
        RelayConfig {
            poll_interval: Duration::from_secs(3600),
            ..RelayConfig::default()
        },
    );
    wait_until(DEADLINE, "the relay is listening for commits", || async {
        let listening: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .fetch_one(&sandbox.pool)
        .await
        .ok()?;
        (listening > 0).then_some(())
    })
    .await;

    let committed = commit_events(&sandbox.pool, 1).await;
    // Far below the hour-long poll: only the notification can explain it.
    wait_until_all_published(&sandbox.pool, Duration::from_secs(5)).await;
    assert_stream_holds_each_once(&sandbox.jetstream, &committed).await;
    relay.shut_down().await;
}
#[tokio::test]
async fn the_relay_provisions_the_stream_again_after_nats_lost_its_store() {
    let mut sandbox = sandbox().await;
    let relay = start_relay(
        &sandbox,
        RelayConfig {
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            ..RelayConfig::default()
        },
    );
    let before = commit_events(&sandbox.pool, 1).await;
    wait_until_all_published(&sandbox.pool, DEADLINE).await;
    assert_stream_holds_each_once(&sandbox.jetstream, &before).await;

    sandbox.nats.stop_and_lose_store();
    sandbox.nats.resume().await;
    let after = commit_events(&sandbox.pool, 1).await;

    wait_until_all_published(&sandbox.pool, OUTAGE_DEADLINE).await;
    assert_stream_holds_each_once(&sandbox.jetstream, &after).await;
    relay.shut_down().await;
}

#[tokio::test]
async fn rows_committed_without_notify_are_published_when_the_bell_rings_not_at_the_next_poll() {
    let sandbox = sandbox().await;
    let bell = sds_events::OutboxBell::new();
    let config = RelayConfig {
        poll_interval: Duration::from_secs(600),
        ..RelayConfig::default()
    };
    let relay =
        Relay::new(sandbox.pool.clone(), sandbox.jetstream.clone(), config).with_bell(bell.clone());
    let (stop, stopped) = until_stopped();
    let relay = Running {
        stop,
        task: tokio::spawn(relay.run(stopped)),
    };
    // Announced rows go out: the relay is up and listening.
    commit_events(&sandbox.pool, 1).await;
    wait_until_all_published(&sandbox.pool, DEADLINE).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut transaction = sandbox.pool.begin().await.expect("begin");
    sds_events::enqueue_all_unannounced(&mut transaction, vec![provider_registered(); 3])
        .await
        .expect("enqueue");
    transaction.commit().await.expect("commit");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        unpublished_rows(&sandbox.pool).await,
        3,
        "nothing announced them and the next poll is minutes away"
    );
    bell.ring();
    wait_until_all_published(&sandbox.pool, Duration::from_secs(5)).await;
    relay.shut_down().await;
}
