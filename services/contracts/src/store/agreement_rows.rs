//! How an agreement version's lines and terms are kept as JSON, and read back through the
//! domain's own validation (stored content the domain now refuses is an internal error).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_vocabulary::NamedEnum as _;
use serde::{Deserialize, Serialize};

use crate::domain::{
    FeeKind, FeePlacement, Frequency, FundedLine, ManagementFee, PaymentBasis, PaymentTiming,
    Terms, TermsDraft,
};

#[derive(Debug, Serialize, Deserialize)]
pub struct LineJson {
    plan_line: u32,
    support_type: String,
    weekly: Money,
    hours_per_week: Option<Decimal>,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

impl LineJson {
    pub fn of(line: &FundedLine) -> LineJson {
        LineJson {
            plan_line: line.plan_line,
            support_type: line.support_type.clone(),
            weekly: line.weekly,
            hours_per_week: line.hours_per_week,
            start: line.start,
            end: line.end,
        }
    }

    pub fn into_line(self) -> FundedLine {
        FundedLine {
            plan_line: self.plan_line,
            support_type: self.support_type,
            weekly: self.weekly,
            hours_per_week: self.hours_per_week,
            start: self.start,
            end: self.end,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TermsJson {
    frequency: String,
    timing: String,
    lag_days: Option<u32>,
    basis: String,
    flex_tolerance_percent: Decimal,
    fee_kind: String,
    fee_placement: String,
    fee_flat_weekly: Option<Money>,
    fee_percentage: Option<Decimal>,
    fee_admin_hours: Option<Decimal>,
    fee_admin_hourly_rate: Option<Money>,
    notice_days: u32,
    review_on: NaiveDate,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

impl TermsJson {
    pub fn of(terms: &Terms) -> TermsJson {
        let (timing, lag_days) = match terms.timing() {
            PaymentTiming::Advance => ("advance", None),
            PaymentTiming::Arrears { lag_days } => ("arrears", Some(lag_days)),
        };
        let fee = terms.fee();
        let mut json = TermsJson {
            frequency: terms.frequency().name().to_owned(),
            timing: timing.to_owned(),
            lag_days,
            basis: terms.basis().name().to_owned(),
            flex_tolerance_percent: terms.flex_tolerance_percent(),
            fee_kind: fee.kind().name().to_owned(),
            fee_placement: fee.placement().name().to_owned(),
            fee_flat_weekly: None,
            fee_percentage: None,
            fee_admin_hours: None,
            fee_admin_hourly_rate: None,
            notice_days: terms.notice_days(),
            review_on: terms.review_on(),
            start: terms.start(),
            end: terms.end(),
        };
        match fee {
            ManagementFee::None | ManagementFee::IncludedInHourlyRate => {}
            ManagementFee::FlatWeekly { per_week } => json.fee_flat_weekly = Some(per_week),
            ManagementFee::Percentage { percent, .. } => json.fee_percentage = Some(percent),
            ManagementFee::AdminHours {
                hours_per_week,
                hourly_rate,
            } => {
                json.fee_admin_hours = Some(hours_per_week);
                json.fee_admin_hourly_rate = Some(hourly_rate);
            }
        }
        json
    }

    pub fn into_terms(self) -> anyhow::Result<Terms> {
        let bad = |what: &str| anyhow::anyhow!("stored agreement terms have a malformed {what}");
        let timing = match (self.timing.as_str(), self.lag_days) {
            ("advance", None) => PaymentTiming::Advance,
            ("arrears", Some(lag_days)) => PaymentTiming::Arrears { lag_days },
            _ => return Err(bad("timing")),
        };
        let fee = match FeeKind::from_name(&self.fee_kind).ok_or_else(|| bad("fee kind"))? {
            FeeKind::None => ManagementFee::None,
            FeeKind::IncludedInHourlyRate => ManagementFee::IncludedInHourlyRate,
            FeeKind::FlatWeekly => ManagementFee::FlatWeekly {
                per_week: self.fee_flat_weekly.ok_or_else(|| bad("flat fee"))?,
            },
            FeeKind::Percentage => ManagementFee::Percentage {
                percent: self.fee_percentage.ok_or_else(|| bad("fee percentage"))?,
                placement: FeePlacement::from_name(&self.fee_placement)
                    .ok_or_else(|| bad("fee placement"))?,
            },
            FeeKind::AdminHours => ManagementFee::AdminHours {
                hours_per_week: self.fee_admin_hours.ok_or_else(|| bad("admin hours"))?,
                hourly_rate: self
                    .fee_admin_hourly_rate
                    .ok_or_else(|| bad("admin hourly rate"))?,
            },
        };
        Terms::new(
            "terms",
            TermsDraft {
                frequency: Frequency::from_name(&self.frequency).ok_or_else(|| bad("frequency"))?,
                timing,
                basis: PaymentBasis::from_name(&self.basis).ok_or_else(|| bad("basis"))?,
                flex_tolerance_percent: self.flex_tolerance_percent,
                fee,
                notice_days: self.notice_days,
                review_on: self.review_on,
                start: self.start,
                end: self.end,
            },
        )
        .map_err(|invalid| anyhow::anyhow!("stored agreement terms no longer validate: {invalid}"))
    }
}
