//! The platform as a test runs it: the components a test names, built by the same
//! `sds_runtime::build` as `sds serve`, on a fresh database of the test's own, serving on a
//! free port, relaying to real NATS, stopped when dropped.

use std::collections::HashMap;
use std::net::SocketAddr;

use sds_platform::PlatformConfig;
use sds_runtime::Component;
use sqlx::PgPool;
use tonic::transport::Channel;

use crate::infra::{TestDatabase, fresh_database, shared_nats_url};
use crate::tokens::TEST_JWT_SECRET;

/// A running process of the components a test asked for.
#[derive(Debug)]
pub struct TestProcess {
    pub addr: SocketAddr,
    /// Where the web listener serves, when a component has web routes.
    pub http_addr: Option<SocketAddr>,
    /// Where `GET /metrics` is served, when the test set `SDS_METRICS_ADDR`.
    pub metrics_addr: Option<SocketAddr>,
    pub database: TestDatabase,
    pools: HashMap<&'static str, PgPool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Settings a test may change; everything else is what `sds serve` would use.
#[derive(Debug, Clone, Default)]
pub struct TestSettings {
    /// The NATS server to relay to; the shared test server when `None`.
    pub nats_url: Option<String>,
    /// The PostgreSQL database to use (a [`crate::PrivatePostgres`], say); a fresh
    /// database on the shared test cluster when `None`.
    pub database_url: Option<String>,
    /// Further `SDS_*` settings, as environment variables would give them.
    pub environment: Vec<(&'static str, String)>,
    /// The clock every service reads "today" from; the system's when `None`.
    pub clock: Option<sds_platform::Clock>,
}

impl TestProcess {
    /// Builds and runs `components` on a fresh database with the shared test NATS.
    pub async fn start(components: Vec<Component>) -> TestProcess {
        Self::start_with(components, TestSettings::default()).await
    }

    /// Builds and runs `components` on a fresh database with `settings`.
    pub async fn start_with(components: Vec<Component>, settings: TestSettings) -> TestProcess {
        crate::init_test_logging();
        let database = match &settings.database_url {
            Some(url) => TestDatabase {
                name: "private".to_owned(),
                url: url.clone(),
            },
            None => fresh_database().await,
        };
        let schemas: Vec<&'static str> = components.iter().map(Component::schema).collect();
        let mut environment: HashMap<&str, String> = HashMap::from([
            ("SDS_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
            ("SDS_HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("SDS_DATABASE_URL", database.url.clone()),
            (
                "SDS_NATS_URL",
                settings.nats_url.clone().unwrap_or_else(shared_nats_url),
            ),
            ("SDS_JWT_SECRET", TEST_JWT_SECRET.to_owned()),
            ("SDS_DRAIN_SECONDS", "5".to_owned()),
            ("SDS_RELAY_STOP_SECONDS", "5".to_owned()),
            // Each process its own folder for payment runs' files, never the source tree.
            (
                "SDS_EXPORTS_DIR",
                std::env::temp_dir()
                    .join(format!("sds-exports-{}", uuid::Uuid::now_v7()))
                    .display()
                    .to_string(),
            ),
        ]);
        environment.extend(settings.environment.iter().cloned());
        let config = PlatformConfig::from_lookup(|name| environment.get(name).cloned())
            .unwrap_or_else(|error| panic!("test configuration: {error}"));
        let clock = settings.clock.clone().unwrap_or_default();
        let process = sds_runtime::build_with_clock(config, components, clock)
            .await
            .unwrap_or_else(|error| panic!("build the test process: {error:#}"));
        let addr = process.local_addr();
        let http_addr = process.http_addr();
        let metrics_addr = process.metrics_addr();
        let pools = schemas
            .into_iter()
            .filter_map(|schema| Some((schema, process.pool_of(schema)?)))
            .collect();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(process.run(async {
            let _ = stopped.await;
        }));
        TestProcess {
            addr,
            http_addr,
            metrics_addr,
            database,
            pools,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The pool a component works in, to look at what it wrote.
    /// The web listener's address; panics when no component of the process has web routes.
    pub fn web(&self) -> SocketAddr {
        self.http_addr
            .expect("a component of this process serves web routes")
    }

    pub fn pool(&self, schema: &str) -> PgPool {
        self.pools
            .get(schema)
            .cloned()
            .unwrap_or_else(|| panic!("no component with schema {schema} in this process"))
    }

    /// A client channel to the process's gRPC server.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("valid endpoint")
            .connect()
            .await
            .expect("connect to the test process")
    }

    /// Stops the process as SIGTERM would and waits until everything has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("process task")
                .expect("process stopped cleanly");
        }
    }
}

impl Drop for TestProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
