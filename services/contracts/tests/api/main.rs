//! The contracts service over gRPC, end to end: each test spawns the service in-process on
//! its own fresh PostgreSQL database and calls it through the generated client with real
//! tokens. One test binary, so the workspace links it once.

mod support;

mod agreements;
mod authorisation;
mod defaults;
mod endings;
mod invalid_agreements;
mod invalid_changes;
mod invalid_input;
mod plan_events;
mod rate_cards;
mod read_audit;
mod standing;
mod summaries;
mod uplifts;
mod variations;
