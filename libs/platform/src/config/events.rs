//! How events are relayed, consumed and pruned: the outbox relay, the consumers' inboxes
//! and dead letters, retention, and the events stream's duplicate window and replicas.

use std::time::Duration;

use super::ConfigError;
use super::numbers::Numbers;

const HOUR: u64 = 3600;

/// How events are relayed, consumed and pruned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsConfig {
    /// `SDS_RELAY_BATCH_SIZE`: outbox rows claimed, published and marked per round.
    pub relay_batch_size: usize,
    /// `SDS_RELAY_POLL_MS`: how often a relay looks for work when no commit wakes it.
    pub relay_poll_interval: Duration,
    /// `SDS_RELAY_STOP_SECONDS`: how long shutdown waits for relays, consumers and
    /// background tasks to finish what they hold.
    pub stop_timeout: Duration,
    /// `SDS_CONSUMER_POISON_ATTEMPTS`: deliveries of an event that can never succeed before
    /// it is set aside in `dead_letter`.
    pub poison_attempts: i64,
    /// `SDS_CONSUMER_ACK_WAIT_SECONDS`: how long JetStream waits for a consumer to settle an
    /// event before it delivers it again, which is how long an event whose process died
    /// while handling it waits. Longer than any handler's transaction may take.
    pub ack_wait: Duration,
    /// `SDS_OUTBOX_RETENTION_HOURS`: how long published outbox rows are kept.
    pub outbox_retention: Duration,
    /// `SDS_INBOX_RETENTION_HOURS`: how long consumers remember handled events; longer
    /// than the events stream keeps them ([`EVENTS_MAX_AGE`]).
    pub inbox_retention: Duration,
    /// `SDS_PRUNE_INTERVAL_SECONDS`: how often published and handled rows are pruned.
    pub prune_interval: Duration,
    /// `SDS_NOTIFICATION_RETENTION_DAYS`: how long the portal keeps a subscriber's
    /// notifications for it to resume from (at most ten years).
    pub notification_retention: Duration,
    /// `SDS_EVENTS_DUPLICATE_WINDOW_SECONDS`: how long the events stream remembers a
    /// message id and drops a second publish of it: the longest a relay may be away between
    /// publishing a batch and marking it published without the stream keeping a duplicate.
    pub duplicate_window: Duration,
    /// `SDS_EVENTS_REPLICAS`: how many NATS servers keep each JetStream stream (1, the
    /// one-machine default, or 3 or 5 on a cluster); a publish is acknowledged once a
    /// majority has stored it.
    pub stream_replicas: usize,
}

/// The JetStream stream replica counts accepted: one server, or an odd number of them so
/// that a majority survives the loss of a minority.
pub const STREAM_REPLICAS: [usize; 3] = [1, 3, 5];

/// The longest `SDS_NOTIFICATION_RETENTION_DAYS` allowed.
pub const MAX_NOTIFICATION_RETENTION_DAYS: u64 = 3653;

/// How much longer than the stream the inbox must remember handled events: a delivery may
/// still be in flight (ack wait, retries) and clocks differ.
pub const INBOX_RETENTION_MARGIN: Duration = Duration::from_secs(24 * 3600);

/// How long the events stream remembers a message id by default (an hour): a relay that
/// dies between publishing and marking and comes back within it publishes no duplicate.
/// Each id remembered costs the NATS server memory (see README, Operations).
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);

/// How long the events stream keeps a message. A consumer (re)created on the stream is
/// delivered all of it, so the inbox must remember handled events for longer.
pub const EVENTS_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

pub(super) fn events_config(
    numbers: &Numbers<'_, impl Fn(&str) -> Option<String>>,
) -> Result<EventsConfig, ConfigError> {
    let inbox_retention = numbers.hours("SDS_INBOX_RETENTION_HOURS", "1080")?;
    if inbox_retention < EVENTS_MAX_AGE + INBOX_RETENTION_MARGIN {
        return Err(ConfigError {
            variable: "SDS_INBOX_RETENTION_HOURS",
            problem: format!(
                "is {} hours; it must be at least {} (the {} hours the events stream keeps an event, and a day more), or a consumer recreated on the stream could apply an event twice",
                inbox_retention.as_secs() / HOUR,
                (EVENTS_MAX_AGE + INBOX_RETENTION_MARGIN).as_secs() / HOUR,
                EVENTS_MAX_AGE.as_secs() / HOUR
            ),
        });
    }
    let duplicate_window = numbers.seconds("SDS_EVENTS_DUPLICATE_WINDOW_SECONDS", "3600")?;
    // JetStream refuses a window longer than the stream keeps its messages.
    if duplicate_window > EVENTS_MAX_AGE {
        return Err(ConfigError {
            variable: "SDS_EVENTS_DUPLICATE_WINDOW_SECONDS",
            problem: format!(
                "is {} seconds; it may be at most {} (the 30 days the events stream keeps an event)",
                duplicate_window.as_secs(),
                EVENTS_MAX_AGE.as_secs()
            ),
        });
    }
    Ok(EventsConfig {
        relay_batch_size: numbers.count("SDS_RELAY_BATCH_SIZE", "500", "rows")?,
        relay_poll_interval: Duration::from_millis(numbers.positive(
            "SDS_RELAY_POLL_MS",
            "1000",
            "milliseconds",
        )?),
        stop_timeout: numbers.seconds("SDS_RELAY_STOP_SECONDS", "10")?,
        poison_attempts: i64::try_from(numbers.positive(
            "SDS_CONSUMER_POISON_ATTEMPTS",
            "3",
            "deliveries",
        )?)
        .unwrap_or(i64::MAX),
        ack_wait: numbers.seconds("SDS_CONSUMER_ACK_WAIT_SECONDS", "30")?,
        outbox_retention: numbers.hours("SDS_OUTBOX_RETENTION_HOURS", "168")?,
        inbox_retention,
        prune_interval: numbers.seconds("SDS_PRUNE_INTERVAL_SECONDS", "3600")?,
        duplicate_window,
        stream_replicas: {
            let replicas = numbers.count("SDS_EVENTS_REPLICAS", "1", "servers")?;
            if !STREAM_REPLICAS.contains(&replicas) {
                return Err(ConfigError {
                    variable: "SDS_EVENTS_REPLICAS",
                    problem: format!(
                        "is {replicas}; accepted: 1 (one server), 3 or 5 (a cluster, where a majority must survive)"
                    ),
                });
            }
            replicas
        },
        notification_retention: {
            let days = numbers.positive("SDS_NOTIFICATION_RETENTION_DAYS", "90", "days")?;
            if days > MAX_NOTIFICATION_RETENTION_DAYS {
                return Err(ConfigError {
                    variable: "SDS_NOTIFICATION_RETENTION_DAYS",
                    problem: format!(
                        "is {days}; give at most {MAX_NOTIFICATION_RETENTION_DAYS} days (ten years)"
                    ),
                });
            }
            Duration::from_secs(days * 24 * 3600)
        },
    })
}
