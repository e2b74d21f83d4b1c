//! Each component's database pool: its share of the process's connection budget, and its
//! migrations (the outbox and inbox first, then its own) applied as it connects.

use anyhow::Context as _;
use sds_platform::config::DEFAULT_CONNECTIONS_PER_SERVICE;
use sds_platform::{PlatformConfig, db};
use sqlx::PgPool;

use crate::component::Component;

/// Fewest connections a service's pool may get: its relay's listener holds one for good and
/// its relay overlaps up to three batches, each in its own transaction; a consumer and
/// requests need the rest. Fewer and the relay stalls waiting for its own connections.
const MIN_CONNECTIONS_PER_SERVICE: u32 = 6;

/// Each service's share of the process's connection budget, refusing a budget too small
/// to give every service what its relay needs.
fn connections_per_service(config: &PlatformConfig, services: usize) -> anyhow::Result<u32> {
    let services = u32::try_from(services.max(1)).unwrap_or(u32::MAX);
    let Some(budget) = config.database_max_connections else {
        return Ok(DEFAULT_CONNECTIONS_PER_SERVICE);
    };
    let share = budget / services;
    if share < MIN_CONNECTIONS_PER_SERVICE {
        let these = if services == 1 {
            "the one service of this process needs".to_owned()
        } else {
            format!("the {services} services of this process need")
        };
        anyhow::bail!(
            "SDS_DB_MAX_CONNECTIONS is {budget}; {these} at least {} ({MIN_CONNECTIONS_PER_SERVICE} each); raise it, or run fewer services per process with --only",
            services.saturating_mul(MIN_CONNECTIONS_PER_SERVICE)
        );
    }
    Ok(share)
}

/// Opens each component's pool and applies its migrations (outbox and inbox first, then its
/// own). Returns the pools in component order.
pub(crate) async fn connect_and_migrate(
    config: &PlatformConfig,
    components: &[Component],
) -> anyhow::Result<Vec<PgPool>> {
    let per_service = connections_per_service(config, components.len())?;
    let mut pools = Vec::with_capacity(components.len());
    for component in components {
        let pool = db::connect_with_timeout(
            &config.database_url,
            component.schema,
            per_service,
            config.database_acquire_timeout,
        )
        .await?;
        sds_events::migrate(&pool)
            .await
            .with_context(|| format!("create the {} outbox and inbox", component.name))?;
        db::migrate(&pool, component.migrator)
            .await
            .with_context(|| format!("apply the {} migrations", component.name))?;
        pools.push(pool);
    }
    Ok(pools)
}

/// Applies every component's migrations, then closes its connections (`sds migrate`).
pub async fn migrate(config: &PlatformConfig, components: &[Component]) -> anyhow::Result<()> {
    for pool in connect_and_migrate(config, components).await? {
        pool.close().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_budget_is_shared_among_services_and_too_small_a_budget_is_refused() {
        let mut config = PlatformConfig::from_lookup(|_| None).unwrap();
        assert_eq!(
            connections_per_service(&config, 6).unwrap(),
            DEFAULT_CONNECTIONS_PER_SERVICE
        );
        config.database_max_connections = Some(40);
        assert_eq!(connections_per_service(&config, 1).unwrap(), 40);
        assert_eq!(connections_per_service(&config, 6).unwrap(), 6);
        let error = connections_per_service(&config, 7).unwrap_err();
        assert_eq!(
            error.to_string(),
            "SDS_DB_MAX_CONNECTIONS is 40; the 7 services of this process need at least 42 (6 each); raise it, or run fewer services per process with --only"
        );
    }
}
