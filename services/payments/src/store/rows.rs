//! Rows read back, checked again as the CHECK constraints promise: a row that breaks them is
//! reported as an internal error naming the row, never turned into a wrong payment.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::{Money, ReportedActual};
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::history::{AgreedVersion, Ending, History, Line, LineKind};
use crate::domain::terms::{Basis, Frequency, PaymentTiming, ScheduleTerms};
use crate::error::PaymentsError;

/// A schedule with everything recorded about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub terms: ScheduleTerms,
    pub history: History,
    pub revision: u32,
}

fn named<T: NamedEnum>(column: &str, value: &str) -> Result<T, PaymentsError> {
    T::from_name(value).ok_or_else(|| {
        PaymentsError::Internal(anyhow::anyhow!(
            "stored {column} {value:?} is not a known {}",
            T::WHAT
        ))
    })
}

fn count(column: &str, value: i32) -> Result<u32, PaymentsError> {
    u32::try_from(value).map_err(|_| {
        PaymentsError::Internal(anyhow::anyhow!("stored {column} {value} is negative"))
    })
}

type TermsRow = (
    Uuid,
    String,
    Uuid,
    Uuid,
    String,
    Option<Uuid>,
    String,
    Uuid,
    String,
    Option<NaiveDate>,
    String,
    i32,
    String,
    Decimal,
    i32,
);

