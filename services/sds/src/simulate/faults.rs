//! The faults a simulated day may bring, drawn from the seed, that one process can suffer
//! and recover from without help: an event delivered twice, and a client that sends a
//! request again because it never saw the answer (the same request, the same ids).
//!
//! What must stay true: a fault only repeats what really happened (an event the platform
//! relayed, a request the simulation made), so the books after it must be exactly the books
//! without it; the checks and the digest say whether they are.

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use sqlx::PgPool;

use super::rng::Rng;

/// How often faults come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultLevel {
    None,
    Some,
    Heavy,
}

/// One fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An event already relayed is published again under a new message id, so JetStream's
    /// deduplication does not catch it and every consumer receives it a second time;
    /// `pick` chooses which.
    EventDeliveredTwice { pick: u64 },
    /// The day's payment run of an authority is asked for again.
    PaymentRunRetried,
    /// A notice ending an agreement is given again.
    NoticeRetried,
}

/// The faults of one day, drawn from the day's own stream.
pub fn faults_of_day(seed: u64, level: FaultLevel, day: u64) -> Vec<Fault> {
    let mut rng = Rng::stream(seed, "faults", day);
    let (percent, most) = match level {
        FaultLevel::None => return Vec::new(),
        FaultLevel::Some => (20, 1),
        FaultLevel::Heavy => (70, 3),
    };
    let mut faults = Vec::new();
    while faults.len() < most && rng.chance(percent) {
        faults.push(match rng.below(3) {
            0 => Fault::EventDeliveredTwice {
                pick: rng.next_u64(),
            },
            1 => Fault::PaymentRunRetried,
            _ => Fault::NoticeRetried,
        });
    }
    faults
}

/// Publishes one relayed event of `outboxes` again (the `pick`th, counting round the
/// relayed ones), under a new message id. Returns whether there was one to publish.
pub async fn deliver_an_event_twice(
    observer: &PgPool,
    jetstream: &jetstream::Context,
    outboxes: &[String],
    pick: u64,
) -> anyhow::Result<bool> {
    let mut relayed = Vec::with_capacity(outboxes.len());
    for outbox in outboxes {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {outbox} WHERE published_at IS NOT NULL"
        )))
        .fetch_one(observer)
        .await
        .with_context(|| format!("count what {outbox} relayed"))?;
        relayed.push(u64::try_from(count).unwrap_or(0));
    }
    let total: u64 = relayed.iter().sum();
    if total == 0 {
        return Ok(false);
    }
    let mut offset = pick % total;
    for (outbox, count) in outboxes.iter().zip(relayed) {
        if offset >= count {
            offset -= count;
            continue;
        }
        let (event_id, subject, payload): (uuid::Uuid, String, Vec<u8>) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT event_id, subject, payload FROM {outbox} \
                 WHERE published_at IS NOT NULL ORDER BY position OFFSET $1 LIMIT 1"
            )))
            .bind(i64::try_from(offset).unwrap_or(0))
            .fetch_one(observer)
            .await
            .with_context(|| format!("read an event {outbox} relayed"))?;
        let acked = jetstream
            .send_publish(
                subject.clone(),
                jetstream::message::PublishMessage::build()
                    .message_id(format!("{event_id}-delivered-again"))
                    .payload(payload.into()),
            )
            .await
            .with_context(|| format!("publish an event on {subject} again"))?;
        acked
            .await
            .with_context(|| format!("JetStream stores the event on {subject} again"))?;
        return Ok(true);
    }
    bail!("no relayed event at {pick} of {total}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_are_drawn_for_none_and_more_for_heavy_than_for_some() {
        let count = |level| {
            (0..1_000)
                .map(|day| faults_of_day(5, level, day).len())
                .sum::<usize>()
        };
        assert_eq!(count(FaultLevel::None), 0);
        let (some, heavy) = (count(FaultLevel::Some), count(FaultLevel::Heavy));
        assert!(some > 100 && heavy > 2 * some, "some {some}, heavy {heavy}");
    }

    #[test]
    fn the_same_seed_and_day_draw_the_same_faults_and_every_kind_is_drawn() {
        for day in 0..100 {
            assert_eq!(
                faults_of_day(9, FaultLevel::Heavy, day),
                faults_of_day(9, FaultLevel::Heavy, day)
            );
        }
        let drawn: Vec<Fault> = (0..200)
            .flat_map(|day| faults_of_day(9, FaultLevel::Heavy, day))
            .collect();
        assert!(
            drawn
                .iter()
                .any(|fault| matches!(fault, Fault::EventDeliveredTwice { .. }))
        );
        assert!(drawn.contains(&Fault::PaymentRunRetried));
        assert!(drawn.contains(&Fault::NoticeRetried));
    }
}
