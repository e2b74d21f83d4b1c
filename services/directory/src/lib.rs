//! The provider directory: who provides Self-directed Support in Scotland, of what kind,
//! where, with which Care Inspectorate grades and checks, on what terms for holding an
//! Individual Service Fund, and with what framework status for each authority.
//!
//! The crate is a library; the `sds` binary composes it with the other services:
//!
//! ```text
//! let pool = sds_platform::db::connect(&url, sds_directory::SCHEMA, 10).await?;
//! sds_directory::migrate(&pool).await?;
//! let services = ServiceSet::new().add(sds_directory::grpc_service(pool, authenticator));
//! ```
//!
//! Modules, outside in: [`grpc`] (handlers and the validating conversions from protobuf),
//! [`domain`] (pure rules), [`store`] (SQL), [`events`] (what it publishes) and [`error`].

pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod store;

use anyhow::Context;
use sds_platform::Authenticator;
use sds_proto::v1::directory_service_server::DirectoryServiceServer;
use sqlx::PgPool;
use tonic::service::interceptor::InterceptedService;

pub use error::DirectoryError;
pub use grpc::DirectoryApi;

/// The PostgreSQL schema the directory owns.
pub const SCHEMA: &str = "directory";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Creates or upgrades the directory's tables, and its outbox and inbox, in the schema of
/// `pool` (open it with `sds_platform::db::connect(url, SCHEMA, ..)`).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sds_events::migrate(pool)
        .await
        .context("create the directory's outbox and inbox")?;
    sds_platform::db::migrate(pool, &MIGRATOR)
        .await
        .context("apply the directory's migrations")
}

/// The directory's gRPC service, every call authenticated by `authenticator`.
pub fn grpc_service(
    pool: PgPool,
    authenticator: Authenticator,
) -> InterceptedService<DirectoryServiceServer<DirectoryApi>, Authenticator> {
    DirectoryServiceServer::with_interceptor(DirectoryApi::new(pool), authenticator)
}
