//! Money for the SDS platform: GBP amounts over `rust_decimal`, rounding to the penny,
//! exact daily accrual of plan lines, payment calendars and the payment-schedule rule.
//!
//! Everything here is pure: no clock, no IO, no floating point. Request formats belong to
//! the edges that read them (`sds payments preview` owns its JSON); `Money` itself
//! serializes as its decimal string, `"375.00"`.

pub mod accrual;
pub mod calendar;
pub mod money;
pub mod schedule;

pub use accrual::{
    AccrualLine, AccrualLineError, accrued_sevenths, cumulative_instalments, money_from_pence,
    rounded_accrual, sevenths_to_pence,
};
pub use calendar::{Calendar, Period, Periods, Timing};
pub use money::{Money, MoneyError, round_to_penny};
pub use schedule::{
    Instalment, PlanVersion, ReportedActual, Schedule, ScheduleError, ScheduleRequest,
    compute_schedule, compute_schedule_with_actuals, compute_schedule_with_paid,
};
