//! Each authority's default terms: one row, changed in place with its version raised by
//! one. Agreements copy the terms when they are drafted, so no history is needed here.

use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;

use crate::domain::{
    DefaultTerms, DefaultTermsDraft, FeeKind, FeePlacement, Frequency, ManagementFee, PaymentBasis,
    PaymentTiming,
};
use crate::error::ContractsError;

/// An authority's defaults as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsRecord {
    pub authority: AuthorityId,
    pub terms: DefaultTerms,
    pub version: i64,
}

/// Records the defaults, raising the version only when something changed, so a retried
/// request leaves them as they are.
pub async fn save_defaults(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    terms: &DefaultTerms,
    actor: &str,
) -> Result<DefaultsRecord, ContractsError> {
    let draft = terms.draft();
    let (timing, lag_days) = match draft.timing {
        PaymentTiming::Advance => ("advance", None),
        PaymentTiming::Arrears { lag_days } => (
            "arrears",
            Some(i32::try_from(lag_days).map_err(anyhow::Error::new)?),
        ),
    };
    let (flat, percentage, hours, hourly_rate) = match draft.fee {
        ManagementFee::FlatWeekly { per_week } => (Some(per_week.as_decimal()), None, None, None),
        ManagementFee::Percentage { percent, .. } => (None, Some(percent), None, None),
        ManagementFee::AdminHours {
            hours_per_week,
            hourly_rate,
        } => (
            None,
            None,
            Some(hours_per_week),
            Some(hourly_rate.as_decimal()),
        ),
        ManagementFee::None | ManagementFee::IncludedInHourlyRate => (None, None, None, None),
    };
    sqlx::query(
        "INSERT INTO contract_defaults (authority, frequency, timing, lag_days, basis, \
             flex_tolerance_percent, fee_kind, fee_flat_weekly, fee_percentage, fee_placement, \
             fee_admin_hours, fee_admin_hourly_rate, notice_days, review_after_months, version, \
             recorded_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15) \
         ON CONFLICT (authority) DO UPDATE SET \
             frequency = EXCLUDED.frequency, timing = EXCLUDED.timing, \
             lag_days = EXCLUDED.lag_days, basis = EXCLUDED.basis, \
             flex_tolerance_percent = EXCLUDED.flex_tolerance_percent, \
             fee_kind = EXCLUDED.fee_kind, fee_flat_weekly = EXCLUDED.fee_flat_weekly, \
             fee_percentage = EXCLUDED.fee_percentage, fee_placement = EXCLUDED.fee_placement, \
             fee_admin_hours = EXCLUDED.fee_admin_hours, \
             fee_admin_hourly_rate = EXCLUDED.fee_admin_hourly_rate, \
             notice_days = EXCLUDED.notice_days, \
             review_after_months = EXCLUDED.review_after_months, \
             version = contract_defaults.version + 1, \
             updated_at = now(), updated_by = EXCLUDED.updated_by \
         WHERE (contract_defaults.frequency, contract_defaults.timing, contract_defaults.lag_days, \
                contract_defaults.basis, contract_defaults.flex_tolerance_percent, \
                contract_defaults.fee_kind, contract_defaults.fee_flat_weekly, \
                contract_defaults.fee_percentage, contract_defaults.fee_placement, \
                contract_defaults.fee_admin_hours, contract_defaults.fee_admin_hourly_rate, \
                contract_defaults.notice_days, contract_defaults.review_after_months) \
           IS DISTINCT FROM \
               (EXCLUDED.frequency, EXCLUDED.timing, EXCLUDED.lag_days, EXCLUDED.basis, \
                EXCLUDED.flex_tolerance_percent, EXCLUDED.fee_kind, EXCLUDED.fee_flat_weekly, \
                EXCLUDED.fee_percentage, EXCLUDED.fee_placement, EXCLUDED.fee_admin_hours, \
                EXCLUDED.fee_admin_hourly_rate, EXCLUDED.notice_days, \
                EXCLUDED.review_after_months)",
    )
    .bind(authority.as_str())
    .bind(draft.frequency.name())
    .bind(timing)
    .bind(lag_days)
    .bind(draft.basis.name())
    .bind(draft.flex_tolerance_percent)
    .bind(draft.fee.kind().name())
    .bind(flat)
    .bind(percentage)
    .bind(draft.fee.placement().name())
    .bind(hours)
    .bind(hourly_rate)
    .bind(i32::try_from(draft.notice_days).map_err(anyhow::Error::new)?)
    .bind(i32::try_from(draft.review_after_months).map_err(anyhow::Error::new)?)
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("save contract defaults")?;
    load_defaults(connection, authority)
        .await?
        .ok_or_else(|| anyhow::anyhow!("contract defaults just saved are missing").into())
}

