//! How long a call may take. A call that sends one request message is answered within
//! [`DeadlineLayer::request_timeout`] or gets `CANCELLED` ("Timeout expired", the words
//! tonic's own timeout uses). A call that streams its request (bulk posting sends a payment
//! run's million transfers for as long as that takes) has no limit on its whole length;
//! instead each wait for its next message may last at most [`DeadlineLayer::idle_timeout`],
//! so a client that stops sending cannot hold a concurrency slot. Time the server spends on
//! a message it has received is not counted as the client's idleness.
//!
//! A client's own `grpc-timeout` is still honoured by tonic, for both kinds of call.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use http_body::{Frame, SizeHint};
use tower::ServiceExt as _;

use super::body_first::STREAMING_REQUESTS;

#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            limits: *self,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    limits: DeadlineLayer,
}

impl<S, ResponseBody> tower::Service<http::Request<tonic::body::Body>> for Deadline<S>
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

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let inner = self.inner.clone();
        let DeadlineLayer {
            request_timeout,
            idle_timeout,
        } = self.limits;
        if is_streaming_request(request.uri().path()) {
            let request =
                request.map(|body| tonic::body::Body::new(IdleBody::new(body, idle_timeout)));
            return Box::pin(inner.oneshot(request));
        }
        Box::pin(async move {
            match tokio::time::timeout(request_timeout, inner.oneshot(request)).await {
                Ok(answered) => answered,
                Err(_elapsed) => Ok(tonic::Status::cancelled("Timeout expired").into_http()),
            }
        })
    }
}

/// Whether the call at `path` streams its request.
pub fn is_streaming_request(path: &str) -> bool {
    STREAMING_REQUESTS
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// A request body that fails when the client sends nothing for `idle` while the server
/// waits for it.
struct IdleBody {
    inner: tonic::body::Body,
    idle: Duration,
    /// Set while the server waits for the next frame.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl IdleBody {
    fn new(inner: tonic::body::Body, idle: Duration) -> IdleBody {
        IdleBody {
            inner,
            idle,
            sleep: None,
        }
    }
}

impl http_body::Body for IdleBody {
    type Data = <tonic::body::Body as http_body::Body>::Data;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.sleep = None;
            return Poll::Ready(frame);
        }
        let idle = this.idle;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.sleep = None;
                Poll::Ready(Some(Err(tonic::Status::deadline_exceeded(format!(
                    "the request stream sent nothing for {} s; send its next message sooner, or end the stream",
                    idle.as_secs()
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
