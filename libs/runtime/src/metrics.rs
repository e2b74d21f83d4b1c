//! The process's side of its metrics (see `sds_platform::metrics`): the listener that
//! serves them as Prometheus text on `SDS_METRICS_ADDR`, and the task per service that
//! samples the gauges read from PostgreSQL and NATS.
//!
//! What must stay true:
//! - `GET /metrics` answers the text collected at that moment, with the content type of the
//!   text format 0.0.4; anything else is 404 (or 405 for another method on `/metrics`);
//! - the listener is for a scraper on a private network, but a client that talks slowly or
//!   opens many connections still holds little: at most [`MAX_CONNECTIONS`] at once, their
//!   headers within [`HEADER_TIMEOUT`];
//! - a sample that fails (database or NATS away, a consumer not yet created) is logged at
//!   debug level and leaves the last sample standing; an outage must not silence the
//!   gauges that show it, and the one that shows a NATS outage is read from PostgreSQL.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use sds_platform::Metrics;
use sds_platform::metrics::PROMETHEUS_CONTENT_TYPE;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::debug;

/// Connections the metrics listener holds at once; more are closed as they come.
const MAX_CONNECTIONS: usize = 16;

/// How long a scraper may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one sample may take before it is given up for this round.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The bound listener of `GET /metrics`.
#[derive(Debug)]
pub(crate) struct MetricsListener {
    listener: TcpListener,
}

impl MetricsListener {
    /// Binds `addr`; port 0 picks a free one.
    pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<MetricsListener> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("bind the metrics listener (SDS_METRICS_ADDR) to {addr}"))?;
        Ok(MetricsListener { listener })
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves `metrics` until `stop` is cancelled.
    pub(crate) async fn serve(
        self,
        metrics: Metrics,
        stop: CancellationToken,
    ) -> anyhow::Result<()> {
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        if let Some(addr) = self.local_addr() {
            tracing::info!(%addr, "serving metrics at /metrics");
        }
        loop {
            let (stream, _) = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "the metrics listener could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
                continue;
            };
            let metrics = metrics.clone();
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper::service::service_fn(move |request| {
                        let answer = answer(&metrics, &request);
                        async move { Ok::<_, Infallible>(answer) }
                    }),
                );
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    // A scraper that goes away mid-answer is no failure of ours.
                    _ = connection => {}
                    () = stop.cancelled() => {}
                }
                drop(permit);
            });
        }
    }
}

fn answer<B>(metrics: &Metrics, request: &Request<B>) -> Response<Body> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut response = Response::new(Body::from(text));
        *response.status_mut() = status;
        response
    };
    if request.uri().path() != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "Not found; the metrics are at /metrics.\n",
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "Use GET.\n");
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match metrics.prometheus_text() {
        Some(text) => {
            let mut response = Response::new(Body::from(text));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
            );
            response
        }
        None => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "The metrics are not available: the process is stopping.\n",
        ),
    }
}

/// What one service's sampler reads.
pub(crate) struct Sampled {
    pub(crate) service: &'static str,
    pub(crate) pool: PgPool,
    pub(crate) jetstream: async_nats::jetstream::Context,
    pub(crate) durables: Vec<&'static str>,
    pub(crate) every: Duration,
}

/// Samples the age of `service`'s oldest unpublished event and what each of its consumers
/// has pending, now and then every `every`, until `stop` is cancelled.
pub(crate) async fn sample(
    metrics: Metrics,
    sampled: Sampled,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let Sampled {
        service,
        pool,
        jetstream,
        durables,
        every,
    } = sampled;
    loop {
        let outbox = async {
            match tokio::time::timeout(
                SAMPLE_TIMEOUT,
                sds_events::metrics::oldest_unpublished_age(&pool),
            )
            .await
            {
                Ok(Ok(age)) => metrics.set_outbox_age(service, age),
                Ok(Err(error)) => debug!(%error, "outbox age not sampled"),
                Err(_) => debug!("outbox age not sampled in time"),
            }
        };
        let consumers = futures::future::join_all(durables.iter().map(|durable| {
            let metrics = &metrics;
            let jetstream = &jetstream;
            async move {
                match tokio::time::timeout(
                    SAMPLE_TIMEOUT,
                    sds_events::metrics::consumer_pending(jetstream, durable),
                )
                .await
                {
                    Ok(Ok(pending)) => metrics.set_consumer_pending(service, durable, pending),
                    Ok(Err(error)) => {
                        debug!(
                            durable,
                            error = format!("{error:#}"),
                            "consumer pending not sampled"
                        );
                    }
                    Err(_) => debug!(durable, "consumer pending not sampled in time"),
                }
            }
        }));
        tokio::join!(outbox, consumers);
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_of_the_metrics_path_is_answered_with_the_text() {
        let metrics = Metrics::start(
            &sds_platform::metrics::MetricsExport {
                prometheus: true,
                otlp_endpoint: None,
            },
            "sds",
        );
        metrics.set_outbox_age("ledger", 0.0);
        let request = |method: Method, path: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .body(())
                .expect("a request")
        };

        let served = answer(&metrics, &request(Method::GET, "/metrics"));
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(
            served.headers()[header::CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            answer(&metrics, &request(Method::GET, "/")).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            answer(&metrics, &request(Method::POST, "/metrics")).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        metrics.shutdown();
        assert_eq!(
            answer(&metrics, &request(Method::GET, "/metrics")).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
