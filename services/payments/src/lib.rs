//! Payments: the schedule rule of `sds_money` put to work.
//!
//! The crate is a library exposing one service unit, [`component`], which `sds serve` and
//! the tests compose through `sds_runtime::build`. [`preview`] is the preview's contract:
//! the plan history it reads as JSON, the schedule it answers and the refusals by field
//! path, shared by `sds payments preview` and the service's `PreviewSchedule` ([`grpc`]).

pub mod actuals;
pub mod calls;
pub mod collection;
pub mod domain;
pub mod error;
pub mod exports;
pub mod grpc;
pub mod ledger;
pub mod people;
pub mod preview;
pub mod runs;
pub mod schedules;
pub mod store;

use sds_proto::v1::payments_service_server::PaymentsServiceServer;
use sds_runtime::Component;

pub use error::PaymentsError;
pub use grpc::PaymentsApi;

/// The service's name, as `sds serve --only` takes it.
pub const NAME: &str = "payments";

/// The PostgreSQL schema the service owns.
pub const SCHEMA: &str = "payments";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Payments as a service unit: its schema and migrations, its gRPC service with every call
/// authenticated, and the consumer that follows agreements into schedules.
pub fn component() -> Component {
    // Read once, when the service is composed, and shared by every server it is added to.
    let modulus = std::sync::OnceLock::new();
    Component::new(NAME, SCHEMA, &MIGRATOR)
        .grpc(move |context, services| {
            let modulus: &std::sync::Arc<grpc::bank::ModulusSource> = modulus.get_or_init(|| {
                std::sync::Arc::new(grpc::bank::ModulusSource::load(
                    context.config.modulus_weights.as_deref(),
                    context.config.modulus_substitutions.as_deref(),
                ))
            });
            let ledger = ledger_of(context);
            services.add(PaymentsServiceServer::with_interceptor(
                PaymentsApi::new(
                    context.pool.clone(),
                    context.clock.clone(),
                    ledger,
                    context.outbox_bell.clone(),
                    context.config.exports_dir.clone(),
                    modulus.clone(),
                    people::People::new(
                        context.config.assessment_url.as_deref(),
                        &context.reach,
                        context.service_tokens.clone(),
                    ),
                )
                .sharing_runs(runs::Sharing {
                    queue: Some(work_queue(context)),
                    schedules_per_chunk: context.config.payment_chunk_schedules,
                }),
                context.authenticator.clone(),
            ))
        })
        .consumer("payments-agreements", |_context| {
            schedules::AgreementHandler
        })
        .task("payments-run-chunks", |context, stop| async move {
            let ledger = ledger_of(&context);
            runs::queue::take_chunks(
                context.pool.clone(),
                ledger,
                work_queue(&context),
                context.config.payment_chunks_at_once,
                stop,
            )
            .await
        })
}

fn work_queue(context: &sds_runtime::Context) -> runs::queue::WorkQueue {
    runs::queue::WorkQueue::new(
        context.jetstream.clone(),
        context.config.events.stream_replicas,
    )
}

fn ledger_of(context: &sds_runtime::Context) -> ledger::Ledger {
    ledger::Ledger::new(
        context.config.ledger_url.as_deref(),
        &context.reach,
        context.service_tokens.clone(),
    )
}
