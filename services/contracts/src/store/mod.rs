//! The contracts service's SQL: small functions over an open connection or transaction, so
//! the caller decides what commits together. What leaves this module is domain types;
//! stored values are read back through the same validation that admitted them, and one the
//! domain refuses is an internal error (the database was changed behind the service).

mod agreement_changes;
mod agreement_rows;
mod agreements;
mod defaults;
mod plans;
mod rates;

pub use agreement_changes::{
    active_agreements_on_card, authorities_on_card, bring_end_forward, end_agreement, fund_lines,
    insert_signature, mark_agreed, open_agreements_of, supersede_awaiting,
    supersede_awaiting_after, update_draft,
};
pub use agreements::{
    AgreementFilter, AgreementRecord, funded_lines, insert_agreement, insert_version,
    list_agreements, load_agreement, load_agreement_version, load_versions, lock_person,
};
pub use defaults::{DefaultsRecord, load_defaults, save_defaults};
pub use plans::{latest_plan_copy, save_plan_copy};
pub use rates::{
    RateCardRecord, StoredRateVersion, VersionCause, claim_rate_card, insert_rate_version,
    load_rate_card, lock_rate_card, rate_cards_of,
};
