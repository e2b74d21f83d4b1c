//! Payments' pure rules: no IO, no clock.

pub mod due;
pub mod history;
pub mod live;
pub mod terms;
