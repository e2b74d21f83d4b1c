//! Composing components into one running process.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::FutureExt as _;
use sds_events::{Relay, RelayConfig, Retention};
use sds_platform::metrics::MetricsExport;
use sds_platform::server::{GrpcServer, ServerLimits, ServiceReach, ServiceSet};
use sds_platform::{Authenticator, Clock, Metrics, PlatformConfig, TokenIssuer};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument as _, error, info, info_span, warn};

use crate::component::{Component, Context, Worker};
use crate::database::connect_and_migrate;
use crate::health::{units_health, watch_databases};
use crate::metrics::{MetricsListener, Sampled};
use crate::web::{Web, WebLimits};

/// How long closing the pools may take once everything else has stopped.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Set to `1`, the process runs no outbox relays: every event its services write waits in
/// their outboxes until a process without it runs. For simulations only (`sds simulate`
/// stops the relays for a while this way), never for a deployment.
pub const RELAYS_HELD: &str = "SDS_RELAYS_HELD";

/// The components named in `only` (all of them when `only` is empty), in composition order.
/// An unknown name is refused with the names there are.
pub fn select(all: Vec<Component>, only: &[String]) -> anyhow::Result<Vec<Component>> {
    if only.is_empty() {
        return Ok(all);
    }
    let known: Vec<&str> = all.iter().map(Component::name).collect();
    for wanted in only {
        if !known.contains(&wanted.as_str()) {
            anyhow::bail!(
                "--only: there is no service {wanted:?}; services: {}",
                known.join(", ")
            );
        }
    }
    Ok(all
        .into_iter()
        .filter(|component| only.iter().any(|wanted| wanted == component.name()))
        .collect())
}

/// Two components with one name, one schema or one durable consumer would share (and
/// split) what each must own alone.
fn ensure_distinct(components: &[Component]) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for component in components {
        let names = [
            format!("service {}", component.name),
            format!("schema {}", component.schema),
        ];
        // Durable consumers are shared by name across the whole stream; tasks only need
        // names of their own within their service.
        let workers = component.workers.iter().map(|worker| {
            if worker.name.starts_with("consumer ") {
                worker.name.clone()
            } else {
                format!("{} of {}", worker.name, component.name)
            }
        });
        for name in names.into_iter().chain(workers) {
            if !seen.insert(name.clone()) {
                anyhow::bail!("two services of this process claim the {name}");
            }
        }
    }
    Ok(())
}

/// A process built from components: migrated, connected, its listener bound.
pub struct Process {
    server: GrpcServer,
    /// The web listener, when a component has web routes.
    web: Option<Web>,
    services: ServiceSet,
    config: Arc<PlatformConfig>,
    units: Vec<(Component, Context)>,
    /// The gRPC service names each component added, in component order, for health.
    service_names: Vec<Vec<&'static str>>,
    metrics: Metrics,
    /// Where `GET /metrics` is served, when `SDS_METRICS_ADDR` is set.
    metrics_listener: Option<MetricsListener>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Process")
            .field("addr", &self.server.local_addr())
            .field("services", &self.services)
            .finish()
    }
}

/// Connects to PostgreSQL and NATS, migrates every component and binds the gRPC listener
/// (port 0 picks a free one). Nothing runs until [`Process::run`].
pub async fn build(config: PlatformConfig, components: Vec<Component>) -> anyhow::Result<Process> {
    let clock = match &config.clock_file {
        Some(path) => {
            warn!(path = %path.display(), "the clock is read from a file (SDS_CLOCK_FILE): for tests and simulations only");
            Clock::from_file(path)
        }
        None => Clock::system(),
    };
    build_with_clock(config, components, clock).await
}

