//! The ledger over gRPC, end to end: each test spawns the service in-process on its own
//! fresh PostgreSQL database and calls it through the generated client with real tokens.
//! One test binary, so the workspace links it once.

mod support;

mod audit;
mod authorisation;
mod bulk;
mod bulk_streams;
mod chain;
mod closing;
mod concurrency;
mod holder_payments;
mod indexes;
mod invalid_input;
mod model;
mod pending;
mod read_audit;
mod statements;
mod transfers;
mod watchers;
