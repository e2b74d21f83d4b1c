//! The web listener: what components serve over plain HTTP (server-rendered pages for
//! providers and people, open data), on its own port (`SDS_HTTP_ADDR`), because the gRPC
//! port speaks only HTTP/2 and browsers speak HTTP/1.1.
//!
//! What must stay true, as for gRPC:
//! - every request gets one span, named by its route (the route's pattern, never the
//!   concrete path or query, which may hold ids someone typed), with its status code;
//! - a request that is not answered within the server's request timeout, waiting for a
//!   slot included, is answered 503 with a plain message, not left hanging;
//! - at most the server's concurrency limit of web requests are handled at once;
//! - no client holds the process's resources by talking slowly or not at all: at most the
//!   server's connection limit are open at once (one beyond it is closed as soon as it is
//!   accepted), and a connection whose request headers have not arrived within the
//!   handshake timeout is closed (axum's own `serve` has neither, so this module accepts
//!   connections itself and serves each with hyper);
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

/// What each web request and connection may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebLimits {
    pub request_timeout: Duration,
    pub max_concurrent_requests: usize,
    pub max_connections: usize,
    /// How long a request's headers may take to arrive.
    pub header_timeout: Duration,
}

/// How long in-flight requests may take to finish once the listener stops.
const DRAIN: Duration = Duration::from_secs(10);

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
        let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        loop {
            let (stream, _) = tokio::select! {
                () = stop.cancelled() => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, say: pause rather than spin.
                        tracing::warn!(%error, "the web listener could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
                // Over the connection limit: closed at once, holding nothing.
                drop(stream);
                continue;
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(router.clone()),
                );
            let served = graceful.watch(connection);
            tokio::spawn(async move {
                // A client that goes away mid-request is not the server's failure.
                let _ = served.await;
                drop(permit);
            });
        }
        drop(self.listener);
        if tokio::time::timeout(DRAIN, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                drain_secs = DRAIN.as_secs(),
                "web requests still running at the drain deadline were cut off"
            );
        }
        Ok(())
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
        // The wait for a slot counts toward the timeout: an overloaded server answers 503.
        let answered = tokio::time::timeout(timeout, async {
            let _slot = slots.acquire().await;
            next.run(request).await
        })
        .await;
        let response = match answered {
            Ok(response) => response,
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, "5")],
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
    async fn slow_pages_slow_clients_and_too_many_connections_are_cut_short_and_the_listener_stops_when_told()
     {
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
                max_connections: 3,
                header_timeout: Duration::from_millis(300),
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

        // A client that sends half its headers and stops is closed after the header timeout.
        let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
        slow.write_all(b"GET /quick HTTP/1.1\r\nHost: te")
            .await
            .expect("send");
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), slow.read_to_end(&mut rest))
            .await
            .expect("closed within the header timeout");
        assert!(
            !String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 200"),
            "half a request is not served"
        );

        // Connections beyond the limit are closed at once; those within it are served.
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut beyond = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let _ = beyond
            .write_all(b"GET /quick HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), beyond.read_to_end(&mut answer))
            .await
            .expect("closed at once");
        assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
        drop(held);
        // Once they go (and their header timeouts pass), a new one is served.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let again = fetch(addr, "/quick").await;
        assert!(again.starts_with("HTTP/1.1 200"), "{again}");
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), serving)
            .await
            .expect("the listener stops")
            .expect("joined")
            .expect("served cleanly");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
