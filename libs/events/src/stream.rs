//! The one JetStream stream that carries every domain event.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;

/// The stream name; its subjects are `sds.>`.
pub const EVENTS_STREAM: &str = "SDS_EVENTS";

/// Creates the events stream if it does not exist; harmless to call from every process at
/// every start.
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
) -> anyhow::Result<jetstream::stream::Stream> {
    jetstream
        .get_or_create_stream(jetstream::stream::Config {
            name: EVENTS_STREAM.to_owned(),
            subjects: vec!["sds.>".to_owned()],
            storage: jetstream::stream::StorageType::File,
            // Publishers retry with the same Nats-Msg-Id; the window must cover a relay's
            // restart. The inbox tables cover anything longer.
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .context("create or open the SDS_EVENTS stream")
}
