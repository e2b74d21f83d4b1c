//! The provider portal: what providers and third-party fund holders are told, kept per
//! subscriber in PostgreSQL and streamed with a resume cursor, so that a portal offline for
//! an hour receives everything it missed, in order and once, then what happens live.
//!
//! What a subscriber is told is decided here, from events and the portal's own copies of
//! what it needs (the directory's providers, agreements' parties), and what it may read
//! follows from its token alone: a subscriber reads its own inbox and nothing else.
//!
//! The crate is a library exposing one service unit, [`component`], which `sds serve` and
//! the tests compose through `sds_runtime::build`. Modules, outside in: [`grpc`] (the
//! streaming handler), [`consume`] (the event handlers), [`wakeups`] (LISTEN/NOTIFY fan-out
//! to open streams), [`retention`] (pruning notifications past their retention), [`web`] (the pages for providers and people), [`domain`] (pure rules),
//! [`store`] (SQL) and [`error`].

pub mod consume;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod retention;
pub mod store;
pub mod wakeups;
pub mod web;

use sds_proto::v1::portal_service_server::PortalServiceServer;
use sds_runtime::Component;

pub use error::PortalError;
pub use grpc::PortalApi;
pub use wakeups::Wakeups;

/// The service's name, as `sds serve --only` takes it.
pub const NAME: &str = "portal";

/// The PostgreSQL schema the portal owns.
pub const SCHEMA: &str = "portal";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The portal as a service unit: its schema and migrations, its gRPC service with every
/// call authenticated, the listener that wakes open streams, and one consumer per
/// aggregate it hears about (a consumer has a single subject filter).
pub fn component() -> Component {
    let wakeups = Wakeups::new();
    let for_streams = wakeups.clone();
    Component::new(NAME, SCHEMA, &MIGRATOR)
        .grpc(move |context, services| {
            services.add(PortalServiceServer::with_interceptor(
                PortalApi::new(context.pool.clone(), for_streams.clone()),
                context.authenticator.clone(),
            ))
        })
        .http(web::routes)
        .task("notification-listener", move |context, cancel| {
            wakeups::listen(context.pool, wakeups, cancel)
        })
        .task("notification-pruner", |context, cancel| {
            retention::prune_old_notifications(context, cancel)
        })
        .consumer("portal-providers", |_| {
            consume::directory::ProviderCopyHandler
        })
        .consumer("portal-packages", |_| consume::packages::PackageHandler)
        .consumer("portal-plans", |_| consume::plans::PlanHandler)
        .consumer("portal-agreements", |_| {
            consume::agreements::AgreementHandler
        })
        .consumer("portal-schedules", |_| consume::payments::ScheduleHandler)
        .consumer("portal-remittances", |_| {
            consume::payments::RemittanceHandler
        })
}
