//! The server bootstrap on a real socket: health and reflection are served, health turns
//! NOT_SERVING as shutdown starts, a request that never finishes cannot hold the process
//! past the drain deadline, a request past the timeout is answered, and requests beyond the
//! concurrency limit wait for a slot.

use std::time::{Duration, Instant};

use sds_platform::server::{GrpcServer, ServerLimits, ServiceSet};
use tokio::sync::oneshot;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::support::{NeverAnswers, RawBytes, Serving, wait_for_an_answer};

#[tokio::test]
async fn shutdown_turns_health_to_not_serving_and_respects_the_drain_deadline() {
    let server = GrpcServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0, "port 0 is resolved to a real port");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let drain_deadline = Duration::from_millis(500);
    let serving = tokio::spawn(server.serve(
        ServiceSet::new(),
        async {
            let _ = stopped.await;
        },
        drain_deadline,
    ));

    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);

    // A watch is a request that never completes on its own: it keeps the drain busy.
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.next().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );

    let shutdown_started = Instant::now();
    stop.send(()).unwrap();
    assert_eq!(
        watch.next().await.unwrap().unwrap().status,
        ServingStatus::NotServing as i32
    );

    serving.await.unwrap().unwrap();
    let took = shutdown_started.elapsed();
    assert!(
        took >= drain_deadline,
        "stopped after {took:?}, before the drain deadline"
    );
    assert!(
        took < drain_deadline + Duration::from_secs(3),
        "drain overran its deadline: {took:?}"
    );
}

#[tokio::test]
async fn a_request_that_runs_past_the_timeout_is_answered_cancelled_with_timeout_expired() {
    let request_timeout = Duration::from_millis(300);
    let serving = Serving::start(
        ServerLimits {
            request_timeout,
            ..ServerLimits::default()
        },
        ServiceSet::new().add(NeverAnswers::default()),
    )
    .await;

    let started = Instant::now();
    let status = wait_for_an_answer(serving.channel().await)
        .await
        .expect_err("a call that never finishes cannot succeed");
    let took = started.elapsed();

    // tonic's timeout answers CANCELLED, not DEADLINE_EXCEEDED.
    assert_eq!(status.code(), tonic::Code::Cancelled, "{status:?}");
    assert_eq!(status.message(), "Timeout expired");
    assert!(took >= request_timeout, "answered after {took:?}");
    assert!(
        took < request_timeout + Duration::from_secs(5),
        "answered only after {took:?}"
    );
    serving.stop().await;
}

#[tokio::test]
async fn a_request_beyond_the_concurrency_limit_waits_until_a_slot_is_free() {
    let request_timeout = Duration::from_millis(300);
    let never_answers = NeverAnswers::default();
    let serving = Serving::start(
        ServerLimits {
            request_timeout,
            max_concurrent_requests: 1,
            ..ServerLimits::default()
        },
        ServiceSet::new().add(never_answers.clone()),
    )
    .await;
    let channel = serving.channel().await;

    let first_sent = Instant::now();
    let first = tokio::spawn(wait_for_an_answer(channel.clone()));
    never_answers.call_arrived.notified().await;
    // The first call holds the only slot until the server's timeout ends it, which cannot
    // be sooner than `request_timeout` after it was sent.
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("the health check is answered once the slot is free")
        .into_inner()
        .status;
    let second_answered_after = first_sent.elapsed();

    assert_eq!(status, ServingStatus::Serving as i32);
    assert!(
        second_answered_after >= request_timeout,
        "the second request was answered after {second_answered_after:?}, while the first still held the only slot"
    );
    let first_status = first.await.unwrap().expect_err("the first call timed out");
    assert_eq!(first_status.code(), tonic::Code::Cancelled);
    serving.stop().await;
}

