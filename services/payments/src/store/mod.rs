//! Payments' SQL: schedules, their recorded history, and the authority settings they are
//! made with. Rows read back are checked again ([`rows`]), as the CHECK constraints promise.

pub mod actuals;
pub mod bank;
pub mod chunks;
pub mod collection;
pub mod contributions;
pub mod posting;
pub mod remittances;
mod rows;
pub mod runs;

use chrono::NaiveDate;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::history::{AgreedVersion, Ending};
use crate::domain::terms::ScheduleTerms;
use crate::error::PaymentsError;
use crate::exports::journal::LedgerCodes;

pub use rows::ScheduleRecord;

/// An instalment's key: its schedule (agreement) and the first day of its period. Runs read
/// their instalments in pages after the last key read, so each page costs what the page
/// holds, whatever the size of the run.
pub type InstalmentKey = (Uuid, NaiveDate);

/// Before every instalment's key: the nil id and a first day PostgreSQL can hold.
pub const BEFORE_EVERY_INSTALMENT: InstalmentKey = (
    Uuid::nil(),
    match NaiveDate::from_ymd_opt(1, 1, 1) {
        Some(first) => first,
        None => NaiveDate::MIN,
    },
);

/// The authority's four-weekly anchor, if its finance staff set one.
pub async fn anchor_date(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<Option<NaiveDate>, PaymentsError> {
    Ok(
        sqlx::query_scalar("SELECT anchor_date FROM authority_settings WHERE authority = $1")
            .bind(authority.as_str())
            .fetch_optional(&mut *connection)
            .await
            .operation("select anchor date")?,
    )
}

/// Sets the authority's settings: its four-weekly anchor and, when given, its journal codes
/// (left out, the codes already set stay).
pub async fn set_settings(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    anchor_date: NaiveDate,
    codes: Option<&LedgerCodes>,
) -> Result<(), PaymentsError> {
    sqlx::query(
        "INSERT INTO authority_settings (authority, anchor_date, journal_expense_code, \
             journal_bank_code, journal_cost_centre) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (authority) DO UPDATE SET anchor_date = EXCLUDED.anchor_date, \
             journal_expense_code = coalesce(EXCLUDED.journal_expense_code, authority_settings.journal_expense_code), \
             journal_bank_code = coalesce(EXCLUDED.journal_bank_code, authority_settings.journal_bank_code), \
             journal_cost_centre = coalesce(EXCLUDED.journal_cost_centre, authority_settings.journal_cost_centre), \
             updated_at = now()",
    )
    .bind(authority.as_str())
    .bind(anchor_date)
    .bind(codes.map(|codes| codes.expense.as_str()))
    .bind(codes.map(|codes| codes.bank.as_str()))
    .bind(codes.map(|codes| codes.cost_centre.as_str()))
    .execute(&mut *connection)
    .await
    .operation("set payment settings")?;
    Ok(())
}

/// The periods of contribution arrears the authority allows (its settings row exists: set
/// in the same transaction as the anchor).
pub async fn set_arrears_allowance(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    periods: u32,
) -> Result<(), PaymentsError> {
    sqlx::query(
        "UPDATE authority_settings SET contribution_arrears_periods = $2 WHERE authority = $1",
    )
    .bind(authority.as_str())
    .bind(i32::try_from(periods).map_err(anyhow::Error::new)?)
    .execute(&mut *connection)
    .await
    .operation("set the arrears allowance")?;
    Ok(())
}

/// The authority's journal codes, if its finance staff set them.
pub async fn journal_codes(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<Option<LedgerCodes>, PaymentsError> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT journal_expense_code, journal_bank_code, journal_cost_centre \
         FROM authority_settings WHERE authority = $1",
    )
    .bind(authority.as_str())
    .fetch_optional(&mut *connection)
    .await
    .operation("select journal codes")?;
    Ok(match row {
        Some((Some(expense), Some(bank), Some(cost_centre))) => Some(LedgerCodes {
            expense,
            bank,
            cost_centre,
        }),
        _ => None,
    })
}

/// Makes the schedule unless it exists. Returns whether it was new.
pub async fn create_schedule(
    connection: &mut PgConnection,
    terms: &ScheduleTerms,
) -> Result<bool, PaymentsError> {
    let inserted = sqlx::query(
        "INSERT INTO schedule (agreement_id, authority, person_id, provider_id, holding_model, \
             holder_id, payee_kind, payee_id, frequency, anchor_date, timing, payment_lag_days, \
             basis, flex_tolerance_percent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (agreement_id) DO NOTHING",
    )
    .bind(terms.agreement_id)
    .bind(terms.authority.as_str())
    .bind(terms.person_id)
    .bind(terms.provider_id)
    .bind(terms.holding_model.name())
    .bind(terms.holder_id)
    .bind(terms.payee_kind.name())
    .bind(terms.payee_id)
    .bind(terms.frequency.name())
    .bind(terms.anchor_date)
    .bind(terms.timing.name())
    .bind(i32::try_from(terms.payment_lag_days).map_err(anyhow::Error::new)?)
    .bind(terms.basis.name())
    .bind(terms.flex_tolerance_percent)
    .execute(&mut *connection)
    .await
    .operation("insert schedule")?;
    Ok(inserted.rows_affected() == 1)
}

