//! `sds_rpc_requests_total` and `sds_rpc_duration_seconds` (see [`crate::metrics`]): every
//! call to a method of an `sds.v1` service this server serves, counted once with the status
//! its caller got, and timed from its arrival (the outermost layer, so waiting for the body
//! and for a concurrency slot count) to that status.
//!
//! When a call is counted, since gRPC answers with HTTP 200 and puts its status in a
//! `grpc-status` header or trailer:
//!
//! - a trailers-only answer (every error of a unary call, and every call refused before its
//!   handler ran: authentication, the deadline, a malformed or oversized body) carries its
//!   status in the headers, and is counted when they are sent;
//! - any other answer carries it in the trailers after its last message, and is counted
//!   when they go out: right after the one message of a unary call, at the end of the
//!   stream for a streaming answer (a payment run's progress), whose duration is then the
//!   whole stream's;
//! - a call dropped before its status went out (the client went away, the drain deadline
//!   passed) is counted as CANCELLED, which is what its span records too; an answer that
//!   ends without any status as UNKNOWN.
//!
//! Not counted: health and reflection (they are no `sds.v1` service), services of `sds.v1`
//! this process does not run, and paths that name no method of `sds.v1` (a client's typo
//! must not make a series of its own: `method` only takes names from the protos).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use prost::Message as _;
use tonic::Code;

use super::rpc::grpc_status;
use crate::metrics::Metrics;

/// Every method of `sds.v1`, by its path (`/sds.v1.LedgerService/CreateTransfers`): the
/// full service name and the method name, as the protos spell them.
static METHODS: LazyLock<HashMap<String, (String, String)>> = LazyLock::new(|| {
    let mut methods = HashMap::new();
    let Ok(files) = prost_types::FileDescriptorSet::decode(sds_proto::FILE_DESCRIPTOR_SET) else {
        tracing::error!("the sds.v1 file descriptors do not decode; RPCs are not counted");
        return methods;
    };
    for file in files.file {
        let package = file.package();
        for service in &file.service {
            let full_name = format!("{package}.{}", service.name());
            for method in &service.method {
                methods.insert(
                    format!("/{full_name}/{}", method.name()),
                    (full_name.clone(), method.name().to_owned()),
                );
            }
        }
    }
    methods
});

/// Where calls are counted, and under which `service` label each gRPC service's calls go.
#[derive(Debug, Clone)]
pub(super) struct RpcMetrics {
    metrics: Metrics,
    /// gRPC service name (`sds.v1.LedgerService`) to label (`ledger`).
    services: Arc<HashMap<&'static str, &'static str>>,
}

impl RpcMetrics {
    /// `None` when `metrics` is off.
    pub(super) fn new(
        metrics: &Metrics,
        services: &[(&'static str, &'static str)],
    ) -> Option<RpcMetrics> {
        metrics.is_on().then(|| RpcMetrics {
            metrics: metrics.clone(),
            services: Arc::new(services.iter().copied().collect()),
        })
    }

    /// The call at `path`, if it is one that is counted; its clock starts now.
    fn call_to(&self, path: &str) -> Option<Call> {
        let (service, method) = METHODS.get(path)?;
        let label = self.services.get(service.as_str())?;
        Some(Call {
            metrics: self.metrics.clone(),
            service: label,
            method,
            started: Instant::now(),
            counted: false,
        })
    }
}

/// One call on its way; counted exactly once, as CANCELLED if dropped before its status.
struct Call {
    metrics: Metrics,
    service: &'static str,
    method: &'static str,
    started: Instant,
    counted: bool,
}

