//! Health per service: each service's name is reported SERVING while its database
//! answers, so that a load balancer or a Kubernetes probe stops sending work that can only
//! fail, and each replica reports for itself.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How often each service's database is checked for health, and how long a check may take.
const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(1);

/// A service's pool with the gRPC names its health is reported under.
pub(crate) struct WatchedService {
    pool: PgPool,
    names: Vec<&'static str>,
    reachable: bool,
}

pub(crate) fn units_health(pools: &[PgPool], names: Vec<Vec<&'static str>>) -> Vec<WatchedService> {
    pools
        .iter()
        .zip(names)
        .map(|(pool, names)| WatchedService {
            pool: pool.clone(),
            names,
            reachable: true,
        })
        .collect()
}

/// Reports a service NOT_SERVING while its database does not answer, and SERVING again
/// once it does, so that load balancers stop sending work that can only fail. The whole
/// server (the empty name) is SERVING only while every service is.
pub(crate) async fn watch_databases(
    reporter: tonic_health::server::HealthReporter,
    mut services: Vec<WatchedService>,
    stop: CancellationToken,
) {
    use tonic_health::ServingStatus;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(HEALTH_CHECK_EVERY) => {}
        }
        let mut changed = false;
        for service in &mut services {
            let answered = tokio::time::timeout(
                HEALTH_CHECK_EVERY,
                sqlx::query("SELECT 1").execute(&service.pool),
            )
            .await
            .is_ok_and(|result| result.is_ok());
            if answered != service.reachable {
                service.reachable = answered;
                changed = true;
                if answered {
                    info!(services = ?service.names, "database answers again; serving");
                } else {
                    warn!(services = ?service.names, "database does not answer; not serving");
                }
            }
        }
        // Shutdown may have begun while the checks ran; the server's NOT_SERVING stands.
        if !changed || stop.is_cancelled() {
            continue;
        }
        let status = |reachable: bool| {
            if reachable {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            }
        };
        for service in &services {
            for name in &service.names {
                reporter
                    .set_service_status(*name, status(service.reachable))
                    .await;
            }
        }
        let all_reachable = services.iter().all(|service| service.reachable);
        reporter.set_service_status("", status(all_reachable)).await;
    }
}