/// [`build`] with a clock of the caller's (a test's or a simulation's [`ManualClock`],
/// say): every service in the process reads "today" from it.
///
/// [`ManualClock`]: sds_platform::ManualClock
pub async fn build_with_clock(
    config: PlatformConfig,
    components: Vec<Component>,
    clock: Clock,
) -> anyhow::Result<Process> {
    ensure_distinct(&components)?;
    // Read before anything else: a certificate that cannot be used stops the process at
    // once, naming the setting and the file.
    let calls_itself = [
        &config.directory_url,
        &config.assessment_url,
        &config.ledger_url,
        &config.contracts_url,
        &config.payments_url,
    ]
    .iter()
    .any(|url| url.is_none());
    let server_tls = sds_platform::tls::server_tls(&config.tls, calls_itself)?;
    let client_tls = sds_platform::tls::ClientTls::load(&config.tls)?;
    let config = Arc::new(config);
    let authenticator = Authenticator::from_config(&config.jwt)
        .await?
        .with_max_lifetime(config.jwt_max_lifetime)
        .with_rate_limit(config.server.rate_limit);
    let service_tokens =
        TokenIssuer::for_services(&config.jwt, config.service_key_file.as_deref())?;
    let pools = connect_and_migrate(&config, &components).await?;
    let metrics = Metrics::start(
        &MetricsExport {
            prometheus: config.metrics.addr.is_some(),
            otlp_endpoint: config.metrics.otlp_endpoint.clone(),
        },
        "sds",
    );
    let metrics_listener = match config.metrics.addr {
        Some(addr) => Some(MetricsListener::bind(addr).await?),
        None => None,
    };

    // The process must come up and take requests even while NATS is unreachable: events
    // wait safely in the outbox until a relay can publish them.
    let nats = connect_nats(&config.nats_url).await?;
    let jetstream = async_nats::jetstream::new(nats);

    // Bound before the services are built, so each knows the address it is served on.
    let server = GrpcServer::bind(config.listen_addr)
        .await?
        .with_limits(ServerLimits {
            request_timeout: config.server.request_timeout,
            max_concurrent_requests: config.server.max_concurrent_requests,
            handshake_timeout: config.server.handshake_timeout,
            body_timeout: config.server.body_timeout,
            keepalive_interval: config.server.keepalive_interval,
            keepalive_timeout: config.server.keepalive_timeout,
            max_streams_per_connection: config.server.max_streams_per_connection,
            max_connections: config.server.max_connections,
        })
        .with_reflection(config.server.reflection)
        .with_tls(server_tls);
    let reach = ServiceReach::new(server.local_addr(), client_tls);

    let mut services = ServiceSet::new();
    let mut routes: Option<axum::Router> = None;
    let mut units = Vec::with_capacity(components.len());
    let mut service_names = Vec::with_capacity(components.len());
    // Each gRPC service's calls are counted under the name of the component that added it.
    let mut rpc_labels = Vec::new();
    for (component, pool) in components.into_iter().zip(pools) {
        metrics.watch_pool(component.name, pool.clone());
        let context = Context {
            pool,
            authenticator: authenticator.clone(),
            service_tokens: service_tokens.clone(),
            reach: reach.clone(),
            jetstream: jetstream.clone(),
            config: Arc::clone(&config),
            clock: clock.clone(),
            outbox_bell: sds_events::OutboxBell::new(),
            metrics: metrics.clone(),
        };
        let added_before = services.names().len();
        for add in &component.grpc {
            services = add(&context, services);
        }
        let added = services.names()[added_before..].to_vec();
        rpc_labels.extend(added.iter().map(|name| (*name, component.name)));
        service_names.push(added);
        for add in &component.http {
            let added = add(&context);
            routes = Some(match routes {
                Some(routes) => routes.merge(added),
                None => added,
            });
        }
        units.push((component, context));
    }
    let web = match routes {
        Some(routes) => Some(Web::bind(config.http_addr, routes).await?),
        None => None,
    };
    let server = server.with_metrics(&metrics, &rpc_labels);

    Ok(Process {
        server,
        web,
        services,
        config,
        units,
        service_names,
        metrics,
        metrics_listener,
    })
}