impl Call {
    fn answered(&mut self, code: Code) {
        if !self.counted {
            self.counted = true;
            self.metrics
                .record_rpc(self.service, self.method, code, self.started.elapsed());
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.answered(Code::Cancelled);
    }
}

/// Counts and times the calls that [`RpcMetrics`] names; passes everything through as it is
/// when metrics are off.
#[derive(Debug, Clone)]
pub(super) struct RpcMetricsLayer {
    pub(super) rpc: Option<RpcMetrics>,
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetricsService {
            inner,
            rpc: self.rpc.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct RpcMetricsService<S> {
    inner: S,
    rpc: Option<RpcMetrics>,
}

impl<S, RequestBody, ResponseBody> tower::Service<http::Request<RequestBody>>
    for RpcMetricsService<S>
where
    S: tower::Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<CountedBody<ResponseBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let call = self
            .rpc
            .as_ref()
            .and_then(|rpc| rpc.call_to(request.uri().path()));
        let response = self.inner.call(request);
        Box::pin(async move {
            let mut call = call;
            match response.await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    if let (Some(answered), Some(code)) =
                        (call.as_mut(), grpc_status(&parts.headers))
                    {
                        answered.answered(code);
                    }
                    Ok(http::Response::from_parts(
                        parts,
                        CountedBody { inner: body, call },
                    ))
                }
                Err(error) => {
                    // tonic's routes never fail (their error is `Infallible`); tonic would
                    // answer such an error UNKNOWN.
                    if let Some(call) = call.as_mut() {
                        call.answered(Code::Unknown);
                    }
                    Err(error)
                }
            }
        })
    }
}

/// A response body that counts its call when the trailers carrying its status go out.
pub struct CountedBody<B> {
    inner: B,
    call: Option<Call>,
}

