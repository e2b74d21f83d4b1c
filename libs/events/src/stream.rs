//! The one JetStream stream that carries every domain event.
//!
//! The stream keeps each message for [`EVENTS_MAX_AGE`]. A consumer created or recreated on
//! it is delivered everything it still holds, so consumers' inbox rows must outlive that
//! (see `crate::prune`); configuration refuses an inbox retention that does not.
//!
//! The retention is also the longest consumer outage that only delays events: an event
//! older than that is gone from the stream, delivered or not. A service that was away
//! longer, or a new one that needs older history, asks the owning services over gRPC.
//!
//! The stream drops a message whose `Nats-Msg-Id` it has seen within its duplicate window
//! (`SDS_EVENTS_DUPLICATE_WINDOW_SECONDS`, an hour by default). That window is the longest
//! a relay may be away between publishing a batch and marking it published with the stream
//! still holding each event once; past it the stream keeps both copies and only the
//! consumers' inboxes tell them apart. Every start brings an existing stream to the
//! configured window, so a deployment made with another window gets the new one.
//!
//! On a NATS cluster the stream is kept on `replicas` servers (`SDS_EVENTS_REPLICAS`, 3 in
//! the cluster shape): a publish is acknowledged only once a majority of them stored it, so
//! a server lost with its disk loses no acknowledged event. Every start brings an existing
//! stream to the configured count too (JetStream moves the data itself). One server keeps
//! one copy, and then an event the server acknowledged but had not yet synced to disk is
//! lost if the host (not just the process) crashes; the outbox keeps a row only until the
//! publish is acknowledged, so that is the one-machine shape's risk (README, Durability).

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;

/// The stream name; its subjects are `sds.>`.
pub const EVENTS_STREAM: &str = "SDS_EVENTS";

/// How long the stream keeps an event (30 days), defined with the configuration that
/// checks the inbox retention against it.
pub use sds_platform::config::EVENTS_MAX_AGE;

/// The duplicate window when none is configured (an hour).
pub use sds_platform::config::DEFAULT_DUPLICATE_WINDOW;

/// Creates the events stream if it does not exist, or brings its retention to
/// [`EVENTS_MAX_AGE`], its duplicate window to `duplicate_window` and its copies to
/// `replicas` if an older build or another configuration created it otherwise; harmless to
/// call from every process at every start. Only those settings are changed on an existing
/// stream, and a refusal to change them (an account without the right, or fewer servers
/// than replicas, say) is logged, not fatal: events still flow, and the inbox retention
/// check still holds for the shorter of the two.
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
    duplicate_window: Duration,
    replicas: usize,
) -> anyhow::Result<jetstream::stream::Stream> {
    let wanted = jetstream::stream::Config {
        name: EVENTS_STREAM.to_owned(),
        subjects: vec!["sds.>".to_owned()],
        storage: jetstream::stream::StorageType::File,
        max_age: EVENTS_MAX_AGE,
        duplicate_window,
        num_replicas: replicas,
        ..Default::default()
    };
    let mut stream = jetstream
        .get_or_create_stream(wanted)
        .await
        .context("create or open the SDS_EVENTS stream")?;
    let current = stream
        .info()
        .await
        .context("read the SDS_EVENTS stream's settings")?
        .config
        .clone();
    if current.max_age != EVENTS_MAX_AGE
        || current.duplicate_window != duplicate_window
        || current.num_replicas != replicas
    {
        let previous_window = current.duplicate_window;
        let previous_replicas = current.num_replicas;
        let updated = jetstream::stream::Config {
            max_age: EVENTS_MAX_AGE,
            duplicate_window,
            num_replicas: replicas,
            ..current
        };
        match jetstream.update_stream(updated).await {
            Ok(_) => tracing::info!(
                previous_duplicate_window = ?previous_window,
                duplicate_window = ?duplicate_window,
                previous_replicas,
                replicas,
                "brought the SDS_EVENTS stream to the configured retention, duplicate window and replicas"
            ),
            Err(error) => tracing::warn!(
                %error,
                "cannot set the SDS_EVENTS stream's retention, duplicate window and replicas; keeping the stream as it is"
            ),
        }
    }
    Ok(stream)
}
