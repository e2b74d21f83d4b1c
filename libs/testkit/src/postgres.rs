//! A PostgreSQL cluster owned by one test, so that the test can stop it (an outage) and
//! start it again without disturbing the shared test cluster that other tests use. It is
//! started by the same `deploy/local/infra.sh` as the shared one (which also starts a NATS
//! beside it, unused here).

use std::path::PathBuf;
use std::process::Command;

use crate::infra::repo_root;

/// A private cluster, stopped and deleted when dropped.
#[derive(Debug)]
pub struct PrivatePostgres {
    state_dir: PathBuf,
    ports: [u16; 3],
    url: String,
}

impl PrivatePostgres {
    /// Initialises and starts a cluster on free loopback ports.
    pub fn start() -> Self {
        let _ = crate::shared_nats_url();
        let state_dir = repo_root()
            .join(".local")
            .join(format!("test-private-{}", uuid::Uuid::new_v4().simple()));
        let ports = [free_port(), free_port(), free_port()];
        let mut cluster = Self {
            state_dir,
            ports,
            url: String::new(),
        };
        cluster.resume();
        cluster
    }

    /// `postgres://...` of the cluster's `postgres` database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the cluster (a fast shutdown: sessions are cut off, as in a restart).
    pub fn stop(&self) {
        let output = infra(&["stop", &self.state_dir.to_string_lossy()]);
        assert!(
            output.status.success(),
            "stop private PostgreSQL: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the cluster again with the same data and port.
    pub fn resume(&mut self) {
        let [pg, nats, monitor] = self.ports.map(|port| port.to_string());
        let output = infra(&[
            "start",
            &self.state_dir.to_string_lossy(),
            &pg,
            &nats,
            &monitor,
        ]);
        assert!(
            output.status.success(),
            "start private PostgreSQL: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        self.url = stdout
            .lines()
            .find_map(|line| line.strip_prefix("SDS_DATABASE_URL="))
            .expect("infra.sh prints SDS_DATABASE_URL")
            .to_owned();
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = infra(&["stop", &self.state_dir.to_string_lossy()]);
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

fn infra(args: &[&str]) -> std::process::Output {
    let root = repo_root();
    Command::new("bash")
        .arg(root.join("deploy/local/infra.sh"))
        .args(args)
        .current_dir(&root)
        .output()
        .expect("run deploy/local/infra.sh")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("read free port").port()
}
