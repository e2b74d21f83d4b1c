//! The web listener: what components serve over plain HTTP (server-rendered pages for
//! providers and people, open data), on its own port (`SDS_HTTP_ADDR`), because the gRPC
//! port speaks only HTTP/2 and browsers speak HTTP/1.1.
//!
//! What must stay true, as for gRPC:
//! - every request gets one span, named by its route (the route's pattern, never the
//!   concrete path or query, which may hold ids someone typed), with its status code;
//! - a request that takes longer than the server's request timeout is answered 503 with a
//!   plain message, not left hanging;
//! - at most the server's concurrency limit of web requests are handled at once;
//! - request bodies are bounded (a form, a CSV of actuals), larger ones refused with 413;
//! - on shutdown the listener stops accepting and in-flight requests finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

/// The largest request body the web listener takes: a CSV of a month's actuals for a large
/// provider fits many times over.
pub const MAX_WEB_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The routes of every component, and the listener they are served on.
pub(crate) struct Web {
    listener: TcpListener,
    router: Router,
}

/// What each web request may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebLimits {
    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
}

impl Web {
    /// Binds `addr` (port 0 picks a free one) for `router`.
    pub(crate) async fn bind(addr: SocketAddr, router: Router) -> anyhow::Result<Web> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("bind the web listener to {addr}"))?;
        Ok(Web { listener, router })
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `stop` is cancelled, then lets in-flight requests finish.
    pub(crate) async fn serve(
        self,
        limits: WebLimits,
        stop: CancellationToken,
    ) -> anyhow::Result<()> {
        let slots = Arc::new(Semaphore::new(limits.max_concurrent_requests.max(1)));
        let router = self
            .router
            .layer(axum::middleware::from_fn(
                move |request: Request, next: Next| {
                    let slots = Arc::clone(&slots);
                    async move { guarded(request, next, slots, limits.request_timeout).await }
                },
            ))
            .layer(DefaultBodyLimit::max(MAX_WEB_BODY_BYTES));
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .context("serve the web listener")
    }
}

/// One request: a span named by its route, a concurrency slot, and the timeout.
async fn guarded(
    request: Request,
    next: Next,
    slots: Arc<Semaphore>,
    timeout: Duration,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{method} {route}"),
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    async move {
        let Ok(_slot) = slots.acquire_owned().await else {
            return (StatusCode::SERVICE_UNAVAILABLE, "The service is stopping.").into_response();
        };
        let response = match tokio::time::timeout(timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "This took too long to answer. Please try again in a moment.",
            )
                .into_response(),
        };
        tracing::Span::current().record("http.response.status_code", response.status().as_u16());
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    async fn fetch(addr: SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .expect("send");
        let mut received = String::new();
        stream.read_to_string(&mut received).await.expect("read");
        received
    }

    #[tokio::test]
    async fn a_slow_page_is_answered_503_and_the_listener_stops_when_told() {
        let router = Router::new()
            .route("/quick", get(|| async { "quick" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "slow"
                }),
            );
        let web = Web::bind("127.0.0.1:0".parse().expect("an address"), router)
            .await
            .expect("bound");
        let addr = web.local_addr().expect("an address");
        let stop = CancellationToken::new();
        let serving = tokio::spawn(web.serve(
            WebLimits {
                request_timeout: Duration::from_millis(200),
                max_concurrent_requests: 4,
            },
            stop.clone(),
        ));
        let quick = fetch(addr, "/quick").await;
        assert!(quick.starts_with("HTTP/1.1 200"), "{quick}");
        assert!(quick.ends_with("quick"), "{quick}");
        let slow = fetch(addr, "/slow").await;
        assert!(slow.starts_with("HTTP/1.1 503"), "{slow}");
        assert!(slow.contains("took too long"), "{slow}");
        let missing = fetch(addr, "/nowhere").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .expect("the listener stops")
            .expect("joined")
            .expect("served cleanly");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
