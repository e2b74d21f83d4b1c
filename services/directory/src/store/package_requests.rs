//! Package requests and the providers' answers, in SQL.
//!
//! Matching is done here, in one statement, from the provider's own record: a provider is
//! shown the open requests whose locality is one of its localities and which share at least
//! one service type with it (both ignoring case). What a provider may see is decided from
//! its token by the caller, never from a filter the provider sends.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::AuthorityId;
use crate::domain::package_request::{Amount, HoldingModel, RequestContent, RequestStatus};
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
                person_id: line.person_id,
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

/// A request as [`RequestRow`] reads it, with the provider of its accepted offer.
macro_rules! select_requests {
    () => {
        "SELECT r.id, r.authority, r.person_id, r.plan_id, r.line_number, r.needs_summary, \
             r.service_types, r.locality, r.hours_per_week, r.weekly_budget, r.start_date, \
             r.closing_date, r.status, r.accepted_offer_id, r.version, r.published_at, \
             r.holding_model, r.holder, r.accepted_at, a.provider_id AS accepted_provider_id \
         FROM package_request r LEFT JOIN package_offer a ON a.id = r.accepted_offer_id "
    };
}

/// Which requests each kind of viewer may see, as [`list_requests`] binds them: $1 the
/// status (or null), $2 the staff's authorities, $3 the person, $4 the provider, $5 today,
/// $6 and $7 the provider's folded localities and service types. One condition per kind of
/// viewer, so that each can use its own index (authority, person, open locality, answers);
/// each names every parameter, the others' in tests always true for that viewer, so that
/// one set of bindings serves all three.
macro_rules! staff_requests {
    () => {
        "($1::text IS NULL OR r.status = $1) AND r.authority = ANY($2) \
         AND $3::uuid IS NULL AND $4::uuid IS NULL AND $5::date IS NULL \
         AND cardinality($6::text[]) >= 0 AND cardinality($7::text[]) >= 0"
    };
}

macro_rules! persons_requests {
    () => {
        "($1::text IS NULL OR r.status = $1) AND r.person_id = $3 \
         AND cardinality($2::text[]) >= 0 AND $4::uuid IS NULL AND $5::date IS NULL \
         AND cardinality($6::text[]) >= 0 AND cardinality($7::text[]) >= 0"
    };
}

macro_rules! providers_requests {
    () => {
        "($1::text IS NULL OR r.status = $1) AND cardinality($2::text[]) >= 0 \
         AND $3::uuid IS NULL \
         AND ((r.status = 'open' AND r.closing_date >= $5 \
               AND r.locality_folded = ANY($6) AND r.service_types_folded && $7) \
              OR r.id IN (SELECT o.request_id FROM package_offer o WHERE o.provider_id = $4))"
    };
}

/// The count and the page of a list for each kind of viewer.
macro_rules! list_sql {
    ($condition:ident) => {
        (
            concat!(
                "SELECT count(*) FROM package_request r WHERE ",
                $condition!()
            ),
            concat!(
                select_requests!(),
                "WHERE ",
                $condition!(),
                " AND ($8::uuid IS NULL OR r.id < $8) ORDER BY r.id DESC LIMIT $9"
            ),
        )
    };
}

#[derive(Debug, sqlx::FromRow)]
struct RequestRow {
    id: Uuid,
    authority: String,
    person_id: Uuid,
    plan_id: Uuid,
    line_number: i32,
    needs_summary: String,
    service_types: Vec<String>,
    locality: String,
    hours_per_week: Option<Decimal>,
    weekly_budget: Option<Decimal>,
    start_date: NaiveDate,
    closing_date: NaiveDate,
    status: String,
    accepted_offer_id: Option<Uuid>,
    version: i64,
    published_at: DateTime<Utc>,
    holding_model: Option<String>,
    holder: Option<String>,
    accepted_at: Option<DateTime<Utc>>,
    accepted_provider_id: Option<Uuid>,
}

