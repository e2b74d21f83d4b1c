//! The platform as a national holder deploys it: every service its own `sds serve --only
//! SERVICE` process, on its own ports, sharing one PostgreSQL database (each in its own
//! schema) and one NATS server, calling each other over gRPC at the addresses configured
//! (`SDS_DIRECTORY_URL`, `SDS_ASSESSMENT_URL`, `SDS_LEDGER_URL`), and reading "today" from
//! one clock file (`SDS_CLOCK_FILE`) so that a test moves them through days together.
//!
//! The processes are the `sds` binary the workspace builds; each logs to its own file, shown
//! when a process fails to come up.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sds_testkit::{PrivateNats, TEST_JWT_SECRET};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The services, in the order they are started.
pub const SERVICES: [&str; 6] = [
    "directory",
    "assessment",
    "ledger",
    "contracts",
    "payments",
    "portal",
];

/// One running service process.
struct Service {
    name: &'static str,
    addr: String,
    child: Child,
    log: PathBuf,
}

/// Every service in its own process.
pub struct SplitPlatform {
    services: Vec<Service>,
    pub database_url: String,
    pub clock_file: PathBuf,
    _nats: PrivateNats,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// The `sds` binary built beside this test's binary (target/<profile>/sds).
fn sds_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join("sds");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build --bin sds` (the workspace test run builds it)",
        binary.display()
    );
    binary
}

impl SplitPlatform {
    /// Starts every service as its own process on a fresh database and a private NATS
    /// server, with the clock file at noon on `start`; waits until each reports SERVING.
    pub async fn start(start: chrono::NaiveDate) -> SplitPlatform {
        let database = sds_testkit::fresh_database().await;
        let nats = PrivateNats::start().await;
        let label = uuid::Uuid::now_v7().simple().to_string();
        let clock_file = std::env::temp_dir().join(format!("sds-clock-{label}"));
        sds_platform::write_clock_file(
            &clock_file,
            sds_platform::ManualClock::on(start).clock().now(),
        )
        .expect("write the clock file");
        let addrs: Vec<(&'static str, String)> = SERVICES
            .iter()
            .map(|name| (*name, format!("127.0.0.1:{}", free_port())))
            .collect();
        let addr_of = |name: &str| {
            addrs
                .iter()
                .find(|(service, _)| *service == name)
                .map(|(_, addr)| format!("http://{addr}"))
                .expect("a known service")
        };
        let binary = sds_binary();
        let mut services = Vec::new();
        // Started in order, each healthy before the next, as an operator would roll them out.
        for (name, addr) in &addrs {
            let log = std::env::temp_dir().join(format!("sds-split-{label}-{name}.log"));
            let child = Command::new(&binary)
                .args(["serve", "--only", name])
                .env_remove("RUST_LOG")
                .env("SDS_LISTEN_ADDR", addr)
                .env("SDS_HTTP_ADDR", format!("127.0.0.1:{}", free_port()))
                .env("SDS_DATABASE_URL", &database.url)
                .env("SDS_NATS_URL", nats.url())
                .env("SDS_JWT_SECRET", TEST_JWT_SECRET)
                .env("SDS_CLOCK_FILE", &clock_file)
                .env("SDS_DIRECTORY_URL", addr_of("directory"))
                .env("SDS_ASSESSMENT_URL", addr_of("assessment"))
                .env("SDS_LEDGER_URL", addr_of("ledger"))
                .env(
                    "SDS_EXPORTS_DIR",
                    std::env::temp_dir().join(format!("sds-split-exports-{label}")),
                )
                .env("SDS_DRAIN_SECONDS", "2")
                .env("SDS_RELAY_STOP_SECONDS", "2")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("create the service's log"))
                .spawn()
                .expect("start sds serve --only");
            let mut service = Service {
                name,
                addr: addr.clone(),
                child,
                log,
            };
            service.wait_until_serving().await;
            services.push(service);
        }
        SplitPlatform {
            services,
            database_url: database.url,
            clock_file,
            _nats: nats,
        }
    }

    /// A channel to the process serving `name`.
    pub async fn channel(&self, name: &str) -> Channel {
        let service = self
            .services
            .iter()
            .find(|service| service.name == name)
            .unwrap_or_else(|| panic!("no {name} process"));
        Channel::from_shared(format!("http://{}", service.addr))
            .expect("an endpoint")
            .connect()
            .await
            .unwrap_or_else(|error| panic!("connect to {name}: {error}"))
    }

    /// A pool on the shared database working in `schema`.
    pub async fn pool(&self, schema: &str) -> sqlx::PgPool {
        sds_platform::db::connect(&self.database_url, schema, 2)
            .await
            .unwrap_or_else(|error| panic!("connect to schema {schema}: {error}"))
    }
}

impl Service {
    async fn wait_until_serving(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!(
                    "sds serve --only {} exited with {exit}:\n{}",
                    self.name,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if let Ok(channel) = Channel::from_shared(format!("http://{}", self.addr))
                .expect("an endpoint")
                .connect()
                .await
            {
                let serving = HealthClient::new(channel)
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .map(|response| response.into_inner().status)
                    .ok();
                if serving == Some(ServingStatus::Serving as i32) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "sds serve --only {} was not SERVING within 30 s:\n{}",
                self.name,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SplitPlatform {
    fn drop(&mut self) {
        for service in &mut self.services {
            let _ = service.child.kill();
            let _ = service.child.wait();
        }
        let _ = std::fs::remove_file(&self.clock_file);
    }
}
