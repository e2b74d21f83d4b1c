//! The outbox relay and the idempotent consumers against real PostgreSQL and a NATS server
//! of each test's own, which a test may stop and resume. One test binary, so the workspace
//! links it once.

mod consumers;
mod duplicate_window;
mod relay;
mod retention;
mod support;
mod together;
