//! The portal end to end: each test spawns the service in-process on a fresh PostgreSQL
//! database and a NATS of its own, publishes events as the other services publish them,
//! and subscribes through the generated client with real tokens. One test binary, so the
//! workspace links it once.

mod support;
mod web_package;
mod web_support;
mod webdriver;

mod agreements;
mod browser;
mod numbering;
mod packages;
mod payments;
mod plans;
mod reconnects;
mod refusals;
mod resume;
mod retention;
mod web_actuals;
mod web_draws;
mod web_offers;
mod web_packages;
mod web_person;
mod web_rate_limits;
mod web_requests_pages;
mod web_sign_in;
