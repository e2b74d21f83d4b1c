//! Domain events: the `sds.v1.Event` envelope, subjects `sds.<authority>.<aggregate>.<event>`,
//! the transactional outbox with its relay to JetStream, typed idempotent consumers, and
//! pruning of what has been handled.
//!
//! A service writes its state change and its event in one PostgreSQL transaction
//! ([`outbox::enqueue`]); the [`relay`] publishes committed events with the event id as
//! `Nats-Msg-Id`, so a crash at any point neither loses an event nor lets a consumer see
//! it twice; [`consumer`] records each handled event id in an inbox table in the same
//! transaction as the handler's effect; [`prune`] removes published outbox rows and old
//! inbox rows after their retention.

pub mod bench;
pub mod consumer;
pub mod event_type;
pub mod metrics;
pub mod outbox;
pub mod prune;
pub mod relay;
pub mod stream;
pub mod subject;
pub mod versions;

pub use consumer::{ConsumerConfig, EventHandler, HandlerError, Received, run_consumer};
pub use event_type::EventType;
pub use outbox::{
    EnqueueError, NewEvent, OutboxBell, OutboxRows, enqueue, enqueue_all, enqueue_all_unannounced,
    rows_insert,
};
pub use prune::{Pruned, Retention, prune};
pub use relay::{Relay, RelayConfig};
pub use sds_proto::v1::event::Body;
pub use stream::{DEFAULT_DUPLICATE_WINDOW, EVENTS_MAX_AGE, EVENTS_STREAM, ensure_stream};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Creates the outbox and inbox tables in the schema of `pool` (see
/// `sds_platform::db::connect`). They keep their own migration history table, apart from the
/// service's own migrations, so the two sets never confuse each other.
pub async fn migrate(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut migrator = sqlx::migrate::Migrator {
        migrations: MIGRATOR.migrations.clone(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    migrator.dangerous_set_table_name("_sds_events_migrations");
    sds_platform::db::migrate(pool, &migrator).await
}
