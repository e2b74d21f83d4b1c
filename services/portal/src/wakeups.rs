//! Waking the open streams when notifications are committed. The consumers announce each
//! subscriber on a PostgreSQL channel in the transaction that keeps its notifications, so
//! the announcement arrives only once they can be read, in whichever process (replica)
//! holds the subscriber's stream. One listener per process fans announcements out to its
//! streams through a broadcast.
//!
//! A wake-up only says "look again": streams read what is after their cursor, so a lost,
//! doubled or early wake-up can delay a notification but never skip or repeat one. Streams
//! also look again every few seconds in case the listener is away.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sds_runtime::CancellationToken;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tracing::{debug, warn};

use crate::store::CHANNEL;

/// Announcements a process's streams may fall behind on before they are told to look
/// again regardless (a lagging receiver is woken, never left asleep).
const CAPACITY: usize = 1024;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Whom to wake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// The subscriber with this [`crate::domain::Subscriber::key`].
    Subscriber(Arc<str>),
    /// Everyone: announcements may have been lost.
    Everyone,
}

/// The process's fan-out of announcements; cheap to clone.
#[derive(Debug, Clone)]
pub struct Wakeups(broadcast::Sender<Wake>);

impl Default for Wakeups {
    fn default() -> Wakeups {
        Wakeups(broadcast::channel(CAPACITY).0)
    }
}

impl Wakeups {
    pub fn new() -> Wakeups {
        Wakeups::default()
    }

    /// A receiver of every wake-up from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.0.subscribe()
    }

    fn wake(&self, wake: Wake) {
        // No stream open is no one to wake.
        let _ = self.0.send(wake);
    }
}

/// Listens on [`CHANNEL`] until `cancel`, reconnecting with backoff when the connection
/// breaks (the streams poll meanwhile).
pub async fn listen(
    pool: PgPool,
    wakeups: Wakeups,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut backoff = MIN_BACKOFF;
    loop {
        let started = std::time::Instant::now();
        let broken = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            listened = listen_until_broken(&pool, &wakeups) => {
                let Err(broken) = listened;
                broken
            }
        };
        if started.elapsed() > MAX_BACKOFF {
            backoff = MIN_BACKOFF;
        }
        warn!(error = %format!("{broken:#}"), retry_in = ?backoff, "notification listener failed; streams poll meanwhile");
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn listen_until_broken(pool: &PgPool, wakeups: &Wakeups) -> anyhow::Result<Infallible> {
    let mut listener = PgListener::connect_with(pool)
        .await
        .context("connect notification listener")?;
    listener
        .listen(CHANNEL)
        .await
        .context("listen for notifications")?;
    debug!("notification listener connected");
    // Anything committed while the listener was away was not announced.
    wakeups.wake(Wake::Everyone);
    loop {
        match listener
            .try_recv()
            .await
            .context("receive notification announcement")?
        {
            Some(announced) => wakeups.wake(Wake::Subscriber(announced.payload().into())),
            // The connection dropped and was re-established; announcements may be lost.
            None => wakeups.wake(Wake::Everyone),
        }
    }
}
