//! The one JetStream stream that carries every domain event.
//!
//! The stream keeps each message for [`EVENTS_MAX_AGE`]. A consumer created or recreated on
//! it is delivered everything it still holds, so consumers' inbox rows must outlive that
//! (see `crate::prune`); configuration refuses an inbox retention that does not.
//!
//! The retention is also the longest consumer outage that only delays events: an event
//! older than that is gone from the stream, delivered or not. A service that was away
//! longer, or a new one that needs older history, asks the owning services over gRPC.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;

/// The stream name; its subjects are `sds.>`.
pub const EVENTS_STREAM: &str = "SDS_EVENTS";

/// How long the stream keeps an event (30 days), defined with the configuration that
/// checks the inbox retention against it.
pub use sds_platform::config::EVENTS_MAX_AGE;

/// Creates the events stream if it does not exist, or brings its retention to
/// [`EVENTS_MAX_AGE`] if an older build created it without; harmless to call from every
/// process at every start. Only the retention is changed on an existing stream, and a
/// refusal to change it (an account without the right, say) is logged, not fatal: events
/// still flow, and the inbox retention check still holds for the shorter of the two.
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
) -> anyhow::Result<jetstream::stream::Stream> {
    let wanted = jetstream::stream::Config {
        name: EVENTS_STREAM.to_owned(),
        subjects: vec!["sds.>".to_owned()],
        storage: jetstream::stream::StorageType::File,
        max_age: EVENTS_MAX_AGE,
        // Publishers retry with the same Nats-Msg-Id; the window must cover a relay's
        // restart. The inbox tables cover anything longer.
        duplicate_window: Duration::from_secs(120),
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
    if current.max_age != EVENTS_MAX_AGE {
        let retention_only = jetstream::stream::Config {
            max_age: EVENTS_MAX_AGE,
            ..current
        };
        if let Err(error) = jetstream.update_stream(retention_only).await {
            tracing::warn!(%error, "cannot set the SDS_EVENTS stream's retention; keeping the stream as it is");
        }
    }
    Ok(stream)
}
