//! Providers' answers to package requests, and the person's choice of one, in SQL.
//!
//! What must stay true: a provider has at most one answer per request, changed in place
//! with its version raised, so an acceptance can name the version it saw; the same answer
//! sent again is not a change; every change raises the request's version too, so its events
//! are ordered. The caller holds the request's row lock (`load_request(.., lock: true)`)
//! around each of these, so answers and the acceptance of one request happen one at a time.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::package_answer::{Answer, AnswerKind, Price};
use crate::domain::package_request::HoldingModel;
use crate::error::DirectoryError;

/// A provider's answer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub id: Uuid,
    pub request_id: Uuid,
    pub provider_id: Uuid,
    pub answer: Answer,
    pub version: u64,
    /// When this version was given.
    pub offered_at: DateTime<Utc>,
    /// The order answers first arrived in, among all requests' answers.
    pub seq: i64,
}

/// The columns [`AnswerRow`] reads.
macro_rules! answer_columns {
    () => {
        "id, request_id, provider_id, kind, weekly_price, hourly_rate, earliest_start, note, \
         version, offered_at, seq"
    };
}

#[derive(Debug, sqlx::FromRow)]
struct AnswerRow {
    id: Uuid,
    request_id: Uuid,
    provider_id: Uuid,
    kind: String,
    weekly_price: Option<Decimal>,
    hourly_rate: Option<Decimal>,
    earliest_start: Option<NaiveDate>,
    note: String,
    version: i64,
    offered_at: DateTime<Utc>,
    seq: i64,
}

impl TryFrom<AnswerRow> for StoredAnswer {
    type Error = anyhow::Error;

    fn try_from(row: AnswerRow) -> anyhow::Result<StoredAnswer> {
        let id = row.id;
        let corrupt = |what: &str| anyhow::anyhow!("stored package offer {id}: {what}");
        let money = |amount: Decimal| {
            Money::parse(&amount.to_string())
                .ok()
                .filter(|amount| *amount > Money::zero())
                .ok_or_else(|| corrupt("price is not an amount above 0.00"))
        };
        let kind = AnswerKind::from_name(&row.kind)
            .ok_or_else(|| corrupt(&format!("kind {:?} is unknown", row.kind)))?;
        let answer = match (kind, row.weekly_price, row.hourly_rate, row.earliest_start) {
            (AnswerKind::Offer, Some(weekly), None, Some(start)) => Answer::Offer {
                price: Price::Weekly(money(weekly)?),
                earliest_start: start,
                note: row.note,
            },
            (AnswerKind::Offer, None, Some(hourly), Some(start)) => Answer::Offer {
                price: Price::Hourly(money(hourly)?),
                earliest_start: start,
                note: row.note,
            },
            (AnswerKind::Decline, None, None, None) => Answer::Decline { note: row.note },
            _ => return Err(corrupt("its price and start do not fit its kind")),
        };
        Ok(StoredAnswer {
            id,
            request_id: row.request_id,
            provider_id: row.provider_id,
            answer,
            version: u64::try_from(row.version)
                .ok()
                .filter(|version| *version >= 1)
                .ok_or_else(|| corrupt("version is below 1"))?,
            offered_at: row.offered_at,
            seq: row.seq,
        })
    }
}

fn stored(rows: Vec<AnswerRow>) -> Result<Vec<StoredAnswer>, DirectoryError> {
    Ok(rows
        .into_iter()
        .map(StoredAnswer::try_from)
        .collect::<anyhow::Result<Vec<_>>>()?)
}

