//! The ISF ledger: the money held for each person, in one fund per person per holder, each
//! fund with its own accounts, on a double-entry ledger whose history is never changed.
//!
//! The crate is a library exposing one service unit, [`component`], which `sds serve` and
//! the tests compose through `sds_runtime::build`. Modules, outside in: [`grpc`] (handlers
//! and the validating conversions from protobuf), [`posting`] (one transaction of the
//! ledger: lock the accounts in id order, apply the domain's rules, write), [`domain`]
//! (pure rules over whole pence, no IO, no clock), [`store`] (SQL) and [`error`].
//! Beside them, [`chain`] makes history tamper-evident (one hash-chain link per posting
//! transaction) and [`audit`] checks every invariant of the books for `sds ledger audit`.

pub mod audit;
pub mod chain;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod posting;
pub mod store;

use sds_proto::v1::ledger_service_server::LedgerServiceServer;
use sds_runtime::Component;

pub use error::LedgerError;
pub use grpc::LedgerApi;

/// The service's name, as `sds serve --only` takes it.
pub const NAME: &str = "ledger";

/// The PostgreSQL schema the service owns.
pub const SCHEMA: &str = "ledger";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The ledger as a service unit: its schema and migrations, its gRPC service with every
/// call authenticated, and the linker that chains what the postings staged.
pub fn component() -> Component {
    // Shared by the handlers, which ring it after each commit, and the linker.
    let chain_bell = chain::linker::ChainBell::default();
    let linker_bell = chain_bell.clone();
    Component::new(NAME, SCHEMA, &MIGRATOR)
        .grpc(move |context, services| {
            let writer = grpc::Writer {
                pool: context.pool.clone(),
                outbox: context.outbox_bell.clone(),
                chain: chain_bell.clone(),
            };
            services.add(LedgerServiceServer::with_interceptor(
                LedgerApi::new(
                    writer,
                    context.clock.clone(),
                    domain::Watch {
                        surplus_weeks: context.config.ledger_surplus_weeks,
                        low_balance_weeks: context.config.ledger_low_balance_weeks,
                    },
                ),
                context.authenticator.clone(),
            ))
        })
        .task("hash chain linker", move |context, cancel| {
            chain::linker::run(context.pool, context.clock, linker_bell, cancel)
        })
}
