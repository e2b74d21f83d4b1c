//! The directory over gRPC, end to end: each test spawns the service in-process on its own
//! fresh PostgreSQL database and calls it through the generated client with real tokens.
//! One test binary, so the workspace links it once.

mod support;

mod audit;
mod authentication;
mod care_inspectorate_number;
mod checks;
mod clock;
mod combined;
mod framework;
mod get;
mod grade_withdrawal;
mod grades;
mod hsds_schema;
mod impersonation;
mod import;
mod inactive;
mod invalid_input;
mod metrics;
mod open_data;
mod open_data_sample;
mod outbox;
mod package_acceptance;
mod package_answers;
mod package_plan_check;
mod package_requests;
mod package_scene;
mod package_withdrawal;
mod rate_limits;
mod register;
mod republish;
mod retries;
mod search;
mod stewards;
mod update;
