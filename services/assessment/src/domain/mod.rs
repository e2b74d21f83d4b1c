//! The rules of assessment and budgeting, as pure functions over plain values: who a person
//! is for these rules, eligibility, an authority's policy, indicative budgets, support plan
//! lines and their exact amounts, which SDS option a line is, plan versions and variations,
//! approval within devolved limits, review dates, uptake statistics and the PHS return.
//! No IO, no clock and no protobuf: dates such as "today" come in as arguments, and the
//! handlers and the store convert to and from these types at the edge.

pub mod access;
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
pub mod record;
pub mod review;
pub mod uptake;
pub mod variation;

pub use amount::{ExactAccrual, GivenAmount, LineAmount, YearlyRate};
pub use approval::{ApprovalGranted, ApprovalRefusal, decide_approval, decide_plan_approval};
pub use budget::{
    BudgetLine, BudgetMethod, HoursItem, IndicativeBudget, budget_from_hours, budget_from_ras,
    budget_set_by_hand,
};
pub use eligibility::{
    EligibilityDecision, EligibilityLevel, EligibilityThreshold, decide_eligibility,
};
pub use limits::{DevolvedLimits, Limit, LimitsByAge};
pub use line::{LineNumber, LineSpan, PlanLine, SupportType};
pub use option::{
    Arrangement, ChoicePending, FundHolder, FundHoldingModel, PersonsChoice, ProviderRef, SdsOption,
};
pub use person::{AgeGroup, ClientGroup, ClientGroups, SupportedPerson, age_group_on};
pub use phs::{ClientRow, Episode, PhsPeriod, PhsReturn, SdsSnapshotRow, phs_return};
pub use plan::{
    Approval, CostAgainstBudget, NewLine, PlanError, PlanState, PlanStatus, PlanVersion,
};
pub use policy::{AuthorityPolicy, SendingLocation, policy_in_effect};
pub use ras::{RasAnswer, RasBand, RasQuestion, ResourceAllocationSystem};
pub use review::{ReviewInterval, review_due_on};
pub use sds_vocabulary::Invalid;
pub use uptake::{OptionCounts, Uptake, UptakeCell, uptake_on};
pub use variation::{LineChange, Variation, VariationDates, vary, vary_under_policy};
