//! Assessments: outcomes, needs and the eligibility decision, as recorded. Never changed
//! once written; a reassessment is a new row.

use chrono::{DateTime, NaiveDate, Utc};
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::EligibilityDecision;
use crate::error::AssessmentError;

/// An assessment as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentRecord {
    pub id: Uuid,
    pub person_id: Uuid,
    pub outcomes: Vec<String>,
    pub needs: Vec<String>,
    pub decision: EligibilityDecision,
    pub community_resources: Vec<String>,
    pub assessed_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

pub async fn insert_assessment(
    connection: &mut PgConnection,
    record: &AssessmentRecord,
) -> Result<DateTime<Utc>, AssessmentError> {
    let recorded_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO assessment (id, person_id, outcomes, needs, eligibility, eligible, \
             decision_reason, community_resources, assessed_on, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING recorded_at",
    )
    .bind(record.id)
    .bind(record.person_id)
    .bind(&record.outcomes)
    .bind(&record.needs)
    .bind(record.decision.level.name())
    .bind(record.decision.eligible)
    .bind(&record.decision.reason)
    .bind(&record.community_resources)
    .bind(record.assessed_on)
    .bind(&record.recorded_by)
    .fetch_one(&mut *connection)
    .await
    .operation("insert assessment")?;
    Ok(recorded_at)
}
