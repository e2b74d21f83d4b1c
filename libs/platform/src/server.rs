//! gRPC server bootstrap: one port for every service of the process, plus gRPC health and
//! reflection (v1 and v1alpha, since grpcurl 1.8 only speaks v1alpha), a span per RPC that
//! continues the caller's trace, and graceful shutdown with a drain deadline.
//!
//! The listener is bound before serving so tests can bind port 0 and ask for the port.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;

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

/// A bound listener, ready to serve.
#[derive(Debug)]
pub struct GrpcServer {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl GrpcServer {
    /// Binds `addr`; port 0 picks a free port (tests).
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("bind gRPC listener on {addr}"))?;
        let local_addr = listener.local_addr().context("read bound address")?;
        Ok(Self {
            listener,
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `services` until `shutdown` completes. Then health turns NOT_SERVING, the
    /// listener closes, and in-flight requests get `drain_deadline` to finish before the
    /// server gives up on them.
    pub async fn serve(
        self,
        services: ServiceSet,
        shutdown: impl Future<Output = ()>,
        drain_deadline: Duration,
    ) -> anyhow::Result<()> {
        let ServiceSet { mut routes, names } = services;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        for name in &names {
            health_reporter
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        // The empty name is the whole server, which is what plain health probes ask about.
        health_reporter
            .set_service_status("", ServingStatus::Serving)
            .await;

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(sds_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .context("build reflection v1")?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(sds_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .context("build reflection v1alpha")?;
        routes.add_service(health_service);
        routes.add_service(reflection_v1);
        routes.add_service(reflection_v1alpha);

        let (stop_accepting, stop_signal) = tokio::sync::oneshot::channel::<()>();
        let server = tonic::transport::Server::builder()
            .trace_fn(|request| {
                let span = tracing::info_span!("rpc", rpc.path = %request.uri().path(), otel.kind = "server");
                crate::telemetry::adopt_remote_parent(&span, request.headers());
                span
            })
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(TcpListenerStream::new(self.listener), async {
                let _ = stop_signal.await;
            });
        tokio::pin!(server);

        tracing::info!(addr = %self.local_addr, services = ?names, "serving gRPC");
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
