//! The linker: the service's background task that moves staged links onto the hash chain
//! (see [`super::store`]). What must stay true:
//!
//! - every link a posting staged is chained exactly once: linking and removing it from the
//!   staging table are one transaction, and a linker that dies mid-batch leaves the whole
//!   batch staged for the next round;
//! - the chain never forks: every batch is appended under the chain head's row lock, so
//!   linkers in several replicas take turns;
//! - it wakes when a posting of its process commits ([`ChainBell`]) and also polls, so the
//!   links of a replica that died after its commit are chained by another.
//!
//! Until it is chained, a staged link is still covered: the audit checks its rows against
//! the digest staged with them.

use std::sync::Arc;
use std::time::Duration;

use sds_platform::Clock;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::store::link_staged;

/// Links appended by one transaction of the linker.
pub const LINKS_PER_ROUND: i64 = 2000;

/// How often the linker looks for staged links when no posting of its process rang.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// The least time between two rounds. Under load the postings' links then go onto the
/// chain a few dozen at a time rather than one or two a round, and the rounds' own
/// statements stop competing with the postings for the database; a link waits this much
/// longer to be chained, which nothing waits on (the audit checks staged links too).
const ROUND_GAP: Duration = Duration::from_millis(50);

/// The first pause after a failed round, doubled after every further failure.
const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// The longest pause after failed rounds (the database is away).
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Rung after a posting commits, so the linker links it now rather than at its next poll.
#[derive(Debug, Clone, Default)]
pub struct ChainBell(Arc<Notify>);

impl ChainBell {
    pub fn ring(&self) {
        self.0.notify_one();
    }
}

/// Links everything staged until none is left. Returns how many links it appended.
pub async fn link_all(pool: &PgPool, clock: &Clock) -> anyhow::Result<usize> {
    let mut linked = 0;
    loop {
        let round = link_staged(pool, LINKS_PER_ROUND, clock.now()).await?;
        linked += round;
        if i64::try_from(round).unwrap_or(i64::MAX) < LINKS_PER_ROUND {
            return Ok(linked);
        }
    }
}

/// Runs until `cancel` is cancelled; a round under way finishes first.
pub async fn run(
    pool: PgPool,
    clock: Clock,
    bell: ChainBell,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut backoff = MIN_BACKOFF;
    loop {
        let failed = match link_all(&pool, &clock).await {
            Ok(_) => {
                backoff = MIN_BACKOFF;
                None
            }
            Err(error) => {
                warn!(error = %format!("{error:#}"), retry_in = ?backoff, "linking the hash chain failed");
                let pause = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                Some(pause)
            }
        };
        match failed {
            // After a failure only time passes: postings must not hammer a database away.
            Some(pause) => tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(pause) => {}
            },
            None => {
                tokio::select! {
                    () = cancel.cancelled() => return Ok(()),
                    () = tokio::time::sleep(ROUND_GAP) => {}
                }
                tokio::select! {
                    () = cancel.cancelled() => return Ok(()),
                    () = bell.0.notified() => {}
                    () = tokio::time::sleep(POLL_EVERY - ROUND_GAP) => {}
                }
            }
        }
    }
}
