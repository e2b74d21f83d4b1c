//! A NATS server owned by one test: its own port and JetStream store, so the test can stop
//! it (an outage) and start it again on the same port with the same data.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A private `nats-server -js` process, killed when dropped.
#[derive(Debug)]
pub struct PrivateNats {
    port: u16,
    store_dir: PathBuf,
    child: Option<Child>,
}

impl PrivateNats {
    /// Starts a fresh server on a free loopback port and waits until it accepts clients.
    pub async fn start() -> Self {
        // Make sure the shared infrastructure (which installs nats-server) exists first.
        let _ = crate::shared_nats_url();
        let port = free_port();
        let store_dir =
            std::env::temp_dir().join(format!("sds-test-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&store_dir).expect("create NATS store dir");
        let mut nats = Self {
            port,
            store_dir,
            child: None,
        };
        nats.resume().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and deletes its JetStream store, as when a server comes back
    /// without its disk: streams and consumers are gone.
    pub fn stop_and_lose_store(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store_dir);
        std::fs::create_dir_all(&self.store_dir).expect("recreate NATS store dir");
    }

    /// Starts the server again on the same port with the same JetStream store.
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "private NATS is already running");
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server (is it installed? deploy/local/infra.sh installs it)");
        self.child = Some(child);
        let address = format!("127.0.0.1:{}", self.port);
        crate::wait_until(
            Duration::from_secs(10),
            "private NATS accepts connections",
            || async {
                tokio::net::TcpStream::connect(&address)
                    .await
                    .ok()
                    .map(|_| ())
            },
        )
        .await;
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store_dir);
    }
}

pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("read free port").port()
}
