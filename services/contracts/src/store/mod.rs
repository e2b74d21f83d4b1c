//! The contracts service's SQL: small functions over an open connection or transaction, so
//! the caller decides what commits together. What leaves this module is domain types;
//! stored values are read back through the same validation that admitted them, and one the
//! domain refuses is an internal error (the database was changed behind the service).

mod agreement_rows;
mod agreements;
mod defaults;
mod plans;
mod rates;

pub use agreements::{
    AgreementFilter, AgreementRecord, funded_lines, insert_agreement, insert_signature,
    list_agreements, load_agreement, lock_person, mark_agreed, update_draft,
};
pub use defaults::{DefaultsRecord, load_defaults, save_defaults};
pub use plans::{latest_plan_copy, save_plan_copy};
pub use rates::{
    RateCardRecord, StoredRateVersion, VersionCause, claim_rate_card, insert_rate_version,
    load_rate_card, lock_rate_card,
};
