//! An in-process OTLP/gRPC trace receiver: a test points an OTLP exporter at
//! [`OtlpReceiver::endpoint`], and then finds the exported spans by name and reads their
//! attributes, links and trace ids.
//!
//! What must stay true: the receiver keeps every span it is sent, in arrival order, and
//! accepts every export, so an exporter never retries and a test sees each span once per
//! export. It stops when dropped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
pub use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
pub use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

/// One span as it was exported, with the `service.name` of the resource that sent it.
#[derive(Debug, Clone)]
pub struct ExportedSpan {
    pub service_name: String,
    pub span: Span,
}

impl ExportedSpan {
    /// The span's name: what `otel.name` said, else the tracing span's name.
    pub fn name(&self) -> &str {
        &self.span.name
    }

    /// The trace id as in a `traceparent`: 32 lowercase hex digits.
    pub fn trace_id(&self) -> String {
        lowercase_hex(&self.span.trace_id)
    }

    /// The span id as in a `traceparent`: 16 lowercase hex digits.
    pub fn span_id(&self) -> String {
        lowercase_hex(&self.span.span_id)
    }

    /// Whether the span started its trace (it has no parent).
    pub fn is_root(&self) -> bool {
        self.span.parent_span_id.is_empty()
    }

    pub fn kind(&self) -> SpanKind {
        SpanKind::try_from(self.span.kind).unwrap_or(SpanKind::Unspecified)
    }

    /// The span's status code; `Unset` unless something marked it OK or ERROR.
    pub fn status_code(&self) -> StatusCode {
        self.span
            .status
            .as_ref()
            .and_then(|status| StatusCode::try_from(status.code).ok())
            .unwrap_or(StatusCode::Unset)
    }

    /// The value of attribute `key`, if the span has it.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        find_attribute(&self.span.attributes, key)
    }

    /// Attribute `key` if it is a string.
    pub fn string_attribute(&self, key: &str) -> Option<&str> {
        match self.attribute(key)? {
            Value::StringValue(value) => Some(value),
            _ => None,
        }
    }

    /// Attribute `key` if it is an integer.
    pub fn int_attribute(&self, key: &str) -> Option<i64> {
        match self.attribute(key)? {
            Value::IntValue(value) => Some(*value),
            _ => None,
        }
    }

    /// The trace ids the span links to, in hex, in the order of its links.
    pub fn linked_trace_ids(&self) -> Vec<String> {
        self.span
            .links
            .iter()
            .map(|link| lowercase_hex(&link.trace_id))
            .collect()
    }
}

/// A trace collector on 127.0.0.1, on a port of its own.
#[derive(Debug)]
pub struct OtlpReceiver {
    endpoint: String,
    received: Arc<Mutex<Vec<ExportedSpan>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl OtlpReceiver {
    /// Starts receiving on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the OTLP receiver");
        let addr = listener.local_addr().expect("read the receiver's address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let collector = Collector {
            received: Arc::clone(&received),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(collector))
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "OTLP receiver stopped");
            }
        });
        Self {
            endpoint: format!("http://{addr}"),
            received,
            stop: Some(stop),
        }
    }

    /// Where to point an OTLP/gRPC exporter: `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ExportedSpan> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The spans received so far that are named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<ExportedSpan> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|span| span.name() == name)
            .cloned()
            .collect()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

struct Collector {
    received: Arc<Mutex<Vec<ExportedSpan>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut exported = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let service_name = resource_spans
                .resource
                .as_ref()
                .and_then(|resource| find_attribute(&resource.attributes, "service.name"))
                .and_then(|value| match value {
                    Value::StringValue(name) => Some(name.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    exported.push(ExportedSpan {
                        service_name: service_name.clone(),
                        span,
                    });
                }
            }
        }
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(exported);
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn find_attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

fn lowercase_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_in_a_traceparent() {
        assert_eq!(lowercase_hex(&[0x0a, 0xf7, 0x00, 0xff]), "0af700ff");
        assert_eq!(lowercase_hex(&[]), "");
    }
}
