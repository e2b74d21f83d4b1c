//! Where a simulated run keeps its books: a fresh PostgreSQL database and a NATS server of
//! its own, started the way the tests start theirs (`deploy/local/infra.sh`), in a folder
//! under the project's `.local/`, and stopped and removed when the run ends (a run killed
//! outright cannot: the next run stops and removes what it left, [`sweep_abandoned`]). The
//! faults restart them in place ([`Infra::restart_nats`], [`Infra::restart_postgres`]): on
//! the same ports, with the same JetStream store and the same cluster.
//!
//! What must stay true: a run never shares NATS with anything else. The services' durable
//! consumers have fixed names, so two platforms on one NATS server would take each other's
//! events; a run's NATS (and its JetStream store) is always its own. PostgreSQL may be a
//! server that is already running (`--database-url`, as the tests pass theirs): the run
//! then makes a database of its own on it, so runs can be repeated side by side.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

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
    /// On these ports: PostgreSQL's, NATS's and its monitor's.
    Script([u16; 3]),
    /// On this port; a restart replaces the child.
    Nats(Mutex<Child>, u16),
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

/// The folders under `local` of runs whose process is gone (killed outright: SIGKILL, a
/// lost session), with their PostgreSQL and NATS stopped by `infra.sh` and removed; returns
/// how many. A folder whose process is still there with `simulate` among its arguments is
/// taken to be a live run's and is left (so is one whose servers would not stop).
pub fn sweep_abandoned(local: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(local) else {
        return 0;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix("simulate-"))
            .and_then(|rest| rest.rsplit_once('-'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || runs_a_simulation(pid) {
            continue;
        }
        let folder = entry.path();
        let stopped = Command::new("bash")
            .arg(infra_script())
            .arg("stop")
            .arg(&folder)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        // Removing the folder of servers still running would lose their pid files and
        // leave them with no way to be stopped but by hand.
        if stopped && std::fs::remove_dir_all(&folder).is_ok() {
            swept += 1;
        }
    }
    swept
}

/// Whether process `pid` is there with `simulate` among its arguments: a run, most likely,
/// rather than another process given the pid of a dead run.
fn runs_a_simulation(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        cmdline
            .split(|byte| *byte == 0)
            .any(|arg| arg == b"simulate")
    })
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr().context("read a free port")?.port())
}

