//! Pruning notifications past their retention (`SDS_NOTIFICATION_RETENTION_DAYS`), as often
//! as events are pruned (`SDS_PRUNE_INTERVAL_SECONDS`).
//!
//! What must stay true: what is removed is each subscriber's oldest notifications, a prefix,
//! and how far is remembered with the removal in one statement, so that a resume from a
//! cursor before it is refused (see [`crate::domain::cursor::NoLongerKept`]) rather than
//! silently skipping what the subscriber never received. "Now" is the platform's clock.

use std::time::Duration;

use sds_runtime::CancellationToken;
use sds_runtime::Context;
use tracing::{info, warn};

use crate::store;

/// Prunes until cancelled; a database outage only delays it.
pub async fn prune_old_notifications(
    context: Context,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let retention = context.config.events.notification_retention;
    let every = context
        .config
        .events
        .prune_interval
        .max(Duration::from_secs(1));
    loop {
        let cutoff = context.clock.now() - retention;
        match store::prune_notifications(&context.pool, cutoff).await {
            Ok(0) => {}
            Ok(removed) => info!(
                notifications = removed,
                "pruned notifications past their retention"
            ),
            Err(failure) => warn!(error = %failure, "pruning notifications failed; will try again"),
        }
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}
