//! The outbox relay benchmark (QUALITY.md P3): how fast one relay drains an outbox into
//! JetStream, against raw JetStream async publishing of the same payloads on the same
//! server in the same run. For context it also times raw publishing with a `Nats-Msg-Id`
//! on every message: the server's deduplication is part of what the relay pays for. Uses its own streams (`BENCH_*`, subjects `bench.*`) and its own
//! schema (`bench_relay`), all recreated per run, so it never touches real events.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use async_nats::jetstream;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use prost::Message as _;
use sds_proto::v1::{Event, ProviderDetails, ProviderRegistered, event::Body};
use uuid::Uuid;

use crate::relay::{Relay, RelayConfig};

const RAW_STREAM: &str = "BENCH_RAW_PUBLISH";
const RAW_SUBJECT: &str = "bench.raw.national.provider.registered";
const RAW_WITH_ID_STREAM: &str = "BENCH_RAW_PUBLISH_WITH_ID";
const RAW_WITH_ID_SUBJECT: &str = "bench.rawid.national.provider.registered";
const RELAY_STREAM: &str = "BENCH_OUTBOX_RELAY";
const RELAY_SUBJECT: &str = "bench.relay.national.provider.registered";
const BENCH_SCHEMA: &str = "bench_relay";
/// Outstanding acks in the raw baseline, as in TOOLCHAIN.md's measured figure.
const RAW_IN_FLIGHT: usize = 1024;
/// Rows per relay round in the benchmark; see `relay_benchmark`.
const RELAY_BATCH_SIZE: usize = 1000;
/// QUALITY.md P3: the relay reaches at least 0.3x raw publishing (in thousandths).
const TARGET_RATIO_THOUSANDTHS: u64 = 300;

/// Throughput of raw publishing and of the relay, measured in one run.
#[derive(Debug, Clone)]
pub struct RelayBenchReport {
    pub events: usize,
    pub payload_bytes: usize,
    pub relay_batch_size: usize,
    /// The duplicate window of every benchmark stream, as `SDS_EVENTS` would have it.
    pub duplicate_window: Duration,
    /// The copies every benchmark stream keeps (3 on a NATS cluster), as `SDS_EVENTS` would.
    pub replicas: usize,
    pub raw_elapsed: Duration,
    /// Raw publishing with a fresh `Nats-Msg-Id` per message; context, not the baseline.
    pub raw_with_message_id_elapsed: Duration,
    pub relay_elapsed: Duration,
}

impl RelayBenchReport {
    pub fn raw_msgs_per_second(&self) -> u64 {
        per_second(self.events, self.raw_elapsed)
    }

    pub fn raw_with_message_id_msgs_per_second(&self) -> u64 {
        per_second(self.events, self.raw_with_message_id_elapsed)
    }

    pub fn relay_msgs_per_second(&self) -> u64 {
        per_second(self.events, self.relay_elapsed)
    }

    /// Relay throughput over raw throughput, in thousandths (412 means 0.412x).
    pub fn ratio_thousandths(&self) -> u64 {
        let raw = self.raw_msgs_per_second().max(1);
        self.relay_msgs_per_second().saturating_mul(1000) / raw
    }

    pub fn meets_target(&self) -> bool {
        self.ratio_thousandths() >= TARGET_RATIO_THOUSANDTHS
    }

    /// An aligned text table for people.
    pub fn table(&self) -> String {
        let rows = [
            (
                format!("raw JetStream async publish ({RAW_IN_FLIGHT} in flight)"),
                self.raw_elapsed,
                self.raw_msgs_per_second(),
            ),
            (
                "  same, with a Nats-Msg-Id per message".to_owned(),
                self.raw_with_message_id_elapsed,
                self.raw_with_message_id_msgs_per_second(),
            ),
            (
                format!("outbox relay (batch {})", self.relay_batch_size),
                self.relay_elapsed,
                self.relay_msgs_per_second(),
            ),
        ];
        let mut table = format!(
            "outbox relay benchmark: {} events of {} bytes, duplicate window {} s\n",
            self.events,
            self.payload_bytes,
            self.duplicate_window.as_secs()
        );
        table.push_str(&format!(
            "{:<44} {:>10} {:>12}\n",
            "what", "seconds", "msgs/s"
        ));
        for (what, elapsed, rate) in rows {
            table.push_str(&format!(
                "{:<44} {:>10} {:>12}\n",
                what,
                seconds_text(elapsed),
                rate
            ));
        }
        table.push_str(&format!(
            "{:<44} {:>10} {:>12}\n",
            format!(
                "ratio relay/raw (target {})",
                thousandths_text(TARGET_RATIO_THOUSANDTHS)
            ),
            "",
            thousandths_text(self.ratio_thousandths())
        ));
        table
    }

