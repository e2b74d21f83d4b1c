//! Waiting until the platform is quiet before the simulated day ends: every event written
//! to an outbox has been relayed to JetStream, and every durable consumer has settled every
//! event it takes, twice in a row (a handler may write events of its own as it settles one).
//!
//! What must stay true: the clock moves to the next day only once the platform is quiet.
//! A service reads "today" when it handles an event, so an event handled a day late would
//! record a different day and the same seed would give different books.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use futures::TryStreamExt as _;
use sds_events::EVENTS_STREAM;
use sqlx::PgPool;

/// How long the platform may take to settle one day's work before the run gives up.
const QUIET_DEADLINE: Duration = Duration::from_secs(120);

/// Watches the run's database and NATS.
#[derive(Debug, Clone)]
pub struct Quiet {
    observer: PgPool,
    jetstream: jetstream::Context,
    /// `<schema>.outbox` of every service that has one.
    outboxes: Vec<String>,
}

impl Quiet {
    pub async fn new(observer: PgPool, nats_url: &str) -> anyhow::Result<Quiet> {
        let client = async_nats::connect(nats_url)
            .await
            .with_context(|| format!("connect to NATS at {nats_url}"))?;
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT table_schema::text FROM information_schema.tables \
             WHERE table_name = 'outbox' ORDER BY 1",
        )
        .fetch_all(&observer)
        .await
        .context("find the services' outboxes")?;
        Ok(Quiet {
            observer,
            jetstream: jetstream::new(client),
            outboxes: schemas
                .into_iter()
                .map(|schema| format!("{schema}.outbox"))
                .collect(),
        })
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// `<schema>.outbox` of every service that has one.
    pub fn outboxes(&self) -> &[String] {
        &self.outboxes
    }

    /// Returns once nothing is left to relay or to handle, twice in a row.
    pub async fn wait(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + QUIET_DEADLINE;
        let mut quiet_in_a_row = 0;
        let mut pause = Duration::from_millis(2);
        loop {
            let waiting = self.waiting().await?;
            if waiting.is_empty() {
                quiet_in_a_row += 1;
                if quiet_in_a_row == 2 {
                    return Ok(());
                }
            } else {
                quiet_in_a_row = 0;
                if Instant::now() >= deadline {
                    bail!(
                        "the platform did not settle within {} s: {waiting}",
                        QUIET_DEADLINE.as_secs()
                    );
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// What is still waiting, in words; empty when quiet.
    async fn waiting(&self) -> anyhow::Result<String> {
        let mut waiting = Vec::new();
        for outbox in &self.outboxes {
            let unpublished: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {outbox} WHERE published_at IS NULL"
            )))
            .fetch_one(&self.observer)
            .await
            .with_context(|| format!("count what {outbox} still holds"))?;
            if unpublished > 0 {
                waiting.push(format!("{unpublished} events in {outbox}"));
            }
        }
        let stream = self
            .jetstream
            .get_stream(EVENTS_STREAM)
            .await
            .context("open the events stream")?;
        let mut consumers = stream.consumers();
        while let Some(info) = consumers
            .try_next()
            .await
            .context("list the durable consumers")?
        {
            let pending = info
                .num_pending
                .saturating_add(u64::try_from(info.num_ack_pending).unwrap_or(u64::MAX));
            if pending > 0 {
                waiting.push(format!("{pending} events for consumer {}", info.name));
            }
        }
        Ok(waiting.join(", "))
    }
}
