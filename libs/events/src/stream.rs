//! The one JetStream stream that carries every domain event.
//!
//! The stream keeps each message for [`EVENTS_MAX_AGE`]. A consumer created or recreated on
//! it is delivered everything it still holds, so consumers' inbox rows must outlive that
//! (see `crate::prune`); configuration refuses an inbox retention that does not.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;

/// The stream name; its subjects are `sds.>`.
pub const EVENTS_STREAM: &str = "SDS_EVENTS";

/// How long the stream keeps an event: long enough for any consumer outage worth surviving
/// without a replay from the outboxes.
pub use sds_platform::config::EVENTS_MAX_AGE;

/// Creates the events stream if it does not exist, or brings its retention to
/// [`EVENTS_MAX_AGE`] if an older build created it without; harmless to call from every
/// process at every start.
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
        .get_or_create_stream(wanted.clone())
        .await
        .context("create or open the SDS_EVENTS stream")?;
    let current_max_age = stream
        .info()
        .await
        .context("read the SDS_EVENTS stream's settings")?
        .config
        .max_age;
    if current_max_age != EVENTS_MAX_AGE {
        jetstream
            .update_stream(wanted)
            .await
            .context("set the SDS_EVENTS stream's retention")?;
    }
    Ok(stream)
}
