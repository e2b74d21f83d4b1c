//! The service unit: everything one service brings to a process, as one value.
//!
//! A service crate exposes `pub fn component() -> Component`: its name (what `sds serve
//! --only` selects), its PostgreSQL schema and migrations, its gRPC services, its web
//! routes, its event consumers and its background tasks. It writes no wiring of its own: [`crate::build`]
//! connects, migrates, serves, relays its outbox, prunes, runs its consumers and tasks, and
//! stops them all the same way for every service.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use sds_events::{ConsumerConfig, EventHandler, OutboxBell};
use sds_platform::server::{ServiceReach, ServiceSet};
use sds_platform::{Authenticator, Clock, Metrics, PlatformConfig, TokenIssuer};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio_util::sync::CancellationToken;

/// What a service's parts are built from: its own pool (working in its schema), the
/// process's token verifier and service token signer, JetStream, configuration, clock (the
/// one "today" every service shares) and the address the process serves on.
#[derive(Debug, Clone)]
pub struct Context {
    pub pool: PgPool,
    pub authenticator: Authenticator,
    /// Signs the tokens a service calls another service with (see
    /// [`TokenIssuer::for_services`]); `None` when the process has no key to sign them.
    pub service_tokens: Option<TokenIssuer>,
    /// How a service calls the others: at their configured URLs, or at this process's own
    /// port (the one bound, when 0 was asked for) when they run in it, over TLS when the
    /// configuration says so.
    pub reach: ServiceReach,
    pub jetstream: async_nats::jetstream::Context,
    pub config: Arc<PlatformConfig>,
    pub clock: Clock,
    /// Wakes this service's outbox relay; rung by writers that commit events without
    /// `NOTIFY` ([`sds_events::enqueue_all_unannounced`]).
    pub outbox_bell: OutboxBell,
    /// The process's metrics (see [`sds_platform::metrics`]); off unless it exports them.
    pub metrics: Metrics,
}

type GrpcFactory = Box<dyn Fn(&Context, ServiceSet) -> ServiceSet + Send + Sync>;
type HttpFactory = Box<dyn Fn(&Context) -> axum::Router + Send + Sync>;
type Start =
    Box<dyn FnOnce(Context, CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// Something that runs until cancelled: a consumer or a background task.
pub(crate) struct Worker {
    pub(crate) name: String,
    pub(crate) start: Start,
}

/// One service, as a value a process composes.
pub struct Component {
    pub(crate) name: &'static str,
    pub(crate) schema: &'static str,
    pub(crate) migrator: &'static Migrator,
    pub(crate) grpc: Vec<GrpcFactory>,
    pub(crate) http: Vec<HttpFactory>,
    pub(crate) workers: Vec<Worker>,
    /// The durable names of its consumers, whose pending events are sampled.
    pub(crate) durables: Vec<&'static str>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let workers: Vec<&str> = self
            .workers
            .iter()
            .map(|worker| worker.name.as_str())
            .collect();
        formatter
            .debug_struct("Component")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .field("workers", &workers)
            .finish()
    }
}

impl Component {
    /// A service named `name` (lowercase, what `--only` takes) owning `schema`, whose tables
    /// `migrator` creates. The outbox, inbox and dead-letter tables come with every service.
    pub fn new(name: &'static str, schema: &'static str, migrator: &'static Migrator) -> Component {
        Component {
            name,
            schema,
            migrator,
            grpc: Vec::new(),
            http: Vec::new(),
            workers: Vec::new(),
            durables: Vec::new(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn schema(&self) -> &'static str {
        self.schema
    }

    /// Adds the service's gRPC services to the process's server; `add` usually wraps them in
    /// `context.authenticator` as an interceptor.
    pub fn grpc(
        mut self,
        add: impl Fn(&Context, ServiceSet) -> ServiceSet + Send + Sync + 'static,
    ) -> Component {
        self.grpc.push(Box::new(add));
        self
    }

    /// Adds web routes (pages, open data) to the process's web listener (`SDS_HTTP_ADDR`),
    /// which serves HTTP/1.1 for browsers beside the gRPC port. Routes of different
    /// components must not overlap; prefix them with the service's name. The routes decide
    /// for themselves who may see what, as gRPC handlers do.
    pub fn http(
        mut self,
        routes: impl Fn(&Context) -> axum::Router + Send + Sync + 'static,
    ) -> Component {
        self.http.push(Box::new(routes));
        self
    }

    /// Adds a durable consumer named `durable_name` (shared by every replica of the service;
    /// prefix it with the service's name) whose handler `make` builds once the service's
    /// pool exists. It receives the event types the handler declares.
    pub fn consumer<H: EventHandler>(
        mut self,
        durable_name: &'static str,
        make: impl FnOnce(&Context) -> H + Send + 'static,
    ) -> Component {
        let service = self.name;
        let start: Start = Box::new(move |context, cancel| {
            Box::pin(async move {
                let handler = make(&context);
                let config = ConsumerConfig {
                    poison_attempts: context.config.events.poison_attempts,
                    ack_wait: context.config.events.ack_wait,
                    duplicate_window: context.config.events.duplicate_window,
                    stream_replicas: context.config.events.stream_replicas,
                    dead_letters: context.metrics.dead_letters(service, durable_name),
                    ..ConsumerConfig::new(durable_name)
                };
                sds_events::run_consumer(
                    context.pool.clone(),
                    context.jetstream.clone(),
                    config,
                    handler,
                    cancel.cancelled_owned(),
                )
                .await
            })
        });
        self.workers.push(Worker {
            name: format!("consumer {durable_name}"),
            start,
        });
        self.durables.push(durable_name);
        self
    }

    /// Adds a background task that runs until its cancellation token is cancelled, then
    /// finishes what it holds and returns.
    pub fn task<F, Fut>(mut self, name: &'static str, run: F) -> Component
    where
        F: FnOnce(Context, CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.workers.push(Worker {
            name: format!("task {name}"),
            start: Box::new(move |context, cancel| Box::pin(run(context, cancel))),
        });
        self
    }
}