/// The person's choice on an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    pub offer_id: Uuid,
    pub provider_id: Uuid,
    pub holding_model: HoldingModel,
    /// The third-party holder, for that holding model only.
    pub holder: Option<String>,
    pub at: DateTime<Utc>,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    pub id: Uuid,
    pub authority: AuthorityId,
    pub line: PlanLine,
    pub content: RequestContent,
    pub status: RequestStatus,
    pub accepted: Option<Acceptance>,
    /// 1 when published; each answer and the acceptance add one.
    pub version: u64,
    pub published_at: DateTime<Utc>,
}

impl StoredRequest {
    /// Whether providers may still answer on `today`.
    pub fn taking_offers(&self, today: NaiveDate) -> bool {
        self.status == RequestStatus::Open && self.content.closing_date >= today
    }
}

impl TryFrom<RequestRow> for StoredRequest {
    type Error = anyhow::Error;

    /// Checks the row again as it is read: a row the domain refuses was changed behind the
    /// service's back.
    fn try_from(row: RequestRow) -> anyhow::Result<StoredRequest> {
        let id = row.id;
        let corrupt = |what: &str| anyhow::anyhow!("stored package request {id}: {what}");
        let authority = AuthorityId::parse("authority", &row.authority)
            .map_err(|invalid| corrupt(&invalid.to_string()))?;
        let amount = match (row.hours_per_week, row.weekly_budget) {
            (Some(hours), None) if hours > Decimal::ZERO => Amount::HoursPerWeek(hours.normalize()),
            (None, Some(budget)) => Amount::WeeklyBudget(
                Money::parse(&budget.to_string())
                    .ok()
                    .filter(|budget| *budget > Money::zero())
                    .ok_or_else(|| corrupt("weekly budget is not an amount above 0.00"))?,
            ),
            _ => return Err(corrupt("asks for neither hours nor a budget, or for both")),
        };
        let status = RequestStatus::from_name(&row.status)
            .ok_or_else(|| corrupt(&format!("status {:?} is unknown", row.status)))?;
        let accepted = match (
            status,
            row.accepted_offer_id,
            row.accepted_provider_id,
            row.holding_model
                .as_deref()
                .and_then(HoldingModel::from_name),
            row.accepted_at,
        ) {
            (RequestStatus::Accepted, Some(offer_id), Some(provider_id), Some(model), Some(at)) => {
                Some(Acceptance {
                    offer_id,
                    provider_id,
                    holding_model: model,
                    holder: row.holder,
                    at,
                })
            }
            (RequestStatus::Accepted, ..) => {
                return Err(corrupt(
                    "is accepted without a complete record of the choice",
                ));
            }
            (_, None, ..) => None,
            (_, Some(_), ..) => return Err(corrupt("names an accepted offer but is not accepted")),
        };
        Ok(StoredRequest {
            id,
            authority,
            line: PlanLine {
                person_id: row.person_id,
                plan_id: row.plan_id,
                line_number: u32::try_from(row.line_number)
                    .ok()
                    .filter(|number| *number >= 1)
                    .ok_or_else(|| corrupt("line number is below 1"))?,
            },
            content: RequestContent {
                needs_summary: row.needs_summary,
                service_types: row.service_types,
                locality: row.locality,
                amount,
                start_date: row.start_date,
                closing_date: row.closing_date,
            },
            status,
            accepted,
            version: u64::try_from(row.version)
                .ok()
                .filter(|version| *version >= 1)
                .ok_or_else(|| corrupt("version is below 1"))?,
            published_at: row.published_at,
        })
    }
}

