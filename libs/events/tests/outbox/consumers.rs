//! Typed idempotent consumers: each event takes effect once, failures retry, and events that
//! can never succeed are set aside while later ones keep flowing.

use crate::support::*;

#[tokio::test]
async fn a_duplicate_delivery_of_an_event_takes_effect_once() {
    let sandbox = sandbox().await;
    let (event_id, payload) = encoded_envelope();
    // Different message ids get past JetStream's deduplication, as a republish after the
    // duplicate window would.
    publish_with_message_id(&sandbox.jetstream, &event_id.to_string(), payload.clone()).await;
    publish_with_message_id(&sandbox.jetstream, "republished-later", payload).await;

    let handler = RecordEffect::new("only");
    let calls = Arc::clone(&handler.calls);
    let consumer = start_consumer(&sandbox, test_consumer_config("dedup"), handler);
    wait_until_consumer_is_idle(&sandbox.jetstream, "dedup").await;

    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &[event_id]);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the handler ran once");
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE consumer = 'dedup'")
        .fetch_one(&sandbox.pool)
        .await
        .expect("count inbox");
    assert_eq!(inbox, 1);
    consumer.shut_down().await;
}
#[tokio::test]
async fn two_replicas_sharing_a_durable_consumer_split_the_work_and_apply_each_event_once() {
    let sandbox = sandbox().await;
    let config = ConsumerConfig {
        batch: 5,
        ..test_consumer_config("shared")
    };
    let first = start_consumer(&sandbox, config.clone(), RecordEffect::new("first"));
    let second = start_consumer(&sandbox, config, RecordEffect::new("second"));
    // Both replicas are waiting for work before any arrives.
    wait_until(DEADLINE, "both replicas have pulls waiting", || async {
        let stream = sandbox.jetstream.get_stream(EVENTS_STREAM).await.ok()?;
        let info = stream.consumer_info("shared").await.ok()?;
        (info.num_waiting >= 2).then_some(())
    })
    .await;

    let mut events = Vec::new();
    for _ in 0..200 {
        let (event_id, payload) = encoded_envelope();
        publish_with_message_id(&sandbox.jetstream, &event_id.to_string(), payload).await;
        events.push(event_id);
    }
    wait_until_consumer_is_idle(&sandbox.jetstream, "shared").await;

    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &events);
    let per_replica: Vec<(String, i64)> =
        sqlx::query_as("SELECT replica, count(*) FROM effects GROUP BY replica ORDER BY replica")
            .fetch_all(&sandbox.pool)
            .await
            .expect("count per replica");
    assert_eq!(
        per_replica.len(),
        2,
        "both replicas did some work: {per_replica:?}"
    );
    first.shut_down().await;
    second.shut_down().await;
}
#[tokio::test]
async fn a_failing_handler_is_retried_and_its_partial_writes_are_rolled_back() {
    let sandbox = sandbox().await;
    let events = commit_events(&sandbox.pool, 1).await;
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let handler = RecordEffect::new("only");
    handler.failures_left.store(2, Ordering::SeqCst);
    let calls = Arc::clone(&handler.calls);
    let consumer = start_consumer(&sandbox, test_consumer_config("flaky"), handler);
    wait_until(DEADLINE, "the event has taken effect", || async {
        (!effects_per_event(&sandbox.pool).await.is_empty()).then_some(())
    })
    .await;
    wait_until_consumer_is_idle(&sandbox.jetstream, "flaky").await;

    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two failures, then success"
    );
    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &events);
    consumer.shut_down().await;
    relay.shut_down().await;
}
#[tokio::test]
async fn an_undecodable_message_is_set_aside_and_the_next_event_still_takes_effect() {
    let sandbox = sandbox().await;
    publish_with_message_id(
        &sandbox.jetstream,
        "not-an-envelope",
        Bytes::from_static(b"\xff\xff not protobuf"),
    )
    .await;
    let (event_id, payload) = encoded_envelope();
    publish_with_message_id(&sandbox.jetstream, &event_id.to_string(), payload).await;

    let consumer = start_consumer(
        &sandbox,
        test_consumer_config("strict"),
        RecordEffect::new("only"),
    );
    wait_until_consumer_is_idle(&sandbox.jetstream, "strict").await;

    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &[event_id]);
    let set_aside: Vec<(Option<Uuid>, String, Vec<u8>)> = sqlx::query_as(
        "SELECT event_id, reason, payload FROM dead_letter WHERE consumer = 'strict'",
    )
    .fetch_all(&sandbox.pool)
    .await
    .expect("read dead letters");
    assert_eq!(
        set_aside.len(),
        1,
        "the undecodable message is kept, not lost"
    );
    assert_eq!(set_aside[0].0, None);
    assert_eq!(set_aside[0].2, b"\xff\xff not protobuf".to_vec());
    consumer.shut_down().await;
}
/// Fails every event for good, as a handler does that finds an event it can never apply.
struct RefuseEverything;
impl EventHandler for RefuseEverything {
    const HANDLES: &'static [EventType] = &[EventType::ProviderRegistered];

