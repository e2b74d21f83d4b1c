//! The assessment service's SQL: small functions over an open connection or transaction,
//! so the caller decides what commits together. What leaves this module is domain types;
//! stored values are read back through the same validation that admitted them, and one the
//! domain refuses is an internal error (the database was changed behind the service).

mod assessment;
mod budgets;
mod bulk;
mod people;
mod plans;
mod policy;
mod statistics;

pub use assessment::{AssessmentRecord, insert_assessment};
pub use budgets::{BudgetRecord, current_budget, insert_budget};
pub use bulk::{audit_people, insert_approved_versions, insert_new_people};
pub use people::{
    PersonRecord, Recorded, audit, load_person, people_by_case_reference, people_references,
    record_person,
};
pub use plans::{StoredVersion, latest_approved_lines, lock_plan, plan_versions, save_version};
pub use policy::{PolicyRecord, insert_policy, policies_of, withdraw_scheduled_policy};
pub use statistics::{SupportedRecord, audit_exported, audit_report, supported_people};
