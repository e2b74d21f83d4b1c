//! The rules of the provider directory, as pure functions over plain types: what a valid
//! provider record is, who may change what, how checks age, how grades combine, how search
//! pages are named and how an import batch is judged. No IO and no protobuf: the handlers
//! convert to these types at the edge and the store persists them. Today's date comes in
//! as an argument; the one impurity is minting new ids ([`ProviderId::generate`]).

pub mod access;
pub mod anonymity;
pub mod care_service;
pub mod check;
pub mod combined;
pub mod fee;
pub mod framework;
pub mod grade;
pub mod impersonation;
pub mod import;
pub mod offers;
pub mod package_access;
pub mod package_answer;
pub mod package_request;
pub mod plan_line;
pub mod provider;
pub mod registration;
pub mod search;
pub mod withdrawal;

pub use care_service::CareServiceStatus;
pub use check::{Check, CheckKind, CheckStatus};
pub use fee::{ManagementFeeKind, ManagementFeePolicy};
pub use framework::{AuthorityId, FrameworkMembership, FrameworkStatus};
pub use grade::{Grade, GradeValue, KeyQuestion};
pub use provider::{
    CareInspectorateNumber, ChangeName, ProviderChange, ProviderDetails, ProviderId, ProviderKind,
    ProviderRecord,
};
pub use sds_vocabulary::Invalid;
