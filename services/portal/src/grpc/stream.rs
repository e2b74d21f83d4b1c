//! One open `Subscribe` call: what was kept after the cursor, then each new notification.
//!
//! What must stay true: the stream sends the subscriber's notifications in `seq` order, each
//! once, with no gap. It holds one cursor, the last `seq` sent, and only ever reads "after
//! the cursor"; numbers are handed out in commit order per subscriber (see the migration),
//! so whatever such a read returns is the next run with nothing missing before it. Moving
//! from kept to live is the same read, repeated when woken: there is no second source to
//! splice, so no gap or duplicate at the switch. It listens before its first read, so a
//! commit after that read always wakes it; a lost wake-up only delays it until the poll.
//! Should pruning remove what it has still to send (a client that kept a stream open but
//! read nothing for the whole retention period), the stream ends with the refusal a resume
//! from its cursor would get, never with a gap.

use std::time::Duration;

use sds_proto::v1 as proto;
use sqlx::PgPool;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;
use tonic::Status;
use tracing::debug;

use super::convert::notification_message;
use crate::domain::{Cursor, Subscriber};
use crate::error::PortalError;
use crate::store;
use crate::wakeups::Wake;

/// Notifications read at a time.
const BATCH: u32 = 200;

/// How long a stream waits for a wake-up before it looks again anyway: the listener may be
/// reconnecting, and a missed announcement must not hold a notification for long.
const POLL_EVERY: Duration = Duration::from_secs(5);

pub(super) struct Streaming {
    pub pool: PgPool,
    pub subscriber: Subscriber,
    /// The last `seq` sent (or the cursor the call resumed from).
    pub after: Cursor,
    pub wakeups: broadcast::Receiver<Wake>,
    pub sender: mpsc::Sender<Result<proto::Notification, Status>>,
}

impl Streaming {
    /// Sends until the client goes away or the database fails (then the call ends with
    /// the error's status; the client resumes from the last `seq` it received).
    pub async fn run(mut self) {
        let key = self.subscriber.key();
        loop {
            match self.send_what_is_kept().await {
                Ok(true) => {}
                Ok(false) => return,
                Err(failure) => {
                    let _ = self.sender.send(Err(Status::from(failure))).await;
                    return;
                }
            }
            if !self.wait_for_more(&key).await {
                return;
            }
        }
    }

    /// Sends every notification after the cursor; `false` once the client is gone.
    async fn send_what_is_kept(&mut self) -> Result<bool, PortalError> {
        loop {
            let mut connection = self.pool.acquire().await.map_err(|source| {
                PortalError::from(sds_platform::StoreError {
                    operation: "database connection",
                    source,
                })
            })?;
            let batch =
                store::kept_after(&mut connection, self.subscriber, self.after, BATCH).await?;
            // Not held while the client takes its time over the batch.
            drop(connection);
            let full = batch.len() >= usize::try_from(BATCH).unwrap_or(usize::MAX);
            // Pruned while this stream lagged far behind: end it rather than skip unseen.
            if let Some(first) = batch.first() {
                self.after.followed_by(first.seq)?;
            }
            for kept in batch {
                let seq = kept.seq;
                if self
                    .sender
                    .send(Ok(notification_message(kept)))
                    .await
                    .is_err()
                {
                    debug!(last_sent = self.after.seq(), "subscriber went away");
                    return Ok(false);
                }
                self.after = Cursor::after(seq);
            }
            if !full {
                return Ok(true);
            }
        }
    }

    /// Waits until this subscriber may have more: its own wake-up, a general one, or the
    /// poll. `false` once the client is gone.
    async fn wait_for_more(&mut self, key: &str) -> bool {
        let poll = tokio::time::sleep(POLL_EVERY);
        tokio::pin!(poll);
        loop {
            tokio::select! {
                () = self.sender.closed() => return false,
                () = &mut poll => return true,
                woken = self.wakeups.recv() => match woken {
                    Ok(Wake::Subscriber(woken)) if &*woken != key => {}
                    Ok(Wake::Subscriber(_) | Wake::Everyone) => return true,
                    // Announcements were dropped for this stream: one may have been ours.
                    Err(RecvError::Lagged(_)) => return true,
                    // The process is stopping its listener; the poll still serves.
                    Err(RecvError::Closed) => {
                        (&mut poll).await;
                        return true;
                    }
                },
            }
        }
    }
}