impl Infra {
    /// Starts what the run needs in `.local/simulate-<seed>-<pid>`: NATS always, and
    /// PostgreSQL too unless `server_url` names a running server.
    pub async fn start(seed: u64, server_url: Option<&str>) -> anyhow::Result<Infra> {
        let swept = sweep_abandoned(&local_folder());
        if swept > 0 {
            eprintln!(
                "simulate: stopped and removed what {swept} run(s) killed outright left in .local/"
            );
        }
        let folder = local_folder().join(format!("simulate-{seed}-{}", std::process::id()));
        std::fs::create_dir_all(&folder).with_context(|| format!("create {}", folder.display()))?;
        let (server_url, nats_url, started) = match server_url {
            Some(url) => {
                let port = free_port()?;
                let child = start_nats(&folder, port).await?;
                (
                    url.to_owned(),
                    format!("nats://127.0.0.1:{port}"),
                    Started::Nats(Mutex::new(child), port),
                )
            }
            None => {
                let ports = [free_port()?, free_port()?, free_port()?];
                let (database_url, nats_url) = start_script(&folder, ports)?;
                (database_url, nats_url, Started::Script(ports))
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
            Started::Script(_) => {
                let _ = Command::new("bash")
                    .arg(infra_script())
                    .arg("stop")
                    .arg(&self.folder)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            Started::Nats(child, _) => {
                let child = child.get_mut().unwrap_or_else(PoisonError::into_inner);
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.folder);
    }

    /// Whether the run started its own PostgreSQL (and so may restart it).
    pub fn owns_postgres(&self) -> bool {
        matches!(self.started, Started::Script(_))
    }

    /// NATS killed with SIGKILL and started again on the same port with the same JetStream
    /// store, once it accepts clients again.
    pub async fn restart_nats(&self) -> anyhow::Result<()> {
        match &self.started {
            Started::Nats(child, port) => {
                {
                    let mut child = child.lock().unwrap_or_else(PoisonError::into_inner);
                    child.kill().context("kill nats-server")?;
                    child.wait().context("reap nats-server")?;
                }
                let started = start_nats(&self.folder, *port).await?;
                *child.lock().unwrap_or_else(PoisonError::into_inner) = started;
            }
            Started::Script(ports) => {
                let pid_file = self.folder.join("pids/nats.pid");
                let pid = std::fs::read_to_string(&pid_file)
                    .with_context(|| format!("read {}", pid_file.display()))?;
                kill_hard(pid.trim())?;
                start_script(&self.folder, *ports)?;
            }
        }
        Ok(())
    }

    /// PostgreSQL stopped at once (`pg_ctl stop -m immediate`: every backend killed, no
    /// checkpoint, crash recovery at the next start, as after a crash) and started again
    /// on the same port. Only a PostgreSQL the run started itself.
    pub fn restart_postgres(&self) -> anyhow::Result<()> {
        let Started::Script(ports) = &self.started else {
            bail!("the run did not start its PostgreSQL; it restarts only its own");
        };
        // Where infra.sh keeps the cluster: in the folder, or in the PostgreSQL user's home
        // when the folder is out of that user's reach (it notes where).
        let data = std::fs::read_to_string(self.folder.join("pg-location")).map_or_else(
            |_| self.folder.join("pg"),
            |location| PathBuf::from(location.trim()),
        );
        // Whole: pg_ctl runs from `/` (as the PostgreSQL user, who may not enter here).
        let data = std::fs::canonicalize(&data)
            .with_context(|| format!("find the cluster at {}", data.display()))?;
        let pg_ctl = format!(
            "{}/pg_ctl",
            std::env::var("SDS_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into())
        );
        let stop = format!(
            "cd / && {pg_ctl} -D '{}' -m immediate -w -t 60 stop",
            data.display()
        );
        let mut command = if is_root() {
            let mut su = Command::new("su");
            su.args(["postgres", "-s", "/bin/bash", "-c", &stop]);
            su
        } else {
            let mut bash = Command::new("bash");
            bash.args(["-c", &stop]);
            bash
        };
        let output = command
            .stdin(Stdio::null())
            .output()
            .context("run pg_ctl stop")?;
        if !output.status.success() {
            bail!(
                "pg_ctl stop -m immediate failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        start_script(&self.folder, *ports)?;
        Ok(())
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// SIGKILL to `pid`, and returns once it is gone.
fn kill_hard(pid: &str) -> anyhow::Result<()> {
    let killed = Command::new("kill")
        .args(["-9", pid])
        .status()
        .context("run kill -9")?;
    if !killed.success() {
        bail!("kill -9 {pid} failed");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        if Instant::now() >= deadline {
            bail!("process {pid} still there 10 s after kill -9");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// PostgreSQL and NATS by `infra.sh`, on `ports`; returns their URLs. Whichever of them
/// is already running is left running.
fn start_script(folder: &Path, ports: [u16; 3]) -> anyhow::Result<(String, String)> {
    let ports = ports.map(|port| port.to_string());
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
    let pids = folder.join("pids");
    std::fs::create_dir_all(&pids).with_context(|| format!("create {}", pids.display()))?;
    // Where infra.sh looks for it, so a sweep after a kill of the run stops it too.
    let mut child = Command::new(program)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(&store)
        .arg("-P")
        .arg(pids.join("nats.pid"))
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

/// `url` as it may be shown on a terminal or in a log: the user, host, port and database
/// only, never a password (in the URL's user part or a `password=` parameter).
fn shown(url: &str) -> String {
    match url.parse::<sqlx::postgres::PgConnectOptions>() {
        Ok(options) => format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        ),
        Err(_) => "(a database URL that does not parse)".to_owned(),
    }
}

/// A new database `simulate_<seed>_<random>` on the server; returns its URL.
async fn fresh_database(server_url: &str, seed: u64) -> anyhow::Result<String> {
    use sqlx::Connection as _;
    let name = format!("simulate_{seed}_{}", uuid::Uuid::new_v4().simple());
    // One connection, not a pool: a pool asks again for its whole acquire timeout (30 s)
    // when the server refuses, where one connection says so at once.
    let mut admin = sqlx::PgConnection::connect(server_url)
        .await
        .with_context(|| format!("connect to PostgreSQL at {}", shown(server_url)))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .context("create the run's database")?;
    let _ = admin.close().await;
    Ok(database_url_on(server_url, &name))
}

/// The URL of database `name` on the server of `server_url`: its database (if it names one)
/// replaced, its parameters (`?sslmode=...`) kept but `dbname`, which would name another.
fn database_url_on(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let server = match base.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split_once('/').map_or(rest, |(host, _)| host);
            format!("{scheme}://{host}")
        }
        None => base.to_owned(),
    };
    let kept: Vec<&str> = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter(|pair| !pair.is_empty() && !pair.starts_with("dbname="))
        .collect();
    if kept.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::{database_url_on, shown};

    #[test]
    fn the_run_s_database_replaces_the_one_named_and_keeps_the_parameters() {
        assert_eq!(
            database_url_on(
                "postgres://postgres@127.0.0.1:5432/postgres",
                "simulate_1_x"
            ),
            "postgres://postgres@127.0.0.1:5432/simulate_1_x"
        );
        assert_eq!(
            database_url_on("postgres://u:p@db:5432/ops?sslmode=require", "simulate_1_x"),
            "postgres://u:p@db:5432/simulate_1_x?sslmode=require"
        );
        assert_eq!(
            database_url_on("postgres://postgres@127.0.0.1:5432", "simulate_1_x"),
            "postgres://postgres@127.0.0.1:5432/simulate_1_x"
        );
        assert_eq!(
            database_url_on(
                "postgres://u@db/ops?dbname=ops&sslmode=require",
                "simulate_1_x"
            ),
            "postgres://u@db/simulate_1_x?sslmode=require"
        );
    }

    #[test]
    fn a_password_in_a_database_url_is_never_shown() {
        assert_eq!(
            shown("postgres://sim:s3cr%3Aet@db.example:5432/postgres?sslmode=require"),
            "postgres://sim@db.example:5432/postgres"
        );
        assert_eq!(
            shown("postgres://sim@db.example/ops?password=hunter2"),
            "postgres://sim@db.example:5432/ops"
        );
        assert_eq!(
            shown("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        // A raw `/` in a password makes the URL unreadable: nothing of it is shown.
        assert_eq!(
            shown("postgres://sim:ab/c@db.example/ops"),
            "(a database URL that does not parse)"
        );
        assert_eq!(shown("nonsense"), "(a database URL that does not parse)");
    }
}
