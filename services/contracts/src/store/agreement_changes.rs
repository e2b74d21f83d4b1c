//! Changes to an agreement after it is recorded: the plan lines it funds, versions
//! superseded, its end (and an end brought forward), signatures and agreement, a draft's
//! outcomes; and the agreements a plan or a rate card change reaches.

use chrono::NaiveDate;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::agreements::to_i32;
use crate::domain::{EndCause, Representative, Signature};
use crate::error::ContractsError;

/// Adds `lines` to the plan lines agreement `id` funds (those it funds already stay).
pub async fn fund_lines(
    connection: &mut PgConnection,
    id: Uuid,
    lines: &[u32],
) -> Result<(), ContractsError> {
    let lines = lines
        .iter()
        .map(|line| to_i32(*line))
        .collect::<Result<Vec<_>, _>>()?;
    sqlx::query(
        "UPDATE agreement SET funded_lines = ARRAY(\
             SELECT DISTINCT line FROM unnest(funded_lines || $2::integer[]) AS line ORDER BY line) \
         WHERE id = $1",
    )
    .bind(id)
    .bind(&lines)
    .execute(&mut *connection)
    .await
    .operation("fund plan lines")?;
    Ok(())
}

/// Marks the version awaiting signatures, if any, superseded: a newer variation (or the
/// agreement's end) replaces it.
pub async fn supersede_awaiting(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<(), ContractsError> {
    sqlx::query(
        "UPDATE agreement_version SET state = 'superseded' \
         WHERE agreement_id = $1 AND state = 'awaiting'",
    )
    .bind(id)
    .execute(&mut *connection)
    .await
    .operation("supersede awaiting version")?;
    Ok(())
}

/// Records the end of agreement `id`: its last day, why, and the day it was recorded.
pub async fn end_agreement(
    connection: &mut PgConnection,
    id: Uuid,
    last_day: NaiveDate,
    cause: EndCause,
    reason: Option<&str>,
    ended_on: NaiveDate,
) -> Result<(), ContractsError> {
    sqlx::query(
        "UPDATE agreement SET status = 'ended', last_day = $2, end_cause = $3, \
             end_reason = $4, ended_on = $5 \
         WHERE id = $1 AND status <> 'ended'",
    )
    .bind(id)
    .bind(last_day)
    .bind(cause.name())
    .bind(reason)
    .bind(ended_on)
    .execute(&mut *connection)
    .await
    .operation("end agreement")?;
    Ok(())
}

/// The person's agreements still running on `on`, oldest first: those not ended, and those
/// under notice (once active) whose last day of support is `on` or later.
pub async fn open_agreements_of(
    connection: &mut PgConnection,
    person_id: Uuid,
    on: NaiveDate,
) -> Result<Vec<Uuid>, ContractsError> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM agreement a WHERE a.person_id = $1 \
           AND (a.status <> 'ended' OR (a.end_cause = 'notice' AND a.last_day >= $2 \
                AND EXISTS (SELECT 1 FROM agreement_version v \
                            WHERE v.agreement_id = a.id AND v.state = 'agreed'))) \
         ORDER BY a.created, a.id",
    )
    .bind(person_id)
    .bind(on)
    .fetch_all(&mut *connection)
    .await
    .operation("select the person's open agreements")?)
}

/// Brings the last day of support of agreement `id`, already ended, forward to `last_day`.
pub async fn bring_end_forward(
    connection: &mut PgConnection,
    id: Uuid,
    last_day: NaiveDate,
    cause: EndCause,
) -> Result<(), ContractsError> {
    sqlx::query(
        "UPDATE agreement SET last_day = $2, end_cause = $3 \
         WHERE id = $1 AND status = 'ended' AND last_day > $2",
    )
    .bind(id)
    .bind(last_day)
    .bind(cause.name())
    .execute(&mut *connection)
    .await
    .operation("bring an agreement's end forward")?;
    Ok(())
}

/// Supersedes the version awaiting signatures if it would take effect after `last_day`.
pub async fn supersede_awaiting_after(
    connection: &mut PgConnection,
    id: Uuid,
    last_day: NaiveDate,
) -> Result<(), ContractsError> {
    sqlx::query(
        "UPDATE agreement_version SET state = 'superseded' \
         WHERE agreement_id = $1 AND state = 'awaiting' AND effective_from > $2",
    )
    .bind(id)
    .bind(last_day)
    .execute(&mut *connection)
    .await
    .operation("supersede a variation after the last day")?;
    Ok(())
}

