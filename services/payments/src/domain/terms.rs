//! Who a schedule pays and on what calendar: fixed when the schedule is made from the
//! agreement's first agreed version it hears of.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::{Calendar, Timing};
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

pub use crate::preview::{Frequency, PaymentTiming};

sds_vocabulary::named_enum! {
    /// Who holds the person's fund.
    pub enum HoldingModel("holding model") {
        ThirdParty = "third_party",
        Provider = "provider",
        Authority = "authority",
    }
}

sds_vocabulary::named_enum! {
    /// Who the schedule pays.
    pub enum PayeeKind("payee kind") {
        /// The provider: into the fund it holds, or directly from an authority-held fund.
        Provider = "provider",
        /// The third party holding the fund.
        Holder = "holder",
    }
}

sds_vocabulary::named_enum! {
    /// What an instalment follows.
    pub enum Basis("payment basis") {
        /// The planned amounts.
        Scheduled = "scheduled",
        /// The delivery the provider reports (flex); only in arrears.
        Actuals = "actuals",
    }
}

/// A schedule's parties and calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTerms {
    pub agreement_id: Uuid,
    pub authority: AuthorityId,
    pub person_id: Uuid,
    pub provider_id: Uuid,
    pub holding_model: HoldingModel,
    pub holder_id: Option<Uuid>,
    pub payee_kind: PayeeKind,
    pub payee_id: Uuid,
    pub frequency: Frequency,
    /// Only for four-weekly.
    pub anchor_date: Option<NaiveDate>,
    pub timing: PaymentTiming,
    pub payment_lag_days: u32,
    pub basis: Basis,
    pub flex_tolerance_percent: Decimal,
}

impl ScheduleTerms {
    /// The period calendar. A four-weekly schedule always has an anchor (a CHECK in SQL and
    /// the consumer see to it); were it missing, the periods would run from the epoch.
    pub fn calendar(&self) -> Calendar {
        match self.frequency {
            Frequency::FourWeekly => Calendar::FourWeekly {
                anchor: self.anchor_date.unwrap_or_default(),
            },
            Frequency::Quarterly => Calendar::Quarterly,
            Frequency::Monthly => Calendar::Monthly,
        }
    }

    pub fn timing(&self) -> Timing {
        match self.timing {
            PaymentTiming::Advance => Timing::Advance,
            PaymentTiming::Arrears => Timing::Arrears,
        }
    }
}