impl Process {
    /// Where the gRPC server listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where the web listener serves, when a component has web routes.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.web.as_ref().and_then(Web::local_addr)
    }

    /// Where `GET /metrics` is served, when `SDS_METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(MetricsListener::local_addr)
    }

    /// The pool of the component that owns `schema`, for tests that look at what was written.
    pub fn pool_of(&self, schema: &str) -> Option<PgPool> {
        self.units
            .iter()
            .find(|(component, _)| component.schema == schema)
            .map(|(_, context)| context.pool.clone())
    }

    /// Runs everything until `shutdown` completes, then stops in order (see the crate
    /// documentation). Returns the gRPC server's result.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Process {
            server,
            web,
            services,
            config,
            units,
            service_names,
            metrics,
            metrics_listener,
        } = self;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let mut running = Vec::new();
        let mut pools = Vec::with_capacity(units.len());
        let relays_held = std::env::var(RELAYS_HELD).is_ok_and(|held| held == "1");
        if relays_held {
            warn!("the outbox relays are held ({RELAYS_HELD}): for simulations only");
        }
        for (component, context) in units {
            pools.push(context.pool.clone());
            if !relays_held {
                running.push(spawn_relay(&tracker, &cancel, component.name, &context));
            }
            running.push(spawn_pruner(&tracker, &cancel, component.name, &context));
            if metrics.is_on() {
                let sampled = Sampled {
                    service: component.name,
                    pool: context.pool.clone(),
                    jetstream: context.jetstream.clone(),
                    durables: component.durables.clone(),
                    every: config.metrics.sample_interval,
                };
                running.push(spawn_logged(
                    &tracker,
                    component.name,
                    "metrics sampler".to_owned(),
                    crate::metrics::sample(metrics.clone(), sampled, cancel.clone()),
                ));
            }
            for Worker { name, start } in component.workers {
                let run = start(context.clone(), cancel.clone());
                running.push(spawn_logged(&tracker, component.name, name, run));
            }
        }
        // Health follows each service's database until shutdown starts; from then on the
        // server alone says NOT_SERVING.
        let watching = CancellationToken::new();
        let watched = units_health(&pools, service_names);
        running.push(tracker.spawn(watch_databases(
            server.health_reporter(),
            watched,
            watching.clone(),
        )));
        // Served until relays and consumers stop, so a scrape during the drain still answers.
        if let Some(listener) = metrics_listener {
            running.push(spawn_logged(
                &tracker,
                "metrics",
                "metrics listener".to_owned(),
                listener.serve(metrics.clone(), cancel.clone()),
            ));
        }
        tracker.close();

        // The web listener stops taking requests when shutdown starts, as gRPC does.
        let web_stop = CancellationToken::new();
        if let Some(web) = web {
            let limits = WebLimits {
                request_timeout: config.server.request_timeout,
                max_concurrent_requests: config.server.max_concurrent_requests,
                max_connections: config.server.max_connections,
                header_timeout: config.server.handshake_timeout,
            };
            running.push(spawn_logged(
                &tracker,
                "web",
                "web listener".to_owned(),
                web.serve(limits, web_stop.clone()),
            ));
        }
        let shutdown = async move {
            shutdown.await;
            watching.cancel();
            web_stop.cancel();
        };
        let served = server
            .serve(services, shutdown, config.drain_deadline)
            .await;

        cancel.cancel();
        let stop_timeout = config.events.stop_timeout;
        if tokio::time::timeout(stop_timeout, tracker.wait())
            .await
            .is_err()
        {
            warn!(
                timeout_secs = stop_timeout.as_secs(),
                still_running = tracker.len(),
                "relays, consumers or tasks did not stop in time; aborting them"
            );
            // Aborting drops their futures, which rolls back any transaction they hold.
            for task in &running {
                task.abort();
            }
            let _ = tokio::time::timeout(POOL_CLOSE_TIMEOUT, tracker.wait()).await;
        }
        for pool in pools {
            if tokio::time::timeout(POOL_CLOSE_TIMEOUT, pool.close())
                .await
                .is_err()
            {
                warn!("a database pool did not close in time; leaving it");
            }
        }
        // The last OTLP export; it blocks, so it must not hold up the runtime it needs.
        let _ = tokio::task::spawn_blocking(move || metrics.shutdown()).await;
        info!("stopped");
        served
    }
}

