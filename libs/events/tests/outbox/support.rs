//! What the events tests share: a sandbox of their own (database schema, NATS server,
//! events stream), events to commit, relays and consumers to start and stop, and ways to
//! look at the stream and at what took effect.

pub use std::collections::{HashMap, HashSet};
pub use std::sync::Arc;
pub use std::sync::atomic::{AtomicUsize, Ordering};
pub use std::time::Duration;

pub use async_nats::jetstream;
pub use bytes::Bytes;
pub use futures::StreamExt as _;
pub use prost::Message as _;
pub use sds_events::consumer::{
    ConsumerConfig, EventHandler, HandlerError, Received, run_consumer,
};
pub use sds_events::relay::{Relay, RelayConfig};
pub use sds_events::{
    DEFAULT_DUPLICATE_WINDOW, EVENTS_STREAM, EventType, NewEvent, enqueue, ensure_stream,
};
pub use sds_proto::v1::event::Body;
pub use sds_proto::v1::{Event, Provider, ProviderRegistered};
pub use sds_testkit::{PrivateNats, fresh_database, init_test_logging, wait_until};
pub use sds_vocabulary::AuthorityId;
pub use sqlx::{PgConnection, PgPool};
pub use tokio::sync::oneshot;
pub use tokio::task::JoinHandle;
pub use uuid::Uuid;

pub const DEADLINE: Duration = Duration::from_secs(30);
/// Long enough for a relay's NATS client to notice an outage, reconnect and retry.
pub const OUTAGE_DEADLINE: Duration = Duration::from_secs(90);

/// A test's own database schema, NATS server and JetStream events stream.
pub struct Sandbox {
    pub pool: PgPool,
    pub nats: PrivateNats,
    pub jetstream: jetstream::Context,
}

pub async fn sandbox() -> Sandbox {
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
    ensure_stream(&jetstream, DEFAULT_DUPLICATE_WINDOW, 1)
        .await
        .expect("create events stream");
    Sandbox {
        pool,
        nats,
        jetstream,
    }
}

pub fn provider_registered() -> NewEvent {
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
pub async fn commit_events(pool: &PgPool, count: usize) -> Vec<Uuid> {
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

/// Makes the first statement that marks outbox rows published fail, exactly as if the
/// relay had died there: its publish stands, its mark is rolled back. A sequence remembers
/// the failure outside the rolled-back transaction ([`relay_has_died`]).
pub async fn die_at_first_mark(pool: &PgPool) {
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
            .execute(pool)
            .await
            .expect("install the crash");
    }
}

/// Whether a relay has reached the mark that [`die_at_first_mark`] makes fatal.
pub async fn relay_has_died(pool: &PgPool) -> bool {
    sqlx::query_scalar("SELECT is_called FROM marks_attempted")
        .fetch_one(pool)
        .await
        .expect("read marks_attempted")
}

/// An envelope as the relay would publish it, for tests that publish by hand.
pub fn encoded_envelope() -> (Uuid, Bytes) {
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

pub async fn publish_with_message_id(
    jetstream: &jetstream::Context,
    message_id: &str,
    payload: Bytes,
) {
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
pub struct Running {
    pub stop: oneshot::Sender<()>,
    pub task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn shut_down(self) {
        // The task may already have stopped; that is fine.
        let _ = self.stop.send(());
        self.task
            .await
            .expect("task did not panic")
            .expect("task ended without error");
    }
}

pub fn until_stopped() -> (
    oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    (stop, async move {
        let _ = stopped.await;
    })
}

pub fn start_relay(sandbox: &Sandbox, config: RelayConfig) -> Running {
    let relay = Relay::new(sandbox.pool.clone(), sandbox.jetstream.clone(), config);
    let (stop, stopped) = until_stopped();
    Running {
        stop,
        task: tokio::spawn(relay.run(stopped)),
    }
}

pub fn start_consumer(sandbox: &Sandbox, config: ConsumerConfig, handler: RecordEffect) -> Running {
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

pub fn test_consumer_config(durable_name: &str) -> ConsumerConfig {
    ConsumerConfig {
        retry_delay: Duration::from_millis(50),
        ..ConsumerConfig::new(durable_name)
    }
}

/// Writes one `effects` row per event, in the consumer's transaction; fails after that
/// write while `failures_left` is above zero.
pub struct RecordEffect {
    pub replica: &'static str,
    pub calls: Arc<AtomicUsize>,
    pub failures_left: Arc<AtomicUsize>,
}

impl RecordEffect {
    pub fn new(replica: &'static str) -> Self {
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
pub async fn stream_contents(jetstream: &jetstream::Context) -> Option<Vec<(String, String)>> {
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
pub async fn assert_stream_holds_each_once(jetstream: &jetstream::Context, expected: &[Uuid]) {
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

pub async fn unpublished_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
        .expect("count unpublished rows")
}

pub async fn wait_until_all_published(pool: &PgPool, deadline: Duration) {
    wait_until(deadline, "every outbox row is marked published", || async {
        (unpublished_rows(pool).await == 0).then_some(())
    })
    .await;
}

/// Waits until the durable consumer has settled every message in the stream.
pub async fn wait_until_consumer_is_idle(jetstream: &jetstream::Context, durable_name: &str) {
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

pub async fn effects_per_event(pool: &PgPool) -> HashMap<Uuid, i64> {
    let rows: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT event_id, count(*) FROM effects GROUP BY event_id")
            .fetch_all(pool)
            .await
            .expect("count effects");
    rows.into_iter().collect()
}

pub fn assert_each_took_effect_once(effects: &HashMap<Uuid, i64>, expected: &[Uuid]) {
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
pub async fn count_raw_publishes(nats_url: &str) -> (async_nats::Subscriber, async_nats::Client) {
    let client = async_nats::connect(nats_url)
        .await
        .expect("connect observer");
    let subscriber = client.subscribe("sds.>").await.expect("subscribe to sds.>");
    client.flush().await.expect("flush subscription");
    (subscriber, client)
}

pub async fn collect_publishes(
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
