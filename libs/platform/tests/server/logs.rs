//! What a request can put in the text logs: whatever it carries, and however carelessly a
//! handler logs it, each event stays one line, with line breaks and ANSI escape sequences
//! written as escapes, because the escaping is the formatter's and not each handler's.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::{BoxFuture, Ready, ready};
use sds_platform::server::{ServerLimits, ServiceSet};
use sds_platform::telemetry::text_log_layer;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::{RawBytes, Serving};

/// A service that logs the text it is sent as a handler should not: as it is, in the
/// message and in a Display field.
#[derive(Clone, Default)]
struct CarelessLogger;

impl tonic::server::NamedService for CarelessLogger {
    const NAME: &'static str = "sds.test.CarelessLogger";
}

impl tower::Service<http::Request<tonic::body::Body>> for CarelessLogger {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(RawBytes);
            Ok(grpc.unary(RefuseTheName, request).await)
        })
    }
}

struct RefuseTheName;

impl tonic::server::UnaryService<Vec<u8>> for RefuseTheName {
    type Response = Vec<u8>;
    type Future = Ready<Result<tonic::Response<Vec<u8>>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<Vec<u8>>) -> Self::Future {
        let name = String::from_utf8_lossy(request.get_ref()).into_owned();
        tracing::warn!(name = %name, "refused the name {name}");
        ready(Err(tonic::Status::invalid_argument("name refused")))
    }
}

/// Everything written through it, kept for the test to read.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buffer);
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_request_carrying_a_forged_log_line_and_ansi_codes_is_logged_on_one_line_escaped() {
    let logs = CapturedLogs::default();
    let sink = logs.clone();
    // The test runtime has one thread, so the server's tasks log through this subscriber.
    let _capturing = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::INFO)
            .with(text_log_layer(false, move || sink.clone())),
    );
    let serving = Serving::start(
        ServerLimits::default(),
        ServiceSet::new().add(CarelessLogger),
    )
    .await;
    let forged =
        "Ann\n2026-11-28T09:00:00.000000Z  INFO sds: payment approved\r\u{1b}[2K\u{1b}[31mred";

    let mut grpc = tonic::client::Grpc::new(serving.channel().await);
    grpc.ready().await.expect("channel ready");
    let status = grpc
        .unary(
            tonic::Request::new(forged.as_bytes().to_vec()),
            http::uri::PathAndQuery::from_static("/sds.test.CarelessLogger/Refuse"),
            RawBytes,
        )
        .await
        .expect_err("the name is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    serving.stop().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let refusals: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("payment approved"))
        .collect();
    assert_eq!(
        refusals.len(),
        1,
        "one line carries the forged text: {text}"
    );
    let escaped =
        r"Ann\n2026-11-28T09:00:00.000000Z  INFO sds: payment approved\r\u{1b}[2K\u{1b}[31mred";
    assert!(
        refusals[0].contains(&format!("refused the name {escaped} name={escaped}")),
        "{}",
        refusals[0]
    );
    assert!(
        refusals[0].contains("rpc{") && refusals[0].contains("rpc.method=\"Refuse\""),
        "logged in the request's span: {}",
        refusals[0]
    );
    assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
}
