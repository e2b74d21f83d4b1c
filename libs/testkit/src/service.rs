//! A gRPC server spawned in-process on a free port, stopped when dropped.

use std::net::SocketAddr;
use std::time::Duration;

use sds_platform::server::{GrpcServer, ServiceSet};
use tonic::transport::Channel;

#[derive(Debug)]
pub struct SpawnedService {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl SpawnedService {
    /// Serves `services` (plus health and reflection) on 127.0.0.1, port 0.
    pub async fn spawn(services: ServiceSet) -> Self {
        let server = GrpcServer::bind("127.0.0.1:0".parse().expect("loopback address"))
            .await
            .expect("bind test server");
        let addr = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(
            services,
            async {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A client channel to the server.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("valid endpoint")
            .connect()
            .await
            .expect("connect to spawned service")
    }

    /// Stops the server and waits for it to drain.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

impl Drop for SpawnedService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
