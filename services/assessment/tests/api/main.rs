//! The assessment service over gRPC, end to end: each test spawns the service in-process on
//! its own fresh PostgreSQL database, with a clock the test sets, and calls it through the
//! generated client with real tokens. One test binary, so the workspace links it once.

mod support;

mod assessments;
mod authorisation;
mod case_import;
mod invalid_input;
mod people;
mod plans;
mod policy;
mod providers;
mod read_audit;
mod read_audit_listing;
mod reviews;
mod statistics;
mod variations;
