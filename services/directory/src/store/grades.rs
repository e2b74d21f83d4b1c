//! A provider's grade history and the withdrawal of grades recorded in error. Rows are
//! never deleted: a withdrawal sets who, when and why on the entry, and the `current_grade`
//! view leaves withdrawn entries out, so the previous inspection's grade counts again.

use chrono::{DateTime, NaiveDate, Utc};
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::withdrawal::{GradeEntry, Withdrawal};
use crate::domain::{KeyQuestion, ProviderId};
use crate::error::DirectoryError;

use super::rows::GradeRow;

#[derive(Debug, sqlx::FromRow)]
struct GradeHistoryRow {
    provider_id: Uuid,
    key_question: String,
    grade: i16,
    inspected_on: NaiveDate,
    recorded_at: DateTime<Utc>,
    recorded_by: String,
    withdrawn_at: Option<DateTime<Utc>>,
    withdrawn_by: Option<String>,
    withdrawn_reason: Option<String>,
}

impl GradeHistoryRow {
    fn into_entry(self) -> anyhow::Result<GradeEntry> {
        let withdrawal = match (self.withdrawn_at, self.withdrawn_by, self.withdrawn_reason) {
            (Some(at), Some(by), Some(reason)) => Some(Withdrawal { at, by, reason }),
            (None, None, None) => None,
            _ => anyhow::bail!(
                "stored grade of {} for {} on {} has a partial withdrawal",
                self.provider_id,
                self.key_question,
                self.inspected_on
            ),
        };
        let grade = GradeRow {
            provider_id: self.provider_id,
            key_question: self.key_question,
            grade: self.grade,
            inspected_on: self.inspected_on,
        }
        .into_grade()?;
        Ok(GradeEntry {
            grade,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by,
            withdrawal,
        })
    }
}

/// Every grade recorded for the provider, newest inspection first, then by key question.
pub async fn grade_history(
    connection: &mut PgConnection,
    id: ProviderId,
) -> Result<Vec<GradeEntry>, DirectoryError> {
    let rows: Vec<GradeHistoryRow> = sqlx::query_as(
        "SELECT provider_id, key_question, grade, inspected_on, recorded_at, recorded_by, \
             withdrawn_at, withdrawn_by, withdrawn_reason \
         FROM grade WHERE provider_id = $1 \
         ORDER BY inspected_on DESC, key_question",
    )
    .bind(id.as_uuid())
    .fetch_all(&mut *connection)
    .await
    .operation("select grade history")?;
    let mut entries = rows
        .into_iter()
        .map(GradeHistoryRow::into_entry)
        .collect::<anyhow::Result<Vec<_>>>()?;
    // By the domain's key-question order rather than the names' alphabetical one.
    entries.sort_by(|left, right| {
        right
            .grade
            .inspected_on
            .cmp(&left.grade.inspected_on)
            .then(left.grade.key_question.cmp(&right.grade.key_question))
    });
    Ok(entries)
}

/// Marks the provider's grades of these key questions from that inspection as withdrawn.
/// Entries already withdrawn keep their first withdrawal.
pub async fn withdraw_grades(
    connection: &mut PgConnection,
    id: ProviderId,
    inspected_on: NaiveDate,
    key_questions: &[KeyQuestion],
    reason: &str,
    actor: &str,
) -> Result<(), DirectoryError> {
    let names: Vec<&str> = key_questions
        .iter()
        .map(|question| question.name())
        .collect();
    sqlx::query(
        "UPDATE grade SET withdrawn_at = now(), withdrawn_by = $5, withdrawn_reason = $4 \
         WHERE provider_id = $1 AND inspected_on = $2 AND key_question = ANY($3) \
           AND withdrawn_at IS NULL",
    )
    .bind(id.as_uuid())
    .bind(inspected_on)
    .bind(&names)
    .bind(reason)
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("withdraw grades")?;
    Ok(())
}
