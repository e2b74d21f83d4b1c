//! gRPC server bootstrap: one port for every service of the process, plus gRPC health and
//! reflection (v1 and v1alpha, since grpcurl 1.8 only speaks v1alpha), a span per RPC that
//! continues the caller's trace, a request timeout and a server-wide concurrency limit, and
//! graceful shutdown with a drain deadline.
//!
//! The listener is bound before serving so tests can bind port 0 and ask for the port.
//!
//! What must stay true:
//!
//! - every request, health and reflection included, gets one span (see `rpc`) that follows
//!   OpenTelemetry's RPC conventions (named `package.Service/Method`, with `rpc.system`,
//!   `rpc.service`, `rpc.method` and the numeric `rpc.grpc.status_code`), and continues the
//!   caller's trace when a `traceparent` came with the request;
//! - every call to a method of an `sds.v1` service of the process is counted once, with the
//!   status its caller got, and timed from its arrival (see `rpc_metrics`);
//! - a request that runs past [`ServerLimits::request_timeout`] is answered with
//!   `CANCELLED` ("Timeout expired", as tonic words it), not left hanging; a client's own
//!   shorter `grpc-timeout` wins. A call that streams its request (bulk posting) is not
//!   limited in length, but a wait for its next message is, by
//!   [`ServerLimits::body_timeout`] (see `deadline`);
//! - at most [`ServerLimits::max_concurrent_requests`] requests are being handled at once,
//!   across all connections; the rest wait for a slot;
//! - no connection holds the server's resources without talking HTTP/2: at most
//!   [`ServerLimits::max_connections`] are open at once, one that has not sent its HTTP/2
//!   preface within [`ServerLimits::handshake_timeout`] is closed (see
//!   `connections`), one that stops answering keep-alive pings is closed, and each
//!   may have at most [`ServerLimits::max_streams_per_connection`] calls open at once.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;

mod body_first;
mod connections;
mod deadline;
mod reach;
mod rpc;
mod rpc_metrics;

use body_first::BodyFirstLayer;
use connections::{ConnectionGate, GateLimits};
use deadline::DeadlineLayer;
pub use deadline::is_streaming_request;
pub use reach::{ServiceReach, reachable, service_channel};
use rpc::RpcSpanLayer;
pub use rpc::{CallersFaultBody, MAX_REQUEST_BYTES, callers_fault};
use rpc_metrics::{RpcMetrics, RpcMetricsLayer};

/// The services one process offers, with their names for the health service.
#[derive(Default)]
pub struct ServiceSet {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
}

impl std::fmt::Debug for ServiceSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSet")
            .field("names", &self.names)
            .finish()
    }
}

impl ServiceSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// The names of the services added so far, as health reports them.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// Adds a service (usually wrapped in the [`crate::Authenticator`] interceptor).
    #[allow(clippy::should_implement_trait)] // a builder step, not arithmetic
    pub fn add<S>(mut self, service: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }
}

/// What the server allows each request, across all connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// How long a request may take to produce its response; past it the server answers
    /// `CANCELLED` with the message "Timeout expired". For a streaming response it bounds
    /// the time to the first response, not the whole stream; a streamed request is bounded
    /// by `body_timeout` between its messages instead.
    pub request_timeout: Duration,
    /// Requests being handled at once, server-wide (at least 1). Further requests wait for
    /// a slot; the wait does not count toward `request_timeout`, so a client's own deadline
    /// is what bounds it. A slot is held until the response starts, so an open stream (a
    /// health watch) does not keep one.
    pub max_concurrent_requests: usize,
    /// How long a new connection has to send the HTTP/2 client preface before it is closed.
    pub handshake_timeout: Duration,
    /// How long a request's body may take to arrive after its headers. A request takes a
    /// concurrency slot only once its body is in, so stalled bodies cannot hold slots. A
    /// streamed request holds its slot while it streams, and may wait at most this long for
    /// each of its messages.
    pub body_timeout: Duration,
    /// After this long without hearing from a client, the server pings it...
    pub keepalive_interval: Duration,
    /// ...and closes the connection when the ping is not answered within this.
    pub keepalive_timeout: Duration,
    /// Calls (HTTP/2 streams) one connection may have open at once; advertised to the
    /// client in the server's settings, and a stream beyond it is refused.
    pub max_streams_per_connection: u32,
    /// Connections open at once (at least 1), handshaking ones included. A connection
    /// beyond it is closed as soon as it is accepted. Each takes a file descriptor.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    /// 30 s per request, 256 at once; 10 s to handshake, a ping after 60 s of silence
    /// answered within 20 s, 100 calls per connection and 512 connections.
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 256,
            body_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            keepalive_interval: Duration::from_secs(60),
            keepalive_timeout: Duration::from_secs(20),
            max_streams_per_connection: 100,
            max_connections: 512,
        }
    }
}

