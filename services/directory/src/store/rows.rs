//! Rows as PostgreSQL returns them, and their conversion into domain types. A stored value
//! that the domain refuses means the database was changed behind the service's back: that
//! is an internal error, never the caller's.

use anyhow::{Context, anyhow};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_vocabulary::NamedEnum as _;
use uuid::Uuid;

use crate::domain::fee::{FeeFields, ManagementFeeKind};
use crate::domain::{
    AuthorityId, CareInspectorateNumber, CareServiceStatus, Check, CheckKind, FrameworkMembership,
    FrameworkStatus, Grade, GradeValue, KeyQuestion, ManagementFeePolicy, ProviderDetails,
    ProviderId, ProviderKind, ProviderRecord, grade,
};

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ProviderRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub care_inspectorate_number: Option<String>,
    pub service_types: Vec<String>,
    pub localities: Vec<String>,
    pub capacity: Option<i32>,
    pub holds_isfs: bool,
    pub fee_kind: Option<String>,
    pub fee_flat_weekly: Option<Decimal>,
    pub fee_percentage: Option<Decimal>,
    pub fee_admin_hours_per_week: Option<Decimal>,
    pub fee_admin_hourly_rate: Option<Decimal>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub stewards: Vec<String>,
    pub care_service_status: String,
    pub combined_service_number: Option<String>,
    pub version: i64,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct GradeRow {
    pub provider_id: Uuid,
    pub key_question: String,
    pub grade: i16,
    pub inspected_on: NaiveDate,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct CheckRow {
    pub provider_id: Uuid,
    pub kind: String,
    pub reference: Option<String>,
    pub checked_on: NaiveDate,
    pub expires_on: NaiveDate,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct FrameworkRow {
    pub provider_id: Uuid,
    pub authority: String,
    pub status: String,
}

/// The management-fee policy spread over its columns; only the policy's own are set.
#[derive(Debug, Default)]
pub(super) struct FeeColumns {
    pub kind: Option<&'static str>,
    pub flat_weekly: Option<Decimal>,
    pub percentage: Option<Decimal>,
    pub admin_hours_per_week: Option<Decimal>,
    pub admin_hourly_rate: Option<Decimal>,
}

impl FeeColumns {
    pub fn of(policy: Option<&ManagementFeePolicy>) -> FeeColumns {
        let Some(policy) = policy else {
            return FeeColumns::default();
        };
        let kind = Some(policy.kind().name());
        match *policy {
            ManagementFeePolicy::None | ManagementFeePolicy::IncludedInHourlyRate => FeeColumns {
                kind,
                ..FeeColumns::default()
            },
            ManagementFeePolicy::FlatWeekly { per_week } => FeeColumns {
                kind,
                flat_weekly: Some(per_week.as_decimal()),
                ..FeeColumns::default()
            },
            ManagementFeePolicy::Percentage { percent } => FeeColumns {
                kind,
                percentage: Some(percent),
                ..FeeColumns::default()
            },
            ManagementFeePolicy::AdminHours {
                hours_per_week,
                hourly_rate,
            } => FeeColumns {
                kind,
                admin_hours_per_week: Some(hours_per_week),
                admin_hourly_rate: Some(hourly_rate.as_decimal()),
                ..FeeColumns::default()
            },
        }
    }
}

/// Capacity is read from an `int32` field, so it always fits the `integer` column.
pub(super) fn capacity_column(capacity: Option<u32>) -> anyhow::Result<Option<i32>> {
    capacity
        .map(|places| i32::try_from(places).context("capacity does not fit an integer column"))
        .transpose()
}

impl ProviderRow {
    pub fn into_record(
        self,
        grades: Vec<Grade>,
        checks: Vec<Check>,
        frameworks: Vec<FrameworkMembership>,
    ) -> anyhow::Result<ProviderRecord> {
        let id = self.id;
        let kind = ProviderKind::from_name(&self.kind)
            .ok_or_else(|| anyhow!("stored provider {id} has unknown kind {:?}", self.kind))?;
        let care_inspectorate_number = self
            .care_inspectorate_number
            .map(|number| CareInspectorateNumber::parse("care_inspectorate_number", &number))
            .transpose()
            .with_context(|| format!("stored provider {id} has a malformed service number"))?;
        let capacity = self
            .capacity
            .map(u32::try_from)
            .transpose()
            .with_context(|| format!("stored provider {id} has a negative capacity"))?;
        let management_fee = fee_policy(
            self.fee_kind.as_deref(),
            self.fee_flat_weekly,
            self.fee_percentage,
            self.fee_admin_hours_per_week,
            self.fee_admin_hourly_rate,
        )
        .with_context(|| format!("stored provider {id} has an inconsistent management fee"))?;
        let care_service_status = CareServiceStatus::from_name(&self.care_service_status)
            .ok_or_else(|| {
                anyhow!(
                    "stored provider {id} has unknown care service status {:?}",
                    self.care_service_status
                )
            })?;
        let combined_service_number = self
            .combined_service_number
            .map(|number| CareInspectorateNumber::parse("combined_service_number", &number))
            .transpose()
            .with_context(|| format!("stored provider {id} has a malformed combined service"))?;
        let version = u64::try_from(self.version)
            .with_context(|| format!("stored provider {id} has a negative version"))?;
        let stewards = self
            .stewards
            .iter()
            .map(|authority| AuthorityId::parse("stewards", authority))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("stored provider {id} has a malformed steward"))?;
        Ok(ProviderRecord {
            id: ProviderId::from_uuid(id),
            details: ProviderDetails {
                name: self.name,
                kind,
                care_inspectorate_number,
                service_types: self.service_types,
                localities: self.localities,
                capacity,
                holds_isfs: self.holds_isfs,
                management_fee,
                contact_email: self.contact_email,
                contact_phone: self.contact_phone,
            },
            min_grade: grade::lowest(&grades),
            grades,
            checks,
            frameworks,
            stewards,
            care_service_status,
            combined_service_number,
            version,
            registered_at: self.registered_at,
            updated_at: self.updated_at,
        })
    }
}

/// Reads the policy back through the same rules that admitted it.
fn fee_policy(
    kind: Option<&str>,
    flat_weekly: Option<Decimal>,
    percentage: Option<Decimal>,
    admin_hours_per_week: Option<Decimal>,
    admin_hourly_rate: Option<Decimal>,
) -> anyhow::Result<Option<ManagementFeePolicy>> {
    let Some(kind) = kind else {
        return Ok(None);
    };
    let kind =
        ManagementFeeKind::from_name(kind).ok_or_else(|| anyhow!("unknown fee kind {kind:?}"))?;
    let money = |amount: Option<Decimal>| -> anyhow::Result<Option<String>> {
        amount
            .map(|amount| Money::try_from(amount).map(|money| money.to_string()))
            .transpose()
            .map_err(anyhow::Error::new)
    };
    let flat_weekly = money(flat_weekly)?;
    let admin_hourly_rate = money(admin_hourly_rate)?;
    let percentage = percentage
        .map(|value| value.normalize().to_string())
        .unwrap_or_default();
    let admin_hours_per_week = admin_hours_per_week
        .map(|value| value.normalize().to_string())
        .unwrap_or_default();
    let fields = FeeFields {
        flat_weekly: flat_weekly.as_deref(),
        percentage: &percentage,
        admin_hours_per_week: &admin_hours_per_week,
        admin_hourly_rate: admin_hourly_rate.as_deref(),
    };
    ManagementFeePolicy::from_fields(kind, fields)
        .map(Some)
        .map_err(|invalid| anyhow!("{invalid}"))
}

impl GradeRow {
    pub fn into_grade(self) -> anyhow::Result<Grade> {
        let key_question = KeyQuestion::from_name(&self.key_question).ok_or_else(|| {
            anyhow!(
                "stored grade of {} has unknown key question {:?}",
                self.provider_id,
                self.key_question
            )
        })?;
        let grade = u32::try_from(self.grade)
            .ok()
            .and_then(|value| GradeValue::new("grade", value).ok())
            .ok_or_else(|| anyhow!("stored grade of {} is {}", self.provider_id, self.grade))?;
        Ok(Grade {
            key_question,
            grade,
            inspected_on: self.inspected_on,
        })
    }
}

impl CheckRow {
    pub fn into_check(self) -> anyhow::Result<Check> {
        let kind = CheckKind::from_name(&self.kind).ok_or_else(|| {
            anyhow!(
                "stored check of {} has unknown kind {:?}",
                self.provider_id,
                self.kind
            )
        })?;
        Check::new(kind, self.reference, self.checked_on, self.expires_on)
            .map_err(|invalid| anyhow!("stored check of {}: {invalid}", self.provider_id))
    }
}

impl FrameworkRow {
    pub fn into_membership(self) -> anyhow::Result<FrameworkMembership> {
        let authority = crate::domain::AuthorityId::parse("authority", &self.authority)
            .map_err(|invalid| anyhow!("stored framework of {}: {invalid}", self.provider_id))?;
        let status = FrameworkStatus::from_name(&self.status).ok_or_else(|| {
            anyhow!(
                "stored framework of {} has unknown status {:?}",
                self.provider_id,
                self.status
            )
        })?;
        Ok(FrameworkMembership { authority, status })
    }
}
