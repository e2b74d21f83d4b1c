//! Reports of delivery in SQL: each a new revision of its period's report, never changed,
//! and the runs of periods beyond tolerance already raised.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::{Money, Period};
use sds_platform::StoreContext as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::actuals::{JudgedReport, PeriodVariance};
use crate::error::PaymentsError;

fn money(what: &str, amount: Decimal) -> Result<Money, PaymentsError> {
    Money::try_from(amount).map_err(|error| {
        PaymentsError::Internal(anyhow::anyhow!("stored {what} {amount}: {error}"))
    })
}

/// Holds the schedule's row until the transaction ends, so reports of one agreement are
/// numbered one after another.
pub async fn lock_schedule(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<bool, PaymentsError> {
    let found: Option<Uuid> =
        sqlx::query_scalar("SELECT agreement_id FROM schedule WHERE agreement_id = $1 FOR UPDATE")
            .bind(agreement_id)
            .fetch_optional(&mut *connection)
            .await
            .operation("lock schedule")?;
    Ok(found.is_some())
}

/// The latest revision of the period's report, if its day and lines are those given.
pub async fn same_report_today(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    judged: &JudgedReport,
    today: NaiveDate,
) -> Result<Option<i32>, PaymentsError> {
    let latest: Option<(i32, NaiveDate)> = sqlx::query_as(
        "SELECT revision, reported_on FROM actual_report \
         WHERE agreement_id = $1 AND period_start = $2 ORDER BY revision DESC LIMIT 1",
    )
    .bind(agreement_id)
    .bind(judged.period.start)
    .fetch_optional(&mut *connection)
    .await
    .operation("select latest report")?;
    let Some(revision) = latest
        .filter(|(_, reported_on)| *reported_on == today)
        .map(|(revision, _)| revision)
    else {
        return Ok(None);
    };
    let stored: Vec<(i32, Decimal)> = sqlx::query_as(
        "SELECT plan_line, amount FROM actual_line \
         WHERE agreement_id = $1 AND period_start = $2 AND revision = $3 ORDER BY plan_line",
    )
    .bind(agreement_id)
    .bind(judged.period.start)
    .bind(revision)
    .fetch_all(&mut *connection)
    .await
    .operation("select report lines")?;
    let mut given: Vec<(i32, Decimal)> = judged
        .lines
        .iter()
        .map(|(line, _)| {
            (
                i32::try_from(line.plan_line).unwrap_or(i32::MAX),
                line.amount.as_decimal(),
            )
        })
        .collect();
    given.sort();
    Ok((stored == given).then_some(revision))
}

/// Records the report as the period's next revision; returns the revision.
pub async fn record(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    judged: &JudgedReport,
    reported_on: NaiveDate,
    reported_by: &str,
) -> Result<i32, PaymentsError> {
    let revision: i32 = sqlx::query_scalar(
        "INSERT INTO actual_report (agreement_id, period_start, revision, period_end, \
             reported_on, reported_by, total, reported, planned) \
         SELECT $1, $2, coalesce(max(revision), 0) + 1, $3, $4, $5, $6, $7, $8 \
         FROM actual_report WHERE agreement_id = $1 AND period_start = $2 \
         RETURNING revision",
    )
    .bind(agreement_id)
    .bind(judged.period.start)
    .bind(judged.period.end)
    .bind(reported_on)
    .bind(reported_by)
    .bind(judged.total.as_decimal())
    .bind(judged.reported.as_decimal())
    .bind(judged.planned.as_decimal())
    .fetch_one(&mut *connection)
    .await
    .operation("insert report")?;
    let plan_lines: Vec<i32> = judged
        .lines
        .iter()
        .map(|(line, _)| i32::try_from(line.plan_line).unwrap_or(i32::MAX))
        .collect();
    let amounts: Vec<Decimal> = judged
        .lines
        .iter()
        .map(|(line, _)| line.amount.as_decimal())
        .collect();
    let planned: Vec<Decimal> = judged
        .lines
        .iter()
        .map(|(_, planned)| planned.as_decimal())
        .collect();
    let hours: Vec<Option<Decimal>> = judged.lines.iter().map(|(line, _)| line.hours).collect();
    sqlx::query(
        "INSERT INTO actual_line (agreement_id, period_start, revision, plan_line, amount, planned, \
             hours) \
         SELECT $1, $2, $3, l, a, p, h \
         FROM UNNEST($4::int[], $5::numeric[], $6::numeric[], $7::numeric[]) AS x (l, a, p, h)",
    )
    .bind(agreement_id)
    .bind(judged.period.start)
    .bind(revision)
    .bind(plan_lines)
    .bind(amounts)
    .bind(planned)
    .bind(hours)
    .execute(&mut *connection)
    .await
    .operation("insert report lines")?;
    Ok(revision)
}

/// Every reported period's latest figures, in period order.
pub async fn period_variances(
    connection: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<Vec<PeriodVariance>, PaymentsError> {
    let rows: Vec<(NaiveDate, NaiveDate, Decimal, Decimal)> = sqlx::query_as(
        "SELECT DISTINCT ON (period_start) period_start, period_end, reported, planned \
         FROM actual_report WHERE agreement_id = $1 ORDER BY period_start, revision DESC",
    )
    .bind(agreement_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select period variances")?;
    rows.into_iter()
        .map(|(start, end, reported, planned)| {
            Ok(PeriodVariance {
                period: Period { start, end },
                reported: money("reported", reported)?,
                planned: money("planned", planned)?,
            })
        })
        .collect()
}

/// Records that the run of periods from `first_period` to `last_period` was raised; false
/// when it (or any run starting inside it: the same run, seen before an earlier period was
/// reported) already was.
pub async fn raise_once(
    connection: &mut PgConnection,
    agreement_id: Uuid,
    first_period: NaiveDate,
    last_period: NaiveDate,
) -> Result<bool, PaymentsError> {
    let inserted = sqlx::query(
        "INSERT INTO variance_alert (agreement_id, first_period) \
         SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM variance_alert \
             WHERE agreement_id = $1 AND first_period BETWEEN $2 AND $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(agreement_id)
    .bind(first_period)
    .bind(last_period)
    .execute(&mut *connection)
    .await
    .operation("raise variance")?;
    Ok(inserted.rows_affected() == 1)
}

/// How many runs have been raised for the person's agreements: the version of the person's
/// `variance.persistent` events.
pub async fn alerts_of_person(
    connection: &mut PgConnection,
    person_id: Uuid,
) -> Result<u64, PaymentsError> {
    // Two agreements of one person raising at once would otherwise count the same number.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('variance:' || $1::text))")
        .bind(person_id)
        .execute(&mut *connection)
        .await
        .operation("lock the person's variance")?;
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM variance_alert a JOIN schedule s ON s.agreement_id = a.agreement_id \
         WHERE s.person_id = $1",
    )
    .bind(person_id)
    .fetch_one(&mut *connection)
    .await
    .operation("count variance alerts")?;
    Ok(u64::try_from(count).unwrap_or_default())
}
