//! The rules of assessment and budgeting, as pure functions over plain values: who a person
//! is for these rules, eligibility, an authority's policy, indicative budgets, support plan
//! lines and their exact amounts, which SDS option a line is, plan versions and variations,
//! approval within devolved limits, review dates, uptake statistics and the PHS return.
//! No IO, no clock and no protobuf: dates such as "today" come in as arguments.

pub mod amount;
pub mod approval;
pub mod budget;
pub mod eligibility;
pub mod limits;
pub mod line;
pub mod option;
pub mod person;
pub mod phs;
pub mod plan;
pub mod policy;
pub mod ras;
pub mod review;
pub mod uptake;
pub mod variation;
