//! The service side: the ledger started in-process on its scratch database (migrated,
//! serving, relaying its outbox to NATS, as `sds serve --only ledger` would), and
//! `clients` gRPC clients, each on its own connection, signed in as finance staff of the
//! bench authority.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use futures::StreamExt as _;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use super::clients::{self, Measured};
use super::workload::{AUTHORITY, Planned};
use crate::bench::scratch::config_for;

/// The ledger running in this process, and clients to call it.
pub struct Service {
    clients: Vec<LedgerServiceClient<Channel>>,
    header: MetadataValue<tonic::metadata::Ascii>,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Service {
    /// Builds the ledger on `database_url` (migrating it) and connects `clients` channels.
    pub async fn start(database_url: &str, nats_url: &str, clients: usize) -> anyhow::Result<Self> {
        let config = config_for(database_url, nats_url)?;
        let sds_platform::config::JwtConfig::SharedSecret(secret) = config.jwt.clone() else {
            anyhow::bail!("the benchmark signs its own tokens: unset SDS_JWT_PUBLIC_KEYS_FILE");
        };
        let process = sds_runtime::build(config, vec![sds_ledger::component()]).await?;
        let addr: SocketAddr = process.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(process.run(async {
            let _ = stopped.await;
        }));
        let token = crate::bench::scratch::finance_token(&secret, AUTHORITY)?;
        let header = format!("Bearer {token}").parse().context("token header")?;
        let mut connected = Vec::with_capacity(clients);
        for _ in 0..clients.max(1) {
            // A channel each, as separate client processes would have.
            let channel = Channel::from_shared(format!("http://{addr}"))?
                .connect()
                .await
                .context("connect to the benchmark's ledger")?;
            connected.push(LedgerServiceClient::new(channel));
        }
        Ok(Service {
            clients: connected,
            header,
            stop,
            running,
        })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.header.clone());
        request
    }

    /// Posts `planned` with `CreateTransfers`, `per_call` transfers a call, from every
    /// client at once.
    pub async fn create_transfers(
        self: &Arc<Self>,
        planned: Arc<Vec<Planned>>,
        per_call: usize,
    ) -> anyhow::Result<Measured> {
        let per_call = per_call.max(1);
        let calls = planned.len().div_ceil(per_call);
        let service = Arc::clone(self);
        let count = service.clients.len();
        clients::run(count, calls, per_call, move |client, index| {
            let service = Arc::clone(&service);
            let planned = Arc::clone(&planned);
            async move {
                let end = planned.len().min((index + 1) * per_call);
                let transfers: Vec<proto::NewTransfer> = planned[index * per_call..end]
                    .iter()
                    .map(Planned::message)
                    .collect();
                let asked = transfers.len();
                let mut client = service.clients[client].clone();
                let answer = client
                    .create_transfers(service.request(proto::CreateTransfersRequest { transfers }))
                    .await
                    .map_err(|status| anyhow::anyhow!("CreateTransfers: {status}"))?
                    .into_inner();
                ensure!(
                    answer.transfers.len() == asked,
                    "CreateTransfers answered {} transfers for {asked}",
                    answer.transfers.len()
                );
                Ok(())
            }
        })
        .await
    }

    /// Streams `planned` through one `PostBulk` call, `chunk` transfers a message, as a
    /// payment run would. Each message is built as the stream is read, so encoding the run
    /// is timed, as the raw side's COPY text is.
    pub async fn post_bulk(
        &self,
        planned: Arc<Vec<Planned>>,
        chunk: usize,
    ) -> anyhow::Result<Measured> {
        let chunk = chunk.max(1);
        let total = planned.len();
        let chunks = total.div_ceil(chunk);
        let started = Instant::now();
        let stream = futures::stream::iter(0..chunks).map(move |index| proto::PostBulkChunk {
            transfers: planned[index * chunk..total.min((index + 1) * chunk)]
                .iter()
                .map(Planned::message)
                .collect(),
        });
        let mut client = self.clients[0].clone();
        let answer = client
            .post_bulk(self.request(stream))
            .await
            .map_err(|status| anyhow::anyhow!("PostBulk: {status}"))?
            .into_inner();
        let elapsed = started.elapsed();
        let transfers = u64::try_from(total).unwrap_or(u64::MAX);
        ensure!(
            usize::try_from(answer.chunks).ok() == Some(chunks)
                && answer.recorded == transfers
                && answer.already_recorded == 0,
            "PostBulk answered {answer:?} for {total} new transfers in {chunks} chunks"
        );
        Ok(Measured {
            transfers,
            elapsed,
            latencies: vec![elapsed],
        })
    }

    /// Stops serving and waits for the relay and the pools to close.
    pub async fn stop(self) -> anyhow::Result<()> {
        drop(self.clients);
        let _ = self.stop.send(());
        self.running.await.context("the benchmark's ledger")?
    }
}
