//! The composition: every service the platform runs, in one list. `sds serve`, `sds
//! migrate` and the system tests all take their services from here, so adding a service
//! is writing its crate and adding its line below.
//!
//! Beside it, [`payment_run_seed`]: the generated schedules and funds that both `sds bench
//! payment-run` and the payment-run chaos tests pay; and [`flow`]: the product's defining
//! flow driven through the services' APIs, which the end-to-end tests and the local demo
//! share.

pub mod flow;
pub mod payment_run_seed;

use sds_runtime::Component;

/// Every service, in the order they start.
pub fn components() -> Vec<Component> {
    vec![
        sds_directory::component(),
        sds_assessment::component(),
        sds_contracts::component(),
        sds_ledger::component(),
        sds_payments::component(),
        sds_portal::component(),
    ]
}
