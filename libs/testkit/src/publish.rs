//! Publishing an event by hand, as a relay would, for tests of consumers.

use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;

use crate::wait_until;

/// Publishes `payload` on `subject` with `message_id` and waits for JetStream's ack, once
/// the events stream exists. A service under test may still be setting the stream up as
/// it starts (its relays and consumers each make sure of it), and a loaded machine makes
/// that window longer: a publish nothing takes yet ("no responders") is tried again, for up
/// to ten seconds; the message id keeps a retry from being stored twice.
pub async fn publish_event(
    jetstream: &jetstream::Context,
    subject: &str,
    message_id: &str,
    payload: Bytes,
) {
    wait_until(
        Duration::from_secs(10),
        "the events stream exists",
        || async { jetstream.get_stream("SDS_EVENTS").await.ok().map(|_| ()) },
    )
    .await;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let acked = match jetstream
            .send_publish(
                subject.to_owned(),
                jetstream::message::PublishMessage::build()
                    .message_id(message_id)
                    .payload(payload.clone()),
            )
            .await
        {
            Ok(pending) => pending.await.map(|_| ()).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match acked {
            Ok(()) => return,
            Err(error) if attempts < 100 => {
                tracing::debug!(%error, "publish refused; trying again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("publish {subject}: {error}"),
        }
    }
}
