//! How a process built from components stops: in order, and within its stop timeout even
//! when a background task ignores its cancellation and holds a database connection.

use std::time::{Duration, Instant};

use sds_runtime::Component;
use sds_testkit::{TestProcess, TestSettings};

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
    sds_testkit::wait_until(
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
