//! One way to put services into a process. Each service crate exposes a [`Component`];
//! `sds serve`, `sds serve --only NAME`, `sds migrate` and the test harness all pass their
//! components to [`build`] (or [`migrate`]), so there is one wiring and it is the tested one.
//!
//! What every component gets from [`Process::run`], the same way:
//! - its own pool in its own schema, sized from the process's connection budget;
//! - its gRPC services on the process's one port, behind health and reflection;
//! - its web routes on the process's web listener (HTTP/1.1, `SDS_HTTP_ADDR`);
//! - a relay for its outbox and a pruner for its outbox and inbox;
//! - its metrics: calls counted and timed, its pool, outbox age and consumers sampled,
//!   served as Prometheus text on `SDS_METRICS_ADDR` and pushed over OTLP when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see `sds_platform::metrics`);
//! - its consumers and background tasks, on one task tracker with one cancellation token.
//!
//! Shutdown, in order: health turns NOT_SERVING and in-flight RPCs drain (with the drain
//! deadline); then the token is cancelled and relays, consumers and tasks finish what they
//! hold (with the stop timeout); then pools close.

mod component;
mod database;
mod health;
mod metrics;
mod process;
mod web;

pub use component::{Component, Context};
pub use database::migrate;
pub use process::{Process, RELAYS_HELD, build, build_with_clock, connect_nats, select};
pub use tokio_util::sync::CancellationToken;
pub use web::MAX_WEB_BODY_BYTES;
