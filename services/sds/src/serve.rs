//! `sds serve`: the services of a small authority in one process. A national holder runs
//! the same libraries as separate fleets; only this composition differs.
//!
//! Shutdown order: stop accepting and drain RPCs (health turns NOT_SERVING first), then
//! stop the outbox relays (each finishes the batch in hand), then flush telemetry.

use std::time::Duration;

use anyhow::Context;
use sds_platform::server::{GrpcServer, ServiceSet, shutdown_signal};
use sds_platform::{Authenticator, PlatformConfig, db};
use tokio::sync::watch;

/// Connects to each service's schema and applies its migrations.
pub async fn migrate_all(config: &PlatformConfig) -> anyhow::Result<sqlx::PgPool> {
    let directory_pool = db::connect(
        &config.database_url,
        sds_directory::SCHEMA,
        config.database_max_connections,
    )
    .await?;
    sds_directory::migrate(&directory_pool)
        .await
        .context("migrate directory")?;
    Ok(directory_pool)
}

pub async fn serve(config: PlatformConfig) -> anyhow::Result<()> {
    let authenticator = Authenticator::from_config(&config.jwt)?;
    let directory_pool = migrate_all(&config).await?;

    // The server must come up and take requests even while NATS is unreachable: events
    // wait safely in the outbox until the relay can publish them.
    let nats = async_nats::ConnectOptions::new()
        .name("sds")
        .retry_on_initial_connect()
        .connect(&config.nats_url)
        .await
        .with_context(|| format!("connect to NATS at {}", config.nats_url))?;
    let jetstream = async_nats::jetstream::new(nats);

    let (stop_relays, relays_stopped) = watch::channel(false);
    let relay_task = tokio::spawn(run_relay(directory_pool.clone(), jetstream, relays_stopped));

    let server = GrpcServer::bind(config.listen_addr).await?;
    let services = ServiceSet::new().add(sds_directory::grpc_service(
        directory_pool.clone(),
        authenticator,
    ));
    let served = server
        .serve(services, shutdown_signal(), config.drain_deadline)
        .await;

    let _ = stop_relays.send(true);
    match tokio::time::timeout(Duration::from_secs(10), relay_task).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => tracing::error!(error = format!("{error:#}"), "outbox relay failed"),
        Ok(Err(error)) => tracing::error!(%error, "outbox relay task panicked"),
        Err(_) => tracing::warn!("outbox relay did not stop within 10 s"),
    }
    directory_pool.close().await;
    tracing::info!("stopped");
    served
}

/// Provisions the events stream (retrying while NATS is away) and relays the directory's
/// outbox until told to stop.
async fn run_relay(
    pool: sqlx::PgPool,
    jetstream: async_nats::jetstream::Context,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut pause = Duration::from_millis(200);
    loop {
        tokio::select! {
            provisioned = sds_events::ensure_stream(&jetstream) => match provisioned {
                Ok(_) => break,
                Err(error) => tracing::warn!(error = format!("{error:#}"), retry_in_ms = pause.as_millis() as u64, "events stream not provisioned yet"),
            },
            _ = stop.changed() => return Ok(()),
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return Ok(()),
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
    let relay =
        sds_events::relay::Relay::new(pool, jetstream, sds_events::relay::RelayConfig::default());
    relay
        .run(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .await
}