pub async fn load_defaults(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<Option<DefaultsRecord>, ContractsError> {
    let row: Option<DefaultsRow> = sqlx::query_as(concat!(
        "SELECT authority, frequency, timing, lag_days, basis, flex_tolerance_percent, \
             fee_kind, fee_flat_weekly, fee_percentage, fee_placement, fee_admin_hours, \
             fee_admin_hourly_rate, notice_days, review_after_months, version ",
        "FROM contract_defaults WHERE authority = $1"
    ))
    .bind(authority.as_str())
    .fetch_optional(&mut *connection)
    .await
    .operation("select contract defaults")?;
    Ok(row.map(DefaultsRow::into_record).transpose()?)
}

#[derive(sqlx::FromRow)]
struct DefaultsRow {
    authority: String,
    frequency: String,
    timing: String,
    lag_days: Option<i32>,
    basis: String,
    flex_tolerance_percent: Decimal,
    fee_kind: String,
    fee_flat_weekly: Option<Decimal>,
    fee_percentage: Option<Decimal>,
    fee_placement: String,
    fee_admin_hours: Option<Decimal>,
    fee_admin_hourly_rate: Option<Decimal>,
    notice_days: i32,
    review_after_months: i32,
    version: i64,
}

impl DefaultsRow {
    fn into_record(self) -> anyhow::Result<DefaultsRecord> {
        let whose = format!("stored contract defaults of {}", self.authority);
        let bad = |what: &str| anyhow::anyhow!("{whose} have a malformed {what}");
        let money = |value: Option<Decimal>, what: &str| {
            value
                .and_then(|value| Money::try_from(value).ok())
                .ok_or_else(|| bad(what))
        };
        let timing = match (self.timing.as_str(), self.lag_days) {
            ("advance", None) => PaymentTiming::Advance,
            ("arrears", Some(lag_days)) => PaymentTiming::Arrears {
                lag_days: u32::try_from(lag_days)?,
            },
            _ => return Err(bad("timing")),
        };
        let fee = match FeeKind::from_name(&self.fee_kind).ok_or_else(|| bad("fee kind"))? {
            FeeKind::None => ManagementFee::None,
            FeeKind::IncludedInHourlyRate => ManagementFee::IncludedInHourlyRate,
            FeeKind::FlatWeekly => ManagementFee::FlatWeekly {
                per_week: money(self.fee_flat_weekly, "flat fee")?,
            },
            FeeKind::Percentage => ManagementFee::Percentage {
                percent: self.fee_percentage.ok_or_else(|| bad("fee percentage"))?,
                placement: FeePlacement::from_name(&self.fee_placement)
                    .ok_or_else(|| bad("fee placement"))?,
            },
            FeeKind::AdminHours => ManagementFee::AdminHours {
                hours_per_week: self.fee_admin_hours.ok_or_else(|| bad("admin hours"))?,
                hourly_rate: money(self.fee_admin_hourly_rate, "admin hourly rate")?,
            },
        };
        let draft = DefaultTermsDraft {
            frequency: Frequency::from_name(&self.frequency).ok_or_else(|| bad("frequency"))?,
            timing,
            basis: PaymentBasis::from_name(&self.basis).ok_or_else(|| bad("basis"))?,
            flex_tolerance_percent: self.flex_tolerance_percent,
            fee,
            notice_days: u32::try_from(self.notice_days)?,
            review_after_months: u32::try_from(self.review_after_months)?,
        };
        let terms = DefaultTerms::new("terms", draft)
            .map_err(|invalid| anyhow::anyhow!("{whose} no longer validate: {invalid}"))?;
        Ok(DefaultsRecord {
            authority: AuthorityId::parse("authority", &self.authority)
                .map_err(|_| bad("authority"))?,
            terms,
            version: self.version,
        })
    }
}
