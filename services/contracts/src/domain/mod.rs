//! The rules of agreements, rates and fees, pure: every function takes what it needs and
//! returns a value or a field-path refusal ([`sds_vocabulary::Invalid`]).

pub mod access;
pub mod agreement;
pub mod agreement_access;
pub mod agreement_summary;
pub mod defaults;
pub mod drafting;
pub mod fee;
#[cfg(test)]
mod fixtures;
mod plain_words;
pub mod plan_copy;
pub mod rate;
pub mod rate_following;
pub mod readability;
pub mod standing;
pub mod summary;
pub mod terms;
pub mod variation;

pub use agreement::{
    AgreementContent, AgreementVersion, Capacity, FundedLine, Parties, PartyRole, RateReference,
    Representative, SignRefused, Signature, Signed, VersionState,
};
pub use defaults::{DefaultTerms, DefaultTermsDraft};
pub use fee::{FeeKind, FeePlacement, ManagementFee, WeeklySplit};
pub use rate::{RateCard, RateComponent, RateHistory, RateVersion, Uplift, weekly_for_hours};
pub use standing::{CheckFact, ProviderStanding, Requirement, Shortfall};
pub use terms::{Frequency, HoldingModel, Payee, PaymentBasis, PaymentTiming, Terms, TermsDraft};
pub use variation::{EndCause, VersionCause};
