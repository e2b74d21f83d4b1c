//! The rules of agreements, rates and fees, pure: every function takes what it needs and
//! returns a value or a field-path refusal ([`sds_vocabulary::Invalid`]).

pub mod fee;

pub use fee::{FeeKind, FeePlacement, ManagementFee, WeeklySplit};
pub mod rate;

pub use rate::{RateCard, RateComponent, RateHistory, RateVersion, Uplift, weekly_for_hours};
pub mod terms;

pub use terms::{Frequency, HoldingModel, Payee, PaymentBasis, PaymentTiming, Terms, TermsDraft};
pub mod standing;

pub use standing::{CheckFact, ProviderStanding, Requirement, Shortfall};
pub mod agreement;

pub use agreement::{
    AgreementContent, AgreementVersion, Capacity, FundedLine, Parties, PartyRole, RateReference,
    Representative, SignRefused, Signature, Signed, VersionState,
};
