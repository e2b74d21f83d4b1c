//! The plan copies: each approved plan version once, as its event carried it.

use sds_platform::StoreContext as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::plan_copy::{PlanCopy, PlanLineCopy};
use crate::error::ContractsError;

/// Stores `plan` unless its version is already here. Returns whether it was new.
pub async fn save_plan_copy(
    connection: &mut PgConnection,
    authority: &str,
    event_type: &str,
    plan: &PlanCopy,
) -> Result<bool, ContractsError> {
    let lines = serde_json::to_string(&plan.lines).map_err(anyhow::Error::new)?;
    let inserted = sqlx::query(
        "INSERT INTO plan_copy (person_id, version, authority, effective_from, recorded_on, \
             ends_plan, event_type, lines) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) \
         ON CONFLICT (person_id, version) DO NOTHING",
    )
    .bind(plan.person_id)
    .bind(i32::try_from(plan.version).map_err(anyhow::Error::new)?)
    .bind(authority)
    .bind(plan.effective_from)
    .bind(plan.recorded_on)
    .bind(plan.ends_plan)
    .bind(event_type)
    .bind(lines)
    .execute(&mut *connection)
    .await
    .operation("save plan copy")?;
    Ok(inserted.rows_affected() == 1)
}

/// The person's latest plan version held for `authority`.
pub async fn latest_plan_copy(
    connection: &mut PgConnection,
    authority: &str,
    person_id: Uuid,
) -> Result<Option<PlanCopy>, ContractsError> {
    let row: Option<(i32, chrono::NaiveDate, chrono::NaiveDate, bool, String)> = sqlx::query_as(
        "SELECT version, effective_from, recorded_on, ends_plan, lines::text \
             FROM plan_copy WHERE person_id = $1 AND authority = $2 \
             ORDER BY version DESC LIMIT 1",
    )
    .bind(person_id)
    .bind(authority)
    .fetch_optional(&mut *connection)
    .await
    .operation("select latest plan copy")?;
    let Some((version, effective_from, recorded_on, ends_plan, lines)) = row else {
        return Ok(None);
    };
    let lines: Vec<PlanLineCopy> = serde_json::from_str(&lines)
        .map_err(|error| anyhow::anyhow!("a stored plan copy's lines are malformed: {error}"))?;
    Ok(Some(PlanCopy {
        person_id,
        version: u32::try_from(version).map_err(anyhow::Error::new)?,
        effective_from,
        recorded_on,
        ends_plan,
        lines,
    }))
}
