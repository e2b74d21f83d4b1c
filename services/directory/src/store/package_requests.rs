//! Package requests and the providers' answers, in SQL.
//!
//! Matching is done here, in one statement, from the provider's own record: a provider is
//! shown the open requests whose locality is one of its localities and which share at least
//! one service type with it (both ignoring case). What a provider may see is decided from
//! its token by the caller, never from a filter the provider sends.

use chrono::{DateTime, NaiveDate, Utc};
use sds_platform::StoreContext as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::AuthorityId;
use crate::domain::package_request::{Amount, RequestContent};
use crate::error::DirectoryError;

/// Who a request is for: shown to authority staff, the person, and the chosen provider only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLine {
    pub person_id: Uuid,
    pub plan_id: Uuid,
    pub line_number: u32,
}

/// The constraint that keeps one open request per plan line.
const ONE_OPEN_PER_LINE: &str = "package_request_one_open_per_line";

/// A request about to be published: who it is for, what providers see, who published it
/// and when.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub id: Uuid,
    pub authority: &'a AuthorityId,
    pub line: PlanLine,
    pub content: &'a RequestContent,
    pub by: &'a str,
    pub at: DateTime<Utc>,
    pub on: NaiveDate,
}

/// Records a new open request at version 1. Refused with [`DirectoryError::RequestOpen`]
/// when the plan line already has one.
pub async fn insert_request(
    connection: &mut PgConnection,
    request: &NewRequest<'_>,
) -> Result<(), DirectoryError> {
    let NewRequest {
        id,
        authority,
        line,
        content,
        by,
        at,
        on,
    } = *request;
    let (hours, budget) = match content.amount {
        Amount::HoursPerWeek(hours) => (Some(hours), None),
        Amount::WeeklyBudget(budget) => (None, Some(budget.as_decimal())),
    };
    let inserted = sqlx::query(
        "INSERT INTO package_request (id, authority, person_id, plan_id, line_number, \
             needs_summary, service_types, locality, hours_per_week, weekly_budget, start_date, \
             closing_date, version, published_at, published_by, published_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14, $15)",
    )
    .bind(id)
    .bind(authority.as_str())
    .bind(line.person_id)
    .bind(line.plan_id)
    .bind(i32::try_from(line.line_number).unwrap_or(i32::MAX))
    .bind(&content.needs_summary)
    .bind(&content.service_types)
    .bind(&content.locality)
    .bind(hours)
    .bind(budget)
    .bind(content.start_date)
    .bind(content.closing_date)
    .bind(at)
    .bind(by)
    .bind(on)
    .execute(&mut *connection)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(database))
            if database.constraint() == Some(ONE_OPEN_PER_LINE) =>
        {
            Err(DirectoryError::RequestOpen {
                plan_id: line.plan_id,
                line_number: line.line_number,
            })
        }
        Err(other) => Err(other)
            .operation("insert package request")
            .map_err(Into::into),
    }
}

/// The providers a request is sent to: those with its locality and at least one of its
/// service types, active, in id order.
pub async fn matching_providers(
    connection: &mut PgConnection,
    request_id: Uuid,
) -> Result<Vec<Uuid>, DirectoryError> {
    Ok(sqlx::query_scalar(
        "SELECT p.id FROM package_request r \
         JOIN provider p ON p.localities_folded @> ARRAY[r.locality_folded] \
             AND p.service_types_folded && r.service_types_folded \
         WHERE r.id = $1 AND p.care_service_status = 'active' \
         ORDER BY p.id",
    )
    .bind(request_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select matching providers")?)
}
