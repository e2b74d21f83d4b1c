//! The provider directory: who provides Self-directed Support in Scotland, of what kind,
//! where, with which Care Inspectorate grades and checks, on what terms for holding an
//! Individual Service Fund, and with what framework status for each authority.
//!
//! The crate is a library exposing one service unit, [`component`], which `sds serve` and
//! the tests compose through `sds_runtime::build`.
//!
//! Modules, outside in: [`grpc`] (handlers and the validating conversions from protobuf),
//! [`domain`] (pure rules), [`store`] (SQL), [`events`] (what it publishes) and [`error`];
//! beside gRPC, [`open_data`] publishes the directory as Open Referral HSDS JSON over HTTP.

pub mod domain;
pub mod error;
pub mod events;
pub mod grpc;
pub mod open_data;
pub mod store;

use sds_proto::v1::directory_service_server::DirectoryServiceServer;
use sds_runtime::Component;

pub use error::DirectoryError;
pub use grpc::DirectoryApi;

/// The service's name, as `sds serve --only` takes it.
pub const NAME: &str = "directory";

/// The PostgreSQL schema the directory owns.
pub const SCHEMA: &str = "directory";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The directory as a service unit: its schema and migrations, its gRPC service with
/// every call authenticated, and its public open data feed (no token; see [`open_data`]).
/// It consumes no events yet.
pub fn component() -> Component {
    Component::new(NAME, SCHEMA, &MIGRATOR)
        .grpc(|context, services| {
            services.add(DirectoryServiceServer::with_interceptor(
                DirectoryApi::new(
                    context.pool.clone(),
                    context.clock.clone(),
                    grpc::plan_check::Plans::new(
                        context.config.assessment_url.as_deref(),
                        &context.reach,
                    ),
                ),
                context.authenticator.clone(),
            ))
        })
        .http(|context| {
            open_data::routes(
                context.pool.clone(),
                open_data::Publisher::from_environment(),
            )
        })
}