/// The status of a call to the reflection service's path (a unary call to its streaming
/// method is enough: only a server without the route answers `Unimplemented`).
async fn ask_for_reflection(channel: Channel) -> tonic::Code {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let path = http::uri::PathAndQuery::from_static(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    );
    let codec: tonic_prost::ProstCodec<HealthCheckRequest, HealthCheckRequest> =
        tonic_prost::ProstCodec::default();
    match grpc
        .unary(
            tonic::Request::new(HealthCheckRequest::default()),
            path,
            codec,
        )
        .await
    {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}

async fn serve_with_reflection(reflection: bool) -> (Channel, oneshot::Sender<()>) {
    let (channel, _addr, stop) = serve_with_reflection_at(reflection).await;
    (channel, stop)
}

async fn serve_with_reflection_at(
    reflection: bool,
) -> (Channel, std::net::SocketAddr, oneshot::Sender<()>) {
    let server = GrpcServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_reflection(reflection);
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(
        ServiceSet::new(),
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    (channel, addr, stop)
}

#[tokio::test]
async fn reflection_is_served_unless_configuration_turns_it_off() {
    let (on, _stop_on) = serve_with_reflection(true).await;
    assert_ne!(ask_for_reflection(on).await, tonic::Code::Unimplemented);
    let (off, _stop_off) = serve_with_reflection(false).await;
    assert_eq!(ask_for_reflection(off).await, tonic::Code::Unimplemented);
}

async fn health_check_with_body(channel: Channel, body: Vec<u8>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel).max_encoding_message_size(usize::MAX);
    grpc.ready().await.expect("channel ready");
    let path = http::uri::PathAndQuery::from_static("/grpc.health.v1.Health/Check");
    grpc.unary(tonic::Request::new(body), path, RawBytes)
        .await
        .expect_err("the body is refused")
}

#[tokio::test]
async fn malformed_bodies_are_invalid_arguments_and_oversized_ones_name_the_limit() {
    let (channel, _stop) = serve_with_reflection(false).await;
    let malformed = [
        ("undecodable bytes", vec![0xff, 0xff, 0xff]),
        // Field 1 (service, a string) holding bytes that are not UTF-8.
        ("invalid UTF-8", vec![0x0a, 0x02, 0xff, 0xfe]),
        // Field 1 sent as a varint instead of a length-delimited string.
        ("wrong wire type", vec![0x08, 0x01]),
    ];
    for (what, body) in malformed {
        let status = health_check_with_body(channel.clone(), body).await;
        assert_eq!(
            status.code(),
            tonic::Code::InvalidArgument,
            "{what}: {status:?}"
        );
        assert!(
            status.message().contains("not a valid protobuf message"),
            "{what}: {}",
            status.message()
        );
    }
    let oversized = vec![0x0a; sds_platform::server::MAX_REQUEST_BYTES + 1];
    let status = health_check_with_body(channel, oversized).await;
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("4194304 bytes"),
        "{}",
        status.message()
    );
}

/// Sends one gRPC request to Health/Check as raw HTTP/2 with `frames` as its body, exactly as
/// given, and returns the `grpc-status` and `grpc-message` the server answers with.
async fn raw_health_check(addr: std::net::SocketAddr, frames: Vec<u8>) -> (String, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (client, connection) = h2::client::handshake(tcp).await.expect("handshake");
    tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut stream) = client.send_request(request, false).expect("send");
    stream
        .send_data(bytes::Bytes::from(frames), true)
        .expect("send body");
    let response = response.await.expect("response");
    let header = |headers: &http::HeaderMap, name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap_or_default().to_owned())
    };
    if let Some(status) = header(response.headers(), "grpc-status") {
        let message = header(response.headers(), "grpc-message").unwrap_or_default();
        return (status, message);
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("body");
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let trailers = body.trailers().await.expect("trailers").unwrap_or_default();
    (
        header(&trailers, "grpc-status").unwrap_or_default(),
        header(&trailers, "grpc-message").unwrap_or_default(),
    )
}

