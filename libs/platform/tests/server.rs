//! The server bootstrap on a real socket: health and reflection are served, health turns
//! NOT_SERVING as shutdown starts, and a request that never finishes cannot hold the
//! process past the drain deadline.

use std::time::{Duration, Instant};

use sds_platform::server::{GrpcServer, ServiceSet};
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

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
