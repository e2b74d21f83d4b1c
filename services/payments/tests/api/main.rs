//! The payments service over gRPC and the bus, end to end: each test spawns the service
//! in-process on its own fresh PostgreSQL database and a NATS of its own, publishes
//! agreement events as contracts would, and calls the service through the generated client
//! with real tokens. One test binary, so the workspace links it once.

mod agreements;
mod support;

mod actuals;
mod actuals_hours;
mod bank;
mod contribution_collection;
mod contributions;
mod preview;
mod properties;
mod read_audit;
mod run_bank_files;
mod run_funds;
mod run_journal;
mod run_support;
mod runs;
mod schedules;
mod settings;
