//! The outbox relay and the idempotent consumers against real PostgreSQL and a NATS server
//! of each test's own, which a test may stop and resume.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use futures::StreamExt as _;
use prost::Message as _;
use sds_events::consumer::{ConsumerConfig, EventHandler, HandlerError, Received, run_consumer};
use sds_events::relay::{Relay, RelayConfig};
use sds_events::{EVENTS_STREAM, EventType, NewEvent, enqueue, ensure_stream};
use sds_proto::v1::event::Body;
use sds_proto::v1::{Event, Provider, ProviderRegistered};
use sds_testkit::{PrivateNats, fresh_database, init_test_logging, wait_until};
use sds_vocabulary::AuthorityId;
use sqlx::{PgConnection, PgPool};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);
/// Long enough for a relay's NATS client to notice an outage, reconnect and retry.
const OUTAGE_DEADLINE: Duration = Duration::from_secs(90);

/// A test's own database schema, NATS server and JetStream events stream.
struct Sandbox {
    pool: PgPool,
    nats: PrivateNats,
    jetstream: jetstream::Context,
}

async fn sandbox() -> Sandbox {
    init_test_logging();
    let database = fresh_database().await;
    let pool = database.pool_for_schema("events_test").await;
    sds_events::migrate(&pool)
        .await
        .expect("migrate outbox and inbox");
    // What the test handlers do: deliberately without a unique key, so that an event
    // applied twice would show as two rows.
    sqlx::query("CREATE TABLE effects (event_id uuid NOT NULL, replica text NOT NULL)")
        .execute(&pool)
        .await
        .expect("create effects table");
    let nats = PrivateNats::start().await;
    let client = async_nats::connect(nats.url())
        .await
        .expect("connect to private NATS");
    let jetstream = jetstream::new(client);
    ensure_stream(&jetstream)
        .await
        .expect("create events stream");
    Sandbox {
        pool,
        nats,
        jetstream,
    }
}

fn provider_registered() -> NewEvent {
    let provider_id = Uuid::new_v4().to_string();
    NewEvent::new(
        AuthorityId::national(),
        provider_id.clone(),
        1,
        Body::ProviderRegistered(ProviderRegistered {
            provider: Some(Provider {
                id: provider_id,
                ..Default::default()
            }),
        }),
    )
}

/// Commits `count` events in one transaction, as a service's write would.
async fn commit_events(pool: &PgPool, count: usize) -> Vec<Uuid> {
    let mut transaction = pool.begin().await.expect("begin");
    let mut event_ids = Vec::with_capacity(count);
    for _ in 0..count {
        event_ids.push(
            enqueue(&mut transaction, provider_registered())
                .await
                .expect("enqueue"),
        );
    }
    transaction.commit().await.expect("commit");
    event_ids
}

/// An envelope as the relay would publish it, for tests that publish by hand.
fn encoded_envelope() -> (Uuid, Bytes) {
    let event_id = Uuid::now_v7();
    let event = Event {
        event_id: event_id.to_string(),
        event_type: "provider.registered".to_owned(),
        authority: "national".to_owned(),
        aggregate_type: "provider".to_owned(),
        aggregate_id: Uuid::new_v4().to_string(),
        aggregate_version: 1,
        body: Some(Body::ProviderRegistered(ProviderRegistered::default())),
        ..Default::default()
    };
    (event_id, Bytes::from(event.encode_to_vec()))
}

async fn publish_with_message_id(jetstream: &jetstream::Context, message_id: &str, payload: Bytes) {
    jetstream
        .send_publish(
            "sds.national.provider.registered",
            jetstream::message::PublishMessage::build()
                .message_id(message_id)
                .payload(payload),
        )
        .await
        .expect("publish")
        .await
        .expect("publish ack");
}

/// A task that stops when the returned sender is used or dropped.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn shut_down(self) {
        // The task may already have stopped; that is fine.
        let _ = self.stop.send(());
        self.task
            .await
            .expect("task did not panic")
            .expect("task ended without error");
    }
}

fn until_stopped() -> (
    oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    (stop, async move {
        let _ = stopped.await;
    })
}

fn start_relay(sandbox: &Sandbox, config: RelayConfig) -> Running {
    let relay = Relay::new(sandbox.pool.clone(), sandbox.jetstream.clone(), config);
    let (stop, stopped) = until_stopped();
    Running {
        stop,
        task: tokio::spawn(relay.run(stopped)),
    }
}

fn start_consumer(sandbox: &Sandbox, config: ConsumerConfig, handler: RecordEffect) -> Running {
    let (stop, stopped) = until_stopped();
    Running {
        stop,
        task: tokio::spawn(run_consumer(
            sandbox.pool.clone(),
            sandbox.jetstream.clone(),
            config,
            handler,
            stopped,
        )),
    }
}

fn test_consumer_config(durable_name: &str) -> ConsumerConfig {
    ConsumerConfig {
        retry_delay: Duration::from_millis(50),
        ..ConsumerConfig::new(durable_name)
    }
}

/// Writes one `effects` row per event, in the consumer's transaction; fails after that
/// write while `failures_left` is above zero.
struct RecordEffect {
    replica: &'static str,
    calls: Arc<AtomicUsize>,
    failures_left: Arc<AtomicUsize>,
}

impl RecordEffect {
    fn new(replica: &'static str) -> Self {
        Self {
            replica,
            calls: Arc::default(),
            failures_left: Arc::default(),
        }
    }
}