impl<B: std::fmt::Debug> std::fmt::Debug for CountedBody<B> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CountedBody")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<B> http_body::Body for CountedBody<B>
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
        if let (Poll::Ready(frame), Some(call)) = (&polled, self.call.as_mut()) {
            match frame {
                Some(Ok(frame)) => {
                    if let Some(trailers) = frame.trailers_ref() {
                        call.answered(grpc_status(trailers).unwrap_or(Code::Unknown));
                    }
                }
                // The stream is reset: the client sees no status of ours.
                Some(Err(_)) | None => call.answered(Code::Unknown),
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body::Frame;
    use http_body_util::BodyExt as _;
    use tower::{Layer as _, Service as _, ServiceExt as _};

    use super::*;

    /// A response body of the frames given, as tonic would send them.
    #[derive(Debug, Default)]
    struct Frames(VecDeque<Frame<Bytes>>);

    impl http_body::Body for Frames {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut TaskContext<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }
    }

    fn status(code: Code) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", (code as i32).into());
        headers
    }

    /// A server answering every call with `headers` and `frames`, counted as the ledger's.
    fn server(
        metrics: &Metrics,
        headers: http::HeaderMap,
        frames: fn() -> Vec<Frame<Bytes>>,
    ) -> impl tower::Service<
        http::Request<()>,
        Response = http::Response<CountedBody<Frames>>,
        Error = Infallible,
    > {
        let answer = tower::service_fn(move |_request: http::Request<()>| {
            let mut response = http::Response::new(Frames(frames().into()));
            *response.headers_mut() = headers.clone();
            async move { Ok::<_, Infallible>(response) }
        });
        RpcMetricsLayer {
            rpc: RpcMetrics::new(metrics, &[("sds.v1.PaymentsService", "payments")]),
        }
        .layer(answer)
    }

    fn call() -> http::Request<()> {
        http::Request::builder()
            .uri("/sds.v1.PaymentsService/RunPayments")
            .body(())
            .expect("a request")
    }

    /// How many calls to RunPayments were counted with `code`.
    fn counted(metrics: &Metrics, code: &str) -> u64 {
        let text = metrics.prometheus_text().expect("text");
        text.lines()
            .filter(|line| {
                line.starts_with("sds_rpc_requests_total{")
                    && line.contains(r#"method="RunPayments""#)
                    && line.contains(&format!(r#"code="{code}""#))
            })
            .map(|line| {
                line.rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0)
            })
            .sum()
    }

    fn on() -> Metrics {
        Metrics::start(
            &crate::metrics::MetricsExport {
                prometheus: true,
                otlp_endpoint: None,
            },
            "sds",
        )
    }

    #[tokio::test]
    async fn a_trailers_only_answer_is_counted_with_the_status_in_its_headers() {
        let metrics = on();
        let mut server = server(&metrics, status(Code::InvalidArgument), Vec::new);
        let response = server.ready().await.unwrap().call(call()).await.unwrap();
        assert_eq!(
            counted(&metrics, "INVALID_ARGUMENT"),
            1,
            "counted at the headers"
        );
        drop(response);
        assert_eq!(counted(&metrics, "INVALID_ARGUMENT"), 1);
        assert_eq!(counted(&metrics, "CANCELLED"), 0);
    }

    #[tokio::test]
    async fn a_streamed_answer_is_counted_at_its_end_with_the_status_in_its_trailers() {
        let metrics = on();
        let frames = || {
            vec![
                Frame::data(Bytes::from_static(b"first")),
                Frame::data(Bytes::from_static(b"second")),
                Frame::trailers(status(Code::NotFound)),
            ]
        };
        let mut server = server(&metrics, http::HeaderMap::new(), frames);
        let mut body = server
            .ready()
            .await
            .unwrap()
            .call(call())
            .await
            .unwrap()
            .into_body();
        body.frame().await.expect("a frame").unwrap();
        body.frame().await.expect("a frame").unwrap();
        assert_eq!(counted(&metrics, "NOT_FOUND"), 0, "not before its end");
        let trailers = body.frame().await.expect("the trailers").unwrap();
        assert!(trailers.is_trailers());
        assert_eq!(counted(&metrics, "NOT_FOUND"), 1);
        drop(body);
        assert_eq!(counted(&metrics, "CANCELLED"), 0);
        assert_eq!(counted(&metrics, "OK"), 0);
    }

    #[tokio::test]
    async fn an_answer_dropped_before_its_status_is_counted_as_cancelled() {
        let metrics = on();
        let frames = || {
            vec![
                Frame::data(Bytes::from_static(b"first")),
                Frame::trailers(status(Code::Ok)),
            ]
        };
        let mut dropped = server(&metrics, http::HeaderMap::new(), frames);
        let mut body = dropped
            .ready()
            .await
            .unwrap()
            .call(call())
            .await
            .unwrap()
            .into_body();
        body.frame().await.expect("a frame").unwrap();
        drop(body);
        assert_eq!(counted(&metrics, "CANCELLED"), 1);

        // A unary answer read to its end is OK.
        let mut read = server(&metrics, http::HeaderMap::new(), frames);
        let body = read
            .ready()
            .await
            .unwrap()
            .call(call())
            .await
            .unwrap()
            .into_body();
        body.collect().await.unwrap();
        assert_eq!(counted(&metrics, "OK"), 1);
        assert_eq!(counted(&metrics, "CANCELLED"), 1);
    }

    #[test]
    fn only_methods_of_the_protos_of_services_this_process_runs_are_counted() {
        let metrics = Metrics::start(
            &crate::metrics::MetricsExport {
                prometheus: true,
                otlp_endpoint: None,
            },
            "sds",
        );
        let rpc = RpcMetrics::new(&metrics, &[("sds.v1.LedgerService", "ledger")])
            .expect("metrics are on");
        let counted = |path: &str| {
            rpc.call_to(path).map(|mut call| {
                call.counted = true;
                (call.service, call.method)
            })
        };
        assert_eq!(
            counted("/sds.v1.LedgerService/CreateTransfers"),
            Some(("ledger", "CreateTransfers"))
        );
        assert_eq!(counted("/sds.v1.LedgerService/NoSuchMethod"), None);
        assert_eq!(counted("/sds.v1.DirectoryService/GetProvider"), None);
        assert_eq!(counted("/grpc.health.v1.Health/Check"), None);
        assert_eq!(
            counted("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            None
        );
        assert!(RpcMetrics::new(&Metrics::default(), &[]).is_none());
    }
}