/// Every answer to a request, in the order they first arrived.
pub async fn answers_to(
    connection: &mut PgConnection,
    request_id: Uuid,
) -> Result<Vec<StoredAnswer>, DirectoryError> {
    let rows: Vec<AnswerRow> = sqlx::query_as(concat!(
        "SELECT ",
        answer_columns!(),
        " FROM package_offer WHERE request_id = $1 ORDER BY seq"
    ))
    .bind(request_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select answers to a package request")?;
    stored(rows)
}

/// A provider's answers to any of `request_ids`.
pub async fn answers_of_provider(
    connection: &mut PgConnection,
    provider_id: Uuid,
    request_ids: &[Uuid],
) -> Result<Vec<StoredAnswer>, DirectoryError> {
    let rows: Vec<AnswerRow> = sqlx::query_as(concat!(
        "SELECT ",
        answer_columns!(),
        " FROM package_offer WHERE provider_id = $1 AND request_id = ANY($2) ORDER BY seq"
    ))
    .bind(provider_id)
    .bind(request_ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select a provider's answers")?;
    stored(rows)
}

/// An answer about to be recorded.
#[derive(Debug, Clone)]
pub struct NewAnswer<'a> {
    pub request_id: Uuid,
    pub provider_id: Uuid,
    pub answer: &'a Answer,
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

/// Records a provider's answer: a first answer at version 1, a different one as the next
/// version of the same offer. Returns the answer as stored and whether anything changed
/// (the same answer again changes nothing).
pub async fn record_answer(
    connection: &mut PgConnection,
    new: &NewAnswer<'_>,
) -> Result<(StoredAnswer, bool), DirectoryError> {
    let existing = answers_of_provider(connection, new.provider_id, &[new.request_id])
        .await?
        .into_iter()
        .next();
    if let Some(existing) = &existing
        && existing.answer == *new.answer
    {
        return Ok((existing.clone(), false));
    }
    let (weekly, hourly, start) = match new.answer {
        Answer::Offer {
            price,
            earliest_start,
            ..
        } => match price {
            Price::Weekly(weekly) => (Some(weekly.as_decimal()), None, Some(*earliest_start)),
            Price::Hourly(hourly) => (None, Some(hourly.as_decimal()), Some(*earliest_start)),
        },
        Answer::Decline { .. } => (None, None, None),
    };
    let row: AnswerRow = sqlx::query_as(concat!(
        "INSERT INTO package_offer (id, request_id, provider_id, kind, weekly_price, hourly_rate, \
             earliest_start, note, offered_at, offered_by, first_offered_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9, 1) \
         ON CONFLICT (request_id, provider_id) DO UPDATE SET kind = EXCLUDED.kind, \
             weekly_price = EXCLUDED.weekly_price, hourly_rate = EXCLUDED.hourly_rate, \
             earliest_start = EXCLUDED.earliest_start, note = EXCLUDED.note, \
             offered_at = EXCLUDED.offered_at, offered_by = EXCLUDED.offered_by, \
             version = package_offer.version + 1 \
         RETURNING ",
        answer_columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(new.request_id)
    .bind(new.provider_id)
    .bind(new.answer.kind().name())
    .bind(weekly)
    .bind(hourly)
    .bind(start)
    .bind(new.answer.note())
    .bind(new.at)
    .bind(new.by)
    .fetch_one(&mut *connection)
    .await
    .operation("record an answer to a package request")?;
    Ok((StoredAnswer::try_from(row)?, true))
}

/// Raises a request's version after a change to it or its answers; returns the new version.
pub async fn next_request_version(
    connection: &mut PgConnection,
    request_id: Uuid,
) -> Result<u64, DirectoryError> {
    let version: i64 = sqlx::query_scalar(
        "UPDATE package_request SET version = version + 1 WHERE id = $1 RETURNING version",
    )
    .bind(request_id)
    .fetch_one(&mut *connection)
    .await
    .operation("raise a package request's version")?;
    Ok(u64::try_from(version).unwrap_or_default())
}

/// The person's choice, about to be recorded.
#[derive(Debug, Clone)]
pub struct Choice<'a> {
    pub request_id: Uuid,
    pub offer_id: Uuid,
    pub holding_model: HoldingModel,
    pub holder: Option<&'a str>,
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

/// Records the person's choice: the request is accepted and takes no more answers. Returns
/// the request's new version.
pub async fn record_acceptance(
    connection: &mut PgConnection,
    choice: &Choice<'_>,
) -> Result<u64, DirectoryError> {
    let version: i64 = sqlx::query_scalar(
        "UPDATE package_request SET status = 'accepted', accepted_offer_id = $2, \
             holding_model = $3, holder = $4, accepted_by = $5, accepted_at = $6, \
             version = version + 1 \
         WHERE id = $1 AND status = 'open' RETURNING version",
    )
    .bind(choice.request_id)
    .bind(choice.offer_id)
    .bind(choice.holding_model.name())
    .bind(choice.holder)
    .bind(choice.by)
    .bind(choice.at)
    .fetch_one(&mut *connection)
    .await
    .operation("record the acceptance of an offer")?;
    Ok(u64::try_from(version).unwrap_or_default())
}