/// The agreements running on `from` (active, or under notice until then or later) with an
/// agreed version priced on `rate_card_id`, oldest first.
pub async fn active_agreements_on_card(
    connection: &mut PgConnection,
    rate_card_id: Uuid,
    from: NaiveDate,
) -> Result<Vec<Uuid>, ContractsError> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM agreement a \
         WHERE (a.status = 'active' OR (a.end_cause = 'notice' AND a.last_day >= $2)) \
           AND EXISTS (SELECT 1 FROM agreement_version v WHERE v.agreement_id = a.id \
                       AND v.state = 'agreed' AND v.rate_card_id = $1) \
         ORDER BY a.created, a.id",
    )
    .bind(rate_card_id)
    .bind(from)
    .fetch_all(&mut *connection)
    .await
    .operation("select agreements priced on a rate card")?)
}

/// The authorities with active agreements priced on rate card `rate_card_id`.
pub async fn authorities_on_card(
    connection: &mut PgConnection,
    rate_card_id: Uuid,
) -> Result<Vec<AuthorityId>, ContractsError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT a.authority FROM agreement a WHERE a.status = 'active' AND EXISTS ( \
             SELECT 1 FROM agreement_version v WHERE v.agreement_id = a.id \
               AND v.state = 'agreed' AND v.rate_card_id = $1) \
         ORDER BY 1",
    )
    .bind(rate_card_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select the authorities priced on a rate card")?;
    names
        .iter()
        .map(|name| {
            AuthorityId::parse("authority", name).map_err(|_| {
                anyhow::anyhow!("stored agreement authority {name:?} is malformed").into()
            })
        })
        .collect()
}

/// Changes the outcomes and representative of a first version nobody has signed.
pub async fn update_draft(
    connection: &mut PgConnection,
    id: Uuid,
    outcomes: &str,
    representative: Option<&Representative>,
) -> Result<(), ContractsError> {
    sqlx::query(
        "UPDATE agreement_version SET outcomes = $2, representative_name = $3, \
             representative_capacity = $4 \
         WHERE agreement_id = $1 AND state = 'awaiting' \
           AND NOT EXISTS (SELECT 1 FROM agreement_signature s \
                           WHERE s.agreement_id = $1 AND s.version = agreement_version.version)",
    )
    .bind(id)
    .bind(outcomes)
    .bind(representative.map(|representative| representative.name.as_str()))
    .bind(representative.map(|representative| representative.capacity.name()))
    .execute(&mut *connection)
    .await
    .operation("update agreement draft")?;
    Ok(())
}

/// Records a signature on a version.
pub async fn insert_signature(
    connection: &mut PgConnection,
    id: Uuid,
    version: u32,
    signature: &Signature,
) -> Result<(), ContractsError> {
    sqlx::query(
        "INSERT INTO agreement_signature (agreement_id, version, role, signed_by, capacity, \
             signed_on) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(to_i32(version)?)
    .bind(signature.role.name())
    .bind(&signature.signed_by)
    .bind(signature.capacity.map(|capacity| capacity.name()))
    .bind(signature.signed_on)
    .execute(&mut *connection)
    .await
    .operation("insert signature")?;
    Ok(())
}

/// Marks the version agreed on `on` and the agreement active.
pub async fn mark_agreed(
    connection: &mut PgConnection,
    id: Uuid,
    version: u32,
    on: NaiveDate,
) -> Result<(), ContractsError> {
    sqlx::query(
        "UPDATE agreement_version SET state = 'agreed', agreed_on = $3 \
         WHERE agreement_id = $1 AND version = $2 AND state = 'awaiting'",
    )
    .bind(id)
    .bind(to_i32(version)?)
    .bind(on)
    .execute(&mut *connection)
    .await
    .operation("mark version agreed")?;
    sqlx::query("UPDATE agreement SET status = 'active' WHERE id = $1 AND status = 'draft'")
        .bind(id)
        .execute(&mut *connection)
        .await
        .operation("activate agreement")?;
    Ok(())
}
