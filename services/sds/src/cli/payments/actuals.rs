//! `sds payments actuals FILE`: a provider's office reports delivery from a CSV with the
//! columns `agreement_id,period_start,plan_line,amount` (in any order and case), one row per
//! plan line and period; a file may have an `hours` column too (or instead of `amount`),
//! giving the hours delivered on a line agreed as hours a week. Rows of one agreement and period make one report, sent together;
//! the server judges every cell. Rejections go to stderr as `line N: rejected: reason`; the
//! last line on stdout is JSON:
//! `{"reports": N, "rows": N, "rejected_rows": N, "variance_persistent": N}`.

use std::path::Path;

use sds_proto::v1 as proto;
use sds_vocabulary::delivery_csv::{self, COLUMNS, NotDelivery};

use super::super::ClientArgs;
use super::Client;

/// The server's cap on rows a request.
const MAX_ROWS: usize = 5_000;

/// The file's rows grouped by report, in the order each report first appears (read as the
/// portal's upload reads them: `sds_vocabulary::delivery_csv`).
fn read(path: &Path) -> anyhow::Result<Vec<Vec<proto::ActualsRow>>> {
    let bytes = std::fs::read(path)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    let reports = delivery_csv::read(&bytes).map_err(|refused| match refused {
        NotDelivery::Shape(reason) => anyhow::anyhow!(
            "InvalidArgument: {} is not a CSV of delivery: {reason}; expected a header row with {}",
            path.display(),
            COLUMNS.join(",")
        ),
        NotDelivery::Row { line, reason } => {
            anyhow::anyhow!("InvalidArgument: line {line}: {reason}")
        }
    })?;
    Ok(reports
        .into_iter()
        .map(|report| {
            report
                .into_iter()
                .map(|row| proto::ActualsRow {
                    source_line: u64::from(row.source_line),
                    agreement_id: row.agreement_id,
                    period_start: row.period_start,
                    plan_line: row.plan_line,
                    amount: row.amount,
                    hours: row.hours,
                })
                .collect()
        })
        .collect())
}

/// Reports packed into requests of at most [`MAX_ROWS`] rows, a report never split (one
/// larger than a request is refused before anything is sent).
fn batches(reports: Vec<Vec<proto::ActualsRow>>) -> anyhow::Result<Vec<Vec<proto::ActualsRow>>> {
    if let Some(report) = reports.iter().find(|report| report.len() > MAX_ROWS) {
        anyhow::bail!(
            "InvalidArgument: line {}: the report of agreement {} for {} has {} rows; a report has at most {MAX_ROWS} (one row per plan line)",
            report[0].source_line,
            report[0].agreement_id,
            report[0].period_start,
            report.len()
        );
    }
    let mut batches: Vec<Vec<proto::ActualsRow>> = Vec::new();
    for report in reports {
        match batches.last_mut() {
            Some(batch) if batch.len() + report.len() <= MAX_ROWS => batch.extend(report),
            _ => batches.push(report),
        }
    }
    Ok(batches)
}

/// Reads the whole file first, so a file that is not this CSV is refused before anything
/// is sent.
pub async fn import(args: &ClientArgs, path: &Path) -> anyhow::Result<()> {
    let reports = read(path)?;
    let mut client: Client = super::client(args).await?;
    let rows: usize = reports.iter().map(Vec::len).sum();
    let (mut recorded, mut rejected, mut persistent) = (0usize, 0usize, 0usize);
    for batch in batches(reports)? {
        let response = client
            .import_actuals(proto::ImportActualsRequest { rows: batch })
            .await
            .map_err(|status| {
                anyhow::anyhow!(
                    "{:?}: {} (after {recorded} reports recorded; the same reports again the same day record nothing, so run it again once fixed)",
                    status.code(),
                    status.message()
                )
            })?
            .into_inner();
        recorded += response.recorded.len();
        persistent += response
            .recorded
            .iter()
            .filter(|report| report.variance_persistent)
            .count();
        for rejection in &response.rejections {
            eprintln!("line {}: rejected: {}", rejection.line, rejection.reason);
        }
        rejected += response.rejections.len();
    }
    println!(
        "{}",
        serde_json::json!({
            "reports": recorded,
            "rows": rows,
            "rejected_rows": rejected,
            "variance_persistent": persistent,
        })
    );
    Ok(())
}
