//! Contracts: the agreement between the person, the provider, the authority and the fund
//! holder, in plain language, carrying the terms that payments follow; the provider's rate
//! card with its components and scheduled uplifts; the management fee in every form
//! authorities use.
//!
//! The crate is a library exposing one service unit, [`component`], which `sds serve` and
//! the tests compose through `sds_runtime::build`. Modules, outside in: [`grpc`] (handlers
//! and the validating conversions from protobuf), [`domain`] (pure rules, no IO, no clock),
//! [`store`] (SQL) and [`error`]. It serves each authority's contract defaults, providers'
//! rate cards, and agreements: drafted from approved plans (see [`plans`]) or by hand, and
//! signed by every party, the last signature activating an agreement only once the
//! [`directory`] shows the provider may start.

pub mod directory;
pub mod domain;
pub mod drafting;
pub mod error;
pub mod grpc;
pub mod plans;
pub mod store;
pub mod variations;

use sds_proto::v1::contracts_service_server::ContractsServiceServer;
use sds_runtime::Component;

use directory::Directory;
pub use error::ContractsError;
pub use grpc::ContractsApi;

/// The service's name, as `sds serve --only` takes it.
pub const NAME: &str = "contracts";

/// The PostgreSQL schema the service owns.
pub const SCHEMA: &str = "contracts";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Contracts as a service unit: its schema and migrations, its gRPC service with every
/// call authenticated (and its client of the directory: `SDS_DIRECTORY_URL`, or this
/// process's own address), and the consumer that copies approved plans and drafts from them.
pub fn component() -> Component {
    Component::new(NAME, SCHEMA, &MIGRATOR)
        .grpc(|context, services| {
            let directory = Directory::new(
                context.config.directory_url.as_deref(),
                &context.reach,
                context.service_tokens.clone(),
            );
            services.add(ContractsServiceServer::with_interceptor(
                ContractsApi::new(context.pool.clone(), context.clock.clone(), directory),
                context.authenticator.clone(),
            ))
        })
        .consumer("contracts-plans", |context| plans::PlanCopyHandler {
            clock: context.clock.clone(),
        })
}
