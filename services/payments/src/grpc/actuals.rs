//! `ReportActuals` and `ImportActuals`: reports of delivery from the provider's office, one
//! by one or as a CSV's rows. Every cell is read here, and every refusal names its field
//! (or, for a file, its line) and says what is accepted.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_events::OutboxBell;
use sds_money::Money;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::shown;
use sqlx::PgPool;
use uuid::Uuid;

use crate::actuals::{self, Report};
use crate::domain::actuals::ReportedLine;
use crate::error::PaymentsError;

/// The most rows one import may carry; a larger file is sent in several requests.
pub const MAX_ROWS: usize = 5_000;

const AMOUNT: &str = "expected pounds and pence such as \"375.00\", 0.00 or more";

fn agreement(field: &str, raw: &str) -> Result<Uuid, String> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        if raw.trim().is_empty() {
            format!("{field}: missing; give the agreement's id (a UUID)")
        } else {
            format!("{field}: {} is not a UUID", shown(raw))
        }
    })
}

fn period_start(field: &str, raw: &str) -> Result<NaiveDate, String> {
    parse_iso_date(raw.trim()).ok_or_else(|| {
        if raw.trim().is_empty() {
            format!("{field}: missing; give the period's first day as YYYY-MM-DD")
        } else {
            format!("{field}: {} is not a date; expected YYYY-MM-DD", shown(raw))
        }
    })
}

fn amount(field: &str, raw: &str) -> Result<Money, String> {
    Money::parse(raw.trim())
        .ok()
        .filter(|amount| !amount.is_negative())
        .ok_or_else(|| {
            if raw.trim().is_empty() {
                format!("{field}: missing; {AMOUNT}")
            } else {
                format!("{field}: {} is not an amount; {AMOUNT}", shown(raw))
            }
        })
}

/// Hours as a person writes them and nothing else: digits, and at most two decimals after a
/// point (`38`, `38.5`, `7.25`); no sign, exponent, separator or space, so a slip in a file
/// is refused rather than paid. At most 99999.99.
fn plain_hours(text: &str) -> Option<Decimal> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let fits = (1..=5).contains(&whole.len())
        && digits(whole)
        && digits(fraction)
        && (fraction.len() <= 2)
        && (text.contains('.') <= !fraction.is_empty());
    fits.then(|| text.parse::<Decimal>().ok()).flatten()
}

/// A line's delivery: an amount, or hours (then the amount is worked out when judged).
fn delivered(
    prefix: &str,
    amount_raw: &str,
    hours_raw: &str,
) -> Result<(Money, Option<Decimal>), String> {
    match (amount_raw.trim().is_empty(), hours_raw.trim()) {
        (false, hours) if !hours.is_empty() => Err(format!(
            "{prefix}hours: give the amount or the hours delivered, not both"
        )),
        (_, "") => Ok((amount(&format!("{prefix}amount"), amount_raw)?, None)),
        (_, hours) => plain_hours(hours)
            .map(|hours| (Money::zero(), Some(hours)))
            .ok_or_else(|| {
                format!(
                    "{prefix}hours: {} is not hours; give the hours delivered, 0 or more, up to 2 decimal places",
                    shown(hours)
                )
            }),
    }
}

fn plan_line(field: &str, number: u32) -> Result<u32, String> {
    if number == 0 {
        Err(format!(
            "{field}: missing; give the plan line's number (1 or more)"
        ))
    } else {
        Ok(number)
    }
}

