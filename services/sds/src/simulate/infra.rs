//! Where a simulated run keeps its books: a fresh PostgreSQL database and a NATS server of
//! its own, started the way the tests start theirs (`deploy/local/infra.sh`), in a folder
//! under the project's `.local/`, and stopped and removed when the run ends.
//!
//! What must stay true: a run never shares NATS with anything else. The services' durable
//! consumers have fixed names, so two platforms on one NATS server would take each other's
//! events; a run's NATS (and its JetStream store) is always its own. PostgreSQL may be a
//! server that is already running (`--database-url`, as the tests pass theirs): the run
//! then makes a database of its own on it, so runs can be repeated side by side.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sqlx::PgPool;

/// PostgreSQL and NATS for one run; [`Infra::stop`] stops what it started.
#[derive(Debug)]
pub struct Infra {
    /// The run's own database.
    pub database_url: String,
    pub nats_url: String,
    /// The folder under `.local/` holding what the run started.
    folder: PathBuf,
    /// Started by `infra.sh` (PostgreSQL and NATS both), or NATS alone as a child.
    started: Started,
}

#[derive(Debug)]
enum Started {
    Script,
    Nats(Child),
}

/// `deploy/local/infra.sh`, from the working folder (the project's root, as the other
/// commands are run) or else the checkout this binary was built from.
fn infra_script() -> PathBuf {
    let here = PathBuf::from("deploy/local/infra.sh");
    if here.exists() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/infra.sh")
}

/// The project's `.local/`, beside the `deploy/` the script is in.
fn local_folder() -> PathBuf {
    infra_script()
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from(".local"), |root| root.join(".local"))
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr().context("read a free port")?.port())
}

impl Infra {
    /// Starts what the run needs in `.local/simulate-<seed>-<pid>`: NATS always, and
    /// PostgreSQL too unless `server_url` names a running server.
    pub async fn start(seed: u64, server_url: Option<&str>) -> anyhow::Result<Infra> {
        let folder = local_folder().join(format!("simulate-{seed}-{}", std::process::id()));
        std::fs::create_dir_all(&folder).with_context(|| format!("create {}", folder.display()))?;
        let (server_url, nats_url, started) = match server_url {
            Some(url) => {
                let port = free_port()?;
                let child = start_nats(&folder, port).await?;
                (
                    url.to_owned(),
                    format!("nats://127.0.0.1:{port}"),
                    Started::Nats(child),
                )
            }
            None => {
                let (database_url, nats_url) = start_script(&folder)?;
                (database_url, nats_url, Started::Script)
            }
        };
        let mut infra = Infra {
            database_url: String::new(),
            nats_url,
            folder,
            started,
        };
        match fresh_database(&server_url, seed).await {
            Ok(url) => infra.database_url = url,
            Err(error) => {
                infra.stop();
                return Err(error);
            }
        }
        Ok(infra)
    }

    /// The run's folder under `.local/`, removed when the run ends.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Stops what [`Infra::start`] started and removes its folder; the database made on a
    /// server given by URL is left for a look afterwards, as the tests leave theirs.
    pub fn stop(&mut self) {
        match &mut self.started {
            Started::Script => {
                let _ = Command::new("bash")
                    .arg(infra_script())
                    .arg("stop")
                    .arg(&self.folder)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            Started::Nats(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// PostgreSQL and NATS by `infra.sh`, on free ports; returns their URLs.
fn start_script(folder: &Path) -> anyhow::Result<(String, String)> {
    let ports = [free_port()?, free_port()?, free_port()?].map(|port| port.to_string());
    let output = Command::new("bash")
        .arg(infra_script())
        .arg("start")
        .arg(folder)
        .args(&ports)
        .stdin(Stdio::null())
        .output()
        .context("run deploy/local/infra.sh")?;
    if !output.status.success() {
        bail!(
            "deploy/local/infra.sh start failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value_of = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")).map(str::to_owned))
            .with_context(|| format!("infra.sh printed no {name}"))
    };
    Ok((value_of("SDS_DATABASE_URL")?, value_of("SDS_NATS_URL")?))
}

/// `nats-server -js` on `port` with its store in `folder`, once it accepts clients.
async fn start_nats(folder: &Path, port: u16) -> anyhow::Result<Child> {
    let store = folder.join("nats");
    std::fs::create_dir_all(&store).with_context(|| format!("create {}", store.display()))?;
    // Debian installs it in /usr/sbin, which a non-root PATH may lack.
    let program = if Path::new("/usr/sbin/nats-server").exists() {
        "/usr/sbin/nats-server"
    } else {
        "nats-server"
    };
    let mut child = Command::new(program)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(&store)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start nats-server (deploy/local/infra.sh installs it)")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(child);
        }
        if Instant::now() >= deadline || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("nats-server did not accept connections on port {port} within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new database `simulate_<seed>_<random>` on the server; returns its URL.
async fn fresh_database(server_url: &str, seed: u64) -> anyhow::Result<String> {
    let name = format!("simulate_{seed}_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPool::connect(server_url)
        .await
        .with_context(|| format!("connect to PostgreSQL at {server_url}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .context("create the run's database")?;
    admin.close().await;
    match server_url.rsplit_once('/') {
        Some((server, _database)) => Ok(format!("{server}/{name}")),
        None => bail!("--database-url {server_url} names no database"),
    }
}