    /// The report as one JSON object, for `bench/results/outbox-relay.json`.
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                "{{\"benchmark\":\"outbox-relay\",\"events\":{},\"payload_bytes\":{},\"duplicate_window_seconds\":{},\"replicas\":{},",
                "\"raw\":{{\"in_flight\":{},\"seconds\":{},\"msgs_per_second\":{}}},",
                "\"raw_with_message_id\":{{\"in_flight\":{},\"seconds\":{},\"msgs_per_second\":{}}},",
                "\"relay\":{{\"batch_size\":{},\"seconds\":{},\"msgs_per_second\":{}}},",
                "\"ratio\":{},\"target_ratio\":{},\"meets_target\":{}}}"
            ),
            self.events,
            self.payload_bytes,
            self.duplicate_window.as_secs(),
            self.replicas,
            RAW_IN_FLIGHT,
            seconds_text(self.raw_elapsed),
            self.raw_msgs_per_second(),
            RAW_IN_FLIGHT,
            seconds_text(self.raw_with_message_id_elapsed),
            self.raw_with_message_id_msgs_per_second(),
            self.relay_batch_size,
            seconds_text(self.relay_elapsed),
            self.relay_msgs_per_second(),
            thousandths_text(self.ratio_thousandths()),
            thousandths_text(TARGET_RATIO_THOUSANDTHS),
            self.meets_target(),
        )
    }
}