/// Connects to NATS: to one server, or to any of a cluster's (`SDS_NATS_URL` lists them
/// separated by commas), moving to another when the one in use goes. The process comes up
/// even while none answers: events wait safely in the outbox until a relay can publish them.
pub async fn connect_nats(url: &str) -> anyhow::Result<async_nats::Client> {
    let servers = sds_platform::config::nats_servers(url)
        .map_err(|problem| anyhow::anyhow!("SDS_NATS_URL: {problem}"))?
        .into_iter()
        .map(|server| {
            server
                .parse::<async_nats::ServerAddr>()
                .with_context(|| format!("SDS_NATS_URL: {server:?} is not a NATS server"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    async_nats::ConnectOptions::new()
        .name("sds")
        .retry_on_initial_connect()
        .connect(servers)
        .await
        .with_context(|| format!("connect to NATS at {url}"))
}

fn spawn_logged(
    tracker: &TaskTracker,
    service: &'static str,
    what: String,
    run: impl Future<Output = anyhow::Result<()>> + Send + 'static,
) -> JoinHandle<()> {
    let span = info_span!("worker", service, worker = %what);
    tracker.spawn(
        async move {
            // A panic is caught here so that it is logged where the worker's span says
            // which one it was; the process carries on without it.
            match std::panic::AssertUnwindSafe(run).catch_unwind().await {
                Ok(Ok(())) => {}
                Ok(Err(failure)) => error!(error = format!("{failure:#}"), "stopped with an error"),
                Err(_panic) => error!("panicked and stopped"),
            }
        }
        .instrument(span),
    )
}

fn spawn_relay(
    tracker: &TaskTracker,
    cancel: &CancellationToken,
    service: &'static str,
    context: &Context,
) -> JoinHandle<()> {
    let events = &context.config.events;
    let relay_config = RelayConfig {
        batch_size: events.relay_batch_size,
        poll_interval: events.relay_poll_interval,
        stop_timeout: events.stop_timeout,
        duplicate_window: events.duplicate_window,
        stream_replicas: events.stream_replicas,
        ..RelayConfig::default()
    };
    let relay = Relay::new(
        context.pool.clone(),
        context.jetstream.clone(),
        relay_config,
    )
    .with_bell(context.outbox_bell.clone());
    let stopped = cancel.clone().cancelled_owned();
    spawn_logged(
        tracker,
        service,
        "outbox relay".to_owned(),
        relay.run(stopped),
    )
}

fn spawn_pruner(
    tracker: &TaskTracker,
    cancel: &CancellationToken,
    service: &'static str,
    context: &Context,
) -> JoinHandle<()> {
    let pool = context.pool.clone();
    let events = context.config.events.clone();
    let retention = Retention {
        outbox: events.outbox_retention,
        inbox: events.inbox_retention,
    };
    let cancel = cancel.clone();
    let prune_every = events.prune_interval;
    spawn_logged(tracker, service, "pruner".to_owned(), async move {
        loop {
            match sds_events::prune(&pool, retention).await {
                Ok(pruned) if pruned.outbox_rows + pruned.inbox_rows > 0 => {
                    info!(
                        outbox_rows = pruned.outbox_rows,
                        inbox_rows = pruned.inbox_rows,
                        "pruned handled events"
                    );
                }
                Ok(_) => {}
                // A database outage only delays pruning.
                Err(failure) => warn!(
                    error = format!("{failure:#}"),
                    "pruning failed; will try again"
                ),
            }
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(prune_every.max(Duration::from_secs(1))) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static NO_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

    fn composition() -> Vec<Component> {
        vec![
            Component::new("directory", "directory", &NO_MIGRATIONS),
            Component::new("ledger", "ledger", &NO_MIGRATIONS),
        ]
    }

    #[test]
    fn only_picks_the_named_services_and_refuses_unknown_names() {
        let all = select(composition(), &[]).unwrap();
        assert_eq!(all.len(), 2);
        let ledger = select(composition(), &["ledger".to_owned()]).unwrap();
        assert_eq!(
            ledger.iter().map(Component::name).collect::<Vec<_>>(),
            ["ledger"]
        );
        let error = select(composition(), &["payment".to_owned()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--only: there is no service \"payment\"; services: directory, ledger"
        );
    }

    #[test]
    fn two_services_may_not_share_a_name_or_a_schema() {
        let twins = vec![
            Component::new("directory", "directory", &NO_MIGRATIONS),
            Component::new("directory-copy", "directory", &NO_MIGRATIONS),
        ];
        assert_eq!(
            ensure_distinct(&twins).unwrap_err().to_string(),
            "two services of this process claim the schema directory"
        );
        assert!(ensure_distinct(&composition()).is_ok());
    }
}
