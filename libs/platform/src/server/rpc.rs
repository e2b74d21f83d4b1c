//! What every RPC gets on its way through the server: a span that follows OpenTelemetry's
//! RPC conventions and records the gRPC status of the answer, and a body tonic cannot
//! decode (or one over the size limit) answered as the caller's fault rather than the
//! server's.
//!
//! What must stay true: each request has exactly one span, whose status is recorded once,
//! also when the request is dropped (timeout, client gone, drain deadline); a malformed
//! body is `INVALID_ARGUMENT` and an oversized one `RESOURCE_EXHAUSTED`, never `INTERNAL`.

use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tonic::Code;
use tracing::Instrument as _;

/// Gives every request a span that follows OpenTelemetry's RPC conventions and records the
/// gRPC status the response carries.
#[derive(Debug, Clone, Copy)]
pub(super) struct RpcSpanLayer {
    pub(super) request_timeout: Duration,
}

impl<S> tower::Layer<S> for RpcSpanLayer {
    type Service = RpcSpanService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcSpanService {
            inner,
            request_timeout: self.request_timeout,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct RpcSpanService<S> {
    inner: S,
    request_timeout: Duration,
}

impl<S, RequestBody, ResponseBody> tower::Service<http::Request<RequestBody>> for RpcSpanService<S>
where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<CallersFaultBody<ResponseBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let span = rpc_span(request.uri().path());
        crate::telemetry::adopt_remote_parent(&span, request.headers());
        let response = span.in_scope(|| self.inner.call(request));
        let mut outcome = RpcOutcome {
            span: span.clone(),
            started: Instant::now(),
            request_timeout: self.request_timeout,
            recorded: false,
        };
        Box::pin(
            async move {
                let response = response.await.map(|response| {
                    let (mut parts, body) = response.into_parts();
                    // Trailers-only answers carry the status in the headers...
                    refuse_malformed_bodies_as_the_callers_fault(&mut parts.headers);
                    // ...other answers in the trailers at the end of the body.
                    http::Response::from_parts(parts, CallersFaultBody { inner: body })
                });
                match &response {
                    Ok(response) => outcome.record(grpc_status_in_headers(response.headers())),
                    // Never happens with tonic's routes (their error is `Infallible`); tonic
                    // would answer it with UNKNOWN.
                    Err(_) => outcome.record(Code::Unknown),
                }
                response
            }
            .instrument(span),
        )
    }
}

/// The largest request message tonic decodes (its default, which the server keeps).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// tonic answers a request body it cannot decode as protobuf (bad bytes, invalid UTF-8 in a
/// string, a wrong wire type) with INTERNAL, and one over the size limit with OUT_OF_RANGE.
/// Both are the caller's doing, so they become INVALID_ARGUMENT and RESOURCE_EXHAUSTED with
/// a short message that names what is accepted. Recognised by tonic's own wording, in the
/// trailers-only headers it answers such requests with.
fn refuse_malformed_bodies_as_the_callers_fault(headers: &mut http::HeaderMap) {
    let code = grpc_status_in_headers(headers);
    let message = headers
        .get("grpc-message")
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    let Some(replacement) = callers_fault(code, message) else {
        return;
    };
    if replacement.add_header(headers).is_err() {
        tracing::warn!("could not rewrite the status of a malformed request");
    }
}

/// The status a caller should get for tonic's answer `code`/`message` to a request body it
/// could not decode, or `None` when the answer is not about a malformed body. `message` may
/// be percent-encoded, as in `grpc-message`. A streaming handler that reads its messages
/// itself (and so sees tonic's decoding errors before the trailers are written) asks this
/// too.
pub fn callers_fault(code: Code, message: &[u8]) -> Option<tonic::Status> {
    // grpc-message is percent-encoded (tonic encodes spaces as %20).
    let says = |prefix: &str| {
        message.starts_with(prefix.as_bytes())
            || message.starts_with(prefix.replace(' ', "%20").as_bytes())
    };
    let replacement = if code == Code::Internal && says("failed to decode Protobuf message") {
        tonic::Status::invalid_argument(
            "the request body is not a valid protobuf message for this method: a field of the wrong type, text that is not UTF-8, or cut-off data",
        )
    } else if code == Code::Internal
        && says("protocol error: received message with compressed-flag")
    {
        tonic::Status::invalid_argument(
            "the request's message is flagged as compressed but no grpc-encoding header says how; send it uncompressed or name the encoding",
        )
    } else if code == Code::Internal && says("invalid compression flag") {
        tonic::Status::invalid_argument(
            "the request body is not gRPC framing: each message starts with a flag byte of 0 or 1 and a four-byte length",
        )
    } else if code == Code::Internal && says("Unexpected EOF decoding stream") {
        tonic::Status::invalid_argument(
            "the request body ends in the middle of a gRPC message (its length prefix promises more bytes than were sent)",
        )
    } else if code == Code::OutOfRange && says("Error, decoded message length too large") {
        tonic::Status::resource_exhausted(format!(
            "the request is larger than the {MAX_REQUEST_BYTES} bytes (4 MiB) a message may be; send less at a time"
        ))
    } else {
        return None;
    };
    Some(replacement)
}

