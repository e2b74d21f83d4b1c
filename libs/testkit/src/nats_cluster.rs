//! A NATS cluster owned by one test: three (or more) clustered `nats-server` processes on
//! loopback with JetStream, each with its own store, so the test can kill one node (as a
//! crash would) and start it again on the same ports with the same store.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::nats::free_port;

/// One node of a [`NatsCluster`].
#[derive(Debug)]
struct Node {
    name: String,
    client_port: u16,
    route_port: u16,
    store_dir: PathBuf,
    child: Option<Child>,
}

/// Clustered `nats-server -js` processes, all killed when dropped.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<Node>,
}

impl NatsCluster {
    /// Starts `size` clustered servers and waits until JetStream answers through them.
    pub async fn start(size: usize) -> Self {
        // Make sure the shared infrastructure (which installs nats-server) exists first.
        let _ = crate::shared_nats_url();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let nodes = (0..size)
            .map(|index| {
                let store_dir =
                    std::env::temp_dir().join(format!("sds-test-nats-cluster-{id}-{index}"));
                std::fs::create_dir_all(&store_dir).expect("create NATS store dir");
                Node {
                    name: format!("sds-test-{index}"),
                    client_port: free_port(),
                    route_port: free_port(),
                    store_dir,
                    child: None,
                }
            })
            .collect();
        let mut cluster = Self { nodes };
        for index in 0..size {
            cluster.spawn(index);
        }
        for index in 0..size {
            cluster.wait_for_clients(index).await;
        }
        cluster.wait_for_jetstream().await;
        cluster
    }

    /// Every node's client URL, separated by commas, as `SDS_NATS_URL` takes them.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("nats://127.0.0.1:{}", node.client_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kills node `index` with SIGKILL and waits until it is gone.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.nodes[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `index` again on its ports with its store, and waits until it takes
    /// clients.
    pub async fn resume(&mut self, index: usize) {
        assert!(
            self.nodes[index].child.is_none(),
            "NATS node {index} is already running"
        );
        self.spawn(index);
        self.wait_for_clients(index).await;
    }

    fn spawn(&mut self, index: usize) {
        let routes = self
            .nodes
            .iter()
            .map(|node| format!("nats://127.0.0.1:{}", node.route_port))
            .collect::<Vec<_>>()
            .join(",");
        let node = &mut self.nodes[index];
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &node.client_port.to_string(),
                "-n",
                &node.name,
                "--cluster_name",
                "sds-test",
                "--cluster",
                &format!("nats://127.0.0.1:{}", node.route_port),
                "--routes",
                &routes,
                "-sd",
            ])
            .arg(&node.store_dir)
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(node.store_dir.with_extension("log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("spawn nats-server (is it installed? deploy/local/infra.sh installs it)");
        node.child = Some(child);
    }

    async fn wait_for_clients(&self, index: usize) {
        let address = format!("127.0.0.1:{}", self.nodes[index].client_port);
        crate::wait_until(
            Duration::from_secs(10),
            "a NATS cluster node accepts connections",
            || async {
                tokio::net::TcpStream::connect(&address)
                    .await
                    .ok()
                    .map(|_| ())
            },
        )
        .await;
    }

    /// Waits until the cluster has elected its JetStream meta leader: until then a stream
    /// cannot be created.
    async fn wait_for_jetstream(&self) {
        let url = self.url();
        let replicas = self.nodes.len();
        crate::wait_until(
            Duration::from_secs(30),
            "the NATS cluster's JetStream answers",
            || async {
                let servers: Vec<async_nats::ServerAddr> = url
                    .split(',')
                    .map(|server| server.parse().expect("a server address"))
                    .collect();
                let client = async_nats::connect(servers).await.ok()?;
                let jetstream = async_nats::jetstream::new(client);
                // A stream with a copy on every node can be made only once the cluster has
                // its meta leader and every node has joined.
                let probe = async_nats::jetstream::stream::Config {
                    name: "SDS_TESTKIT_READY".to_owned(),
                    subjects: vec!["sds-testkit-ready".to_owned()],
                    num_replicas: replicas,
                    ..Default::default()
                };
                jetstream.get_or_create_stream(probe).await.ok()?;
                jetstream
                    .delete_stream("SDS_TESTKIT_READY")
                    .await
                    .ok()
                    .map(|_| ())
            },
        )
        .await;
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for index in 0..self.nodes.len() {
            self.kill(index);
            let _ = std::fs::remove_dir_all(&self.nodes[index].store_dir);
        }
    }
}
