//! The platform under simulation: every service in one `sds serve` process, a child of the
//! run, reading "today" from a clock file the run moves ([`FileClock`]). A child process,
//! not a task of the run's own, so that a kill is a real SIGKILL: every task it spawned
//! (relays, consumers, payment runs, gRPC connections) dies with it, and its connections
//! to PostgreSQL and NATS drop as they would when a machine loses a process.
//!
//! What must stay true: the platform is always started again on the same address, with
//! the same settings and the same clock file, so the run's one gRPC channel reconnects to
//! it and the books carry on as if nothing had happened; nothing of it outlives the run
//! (the child is killed when dropped).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use tokio::process::{Child, Command};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// How long the platform may take to come up (migrations run at every start).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// Moves "today" for the run and for the platform: the run's own reads stay on the
/// manual clock, the platform reads the file.
#[derive(Debug, Clone)]
pub struct FileClock {
    manual: sds_platform::ManualClock,
    path: PathBuf,
}

impl FileClock {
    pub fn new(manual: sds_platform::ManualClock, path: PathBuf) -> FileClock {
        FileClock { manual, path }
    }

    pub fn set(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        self.manual.set(now);
        sds_platform::write_clock_file(&self.path, now)
            .with_context(|| format!("write the clock file {}", self.path.display()))
    }
}

/// Whether the platform's relays run: held, every event written stays in its outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relays {
    Running,
    Held,
}

/// The `sds serve` child and what it takes to start it again.
#[derive(Debug)]
pub struct PlatformProcess {
    environment: Vec<(String, String)>,
    addr: SocketAddr,
    log: PathBuf,
    child: Option<Child>,
}

impl PlatformProcess {
    /// Starts `sds serve` (this very binary) with `environment` on a free port of its own,
    /// once it says it is serving; its log goes to `log`.
    pub async fn start(
        environment: Vec<(String, String)>,
        log: &Path,
    ) -> anyhow::Result<PlatformProcess> {
        let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .context("find a free port for the platform")?;
        let mut platform = PlatformProcess {
            environment,
            addr,
            log: log.to_owned(),
            child: None,
        };
        platform.spawn(Relays::Running)?;
        platform.until_serving(None).await?;
        Ok(platform)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn spawn(&mut self, relays: Relays) -> anyhow::Result<()> {
        // The running binary itself, even when a build has replaced its file since.
        let program = if Path::new("/proc/self/exe").exists() {
            PathBuf::from("/proc/self/exe")
        } else {
            std::env::current_exe().context("find the sds binary")?
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("open {}", self.log.display()))?;
        let mut command = Command::new(program);
        command
            .arg("serve")
            .env_clear()
            .envs(self.environment.iter().map(|(name, value)| (name, value)))
            .env("SDS_LISTEN_ADDR", self.addr.to_string())
            // A pipe the child reads to its end: it closes when this process dies, even by
            // SIGKILL, and the child then stops (crate::serve::STOP_WHEN_STDIN_CLOSES).
            .stdin(Stdio::piped())
            .env(crate::serve::STOP_WHEN_STDIN_CLOSES, "1")
            .stdout(log.try_clone().context("share the platform's log")?)
            .stderr(log)
            .kill_on_drop(true);
        // Only the settings given, with what a process needs to run and to log as
        // `sds serve` does by default (the run's logs are checked for personal data).
        for kept in ["PATH", "HOME", "RUST_LOG", "RUST_BACKTRACE"] {
            if let Some(value) = std::env::var_os(kept) {
                command.env(kept, value);
            }
        }
        if relays == Relays::Held {
            command.env(sds_runtime::RELAYS_HELD, "1");
        }
        let child = command.spawn().context("start sds serve")?;
        // Beside its log, for whoever wants to know which process it is.
        if let (Some(pid), Some(folder)) = (child.id(), self.log.parent()) {
            let _ = std::fs::write(folder.join("sds.pid"), format!("{pid}\n"));
        }
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL, at once: no drain, no relay stop, connections dropped mid-request.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill().context("kill sds serve")?;
            child.wait().await.context("reap sds serve")?;
        }
        Ok(())
    }

    /// Starts it again on the same address, and returns once `channel` (the run's own,
    /// whose connection died with the old process) is served by the new one.
    pub async fn start_again(&mut self, relays: Relays, channel: &Channel) -> anyhow::Result<()> {
        self.spawn(relays)?;
        self.until_serving(Some(channel)).await
    }

    /// Asks for health through `channel` (a fresh one when none) until the answer is
    /// SERVING: a channel's first call after its server went fails, and is asked again.
    async fn until_serving(&mut self, channel: Option<&Channel>) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let channel = match channel {
                Some(channel) => Some(channel.clone()),
                None => Channel::from_shared(format!("http://{}", self.addr))?
                    .connect()
                    .await
                    .ok(),
            };
            if let Some(channel) = channel {
                let asked = HealthClient::new(channel)
                    .check(HealthCheckRequest::default())
                    .await;
                if asked
                    .is_ok_and(|answer| answer.into_inner().status == ServingStatus::Serving as i32)
                {
                    return Ok(());
                }
            }
            if let Some(child) = self.child.as_mut()
                && let Some(exit) = child.try_wait().context("look at sds serve")?
            {
                bail!(
                    "sds serve stopped ({exit}) while starting; its log: {}",
                    self.log.display()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "sds serve did not serve on {} within {} s; its log: {}",
                    self.addr,
                    START_DEADLINE.as_secs(),
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