/// The schedules of `ids` with everything recorded about them, in the order of `ids`;
/// ids without a schedule are left out. Five queries whatever the number of ids.
pub(super) async fn load_records(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<ScheduleRecord>, PaymentsError> {
    let rows: Vec<TermsRow> = sqlx::query_as(
        "SELECT s.agreement_id, authority, person_id, provider_id, holding_model, holder_id, \
             payee_kind, payee_id, frequency, anchor_date, timing, payment_lag_days, basis, \
             flex_tolerance_percent, revision \
         FROM UNNEST($1::uuid[]) WITH ORDINALITY AS wanted (agreement_id, position) \
         JOIN schedule s ON s.agreement_id = wanted.agreement_id \
         ORDER BY wanted.position",
    )
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select schedules")?;
    let mut versions = load_versions(connection, ids).await?;
    let mut endings = load_endings(connection, ids).await?;
    let mut actuals = load_actuals(connection, ids).await?;
    let mut contributions = super::contributions::of_schedules(connection, ids).await?;
    rows.into_iter()
        .map(|row| {
            let (revision, terms) = terms_of(row)?;
            let history = History {
                versions: versions.remove(&terms.agreement_id).unwrap_or_default(),
                endings: endings.remove(&terms.agreement_id).unwrap_or_default(),
                actuals: actuals.remove(&terms.agreement_id).unwrap_or_default(),
                contributions: contributions
                    .remove(&terms.agreement_id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|recorded| recorded.change)
                    .collect(),
            };
            Ok(ScheduleRecord {
                terms,
                history,
                revision,
            })
        })
        .collect()
}

fn terms_of(row: TermsRow) -> Result<(u32, ScheduleTerms), PaymentsError> {
    let (
        agreement_id,
        authority,
        person_id,
        provider_id,
        holding_model,
        holder_id,
        payee_kind,
        payee_id,
        frequency,
        anchor_date,
        timing,
        payment_lag_days,
        basis,
        flex_tolerance_percent,
        revision,
    ) = row;
    let frequency: Frequency = named("frequency", &frequency)?;
    if (frequency == Frequency::FourWeekly) != anchor_date.is_some() {
        return Err(PaymentsError::Internal(anyhow::anyhow!(
            "schedule {agreement_id} is {} with anchor {anchor_date:?}",
            frequency.name()
        )));
    }
    let terms = ScheduleTerms {
        agreement_id,
        authority: AuthorityId::parse("authority", &authority)
            .map_err(|invalid| PaymentsError::Internal(anyhow::anyhow!("stored {invalid}")))?,
        person_id,
        provider_id,
        holding_model: named("holding_model", &holding_model)?,
        holder_id,
        payee_kind: named("payee_kind", &payee_kind)?,
        payee_id,
        frequency,
        anchor_date,
        timing: named::<PaymentTiming>("timing", &timing)?,
        payment_lag_days: count("payment_lag_days", payment_lag_days)?,
        basis: named::<Basis>("basis", &basis)?,
        flex_tolerance_percent,
    };
    Ok((count("revision", revision)?, terms))
}

/// A version with one of its lines; the line's columns are NULL for a version without lines.
type VersionLineRow = (
    Uuid,
    i32,
    NaiveDate,
    NaiveDate,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<Decimal>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<Decimal>,
);

/// Both sides of the join name the wanted schedules: the statement runs on a generic plan
/// (`sds_platform::db`), which, not knowing how many ids it is given, otherwise joins the
/// versions found to a sequential scan of every line.
async fn load_versions(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<AgreedVersion>>, PaymentsError> {
    let rows: Vec<VersionLineRow> = sqlx::query_as(
        "SELECT v.agreement_id, v.version, v.effective_from, v.recorded_on, l.kind, l.plan_line, \
             l.support_type, l.weekly, l.start_date, l.end_date, l.hours_per_week \
         FROM schedule_version v \
         LEFT JOIN schedule_line l ON l.agreement_id = v.agreement_id AND l.version = v.version \
             AND l.agreement_id = ANY($1) \
         WHERE v.agreement_id = ANY($1) ORDER BY v.agreement_id, v.version, l.line_number",
    )
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select schedule versions")?;
    let mut by_agreement: HashMap<Uuid, Vec<AgreedVersion>> = HashMap::new();
    for (
        agreement_id,
        version,
        effective_from,
        recorded_on,
        kind,
        plan_line,
        support_type,
        weekly,
        start,
        end,
        hours_per_week,
    ) in rows
    {
        let versions = by_agreement.entry(agreement_id).or_default();
        let number = count("version", version)?;
        if versions.last().is_none_or(|last| last.version != number) {
            versions.push(AgreedVersion {
                version: number,
                effective_from,
                recorded_on,
                lines: Vec::new(),
            });
        }
        let (Some(kind), Some(plan_line), Some(support_type), Some(weekly), Some(start)) =
            (kind, plan_line, support_type, weekly, start)
        else {
            continue;
        };
        let weekly = Money::try_from(weekly).map_err(|error| {
            PaymentsError::Internal(anyhow::anyhow!(
                "schedule {agreement_id} version {version}: stored weekly {weekly}: {error}"
            ))
        })?;
        if weekly.is_negative()
            || end.is_some_and(|end| end < start)
            || hours_per_week.is_some_and(|hours| hours <= Decimal::ZERO)
        {
            return Err(PaymentsError::Internal(anyhow::anyhow!(
                "schedule {agreement_id} version {version}: stored line {weekly} {start}..{end:?} breaks its checks"
            )));
        }
        let line = Line {
            kind: named::<LineKind>("kind", &kind)?,
            plan_line: count("plan_line", plan_line)?,
            support_type,
            weekly,
            start,
            end,
            hours_per_week,
        };
        if let Some(current) = versions.last_mut() {
            current.lines.push(line);
        }
    }
    Ok(by_agreement)
}

/// Every report of delivery of the schedules, in the order made (by day, then revision).
async fn load_actuals(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ReportedActual>>, PaymentsError> {
    let rows: Vec<(Uuid, NaiveDate, NaiveDate, Decimal)> = sqlx::query_as(
        "SELECT agreement_id, period_start, reported_on, total FROM actual_report \
         WHERE agreement_id = ANY($1) ORDER BY agreement_id, reported_on, revision",
    )
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select reports of delivery")?;
    let mut by_agreement: HashMap<Uuid, Vec<ReportedActual>> = HashMap::new();
    for (agreement_id, period_start, reported_on, total) in rows {
        let amount = Money::try_from(total).map_err(|error| {
            PaymentsError::Internal(anyhow::anyhow!("stored report total {total}: {error}"))
        })?;
        by_agreement
            .entry(agreement_id)
            .or_default()
            .push(ReportedActual {
                period_start,
                reported_on,
                amount,
            });
    }
    Ok(by_agreement)
}

async fn load_endings(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Ending>>, PaymentsError> {
    let rows: Vec<(Uuid, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT agreement_id, last_day, recorded_on FROM schedule_end \
         WHERE agreement_id = ANY($1) ORDER BY agreement_id, recorded_on, last_day",
    )
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select schedule ends")?;
    let mut by_agreement: HashMap<Uuid, Vec<Ending>> = HashMap::new();
    for (agreement_id, last_day, recorded_on) in rows {
        by_agreement.entry(agreement_id).or_default().push(Ending {
            last_day,
            recorded_on,
        });
    }
    Ok(by_agreement)
}