    async fn handle(
        &self,
        _transaction: &mut PgConnection,
        _event: &Received,
        _body: Body,
    ) -> Result<(), HandlerError> {
        Err(HandlerError::Permanent(anyhow::anyhow!(
            "provider unknown to this service"
        )))
    }
}
#[tokio::test]
async fn an_event_a_handler_refuses_for_good_is_kept_in_dead_letter_and_not_redelivered() {
    let sandbox = sandbox().await;
    let committed = commit_events(&sandbox.pool, 1).await;
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let (stop, stopped) = until_stopped();
    let consumer = Running {
        stop,
        task: tokio::spawn(run_consumer(
            sandbox.pool.clone(),
            sandbox.jetstream.clone(),
            test_consumer_config("refuser"),
            RefuseEverything,
            stopped,
        )),
    };
    wait_until_consumer_is_idle(&sandbox.jetstream, "refuser").await;

    let set_aside: Vec<(Option<Uuid>, Option<String>, String)> = sqlx::query_as(
        "SELECT event_id, event_type, reason FROM dead_letter WHERE consumer = 'refuser'",
    )
    .fetch_all(&sandbox.pool)
    .await
    .expect("read dead letters");
    assert_eq!(
        set_aside,
        vec![(
            Some(committed[0]),
            Some("provider.registered".to_owned()),
            "provider unknown to this service".to_owned()
        )]
    );
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE consumer = 'refuser'")
        .fetch_one(&sandbox.pool)
        .await
        .expect("count inbox");
    assert_eq!(inbox, 0, "a refused event is not recorded as handled");
    consumer.shut_down().await;
    relay.shut_down().await;
}
/// Commits an event about a provider [`RefusePoison`] refuses for good.
async fn commit_poison_event(pool: &PgPool) -> Uuid {
    let mut transaction = pool.begin().await.expect("begin");
    let poison = enqueue(
        &mut transaction,
        NewEvent::new(
            AuthorityId::national(),
            "poison-provider",
            1,
            Body::ProviderRegistered(ProviderRegistered::default()),
        ),
    )
    .await
    .expect("enqueue the poison event");
    transaction.commit().await.expect("commit");
    poison
}
/// Refuses for good every event about an aggregate whose id starts with `poison`, and
/// records the rest as [`RecordEffect`] does.
struct RefusePoison {
    deliveries_of_poison: Arc<AtomicUsize>,
}
impl EventHandler for RefusePoison {
    const HANDLES: &'static [EventType] = &[EventType::ProviderRegistered];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        _body: Body,
    ) -> Result<(), HandlerError> {
        if event.aggregate_id.starts_with("poison") {
            self.deliveries_of_poison.fetch_add(1, Ordering::SeqCst);
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "this provider can never be applied"
            )));
        }
        sqlx::query("INSERT INTO effects (event_id, replica) VALUES ($1, 'only')")
            .bind(event.event_id)
            .execute(&mut *transaction)
            .await?;
        Ok(())
    }
}
#[tokio::test]
async fn a_poison_event_is_set_aside_after_the_configured_attempts_while_later_events_keep_flowing()
{
    let sandbox = sandbox().await;
    let poison = commit_poison_event(&sandbox.pool).await;
    let later = commit_events(&sandbox.pool, 3).await;
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let deliveries_of_poison = Arc::new(AtomicUsize::new(0));
    let metrics = sds_platform::Metrics::start(
        &sds_platform::metrics::MetricsExport {
            prometheus: true,
            otlp_endpoint: None,
        },
        "sds",
    );
    let (stop, stopped) = until_stopped();
    let consumer = Running {
        stop,
        task: tokio::spawn(run_consumer(
            sandbox.pool.clone(),
            sandbox.jetstream.clone(),
            ConsumerConfig {
                poison_attempts: 4,
                dead_letters: metrics.dead_letters("test", "poisoned"),
                ..test_consumer_config("poisoned")
            },
            RefusePoison {
                deliveries_of_poison: Arc::clone(&deliveries_of_poison),
            },
            stopped,
        )),
    };
    wait_until(DEADLINE, "the poison event is set aside", || async {
        let set_aside: i64 =
            sqlx::query_scalar("SELECT count(*) FROM dead_letter WHERE consumer = 'poisoned'")
                .fetch_one(&sandbox.pool)
                .await
                .ok()?;
        (set_aside == 1).then_some(())
    })
    .await;
    wait_until_consumer_is_idle(&sandbox.jetstream, "poisoned").await;

    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &later);
    let (event_id, reason, deliveries): (Option<Uuid>, String, i32) = sqlx::query_as(
        "SELECT event_id, reason, deliveries FROM dead_letter WHERE consumer = 'poisoned'",
    )
    .fetch_one(&sandbox.pool)
    .await
    .expect("read the dead letter");
    assert_eq!(event_id, Some(poison));
    assert_eq!(reason, "this provider can never be applied");
    assert_eq!(deliveries, 4, "set aside on its fourth delivery");
    assert_eq!(deliveries_of_poison.load(Ordering::SeqCst), 4);
    // Counted once, for the alert on dead letters.
    let counted: Vec<String> = metrics
        .prometheus_text()
        .expect("metrics")
        .lines()
        .filter(|line| line.starts_with("sds_consumer_dead_letters{"))
        .map(str::to_owned)
        .collect();
    assert_eq!(counted.len(), 1, "{counted:?}");
    assert!(counted[0].contains(r#"durable="poisoned""#), "{counted:?}");
    assert!(counted[0].ends_with("} 1"), "{counted:?}");
    consumer.shut_down().await;
    relay.shut_down().await;
}
#[tokio::test]
async fn a_poison_event_is_set_aside_on_the_last_delivery_jetstream_allows() {
    let sandbox = sandbox().await;
    let poison = commit_poison_event(&sandbox.pool).await;
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let (stop, stopped) = until_stopped();
    let consumer = Running {
        stop,
        task: tokio::spawn(run_consumer(
            sandbox.pool.clone(),
            sandbox.jetstream.clone(),
            ConsumerConfig {
                // JetStream stops delivering before the poison attempts are used up.
                max_deliver: 2,
                poison_attempts: 5,
                ..test_consumer_config("limited")
            },
            RefusePoison {
                deliveries_of_poison: Arc::default(),
            },
            stopped,
        )),
    };
    let letter: (Option<Uuid>, Option<i32>) =
        wait_until(DEADLINE, "the poison event is set aside", || async {
            sqlx::query_as(
                "SELECT event_id, deliveries FROM dead_letter WHERE consumer = 'limited'",
            )
            .fetch_optional(&sandbox.pool)
            .await
            .ok()
            .flatten()
        })
        .await;
    assert_eq!(letter, (Some(poison), Some(2)));
    consumer.shut_down().await;
    relay.shut_down().await;
}
/// Records provider registrations and updates alike.
struct RecordRegistrationsAndUpdates;
impl EventHandler for RecordRegistrationsAndUpdates {
    const HANDLES: &'static [EventType] =
        &[EventType::ProviderRegistered, EventType::ProviderUpdated];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        _body: Body,
    ) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO effects (event_id, replica) VALUES ($1, 'only')")
            .bind(event.event_id)
            .execute(&mut *transaction)
            .await?;
        Ok(())
    }
}
#[tokio::test]
async fn a_durable_consumer_made_for_fewer_event_types_is_brought_to_its_handlers_filter() {
    let sandbox = sandbox().await;
    // An earlier build's consumer that only took registrations.
    let stream = ensure_stream(&sandbox.jetstream, sds_events::DEFAULT_DUPLICATE_WINDOW, 1)
        .await
        .expect("stream");
    stream
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some("widened".to_owned()),
            filter_subject: "sds.*.provider.registered".to_owned(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .expect("create the old consumer");
    let mut transaction = sandbox.pool.begin().await.expect("begin");
    let updated = enqueue(
        &mut transaction,
        NewEvent::new(
            AuthorityId::national(),
            "p-1",
            2,
            Body::ProviderUpdated(sds_proto::v1::ProviderUpdated::default()),
        ),
    )
    .await
    .expect("enqueue an update");
    transaction.commit().await.expect("commit");
    let relay = start_relay(&sandbox, RelayConfig::default());
    wait_until_all_published(&sandbox.pool, DEADLINE).await;

    let (stop, stopped) = until_stopped();
    let consumer = Running {
        stop,
        task: tokio::spawn(run_consumer(
            sandbox.pool.clone(),
            sandbox.jetstream.clone(),
            test_consumer_config("widened"),
            RecordRegistrationsAndUpdates,
            stopped,
        )),
    };
    wait_until(DEADLINE, "the update takes effect", || async {
        (!effects_per_event(&sandbox.pool).await.is_empty()).then_some(())
    })
    .await;
    assert_each_took_effect_once(&effects_per_event(&sandbox.pool).await, &[updated]);
    let filter = stream
        .clone()
        .consumer_info("widened")
        .await
        .expect("consumer info")
        .config
        .filter_subject
        .clone();
    assert_eq!(filter, "sds.*.provider.>");
    consumer.shut_down().await;
    relay.shut_down().await;
}