/// Locks the schedule's row for the rest of the transaction, so that two changes to one
/// schedule are computed one after the other. Returns whether it exists.
pub async fn lock_schedule(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<bool, PaymentsError> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT revision FROM schedule WHERE agreement_id = $1 FOR UPDATE")
            .bind(agreement_id)
            .fetch_optional(&mut *connection)
            .await
            .operation("lock schedule")?;
    Ok(found.is_some())
}

/// Counts one more change to the schedule; returns its new revision.
pub async fn next_revision(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<u32, PaymentsError> {
    let revision: i32 = sqlx::query_scalar(
        "UPDATE schedule SET revision = revision + 1 WHERE agreement_id = $1 RETURNING revision",
    )
    .bind(agreement_id)
    .fetch_one(&mut *connection)
    .await
    .operation("count schedule revision")?;
    Ok(u32::try_from(revision).map_err(anyhow::Error::new)?)
}

/// Records an agreed version and its lines unless that version is already here. Returns
/// whether it was new.
pub async fn record_version(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    version: &AgreedVersion,
    event_type: &str,
) -> Result<bool, PaymentsError> {
    let number = i32::try_from(version.version).map_err(anyhow::Error::new)?;
    let inserted = sqlx::query(
        "INSERT INTO schedule_version (agreement_id, version, effective_from, recorded_on, event_type) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agreement_id, version) DO NOTHING",
    )
    .bind(agreement_id)
    .bind(number)
    .bind(version.effective_from)
    .bind(version.recorded_on)
    .bind(event_type)
    .execute(&mut *connection)
    .await
    .operation("insert schedule version")?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    let mut line_numbers = Vec::with_capacity(version.lines.len());
    let mut kinds = Vec::with_capacity(version.lines.len());
    let mut plan_lines = Vec::with_capacity(version.lines.len());
    let mut support_types = Vec::with_capacity(version.lines.len());
    let mut weeklies = Vec::with_capacity(version.lines.len());
    let mut starts = Vec::with_capacity(version.lines.len());
    let mut ends = Vec::with_capacity(version.lines.len());
    let mut hours = Vec::with_capacity(version.lines.len());
    for (index, line) in version.lines.iter().enumerate() {
        line_numbers.push(i32::try_from(index).map_err(anyhow::Error::new)?);
        kinds.push(line.kind.name());
        plan_lines.push(i32::try_from(line.plan_line).map_err(anyhow::Error::new)?);
        support_types.push(line.support_type.as_str());
        weeklies.push(line.weekly.as_decimal());
        starts.push(line.start);
        ends.push(line.end);
        hours.push(line.hours_per_week);
    }
    sqlx::query(
        "INSERT INTO schedule_line (agreement_id, version, line_number, kind, plan_line, \
             support_type, weekly, start_date, end_date, hours_per_week) \
         SELECT $1, $2, * FROM UNNEST($3::int[], $4::text[], $5::int[], $6::text[], \
             $7::numeric[], $8::date[], $9::date[], $10::numeric[])",
    )
    .bind(agreement_id)
    .bind(number)
    .bind(line_numbers)
    .bind(kinds)
    .bind(plan_lines)
    .bind(support_types)
    .bind(weeklies)
    .bind(starts)
    .bind(ends)
    .bind(hours)
    .execute(&mut *connection)
    .await
    .operation("insert schedule lines")?;
    Ok(true)
}

/// Records an end unless the same last day is already recorded. Returns whether it was new.
pub async fn record_ending(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    ending: &Ending,
    cause: &str,
) -> Result<bool, PaymentsError> {
    let inserted = sqlx::query(
        "INSERT INTO schedule_end (agreement_id, last_day, recorded_on, cause) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (agreement_id, last_day) DO NOTHING",
    )
    .bind(agreement_id)
    .bind(ending.last_day)
    .bind(ending.recorded_on)
    .bind(cause)
    .execute(&mut *connection)
    .await
    .operation("insert schedule end")?;
    Ok(inserted.rows_affected() == 1)
}

/// The schedule with its whole recorded history, if it exists.
pub async fn load_schedule(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<Option<ScheduleRecord>, PaymentsError> {
    Ok(rows::load_records(connection, &[agreement_id])
        .await?
        .into_iter()
        .next())
}

/// The schedules of `ids` with their histories, in the order of `ids`.
pub async fn load_schedules(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<ScheduleRecord>, PaymentsError> {
    rows::load_records(connection, ids).await
}
