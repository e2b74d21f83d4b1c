//! The provider directory as open data: Open Referral HSDS 3.0 JSON on a public, read-only
//! HTTP feed under `/open-data/hsds/`, as UK councils publish their service directories.
//! It takes no token and shows only what anyone may see (see [`publication`]).
//!
//! Routes (the HSDS API's, under the prefix so no other service's routes can clash):
//! `/` (about the feed), `/services` and `/services/{id}`, `/organizations` and
//! `/organizations/{id}`, `/service_at_locations` and `/service_at_locations/{id}`.

mod handlers;
pub mod hsds;
pub mod page;
pub mod parameters;
pub mod publication;

use axum::Router;
use axum::routing::get;
use sqlx::PgPool;

/// Where the feed is served.
pub const PREFIX: &str = "/open-data/hsds";

/// The HSDS profile the feed follows: HSDS 3.0 itself, no national profile, since the UK
/// profile's extra requirements (such as locations with postcodes) are not met.
pub const HSDS_PROFILE_URL: &str = "https://docs.openreferral.org/en/3.0/";
/// The HSDS 3.0 reference API, of which the feed serves the read routes listed above.
pub const HSDS_OPENAPI_URL: &str =
    "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json";

/// What the feed holds and leaves out, for the `/` route.
pub const DESCRIPTION: &str = "Providers of Self-directed Support in Scotland, from the sds provider directory: each provider is an organization delivering one service, with its service types as attributes, the areas it serves as service areas, its current Care Inspectorate grades as attributes and its Care Inspectorate service number as an organization identifier. Left out: inactive (cancelled or not operating) Care Inspectorate services, and self-employed personal assistants, who are private people. The directory records no addresses, so there are no locations. Lists are paged with page and per_page (at most 200); /services also takes search, organization_id and modified_after.";

/// Who publishes the feed, as the HSDS `/` route names them. A deployment names itself
/// with `SDS_OPEN_DATA_PUBLISHER`, `SDS_OPEN_DATA_PUBLISHER_WEBSITE` and
/// `SDS_OPEN_DATA_PUBLISHER_EMAIL` (for feedback about the data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub name: String,
    pub website: Option<String>,
    pub email: Option<String>,
}

impl Publisher {
    /// Read once when the routes are built: the publisher belongs to the deployment, not to
    /// the platform's configuration that every service shares.
    pub fn from_environment() -> Publisher {
        let setting = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        Publisher {
            name: setting("SDS_OPEN_DATA_PUBLISHER")
                .unwrap_or_else(|| "Scottish Self-directed Support provider directory".to_owned()),
            website: setting("SDS_OPEN_DATA_PUBLISHER_WEBSITE"),
            email: setting("SDS_OPEN_DATA_PUBLISHER_EMAIL"),
        }
    }
}

/// The feed's routes, reading the directory through `pool`.
pub fn routes(pool: PgPool, publisher: Publisher) -> Router {
    let feed = handlers::Feed { pool, publisher };
    Router::new()
        .route(PREFIX, get(handlers::meta))
        .route(&format!("{PREFIX}/"), get(handlers::meta))
        .route(&format!("{PREFIX}/services"), get(handlers::services))
        .route(&format!("{PREFIX}/services/{{id}}"), get(handlers::service))
        .route(
            &format!("{PREFIX}/organizations"),
            get(handlers::organizations),
        )
        .route(
            &format!("{PREFIX}/organizations/{{id}}"),
            get(handlers::organization),
        )
        .route(
            &format!("{PREFIX}/service_at_locations"),
            get(handlers::service_at_locations),
        )
        .route(
            &format!("{PREFIX}/service_at_locations/{{id}}"),
            get(handlers::service_at_location),
        )
        .with_state(feed)
}