/// A bound listener, ready to serve.
#[derive(Debug)]
pub struct GrpcServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    limits: ServerLimits,
    reflection: bool,
    /// Where calls are counted (`sds_rpc_*`); `None`: nowhere.
    rpc_metrics: Option<RpcMetrics>,
    /// `None`: plain HTTP/2.
    tls: Option<crate::tls::ServerTls>,
    health_reporter: tonic_health::server::HealthReporter,
    health_service:
        tonic_health::pb::health_server::HealthServer<tonic_health::server::HealthService>,
}

impl GrpcServer {
    /// Binds `addr`; port 0 picks a free port (tests).
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("bind gRPC listener on {addr}"))?;
        let local_addr = listener.local_addr().context("read bound address")?;
        let health_reporter = tonic_health::server::HealthReporter::new();
        let health_service = tonic_health::pb::health_server::HealthServer::new(
            tonic_health::server::HealthService::from_health_reporter(health_reporter.clone()),
        );
        Ok(Self {
            listener,
            local_addr,
            limits: ServerLimits::default(),
            reflection: true,
            rpc_metrics: None,
            tls: None,
            health_reporter,
            health_service,
        })
    }

    /// Whether the server describes its services to anyone who asks (gRPC reflection, on
    /// by default for local use). Production turns it off: a caller should need the
    /// published protos, not a map handed out to whoever connects.
    pub fn with_reflection(mut self, reflection: bool) -> Self {
        self.reflection = reflection;
        self
    }

    /// Counts and times the calls to `services` in `metrics` (`sds_rpc_requests_total`,
    /// `sds_rpc_duration_seconds`), each pair a gRPC service name and its `service` label
    /// (`("sds.v1.LedgerService", "ledger")`). Other calls, health and reflection among
    /// them, are not counted.
    pub fn with_metrics(
        mut self,
        metrics: &crate::Metrics,
        services: &[(&'static str, &'static str)],
    ) -> Self {
        self.rpc_metrics = RpcMetrics::new(metrics, services);
        self
    }

    /// Serves TLS only, as [`crate::tls::server_tls`] read it from the configuration
    /// (mutual TLS when it has a client CA); `None` keeps plain HTTP/2.
    pub fn with_tls(mut self, tls: Option<crate::tls::ServerTls>) -> Self {
        self.tls = tls;
        self
    }

    /// Replaces the default [`ServerLimits`].
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The health reporter of this server, for whoever watches what the services depend on
    /// (a database that goes away turns its services NOT_SERVING). The server sets every
    /// service SERVING as it starts and NOT_SERVING as it shuts down.
    pub fn health_reporter(&self) -> tonic_health::server::HealthReporter {
        self.health_reporter.clone()
    }

    /// Serves `services` until `shutdown` completes, within the [`ServerLimits`] set with
    /// [`GrpcServer::with_limits`] (defaults otherwise). Then health turns NOT_SERVING, the
    /// listener closes, and in-flight requests get `drain_deadline` to finish before the
    /// server gives up on them.
    pub async fn serve(
        self,
        services: ServiceSet,
        shutdown: impl Future<Output = ()>,
        drain_deadline: Duration,
    ) -> anyhow::Result<()> {
        let ServiceSet { mut routes, names } = services;
        let health_reporter = self.health_reporter;
        let health_service = self.health_service;
        for name in &names {
            health_reporter
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        // The empty name is the whole server, which is what plain health probes ask about.
        health_reporter
            .set_service_status("", ServingStatus::Serving)
            .await;

        routes.add_service(health_service);
        if self.reflection {
            // Only what this process serves is described: a process running one service
            // (`sds serve --only`) does not offer the others' methods only to answer them
            // UNIMPLEMENTED.
            let described = || {
                names.iter().fold(
                    tonic_reflection::server::Builder::configure()
                        .register_encoded_file_descriptor_set(sds_proto::FILE_DESCRIPTOR_SET)
                        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                        .with_service_name("grpc.health.v1.Health")
                        .with_service_name("grpc.reflection.v1.ServerReflection")
                        .with_service_name("grpc.reflection.v1alpha.ServerReflection"),
                    |builder, name| builder.with_service_name(*name),
                )
            };
            let reflection_v1 = described().build_v1().context("build reflection v1")?;
            let reflection_v1alpha = described()
                .build_v1alpha()
                .context("build reflection v1alpha")?;
            routes.add_service(reflection_v1);
            routes.add_service(reflection_v1alpha);
        }

        let ServerLimits {
            request_timeout,
            max_concurrent_requests,
            handshake_timeout,
            body_timeout,
            keepalive_interval,
            keepalive_timeout,
            max_streams_per_connection,
            max_connections,
        } = self.limits;
        // Outermost first: the deadline, read the body, wait for a slot, then open the
        // span. The deadline is outside the other three, so a request that times out is
        // dropped inside its span. A little over the message limit is read, so that a
        // message just over it is refused by tonic with the same words.
        let per_request = tower::ServiceBuilder::new()
            // Outside everything else, so that a call is timed from its arrival and counted
            // with the status its caller gets.
            .layer(RpcMetricsLayer {
                rpc: self.rpc_metrics,
            })
            .layer(DeadlineLayer {
                request_timeout,
                idle_timeout: body_timeout,
            })
            .layer(BodyFirstLayer {
                body_timeout,
                max_bytes: MAX_REQUEST_BYTES + 1024,
            })
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                max_concurrent_requests.max(1),
            ))
            .layer(RpcSpanLayer { request_timeout })
            .into_inner();
        let (stop_accepting, stop_signal) = tokio::sync::oneshot::channel::<()>();
        let tls = match &self.tls {
            None => "off",
            Some(tls) if tls.mutual() => "mutual",
            Some(_) => "on",
        };
        let incoming = ConnectionGate::new(
            self.listener,
            GateLimits {
                max_connections,
                handshake_timeout,
            },
            self.tls.as_ref().map(crate::tls::ServerTls::acceptor),
        );
        // No `.timeout(...)`: tonic's would cut a streamed request off; `DeadlineLayer`
        // times the others. tonic still honours a client's `grpc-timeout`.
        let server = tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(keepalive_interval))
            .http2_keepalive_timeout(Some(keepalive_timeout))
            .max_concurrent_streams(max_streams_per_connection)
            .layer(per_request)
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_signal.await;
            });
        tokio::pin!(server);

        tracing::info!(
            addr = %self.local_addr,
            tls,
            services = ?names,
            timeout = ?request_timeout,
            max_concurrent_requests,
            max_connections,
            max_streams_per_connection,
            handshake_timeout = ?handshake_timeout,
            keepalive = ?keepalive_interval,
            "serving gRPC"
        );
        tokio::select! {
            result = &mut server => return result.context("gRPC server failed"),
            () = shutdown => {}
        }

        tracing::info!(
            deadline_secs = drain_deadline.as_secs(),
            "shutting down: draining in-flight requests"
        );
        for name in &names {
            health_reporter
                .set_service_status(*name, ServingStatus::NotServing)
                .await;
        }
        health_reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let _ = stop_accepting.send(());
        match tokio::time::timeout(drain_deadline, server).await {
            Ok(result) => result.context("gRPC server failed while draining"),
            Err(_) => {
                tracing::warn!("drain deadline passed; abandoning requests still in flight");
                Ok(())
            }
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
