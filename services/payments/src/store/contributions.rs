//! The person's contribution, version by version: recorded once, never changed.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::history::ContributionVersion;
use crate::error::PaymentsError;

/// A version as recorded, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedContribution {
    pub change: ContributionVersion,
    pub assessment_reference: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

type ContributionRow = (
    Uuid,
    i32,
    NaiveDate,
    NaiveDate,
    Decimal,
    String,
    String,
    DateTime<Utc>,
);

fn checked(row: ContributionRow) -> Result<(Uuid, RecordedContribution), PaymentsError> {
    let (agreement_id, version, effective_from, recorded_on, weekly, reference, by, at) = row;
    let broken = |what: String| {
        PaymentsError::Internal(anyhow::anyhow!(
            "schedule {agreement_id} contribution version {version}: stored {what} breaks its checks"
        ))
    };
    let weekly = Money::try_from(weekly).map_err(|_| broken(format!("weekly {weekly}")))?;
    if weekly.is_negative() {
        return Err(broken(format!("weekly {weekly}")));
    }
    let version = u32::try_from(version)
        .ok()
        .filter(|version| *version >= 1)
        .ok_or_else(|| broken(format!("version {version}")))?;
    Ok((
        agreement_id,
        RecordedContribution {
            change: ContributionVersion {
                version,
                effective_from,
                recorded_on,
                weekly,
            },
            assessment_reference: reference,
            recorded_by: by,
            recorded_at: at,
        },
    ))
}

/// Every version of the contributions of `ids`, by agreement, in version order.
pub async fn of_schedules(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<RecordedContribution>>, PaymentsError> {
    let rows: Vec<ContributionRow> = sqlx::query_as(
        "SELECT agreement_id, version, effective_from, recorded_on, weekly, \
             assessment_reference, recorded_by, recorded_at \
         FROM contribution_version WHERE agreement_id = ANY($1) \
         ORDER BY agreement_id, version",
    )
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select contributions")?;
    let mut by_agreement: HashMap<Uuid, Vec<RecordedContribution>> = HashMap::new();
    for row in rows {
        let (agreement_id, recorded) = checked(row)?;
        by_agreement.entry(agreement_id).or_default().push(recorded);
    }
    Ok(by_agreement)
}

/// Records the next version of the agreement's contribution (the caller holds the
/// schedule's lock). Returns it as recorded.
pub async fn record(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    effective_from: NaiveDate,
    recorded_on: NaiveDate,
    weekly: Money,
    assessment_reference: &str,
    recorded_by: &str,
) -> Result<RecordedContribution, PaymentsError> {
    let row: ContributionRow = sqlx::query_as(
        "INSERT INTO contribution_version (agreement_id, version, effective_from, recorded_on, \
             weekly, assessment_reference, recorded_by) \
         SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6 \
         FROM contribution_version WHERE agreement_id = $1 \
         RETURNING agreement_id, version, effective_from, recorded_on, weekly, \
             assessment_reference, recorded_by, recorded_at",
    )
    .bind(agreement_id)
    .bind(effective_from)
    .bind(recorded_on)
    .bind(weekly.as_decimal())
    .bind(assessment_reference)
    .bind(recorded_by)
    .fetch_one(&mut *connection)
    .await
    .operation("insert contribution")?;
    Ok(checked(row)?.1)
}
