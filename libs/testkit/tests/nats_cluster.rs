//! The test kit's NATS cluster: three clustered servers whose JetStream keeps a stream of
//! three copies, and keeps answering while one node is killed and started again.

use std::time::Duration;

use async_nats::jetstream;
use sds_testkit::NatsCluster;

#[tokio::test]
async fn a_stream_of_three_copies_takes_messages_while_a_node_is_down_and_after_it_is_back() {
    let mut cluster = NatsCluster::start(3).await;
    let client = sds_runtime_free_connect(&cluster.url()).await;
    let js = jetstream::new(client);
    let stream = js
        .create_stream(jetstream::stream::Config {
            name: "KIT".to_owned(),
            subjects: vec!["kit.>".to_owned()],
            num_replicas: 3,
            ..Default::default()
        })
        .await
        .expect("a stream of three copies");
    assert_eq!(stream.cached_info().config.num_replicas, 3);
    js.publish("kit.one", "1".into())
        .await
        .unwrap()
        .await
        .unwrap();
    cluster.kill(1);
    sds_testkit::wait_until(
        Duration::from_secs(20),
        "a publish with a node down",
        || {
            let js = js.clone();
            async move {
                js.publish("kit.two", "2".into())
                    .await
                    .ok()?
                    .await
                    .ok()
                    .map(|_| ())
            }
        },
    )
    .await;
    cluster.resume(1).await;
    js.publish("kit.three", "3".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let mut stream = js.get_stream("KIT").await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 3);
}

async fn sds_runtime_free_connect(url: &str) -> async_nats::Client {
    let servers: Vec<async_nats::ServerAddr> = url
        .split(',')
        .map(|server| server.parse().unwrap())
        .collect();
    async_nats::connect(servers)
        .await
        .expect("connect to the cluster")
}