/// A response body whose trailers get the same treatment as trailers-only headers (see
/// [`refuse_malformed_bodies_as_the_callers_fault`]).
#[derive(Debug, Default)]
pub struct CallersFaultBody<B> {
    inner: B,
}

impl<B> http_body::Body for CallersFaultBody<B>
where
    B: http_body::Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        polled.map(|frame| {
            frame.map(|frame| {
                frame.map(|frame| match frame.into_trailers() {
                    Ok(mut trailers) => {
                        refuse_malformed_bodies_as_the_callers_fault(&mut trailers);
                        http_body::Frame::trailers(trailers)
                    }
                    Err(frame) => frame,
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The span of one RPC, named by its path: `/sds.v1.DirectoryService/SearchProviders` is
/// span `sds.v1.DirectoryService/SearchProviders`, service `sds.v1.DirectoryService`, method
/// `SearchProviders`. The status fields are filled in when the response is produced.
fn rpc_span(path: &str) -> tracing::Span {
    let full_method = path.strip_prefix('/').unwrap_or(path);
    let (service, method) = full_method.split_once('/').unwrap_or((full_method, ""));
    tracing::info_span!(
        "rpc",
        otel.name = full_method,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = tracing::field::Empty,
        enduser.id = tracing::field::Empty,
    )
}

/// The gRPC status of a response as far as its headers tell. tonic answers a failed unary
/// call with a trailers-only response, so its `grpc-status` is among the headers; a response
/// without it has its status in the trailers, which for a unary call means OK. Assumed, and
/// not checked: a streaming call that fails after its first message is recorded as OK.
fn grpc_status_in_headers(headers: &http::HeaderMap) -> Code {
    grpc_status(headers).unwrap_or(Code::Ok)
}

/// The `grpc-status` among `headers` (a trailers-only response's, or trailers), if any.
pub(super) fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|status| Code::from_bytes(status.as_bytes()))
}

/// Codes that mean the server failed, not the caller, per OpenTelemetry's gRPC conventions;
/// only these mark a server span as an error.
fn is_server_fault(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
            | Code::DeadlineExceeded
            | Code::Unimplemented
    )
}

/// Records the status of one RPC on its span exactly once, also when the request is dropped
/// before it produced a response.
struct RpcOutcome {
    span: tracing::Span,
    started: Instant,
    request_timeout: Duration,
    recorded: bool,
}

impl RpcOutcome {
    fn record(&mut self, code: Code) {
        self.recorded = true;
        self.span.record("rpc.grpc.status_code", code as i64);
        if is_server_fault(code) {
            self.span.record("otel.status_code", "ERROR");
        }
    }
}

impl Drop for RpcOutcome {
    /// Dropped without a response: tonic's timeout gave up on the request, the client went
    /// away, or the drain deadline passed. The client is told (or would be told) CANCELLED.
    /// Only running out of the server's own time is the server's fault.
    fn drop(&mut self) {
        if self.recorded {
            return;
        }
        self.span
            .record("rpc.grpc.status_code", Code::Cancelled as i64);
        if self.started.elapsed() >= self.request_timeout {
            self.span.record("otel.status_code", "ERROR");
            self.span.in_scope(|| {
                tracing::warn!(timeout = ?self.request_timeout, "request ran past the server's timeout; answered CANCELLED");
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_without_grpc_status_in_its_headers_is_ok_and_a_trailers_only_error_is_read() {
        assert_eq!(grpc_status_in_headers(&http::HeaderMap::new()), Code::Ok);
        let mut trailers_only = http::HeaderMap::new();
        trailers_only.insert("grpc-status", http::HeaderValue::from_static("3"));
        assert_eq!(
            grpc_status_in_headers(&trailers_only),
            Code::InvalidArgument
        );
        trailers_only.insert("grpc-status", http::HeaderValue::from_static("garbage"));
        assert_eq!(grpc_status_in_headers(&trailers_only), Code::Unknown);
    }

    #[test]
    fn only_codes_that_mean_the_server_failed_mark_the_span_as_an_error() {
        let server_faults = [
            Code::Unknown,
            Code::Internal,
            Code::Unavailable,
            Code::DataLoss,
            Code::DeadlineExceeded,
            Code::Unimplemented,
        ];
        let caller_faults_or_fine = [
            Code::Ok,
            Code::Cancelled,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unauthenticated,
        ];
        for code in server_faults {
            assert!(is_server_fault(code), "{code:?}");
        }
        for code in caller_faults_or_fine {
            assert!(!is_server_fault(code), "{code:?}");
        }
    }
}
