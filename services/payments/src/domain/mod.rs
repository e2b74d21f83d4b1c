//! Payments' pure rules: no IO, no clock.

pub mod actuals;
pub mod bank_account;
pub mod bank_days;
pub mod contributions;
pub mod due;
pub mod history;
pub mod live;
pub mod modulus;
pub mod terms;
