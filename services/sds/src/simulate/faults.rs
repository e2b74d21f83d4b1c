//! The faults a simulated day may bring, drawn from the seed. Repeats: an event delivered
//! twice, and a client that sends a request again because it never saw the answer (the
//! same request, the same ids). Interruptions, at most one a day, between two parts of
//! the day's steps while the work the first part set off (events relayed and handled,
//! agreements drafted, schedules made) is still in flight: the platform process killed
//! and started again, NATS or PostgreSQL restarted, the relays stopped for a while
//! ([`super::interrupt`]).
//!
//! What must stay true: a fault only repeats or interrupts what really happened, so the
//! books after it must be exactly the books without it (the same digest as `--faults
//! none`); the checks and the digest say whether they are.

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

impl FaultLevel {
    /// As `--faults` takes it.
    pub fn name(self) -> &'static str {
        match self {
            FaultLevel::None => "none",
            FaultLevel::Some => "some",
            FaultLevel::Heavy => "heavy",
        }
    }
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
    /// The platform process killed by SIGKILL and started again; `at` picks where in the
    /// day's steps.
    PlatformKilled { at: u64 },
    /// NATS killed by SIGKILL and started again on its port and JetStream store.
    NatsRestarted { at: u64 },
    /// PostgreSQL stopped at once (as by a crash) and started again.
    PostgresRestarted { at: u64 },
    /// The platform's relays stopped for a while: events stay in the outboxes.
    RelaysStopped { at: u64 },
    /// The platform process killed by SIGKILL `after_ms` into the next payment run (today's
    /// or a later day's), and started again; finance staff, who never saw the run's
    /// answer, ask for the same run again.
    PlatformKilledMidRun { after_ms: u64 },
}

impl Fault {
    /// Where in the day's steps an interruption comes; `None` for a repeat.
    fn interrupts_at(self) -> Option<u64> {
        match self {
            Fault::PlatformKilled { at }
            | Fault::NatsRestarted { at }
            | Fault::PostgresRestarted { at }
            | Fault::RelaysStopped { at } => Some(at),
            Fault::EventDeliveredTwice { .. }
            | Fault::PaymentRunRetried
            | Fault::NoticeRetried
            | Fault::PlatformKilledMidRun { .. } => None,
        }
    }
}

/// The day's interruption, if it has one, and how many of the day's `steps` come before it.
pub fn interruption(faults: &[Fault], steps: usize) -> Option<(Fault, usize)> {
    faults.iter().find_map(|fault| {
        let at = fault.interrupts_at()?;
        let split = at % (u64::try_from(steps).unwrap_or(u64::MAX - 1) + 1);
        Some((*fault, usize::try_from(split).unwrap_or(steps)))
    })
}

/// The faults of one day, drawn from the day's own stream.
pub fn faults_of_day(seed: u64, level: FaultLevel, day: u64) -> Vec<Fault> {
    let mut rng = Rng::stream(seed, "faults", day);
    // Interruptions are rarer than repeats: each costs seconds of wall time (a process
    // started again, a consumer's unsettled event redelivered after its ack wait).
    let (percent, most, interrupting) = match level {
        FaultLevel::None => return Vec::new(),
        FaultLevel::Some => (20, 1, 2),
        FaultLevel::Heavy => (70, 3, 12),
    };
    let mut faults = Vec::new();
    if rng.chance(interrupting) {
        let at = rng.next_u64();
        faults.push(match rng.below(5) {
            0 => Fault::PlatformKilled { at },
            1 => Fault::NatsRestarted { at },
            2 => Fault::PostgresRestarted { at },
            3 => Fault::RelaysStopped { at },
            // Up to a second in: a small run is over by then, a large one is not.
            _ => Fault::PlatformKilledMidRun {
                after_ms: at % 1_000,
            },
        });
    }
    let most = most + faults.len();
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

    fn is_interruption(fault: &Fault) -> bool {
        fault.interrupts_at().is_some() || matches!(fault, Fault::PlatformKilledMidRun { .. })
    }

    fn interruptions(seed: u64, level: FaultLevel, days: u64) -> Vec<Fault> {
        (0..days)
            .flat_map(|day| faults_of_day(seed, level, day))
            .filter(is_interruption)
            .collect()
    }

    #[test]
    fn a_day_has_at_most_one_interruption_and_heavy_has_more_than_some_and_every_kind() {
        for day in 0..1_000 {
            let faults = faults_of_day(5, FaultLevel::Heavy, day);
            let interrupting = faults.iter().filter(|fault| is_interruption(fault)).count();
            assert!(interrupting <= 1, "day {day}: {faults:?}");
        }
        assert!(interruptions(5, FaultLevel::None, 1_000).is_empty());
        let some = interruptions(5, FaultLevel::Some, 1_000);
        let heavy = interruptions(5, FaultLevel::Heavy, 1_000);
        assert!(
            (5..60).contains(&some.len()) && heavy.len() > 3 * some.len(),
            "some {}, heavy {}",
            some.len(),
            heavy.len()
        );
        for kind in [
            |fault: &Fault| matches!(fault, Fault::PlatformKilled { .. }),
            |fault: &Fault| matches!(fault, Fault::NatsRestarted { .. }),
            |fault: &Fault| matches!(fault, Fault::PostgresRestarted { .. }),
            |fault: &Fault| matches!(fault, Fault::RelaysStopped { .. }),
            |fault: &Fault| matches!(fault, Fault::PlatformKilledMidRun { .. }),
        ] {
            assert!(heavy.iter().any(kind), "{heavy:?}");
        }
    }

    #[test]
    fn an_interruption_comes_within_the_days_steps_and_a_repeat_is_none() {
        for at in [0, 1, 6, 7, u64::MAX] {
            let faults = [Fault::NoticeRetried, Fault::PlatformKilled { at }];
            let (fault, before) = interruption(&faults, 6).expect("an interruption");
            assert_eq!(fault, Fault::PlatformKilled { at });
            assert!(before <= 6, "{before}");
        }
        assert_eq!(
            interruption(&[Fault::RelaysStopped { at: 3 }], 0),
            Some((Fault::RelaysStopped { at: 3 }, 0))
        );
        assert_eq!(
            interruption(&[Fault::NoticeRetried, Fault::PaymentRunRetried], 6),
            None
        );
    }

    /// The seed `simulate_cli` runs at `--faults heavy` over 45 days interrupts the platform
    /// in every way, and draws a PostgreSQL restart, which a run on a PostgreSQL it did not
    /// start skips.
    #[test]
    fn the_cli_tests_heavy_seed_kills_restarts_and_stops_the_relays() {
        let drawn = interruptions(1366, FaultLevel::Heavy, 45);
        type Is = fn(&Fault) -> bool;
        let kinds: [(&str, Is); 5] = [
            ("platform kill", |fault| {
                matches!(fault, Fault::PlatformKilled { .. })
            }),
            ("NATS restart", |fault| {
                matches!(fault, Fault::NatsRestarted { .. })
            }),
            ("relay stop", |fault| {
                matches!(fault, Fault::RelaysStopped { .. })
            }),
            ("kill mid-run", |fault| {
                matches!(fault, Fault::PlatformKilledMidRun { .. })
            }),
            ("PostgreSQL restart", |fault| {
                matches!(fault, Fault::PostgresRestarted { .. })
            }),
        ];
        for (kind, is) in kinds {
            assert!(drawn.iter().any(is), "no {kind} among {drawn:?}");
        }
    }
}
