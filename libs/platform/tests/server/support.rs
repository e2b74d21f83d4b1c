//! What the server tests share: a service that never answers, a codec that sends and
//! receives bytes as they are, a server started on a free port with given limits, and a
//! way to stop it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use sds_platform::server::{GrpcServer, ServerLimits, ServiceSet};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// A gRPC service whose every call waits for ever, so only the server's limits end it. It
/// tells the test each time a call reaches it.
#[derive(Clone, Default)]
pub struct NeverAnswers {
    pub call_arrived: Arc<Notify>,
}

impl tonic::server::NamedService for NeverAnswers {
    const NAME: &'static str = "sds.test.NeverAnswers";
}

impl tower::Service<http::Request<tonic::body::Body>> for NeverAnswers {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: http::Request<tonic::body::Body>) -> Self::Future {
        self.call_arrived.notify_one();
        Box::pin(std::future::pending())
    }
}

/// Calls `NeverAnswers` with an empty message and returns what the client is told.
pub async fn wait_for_an_answer(channel: Channel) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|error| tonic::Status::unavailable(error.to_string()))?;
    grpc.unary(
        tonic::Request::new(()),
        http::uri::PathAndQuery::from_static("/sds.test.NeverAnswers/Wait"),
        tonic_prost::ProstCodec::<(), ()>::default(),
    )
    .await
    .map(|_response| ())
}

pub struct Serving {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Serving {
    pub async fn start(limits: ServerLimits, services: ServiceSet) -> Self {
        let server = GrpcServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
            .with_limits(limits);
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(
            services,
            async {
                let _ = stopped.await;
            },
            Duration::from_millis(100),
        ));
        Self { addr, stop, task }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Sends request bodies as they are, byte for byte, as a broken or hostile client would.
#[derive(Debug, Clone, Default)]
pub struct RawBytes;

impl tonic::codec::Codec for RawBytes {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> Self::Encoder {
        RawBytes
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawBytes
    }
}

impl tonic::codec::Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        buffer: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(buffer, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        buffer: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        let length = bytes::Buf::remaining(buffer);
        Ok(Some(bytes::Buf::copy_to_bytes(buffer, length).to_vec()))
    }
}
