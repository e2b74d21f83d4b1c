//! Money for the SDS platform: GBP amounts over `rust_decimal`, rounding to the penny,
//! exact daily accrual of plan lines, payment calendars, the payment-schedule rule, and
//! the JSON preview of a schedule used by `sds payments preview`.
//!
//! Everything here is pure: no clock, no IO, no floating point.

pub mod accrual;
pub mod calendar;
pub mod money;
pub mod preview;
pub mod schedule;

pub use accrual::{
    AccrualLine, AccrualLineError, accrued_sevenths, cumulative_instalments, money_from_pence,
    rounded_accrual, sevenths_to_pence,
};
pub use calendar::{Calendar, Period, Periods, Timing};
pub use money::{Money, MoneyError, round_to_penny};
pub use preview::{
    PreviewError, PreviewInput, PreviewInstalment, PreviewLineInput, PreviewOutput,
    PreviewVersionInput, preview, preview_json, schedule_request,
};
pub use schedule::{
    Instalment, PlanVersion, Schedule, ScheduleError, ScheduleRequest, compute_schedule,
};