/// Measures raw JetStream publishing, then one relay draining `events` outbox rows, on the
/// PostgreSQL at `database_url` and the NATS at `nats_url` (one server, or a cluster's
/// separated by commas), into streams that remember message ids for `duplicate_window` and
/// keep `replicas` copies.
pub async fn relay_benchmark(
    database_url: &str,
    nats_url: &str,
    events: usize,
    duplicate_window: Duration,
    replicas: usize,
) -> anyhow::Result<RelayBenchReport> {
    ensure!(events > 0, "the benchmark needs at least one event");
    let servers = sds_platform::config::nats_servers(nats_url)
        .map_err(|problem| anyhow::anyhow!("--nats-url: {problem}"))?
        .into_iter()
        .map(|server| server.parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--nats-url {nats_url}"))?;
    let client = async_nats::connect(servers)
        .await
        .with_context(|| format!("connect to NATS at {nats_url}"))?;
    let jetstream = jetstream::new(client);
    let payload = sample_payload();

    // (a) raw: the same payloads, straight to JetStream.
    let raw_stream = recreate_stream(
        &jetstream,
        RAW_STREAM,
        "bench.raw.>",
        duplicate_window,
        replicas,
    )
    .await?;
    let raw_started = Instant::now();
    publish_raw(&jetstream, RAW_SUBJECT, &payload, events, false).await?;
    let raw_elapsed = raw_started.elapsed();
    expect_stream_holds(raw_stream, events).await?;

    // Context only: the same with a Nats-Msg-Id, as the relay must send.
    let raw_with_id_stream = recreate_stream(
        &jetstream,
        RAW_WITH_ID_STREAM,
        "bench.rawid.>",
        duplicate_window,
        replicas,
    )
    .await?;
    let raw_with_id_started = Instant::now();
    publish_raw(&jetstream, RAW_WITH_ID_SUBJECT, &payload, events, true).await?;
    let raw_with_message_id_elapsed = raw_with_id_started.elapsed();
    expect_stream_holds(raw_with_id_stream, events).await?;

    // (b) ours: rows already committed in an outbox, drained by one relay.
    let relay_stream = recreate_stream(
        &jetstream,
        RELAY_STREAM,
        "bench.relay.>",
        duplicate_window,
        replicas,
    )
    .await?;
    let pool = fresh_outbox(database_url, &payload, events).await?;
    // Larger rounds than the default: a backlog drains faster, and a quiet outbox never
    // fills a round anyway, so latency is the same.
    let relay_config = RelayConfig {
        batch_size: RELAY_BATCH_SIZE,
        duplicate_window,
        stream_replicas: replicas,
        ..RelayConfig::default()
    };
    let relay_batch_size = relay_config.batch_size;
    let relay = Relay::new(pool.clone(), jetstream.clone(), relay_config);
    let relay_started = Instant::now();
    let published = relay.publish_all_pending().await?;
    let relay_elapsed = relay_started.elapsed();
    ensure!(
        published == events,
        "the relay published {published} of {events} events"
    );
    expect_stream_holds(relay_stream, events).await?;

    // Leave nothing behind but the report.
    drop(jetstream.delete_stream(RAW_STREAM).await);
    drop(jetstream.delete_stream(RAW_WITH_ID_STREAM).await);
    drop(jetstream.delete_stream(RELAY_STREAM).await);
    drop(
        sqlx::query("DROP SCHEMA IF EXISTS bench_relay CASCADE")
            .execute(&pool)
            .await,
    );
    pool.close().await;

    Ok(RelayBenchReport {
        events,
        payload_bytes: payload.len(),
        relay_batch_size,
        duplicate_window,
        replicas,
        raw_elapsed,
        raw_with_message_id_elapsed,
        relay_elapsed,
    })
}

/// Publishes `events` copies of `payload`, keeping up to `RAW_IN_FLIGHT` acks outstanding,
/// each with a fresh `Nats-Msg-Id` if `with_message_id`.
async fn publish_raw(
    jetstream: &jetstream::Context,
    subject: &'static str,
    payload: &Bytes,
    events: usize,
    with_message_id: bool,
) -> anyhow::Result<()> {
    let mut in_flight: VecDeque<PublishAckFuture> = VecDeque::with_capacity(RAW_IN_FLIGHT);
    for _ in 0..events {
        if in_flight.len() == RAW_IN_FLIGHT
            && let Some(oldest) = in_flight.pop_front()
        {
            oldest.await.context("await raw publish ack")?;
        }
        let mut message = PublishMessage::build().payload(payload.clone());
        if with_message_id {
            message = message.message_id(Uuid::now_v7().to_string());
        }
        let ack = jetstream
            .send_publish(subject, message)
            .await
            .context("raw publish")?;
        in_flight.push_back(ack);
    }
    for ack in in_flight {
        ack.await.context("await raw publish ack")?;
    }
    Ok(())
}

/// A stream configured like `SDS_EVENTS`, emptied by deleting and creating it again.
async fn recreate_stream(
    jetstream: &jetstream::Context,
    name: &str,
    subjects: &str,
    duplicate_window: Duration,
    replicas: usize,
) -> anyhow::Result<jetstream::stream::Stream> {
    // Absent on a first run; any real problem shows up in the create below.
    drop(jetstream.delete_stream(name).await);
    jetstream
        .create_stream(jetstream::stream::Config {
            name: name.to_owned(),
            subjects: vec![subjects.to_owned()],
            storage: jetstream::stream::StorageType::File,
            duplicate_window,
            num_replicas: replicas,
            ..Default::default()
        })
        .await
        .with_context(|| format!("create benchmark stream {name}"))
}

async fn expect_stream_holds(
    mut stream: jetstream::stream::Stream,
    events: usize,
) -> anyhow::Result<()> {
    let info = stream.info().await.context("read benchmark stream info")?;
    let held = info.state.messages;
    ensure!(
        usize::try_from(held).ok() == Some(events),
        "stream {} holds {held} messages, expected {events}",
        info.config.name
    );
    Ok(())
}

/// The `bench_relay` schema, dropped and created again, with `events` committed and
/// unpublished outbox rows written in one statement.
async fn fresh_outbox(
    database_url: &str,
    payload: &Bytes,
    events: usize,
) -> anyhow::Result<sqlx::PgPool> {
    let pool = sds_platform::db::connect(database_url, BENCH_SCHEMA, 4).await?;
    sqlx::query("DROP SCHEMA bench_relay CASCADE")
        .execute(&pool)
        .await
        .context("drop the previous benchmark schema")?;
    sqlx::query("CREATE SCHEMA bench_relay")
        .execute(&pool)
        .await
        .context("create the benchmark schema")?;
    crate::migrate(&pool).await?;
    let event_ids: Vec<Uuid> = (0..events).map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, event_type, payload) \
         SELECT event_id, $2, 'provider.registered', $3 FROM UNNEST($1::uuid[]) AS ids(event_id)",
    )
    .bind(&event_ids)
    .bind(RELAY_SUBJECT)
    .bind(payload.as_ref())
    .execute(&pool)
    .await
    .context("fill the benchmark outbox")?;
    // A live outbox has statistics; give the fresh one some before timing.
    sqlx::query("ANALYZE outbox")
        .execute(&pool)
        .await
        .context("analyze the benchmark outbox")?;
    Ok(pool)
}