fn report_of(request: &proto::ReportActualsRequest) -> Result<Report, String> {
    let agreement_id = agreement("agreement_id", &request.agreement_id)?;
    let start = period_start(
        "period_start",
        request
            .period_start
            .as_ref()
            .map(|date| date.iso.as_str())
            .unwrap_or_default(),
    )?;
    let lines = request
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let (amount, hours) = delivered(
                &format!("lines[{index}]."),
                line.amount
                    .as_ref()
                    .map(|money| money.amount.as_str())
                    .unwrap_or_default(),
                &line.hours,
            )?;
            Ok(ReportedLine {
                plan_line: plan_line(&format!("lines[{index}].plan_line"), line.plan_line)?,
                amount,
                hours,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Report {
        agreement_id,
        period_start: start,
        lines,
    })
}

pub async fn report(
    pool: &PgPool,
    outbox: &OutboxBell,
    principal: &Principal,
    today: NaiveDate,
    request: &proto::ReportActualsRequest,
) -> Result<proto::ActualsReport, PaymentsError> {
    let report = report_of(request).map_err(PaymentsError::InvalidInput)?;
    actuals::record(pool, outbox, principal, today, &report).await
}

/// One row read: its line and its report's key, or why it cannot be read.
type ReadRow = (u64, Result<(Uuid, NaiveDate, ReportedLine), String>);

fn read_row(row: &proto::ActualsRow) -> ReadRow {
    let read = || -> Result<(Uuid, NaiveDate, ReportedLine), String> {
        let agreement_id = agreement("agreement_id", &row.agreement_id)?;
        let start = period_start("period_start", &row.period_start)?;
        let number = row.plan_line.trim().parse::<u32>().map_err(|_| {
            format!(
                "plan_line: {} is not a plan line number; expected 1 or more",
                shown(&row.plan_line)
            )
        })?;
        let (amount, hours) = delivered("", &row.amount, &row.hours)?;
        let line = ReportedLine {
            plan_line: plan_line("plan_line", number)?,
            amount,
            hours,
        };
        Ok((agreement_id, start, line))
    };
    (row.source_line, read())
}

pub async fn import(
    pool: &PgPool,
    outbox: &OutboxBell,
    principal: &Principal,
    today: NaiveDate,
    request: &proto::ImportActualsRequest,
) -> Result<proto::ImportActualsResponse, PaymentsError> {
    if request.rows.is_empty() || request.rows.len() > MAX_ROWS {
        return Err(PaymentsError::InvalidInput(format!(
            "rows: {} rows; send 1 to {MAX_ROWS} a request (a larger file in several)",
            request.rows.len()
        )));
    }
    let mut rejections = Vec::new();
    // Rows of one agreement and period make one report, in the order first seen.
    let mut reports: BTreeMap<(Uuid, NaiveDate), Vec<(u64, ReportedLine)>> = BTreeMap::new();
    let mut order = Vec::new();
    let mut broken: BTreeMap<(Uuid, NaiveDate), u64> = BTreeMap::new();
    for row in &request.rows {
        match read_row(row) {
            (line, Ok((agreement_id, start, reported))) => {
                let key = (agreement_id, start);
                if !reports.contains_key(&key) {
                    order.push(key);
                }
                reports.entry(key).or_default().push((line, reported));
            }
            (line, Err(reason)) => {
                // A row whose key can be read still spoils its report.
                if let (Ok(agreement_id), Ok(start)) = (
                    agreement("agreement_id", &row.agreement_id),
                    period_start("period_start", &row.period_start),
                ) {
                    broken.entry((agreement_id, start)).or_insert(line);
                }
                rejections.push(proto::ActualsRejection { line, reason });
            }
        }
    }
    let mut recorded = Vec::new();
    for key in order {
        let rows = reports.remove(&key).unwrap_or_default();
        if let Some(bad) = broken.get(&key) {
            for (line, _) in &rows {
                rejections.push(proto::ActualsRejection {
                    line: *line,
                    reason: format!("not recorded: line {bad} of the same report was rejected"),
                });
            }
            continue;
        }
        let report = Report {
            agreement_id: key.0,
            period_start: key.1,
            lines: rows.iter().map(|(_, line)| line.clone()).collect(),
        };
        match actuals::record(pool, outbox, principal, today, &report).await {
            Ok(done) => recorded.push(done),
            Err(PaymentsError::InvalidInput(message)) => {
                rejections.extend(rejections_for(&rows, &message));
            }
            Err(error @ PaymentsError::ScheduleNotFound(_)) => {
                rejections.extend(rows.iter().map(|(line, _)| proto::ActualsRejection {
                    line: *line,
                    reason: format!("agreement_id: {error}"),
                }));
            }
            Err(other) => return Err(other),
        }
    }
    rejections.sort_by_key(|rejection| rejection.line);
    Ok(proto::ImportActualsResponse {
        recorded,
        rejections,
    })
}

/// A report's refusal as rejections of its rows: one naming `lines[i]` goes to that row
/// (under the CSV's own column name), any other to every row of the report.
fn rejections_for(rows: &[(u64, ReportedLine)], message: &str) -> Vec<proto::ActualsRejection> {
    let named_row = message.strip_prefix("lines[").and_then(|rest| {
        let (index, after) = rest.split_once("].")?;
        let index: usize = index.parse().ok()?;
        rows.get(index).map(|(line, _)| (*line, after.to_owned()))
    });
    match named_row {
        Some((line, reason)) => {
            let mut rejections = vec![proto::ActualsRejection { line, reason }];
            rejections.extend(
                rows.iter()
                    .filter(|(other, _)| *other != line)
                    .map(|(other, _)| proto::ActualsRejection {
                        line: *other,
                        reason: format!(
                            "not recorded: line {line} of the same report was rejected"
                        ),
                    }),
            );
            rejections
        }
        None => rows
            .iter()
            .map(|(line, _)| proto::ActualsRejection {
                line: *line,
                reason: message.to_owned(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_digits_with_at_most_two_decimals_and_nothing_else() {
        for fine in ["0", "38", "38.5", "7.25", "99999.99"] {
            assert!(plain_hours(fine).is_some(), "{fine}");
        }
        for refused in [
            "", "1e2", "1.5E+1", "+5", "-0", "-1", "1_0", " 5", "5 ", "5.", ".5", "1.001",
            "100000", "0x10", "NaN", "\u{661}",
        ] {
            assert!(plain_hours(refused).is_none(), "{refused:?}");
        }
    }
}
