//! How a process built from components stops (in order, and within its stop timeout even
//! when a background task ignores its cancellation and holds a database connection), and
//! how it behaves while its database is away (requests are `Unavailable`, health says
//! NOT_SERVING, and both recover when the database is back).

use std::time::{Duration, Instant};

use sds_platform::Role;
use sds_proto::v1::SearchProvidersRequest;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_runtime::Component;
use sds_testkit::{
    PrivatePostgres, TestProcess, TestSettings, authority_staff, bearer, token_for, wait_until,
};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

static NO_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

/// A service whose one task takes a connection and never lets go, whatever it is told.
fn stubborn_service() -> Component {
    Component::new("stubborn", "stubborn", &NO_MIGRATIONS).task(
        "hold a connection forever",
        |context, _cancel| async move {
            let mut connection = context.pool.acquire().await?;
            sqlx::query("SELECT 1").execute(&mut *connection).await?;
            std::future::pending::<()>().await;
            Ok(())
        },
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_that_ignores_cancellation_is_aborted_after_the_stop_timeout() {
    let process = TestProcess::start_with(
        vec![sds_directory::component(), stubborn_service()],
        TestSettings {
            environment: vec![("SDS_RELAY_STOP_SECONDS", "1".to_owned())],
            ..TestSettings::default()
        },
    )
    .await;
    // Let the task take its connection.
    let pool = process.pool("stubborn");
    wait_until(
        Duration::from_secs(10),
        "the task holds a connection",
        || {
            let pool = pool.clone();
            // The relay's listener holds one connection for good; the task holds another.
            async move { (pool.size() >= pool.num_idle() as u32 + 2).then_some(()) }
        },
    )
    .await;

    let started = Instant::now();
    process.shutdown().await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "shutdown took {took:?}; the stop timeout is 1 s and closing pools at most 5 s more"
    );
}

async fn health_of(channel: Channel) -> Option<ServingStatus> {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .ok()?;
    ServingStatus::try_from(response.into_inner().status).ok()
}

async fn search(channel: Channel) -> Result<(), tonic::Status> {
    let token = token_for(&authority_staff("fife", &[Role::Commissioning]));
    DirectoryServiceClient::new(channel)
        .search_providers(bearer(&token, SearchProvidersRequest::default()))
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread")]
async fn while_its_database_is_down_a_service_is_unavailable_and_not_serving_until_it_is_back() {
    let postgres = tokio::task::spawn_blocking(PrivatePostgres::start)
        .await
        .expect("start private PostgreSQL");
    let process = TestProcess::start_with(
        vec![sds_directory::component()],
        TestSettings {
            database_url: Some(postgres.url().to_owned()),
            ..TestSettings::default()
        },
    )
    .await;
    let channel = process.channel().await;
    assert_eq!(
        health_of(channel.clone()).await,
        Some(ServingStatus::Serving)
    );
    search(channel.clone())
        .await
        .expect("search while the database is up");

    let postgres = tokio::task::spawn_blocking(move || {
        postgres.stop();
        postgres
    })
    .await
    .expect("stop private PostgreSQL");
    let refused = search(channel.clone())
        .await
        .expect_err("no database, no search");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    wait_until(Duration::from_secs(15), "health says NOT_SERVING", || {
        let channel = channel.clone();
        async move { (health_of(channel).await == Some(ServingStatus::NotServing)).then_some(()) }
    })
    .await;

    let mut postgres = postgres;
    let postgres = tokio::task::spawn_blocking(move || {
        postgres.resume();
        postgres
    })
    .await
    .expect("restart private PostgreSQL");
    wait_until(Duration::from_secs(20), "health says SERVING again", || {
        let channel = channel.clone();
        async move { (health_of(channel).await == Some(ServingStatus::Serving)).then_some(()) }
    })
    .await;
    wait_until(Duration::from_secs(10), "a search succeeds again", || {
        let channel = channel.clone();
        async move { search(channel).await.ok() }
    })
    .await;
    process.shutdown().await;
    drop(postgres);
}