/// Closes the open request `id` as withdrawn by `by` at `at`, counting the change in its
/// version. The caller holds the request's lock and has seen it open.
pub async fn record_withdrawal(
    connection: &mut PgConnection,
    id: Uuid,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), DirectoryError> {
    let closed = sqlx::query(
        "UPDATE package_request SET status = 'closed', closed_at = $3, closed_by = $2, \
             version = version + 1 \
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .execute(&mut *connection)
    .await?;
    if closed.rows_affected() != 1 {
        return Err(DirectoryError::Internal(anyhow::anyhow!(
            "package request {id} was not open when withdrawn under its lock"
        )));
    }
    Ok(())
}

/// One request; with `lock`, its row is locked until the transaction ends, so that answers
/// and the acceptance of one request are applied one at a time.
pub async fn load_request(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<StoredRequest>, DirectoryError> {
    if lock {
        // The lock first, on the request's row alone: a statement that waited for it reads
        // the row as committed by the holder, but would join the offers as they were
        // before, so the joined read comes after, as a statement of its own.
        let found: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM package_request WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *connection)
                .await
                .operation("lock package request")?;
        if found.is_none() {
            return Ok(None);
        }
    }
    let row: Option<RequestRow> = sqlx::query_as(concat!(select_requests!(), "WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(&mut *connection)
        .await
        .operation("select package request")?;
    Ok(row.map(StoredRequest::try_from).transpose()?)
}

/// Which requests a list is of: decided from the caller's token by the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedFor {
    /// Every request of these authorities.
    Authorities(Vec<String>),
    /// The requests made for this person.
    Person(Uuid),
    /// The open requests a provider matches, taking offers on `today`, and every request
    /// it has answered.
    Provider { id: Uuid, today: NaiveDate },
}

/// One page of a list, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListPage {
    pub status: Option<RequestStatus>,
    /// The last request of the previous page.
    pub after: Option<Uuid>,
    pub size: u32,
}

/// A page of the requests `listed_for` may see, newest first, and how many there are in all.
pub async fn list_requests(
    connection: &mut PgConnection,
    listed_for: &ListedFor,
    page: ListPage,
) -> Result<(Vec<StoredRequest>, u64), DirectoryError> {
    let (authorities, person, provider, today) = match listed_for {
        ListedFor::Authorities(authorities) => (authorities.clone(), None, None, None),
        ListedFor::Person(person) => (Vec::new(), Some(*person), None, None),
        ListedFor::Provider { id, today } => (Vec::new(), None, Some(*id), Some(*today)),
    };
    // What the provider offers and where, from its own record; an inactive service is sent
    // no new requests but still sees those it answered.
    let (localities, service_types): (Vec<String>, Vec<String>) = match provider {
        Some(provider) => sqlx::query_as(
            "SELECT localities_folded, service_types_folded FROM provider \
             WHERE id = $1 AND care_service_status = 'active'",
        )
        .bind(provider)
        .fetch_optional(&mut *connection)
        .await
        .operation("select provider's localities and service types")?
        .unwrap_or_default(),
        None => (Vec::new(), Vec::new()),
    };
    let status = page.status.map(|status| status.name());
    let (count_sql, page_sql) = match listed_for {
        ListedFor::Authorities(_) => list_sql!(staff_requests),
        ListedFor::Person(_) => list_sql!(persons_requests),
        ListedFor::Provider { .. } => list_sql!(providers_requests),
    };
    let total: i64 = sqlx::query_scalar(count_sql)
        .bind(status)
        .bind(&authorities)
        .bind(person)
        .bind(provider)
        .bind(today)
        .bind(&localities)
        .bind(&service_types)
        .fetch_one(&mut *connection)
        .await
        .operation("count package requests")?;
    let rows: Vec<RequestRow> = sqlx::query_as(page_sql)
        .bind(status)
        .bind(&authorities)
        .bind(person)
        .bind(provider)
        .bind(today)
        .bind(&localities)
        .bind(&service_types)
        .bind(page.after)
        .bind(i64::from(page.size))
        .fetch_all(&mut *connection)
        .await
        .operation("select package requests")?;
    let requests = rows
        .into_iter()
        .map(StoredRequest::try_from)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((requests, u64::try_from(total).unwrap_or_default()))
}

/// Whether `provider` is one the request is sent to: active, in its locality, with one of
/// its service types.
pub async fn provider_matches(
    connection: &mut PgConnection,
    request_id: Uuid,
    provider: Uuid,
) -> Result<bool, DirectoryError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM package_request r \
         JOIN provider p ON p.localities_folded @> ARRAY[r.locality_folded] \
             AND p.service_types_folded && r.service_types_folded \
         WHERE r.id = $1 AND p.id = $2 AND p.care_service_status = 'active')",
    )
    .bind(request_id)
    .bind(provider)
    .fetch_one(&mut *connection)
    .await
    .operation("select whether a provider matches a request")?)
}
