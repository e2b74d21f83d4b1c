//! A request takes one of the server's concurrency slots only once its whole body has
//! arrived. Without this a client could open streams, send headers and never the body, and
//! hold every slot until the request timeout while other callers wait (a probe held all
//! 256 for 30 s with three connections).
//!
//! What must stay true: the body is read within [`BodyFirstLayer::body_timeout`] or the
//! call is answered `DEADLINE_EXCEEDED` and takes no slot; a body over the size limit is
//! answered `RESOURCE_EXHAUSTED` naming it, and never buffered beyond it. Most RPCs send
//! one request message (unary or server-streaming). A client- or bidirectional-streaming
//! RPC sends its body for as long as the call lasts, so it is passed through as it comes
//! (each message still limited by tonic, and the waits between them by `deadline`): gRPC
//! reflection and the ledger's bulk posting are the ones there are, and any new one must be
//! named in [`STREAMING_REQUESTS`].

use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use http_body_util::{BodyExt as _, Full, Limited};
use tower::ServiceExt as _;

/// Path prefixes of RPCs whose request is a stream: reflection's `ServerReflectionInfo` is
/// bidirectional, the ledger's `PostBulk` client-streaming.
pub const STREAMING_REQUESTS: [&str; 3] = [
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/sds.v1.LedgerService/PostBulk",
];

/// Reads each request body in full (within `body_timeout`, at most `max_bytes`) before
/// handing the request on.
#[derive(Debug, Clone, Copy)]
pub struct BodyFirstLayer {
    pub body_timeout: Duration,
    pub max_bytes: usize,
}

impl<S> tower::Layer<S> for BodyFirstLayer {
    type Service = BodyFirst<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyFirst {
            inner,
            limits: *self,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BodyFirst<S> {
    inner: S,
    limits: BodyFirstLayer,
}

impl<S, ResponseBody> tower::Service<http::Request<tonic::body::Body>> for BodyFirst<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<ResponseBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: Send,
    ResponseBody: Default + Send + 'static,
{
    type Response = http::Response<ResponseBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    /// Always ready: readiness of what lies behind (a concurrency slot) is awaited only
    /// once the body is in.
    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        // The clone is not driven to readiness yet; `oneshot` below does that after the
        // body has arrived.
        let inner = self.inner.clone();
        if super::deadline::is_streaming_request(request.uri().path()) {
            return Box::pin(inner.oneshot(request));
        }
        let BodyFirstLayer {
            body_timeout,
            max_bytes,
        } = self.limits;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let collected =
                tokio::time::timeout(body_timeout, Limited::new(body, max_bytes).collect()).await;
            let bytes = match collected {
                Ok(Ok(collected)) => collected.to_bytes(),
                Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
                    return Ok(refusal(tonic::Status::resource_exhausted(format!(
                        "the request is larger than the {} bytes (4 MiB) a message may be; send less at a time",
                        super::MAX_REQUEST_BYTES
                    ))));
                }
                Ok(Err(_broken)) => {
                    return Ok(refusal(tonic::Status::invalid_argument(
                        "the request body could not be read to its end; the connection broke or the stream was reset",
                    )));
                }
                Err(_elapsed) => {
                    tracing::warn!(
                        rpc.method = parts.uri.path(),
                        timeout = ?body_timeout,
                        "request body did not arrive in time; refused without taking a slot"
                    );
                    return Ok(refusal(tonic::Status::deadline_exceeded(format!(
                        "the request body did not arrive within {} s of its headers; send the whole request at once",
                        body_timeout.as_secs_f64()
                    ))));
                }
            };
            let request =
                http::Request::from_parts(parts, tonic::body::Body::new(Full::new(bytes)));
            inner.oneshot(request).await
        })
    }
}

fn refusal<B: Default>(status: tonic::Status) -> http::Response<B> {
    status.into_http()
}
