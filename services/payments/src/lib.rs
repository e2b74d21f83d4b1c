//! Payments: the schedule rule of `sds_money` put to work. So far the preview's contract
//! ([`preview`]): the plan history it reads as JSON, the schedule it answers, and the
//! refusals by field path, shared by `sds payments preview` and the service.

pub mod preview;
