//! Reading a delivered envelope: its facts checked and its body decoded before any handler
//! sees it, and the span its handling runs in, continuing the trace stored in it.

use async_nats::jetstream;
use prost::Message as _;
use sds_proto::v1::Event;
use sds_proto::v1::event::Body;
use sds_vocabulary::{AuthorityId, NamedEnum};
use tracing::info_span;
use uuid::Uuid;

use super::{ConsumerConfig, Received};
use crate::event_type::EventType;

/// An envelope whose metadata and body could be read.
pub(super) struct Decoded {
    pub(super) received: Received,
    pub(super) body: Body,
}

/// Reads the envelope: `None` for an event of a type `handles` does not name (decided on
/// the type's name before the body, which a newer producer may have written in a form this
/// build cannot read); `Err` says why an event this consumer handles can never be handled.
pub(super) fn decode(
    consumer: &str,
    payload: &[u8],
    handles: &[EventType],
) -> Result<Option<Decoded>, (Option<Uuid>, Option<String>, String)> {
    let envelope = Event::decode(payload).map_err(|_| {
        (
            None,
            None,
            "the payload is not an sds.v1.Event envelope".to_owned(),
        )
    })?;
    if !handles
        .iter()
        .any(|handled| handled.name() == envelope.event_type)
    {
        return Ok(None);
    }
    let event_id = Uuid::parse_str(&envelope.event_id).map_err(|_| {
        (
            None,
            Some(envelope.event_type.clone()),
            "the envelope's event_id is not a UUID".to_owned(),
        )
    })?;
    let refuse = |reason: String| (Some(event_id), Some(envelope.event_type.clone()), reason);
    let Some(body) = envelope.body.clone() else {
        return Err(refuse(format!(
            "the {} envelope has no body this build can read",
            envelope.event_type
        )));
    };
    let event_type = EventType::of(&body);
    let authority = AuthorityId::parse("authority", &envelope.authority)
        .map_err(|invalid| refuse(format!("the envelope's {invalid}")))?;
    if event_type.name() != envelope.event_type {
        return Err(refuse(format!(
            "the envelope says {} but carries a {} body",
            envelope.event_type,
            event_type.name()
        )));
    }
    Ok(Some(Decoded {
        received: Received {
            consumer: consumer.to_owned(),
            event_id,
            event_type,
            authority,
            aggregate_id: envelope.aggregate_id,
            aggregate_version: envelope.aggregate_version,
            occurred_at: envelope.occurred_at,
        },
        body,
    }))
}

/// The span of one event's handling, with the messaging semantic conventions, so that a
/// collector shows the handler as the consumer side of the change's trace (it continues the
/// trace stored in the envelope).
pub(super) fn event_span(
    config: &ConsumerConfig,
    message: &jetstream::Message,
    received: &Received,
    delivered: i64,
) -> tracing::Span {
    let span = info_span!(
        "event.handle",
        otel.kind = "consumer",
        messaging.system = "nats",
        messaging.operation.type = "process",
        messaging.destination.name = %message.subject,
        messaging.consumer.group.name = %config.durable_name,
        consumer = %config.durable_name,
        event_type = %received.event_type,
        event_id = %received.event_id,
        delivery = delivered,
    );
    let (traceparent, tracestate) = trace_context_of(message.payload.as_ref());
    sds_platform::telemetry::adopt_stored_parent(&span, &traceparent, &tracestate);
    span
}

/// The trace context of an envelope, without keeping the decoded envelope around.
fn trace_context_of(payload: &[u8]) -> (String, String) {
    Event::decode(payload)
        .map(|envelope| (envelope.traceparent, envelope.tracestate))
        .unwrap_or_default()
}
