//! The shared test PostgreSQL and NATS. `deploy/local/test` starts them and exports their
//! addresses; a plain `cargo test` finds none exported and starts them itself through the
//! same script, which takes a lock so that parallel test processes start them only once.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, bail};
use sqlx::PgPool;

const TEST_STATE_DIR: &str = ".local/test";
const TEST_PG_PORT: &str = "55433";
const TEST_NATS_PORT: &str = "54223";
const TEST_NATS_MONITOR_PORT: &str = "58223";

#[derive(Debug, Clone)]
struct SharedInfra {
    database_url: String,
    nats_url: String,
}

pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared_infra() -> &'static SharedInfra {
    static INFRA: OnceLock<SharedInfra> = OnceLock::new();
    INFRA.get_or_init(|| {
        match (
            std::env::var("SDS_TEST_DATABASE_URL"),
            std::env::var("SDS_TEST_NATS_URL"),
        ) {
            (Ok(database_url), Ok(nats_url)) => SharedInfra {
                database_url,
                nats_url,
            },
            _ => start_infra()
                .unwrap_or_else(|error| panic!("cannot start test PostgreSQL and NATS: {error:#}")),
        }
    })
}

fn start_infra() -> anyhow::Result<SharedInfra> {
    let root = repo_root();
    let output = Command::new("bash")
        .arg(root.join("deploy/local/infra.sh"))
        .args([
            "start",
            TEST_STATE_DIR,
            TEST_PG_PORT,
            TEST_NATS_PORT,
            TEST_NATS_MONITOR_PORT,
        ])
        .current_dir(&root)
        .output()
        .context("run deploy/local/infra.sh")?;
    if !output.status.success() {
        bail!(
            "deploy/local/infra.sh start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value_of = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")).map(str::to_owned))
            .with_context(|| format!("infra.sh printed no {name}"))
    };
    Ok(SharedInfra {
        database_url: value_of("SDS_DATABASE_URL")?,
        nats_url: value_of("SDS_NATS_URL")?,
    })
}

/// The URL of the shared test NATS server.
pub fn shared_nats_url() -> String {
    shared_infra().nats_url.clone()
}

/// A database of its own for one test, on the shared test cluster.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// A pool working in `schema` of this database, as a service would open it.
    pub async fn pool_for_schema(&self, schema: &str) -> PgPool {
        sds_platform::db::connect(&self.url, schema, 5)
            .await
            .unwrap_or_else(|error| panic!("connect to test database {}: {error:#}", self.name))
    }
}

/// Creates an empty database for one test. Databases are left behind for inspection; the
/// test cluster is disposable (`deploy/local/infra.sh stop .local/test` and delete it).
pub async fn fresh_database() -> TestDatabase {
    let admin_url = shared_infra().database_url.clone();
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|error| panic!("connect to test PostgreSQL at {admin_url}: {error}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap_or_else(|error| panic!("create test database: {error}"));
    admin.close().await;
    let url = match admin_url.rsplit_once('/') {
        Some((server, _database)) => format!("{server}/{name}"),
        None => panic!("test database URL {admin_url} names no database"),
    };
    TestDatabase { name, url }
}
