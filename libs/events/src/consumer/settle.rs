//! What becomes of a delivery once it has been tried: acknowledged when it took effect (now
//! or before); redelivered after a growing delay when trying again may help; set aside in
//! `dead_letter` when it never can, after `poison_attempts` deliveries or on JetStream's
//! last, and only once the letter is safely written.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::AckKind;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgPool;
use tracing::{error, warn};
use uuid::Uuid;

use super::{ConsumerConfig, HandlerError};
use crate::event_type::EventType;

const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// Why an event was not applied.
pub(super) enum NotApplied {
    /// Trying again may help.
    Transient(anyhow::Error),
    /// Trying again cannot help; the reason, as kept in `dead_letter`.
    Poison(String),
}

impl From<HandlerError> for NotApplied {
    fn from(handler_error: HandlerError) -> Self {
        match handler_error {
            HandlerError::Transient(cause) => NotApplied::Transient(cause),
            HandlerError::Permanent(cause) => NotApplied::Poison(format!("{cause:#}")),
        }
    }
}

/// Acknowledges an event that took effect (now or before); else redelivers it after a
/// delay, or sets it aside, by the rules above.
pub(super) async fn settle(
    pool: &PgPool,
    config: &ConsumerConfig,
    message: &jetstream::Message,
    (event_id, event_type): (Uuid, EventType),
    delivered: i64,
    outcome: Result<(), NotApplied>,
) {
    let stream_sequence = message.info().map_or(0, |info| info.stream_sequence);
    match outcome {
        Ok(()) => acknowledge(message, AckKind::Ack, config).await,
        Err(NotApplied::Poison(reason)) => {
            warn!(error = %reason, "event refused for good");
            let letter = DeadLetter {
                stream_sequence,
                event_id: Some(event_id),
                event_type: Some(event_type.name().to_owned()),
                reason,
            };
            give_up_or_retry(pool, config, message, letter, delivered).await;
        }
        Err(NotApplied::Transient(cause))
            if config.max_deliver > 0 && delivered >= config.max_deliver =>
        {
            error!(error = %format!("{cause:#}"), max_deliver = config.max_deliver, "event failed on its last delivery; setting it aside");
            let letter = DeadLetter {
                stream_sequence,
                event_id: Some(event_id),
                event_type: Some(event_type.name().to_owned()),
                reason: format!(
                    "failed on delivery {delivered} of {}: {cause:#}",
                    config.max_deliver
                ),
            };
            set_aside(pool, config, message, letter, delivered).await;
        }
        Err(NotApplied::Transient(cause)) => {
            warn!(error = %format!("{cause:#}"), "event handling failed; it will be redelivered");
            let delay = retry_delay(config.retry_delay, delivered);
            acknowledge(message, AckKind::Nak(Some(delay)), config).await;
        }
    }
}

/// An event that can never succeed is redelivered until it has been tried
/// `poison_attempts` times, then set aside.
pub(super) async fn give_up_or_retry(
    pool: &PgPool,
    config: &ConsumerConfig,
    message: &jetstream::Message,
    letter: DeadLetter,
    delivered: i64,
) {
    // JetStream delivers nothing after its own last delivery, so that one sets aside too.
    let last_delivery = config.max_deliver > 0 && delivered >= config.max_deliver;
    if delivered >= config.poison_attempts.max(1) || last_delivery {
        error!(consumer = %config.durable_name, stream_sequence = letter.stream_sequence, deliveries = delivered, reason = %letter.reason, "event can never be handled; setting it aside in dead_letter");
        set_aside(pool, config, message, letter, delivered).await;
    } else {
        let delay = retry_delay(config.retry_delay, delivered);
        acknowledge(message, AckKind::Nak(Some(delay)), config).await;
    }
}

/// An event a consumer gives up on, as recorded in `dead_letter`.
pub(super) struct DeadLetter {
    pub(super) stream_sequence: u64,
    pub(super) event_id: Option<Uuid>,
    pub(super) event_type: Option<String>,
    pub(super) reason: String,
}

/// Records the event in `dead_letter`, then terminates its delivery. If the record cannot
/// be written (the database is away) the event is redelivered instead: it is let go only
/// once it is safely kept.
async fn set_aside(
    pool: &PgPool,
    config: &ConsumerConfig,
    message: &jetstream::Message,
    letter: DeadLetter,
    delivered: i64,
) {
    let recorded = sqlx::query(
        "INSERT INTO dead_letter (consumer, stream_sequence, event_id, event_type, subject, reason, payload, deliveries) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(&config.durable_name)
    .bind(i64::try_from(letter.stream_sequence).unwrap_or(i64::MAX))
    .bind(letter.event_id)
    .bind(letter.event_type)
    .bind(message.subject.as_str())
    .bind(letter.reason)
    .bind(message.payload.as_ref())
    .bind(i32::try_from(delivered).unwrap_or(i32::MAX))
    .execute(pool)
    .await;
    match recorded {
        Ok(inserted) => {
            // A letter already kept (a redelivery after a lost ack) is not counted again.
            if inserted.rows_affected() > 0 {
                config.dead_letters.record();
            }
            acknowledge(message, AckKind::Term, config).await
        }
        Err(record_error) => {
            warn!(error = %record_error, "cannot record the event in dead_letter; it will be redelivered");
            acknowledge(
                message,
                AckKind::Nak(Some(retry_delay(config.retry_delay, delivered))),
                config,
            )
            .await;
        }
    }
}

pub(super) async fn acknowledge(
    message: &jetstream::Message,
    kind: AckKind,
    config: &ConsumerConfig,
) {
    // A lost ack only causes a redelivery, which the inbox absorbs.
    if let Err(ack_error) = message.ack_with(kind).await {
        warn!(consumer = %config.durable_name, error = %ack_error, "could not acknowledge event");
    }
}

/// `first` after the first delivery, doubled for every later one, at most a minute.
fn retry_delay(first: Duration, delivered: i64) -> Duration {
    let doublings = u32::try_from(delivered.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    first
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_per_delivery_up_to_a_minute() {
        let first = Duration::from_millis(500);
        assert_eq!(retry_delay(first, 1), Duration::from_millis(500));
        assert_eq!(retry_delay(first, 2), Duration::from_secs(1));
        assert_eq!(retry_delay(first, 4), Duration::from_secs(4));
        assert_eq!(retry_delay(first, 40), MAX_RETRY_DELAY);
    }
}