impl EventHandler for RecordEffect {
    const HANDLES: &'static [EventType] = &[EventType::ProviderRegistered];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        _body: Body,
    ) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        sqlx::query("INSERT INTO effects (event_id, replica) VALUES ($1, $2)")
            .bind(event.event_id)
            .bind(self.replica)
            .execute(&mut *transaction)
            .await?;
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failing {
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "simulated failure after a partial write"
            )));
        }
        Ok(())
    }
}

/// Every message in the events stream as (Nats-Msg-Id header, event id in the payload).
async fn stream_contents(jetstream: &jetstream::Context) -> Option<Vec<(String, String)>> {
    let mut stream = jetstream.get_stream(EVENTS_STREAM).await.ok()?;
    let state = stream.info().await.ok()?.state.clone();
    let mut contents = Vec::new();
    if state.messages == 0 {
        return Some(contents);
    }
    for sequence in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(sequence).await.ok()?;
        let message_id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|value| value.as_str().to_owned())
            .unwrap_or_default();
        let event = Event::decode(message.payload.as_ref()).expect("stream holds envelopes");
        contents.push((message_id, event.event_id));
    }
    Some(contents)
}

/// Asserts the stream holds exactly `expected`, each once, with its id as Nats-Msg-Id.
async fn assert_stream_holds_each_once(jetstream: &jetstream::Context, expected: &[Uuid]) {
    let contents = stream_contents(jetstream)
        .await
        .expect("read events stream");
    assert_eq!(contents.len(), expected.len(), "messages in the stream");
    for (message_id, payload_event_id) in &contents {
        assert_eq!(message_id, payload_event_id, "Nats-Msg-Id is the event id");
    }
    let held: HashSet<String> = contents.into_iter().map(|(id, _)| id).collect();
    let expected: HashSet<String> = expected.iter().map(Uuid::to_string).collect();
    assert_eq!(held, expected);
}

async fn unpublished_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
        .expect("count unpublished rows")
}

async fn wait_until_all_published(pool: &PgPool, deadline: Duration) {
    wait_until(deadline, "every outbox row is marked published", || async {
        (unpublished_rows(pool).await == 0).then_some(())
    })
    .await;
}

/// Waits until the durable consumer has settled every message in the stream.
async fn wait_until_consumer_is_idle(jetstream: &jetstream::Context, durable_name: &str) {
    wait_until(
        DEADLINE,
        "the consumer has settled every message",
        || async {
            let stream = jetstream.get_stream(EVENTS_STREAM).await.ok()?;
            let last_sequence = stream.get_info().await.ok()?.state.last_sequence;
            let info = stream.consumer_info(durable_name).await.ok()?;
            let idle = info.num_pending == 0
                && info.num_ack_pending == 0
                && info.delivered.stream_sequence >= last_sequence;
            idle.then_some(())
        },
    )
    .await;
}

async fn effects_per_event(pool: &PgPool) -> HashMap<Uuid, i64> {
    let rows: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT event_id, count(*) FROM effects GROUP BY event_id")
            .fetch_all(pool)
            .await
            .expect("count effects");
    rows.into_iter().collect()
}

fn assert_each_took_effect_once(effects: &HashMap<Uuid, i64>, expected: &[Uuid]) {
    assert_eq!(effects.len(), expected.len(), "events that took effect");
    for event_id in expected {
        assert_eq!(
            effects.get(event_id),
            Some(&1),
            "effects of event {event_id}"
        );
    }
}

/// Every publish on `sds.>` as seen by a plain NATS subscriber, duplicates included:
/// JetStream's deduplication hides a second publish from the stream, not from this.
async fn count_raw_publishes(nats_url: &str) -> (async_nats::Subscriber, async_nats::Client) {
    let client = async_nats::connect(nats_url)
        .await
        .expect("connect observer");
    let subscriber = client.subscribe("sds.>").await.expect("subscribe to sds.>");
    client.flush().await.expect("flush subscription");
    (subscriber, client)
}

async fn collect_publishes(
    subscriber: &mut async_nats::Subscriber,
    expected: usize,
) -> Vec<String> {
    let mut seen = Vec::with_capacity(expected);
    while seen.len() < expected {
        let message = tokio::time::timeout(DEADLINE, subscriber.next())
            .await
            .expect("publishes arrive in time")
            .expect("observer subscription open");
        let message_id = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("Nats-Msg-Id"))
            .map(|value| value.as_str().to_owned())
            .unwrap_or_default();
        seen.push(message_id);
    }
    seen
}

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
    // The first marking statement fails after the publish, exactly as if the relay had
    // died there: the publish stands, the mark is rolled back. A sequence remembers the
    // failure outside the rolled-back transaction.
    for statement in [
        "CREATE SEQUENCE marks_attempted",
        "CREATE FUNCTION die_at_first_mark() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF nextval('marks_attempted') = 1 THEN \
             RAISE EXCEPTION 'relay died before marking its batch published'; \
           END IF; \
           RETURN NULL; \
         END $$",
        "CREATE TRIGGER die_at_first_mark BEFORE UPDATE OF published_at ON outbox \
         FOR EACH STATEMENT EXECUTE FUNCTION die_at_first_mark()",
    ] {
        sqlx::query(statement)
            .execute(&sandbox.pool)
            .await
            .expect("install the crash");
    }
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
    let (stop, stopped) = until_stopped();
    let consumer = Running {
        stop,
        task: tokio::spawn(run_consumer(
            sandbox.pool.clone(),
            sandbox.jetstream.clone(),
            ConsumerConfig {
                poison_attempts: 4,
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
    consumer.shut_down().await;
    relay.shut_down().await;
}

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
    let stream = ensure_stream(&sandbox.jetstream).await.expect("stream");
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