/// An envelope of realistic size: a registered provider with typical details.
fn sample_payload() -> Bytes {
    let event = Event {
        event_id: Uuid::now_v7().to_string(),
        event_type: "provider.registered".to_owned(),
        authority: sds_vocabulary::AuthorityId::NATIONAL.to_owned(),
        aggregate_type: "provider".to_owned(),
        aggregate_id: Uuid::new_v4().to_string(),
        aggregate_version: 1,
        occurred_at: Some(prost_types::Timestamp {
            seconds: 1_795_000_000,
            nanos: 0,
        }),
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        tracestate: String::new(),
        body: Some(Body::ProviderRegistered(ProviderRegistered {
            provider: Some(sds_proto::v1::Provider {
                id: Uuid::new_v4().to_string(),
                details: Some(ProviderDetails {
                    name: "Deeside Community Care Cooperative".to_owned(),
                    kind: 1,
                    care_inspectorate_number: "CS2003012345".to_owned(),
                    service_types: vec![
                        "Housing Support Service".to_owned(),
                        "Support Service - Care at Home".to_owned(),
                    ],
                    localities: vec!["Aberdeenshire".to_owned(), "Banff and Buchan".to_owned()],
                    capacity: Some(40),
                    holds_isfs: true,
                    management_fee: None,
                    contact_email: "office@deeside-care.example".to_owned(),
                    contact_phone: "01330 820000".to_owned(),
                }),
                version: 1,
                registered_at: "2026-11-27T09:00:00Z".to_owned(),
                updated_at: "2026-11-27T09:00:00Z".to_owned(),
                ..Default::default()
            }),
        })),
    };
    Bytes::from(event.encode_to_vec())
}

fn per_second(events: usize, elapsed: Duration) -> u64 {
    let micros = elapsed.as_micros().max(1);
    let rate = (events as u128).saturating_mul(1_000_000) / micros;
    u64::try_from(rate).unwrap_or(u64::MAX)
}

fn seconds_text(elapsed: Duration) -> String {
    format!("{}.{:03}", elapsed.as_secs(), elapsed.subsec_millis())
}

fn thousandths_text(value: u64) -> String {
    format!("{}.{:03}", value / 1000, value % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_prints_rates_and_ratio_without_floating_point() {
        let report = RelayBenchReport {
            events: 50_000,
            payload_bytes: 380,
            relay_batch_size: 500,
            duplicate_window: Duration::from_secs(3600),
            replicas: 1,
            raw_elapsed: Duration::from_millis(400),
            raw_with_message_id_elapsed: Duration::from_millis(500),
            relay_elapsed: Duration::from_millis(1000),
        };
        assert_eq!(report.raw_msgs_per_second(), 125_000);
        assert_eq!(report.relay_msgs_per_second(), 50_000);
        assert_eq!(report.ratio_thousandths(), 400);
        assert!(report.meets_target());
        assert!(report.table().contains("0.400"));
        let json = report.to_json();
        assert!(json.contains("\"ratio\":0.400"), "{json}");
        assert!(
            json.contains(
                "\"raw\":{\"in_flight\":1024,\"seconds\":0.400,\"msgs_per_second\":125000}"
            ),
            "{json}"
        );
    }
}