#[tokio::test]
async fn broken_grpc_framing_is_the_callers_fault_too() {
    let server = Serving::start(ServerLimits::default(), ServiceSet::new()).await;
    let cases = [
        // Flagged as compressed, with no grpc-encoding header naming how.
        (
            "compressed flag without an encoding",
            vec![1, 0, 0, 0, 2, 0x0a, 0x00],
        ),
        // A frame that says 100 bytes follow, then three and the end of the stream.
        ("a message cut off", vec![0, 0, 0, 0, 100, 0x0a, 0x01, 0x61]),
        // Not even a whole frame header.
        ("half a frame header", vec![0, 0]),
    ];
    for (what, frames) in cases {
        let (status, message) = raw_health_check(server.addr, frames).await;
        assert_eq!(status, "3", "{what}: {status} {message}");
    }
    server.stop().await;
}

/// Opens a call on a raw HTTP/2 connection, sends its headers and never its body.
async fn stall_a_body(
    addr: std::net::SocketAddr,
) -> (h2::client::ResponseFuture, h2::SendStream<bytes::Bytes>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (client, connection) = h2::client::handshake(tcp).await.expect("handshake");
    tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/grpc.health.v1.Health/Check"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    client.send_request(request, false).expect("send headers")
}

#[tokio::test]
async fn calls_whose_bodies_never_arrive_hold_no_slot_and_are_refused_in_time() {
    let server = Serving::start(
        ServerLimits {
            max_concurrent_requests: 1,
            body_timeout: Duration::from_millis(500),
            ..ServerLimits::default()
        },
        ServiceSet::new(),
    )
    .await;
    let mut health = HealthClient::new(server.channel().await);
    let mut stalled = Vec::new();
    for _ in 0..5 {
        stalled.push(stall_a_body(server.addr).await);
    }

    let started = Instant::now();
    let answered = tokio::time::timeout(
        Duration::from_millis(400),
        health.check(HealthCheckRequest::default()),
    )
    .await;
    assert!(
        matches!(answered, Ok(Ok(_))),
        "a whole request is served at once while bodies stall: {answered:?} after {:?}",
        started.elapsed()
    );

    for (response, _stream) in stalled {
        let response = tokio::time::timeout(Duration::from_secs(3), response)
            .await
            .expect("the stalled call is answered")
            .expect("a response");
        let status = response
            .headers()
            .get("grpc-status")
            .map(|value| value.to_str().unwrap().to_owned());
        assert_eq!(
            status.as_deref(),
            Some("4"),
            "DEADLINE_EXCEEDED: {:?}",
            response.headers()
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn reflection_answers_a_client_that_keeps_its_request_stream_open() {
    // grpcurl's way: one ListServices request, and the request stream left open.
    let (_channel, addr, _stop) = serve_with_reflection_at(true).await;
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (client, connection) = h2::client::handshake(tcp).await.expect("handshake");
    tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let request = http::Request::builder()
        .method("POST")
        .uri(format!(
            "http://{addr}/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut stream) = client.send_request(request, false).expect("send");
    // ServerReflectionRequest { list_services: "" }: field 7, length-delimited, empty.
    stream
        .send_data(
            bytes::Bytes::from_static(&[0, 0, 0, 0, 2, 0x3a, 0x00]),
            false,
        )
        .expect("send the request message");

    let response = tokio::time::timeout(Duration::from_secs(3), response)
        .await
        .expect("answered while the request stream is still open")
        .expect("a response");

    assert_eq!(response.status(), http::StatusCode::OK);
    assert!(
        response.headers().get("grpc-status").is_none(),
        "not refused: {:?}",
        response.headers()
    );
    let mut body = response.into_body();
    let first = tokio::time::timeout(Duration::from_secs(3), body.data())
        .await
        .expect("a first message")
        .expect("data")
        .expect("no error");
    assert!(first.len() > 5, "a ListServices answer");
    drop(stream);
}
