//! `sds payments actuals FILE`: a provider's office reports delivery from a CSV with the
//! columns `agreement_id,period_start,plan_line,amount` (in any order and case), one row per
//! plan line and period; a file may have an `hours` column too (or instead of `amount`),
//! giving the hours delivered on a line agreed as hours a week. Rows of one agreement and period make one report, sent together;
//! the server judges every cell. Rejections go to stderr as `line N: rejected: reason`; the
//! last line on stdout is JSON:
//! `{"reports": N, "rows": N, "rejected_rows": N, "variance_persistent": N}`.

use std::collections::HashMap;
use std::path::Path;

use sds_proto::v1 as proto;

use super::super::ClientArgs;
use super::super::csv_file::{CsvFile, Shape, physical_line, swallowed_rows};
use super::Client;

const COLUMNS: [&str; 4] = ["agreement_id", "period_start", "plan_line", "amount"];
/// The columns every file has; `amount` or `hours` (or both) completes them.
const KEY_COLUMNS: [&str; 3] = ["agreement_id", "period_start", "plan_line"];
/// The server's cap on rows a request.
const MAX_ROWS: usize = 5_000;

/// The file's rows grouped by report, in the order each report first appears.
fn read(path: &Path) -> anyhow::Result<Vec<Vec<proto::ActualsRow>>> {
    let bytes = std::fs::read(path)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    let mut file = CsvFile::open(&bytes, &KEY_COLUMNS).map_err(|shape| {
        anyhow::anyhow!(
            "InvalidArgument: {} is not a CSV of delivery: {}; expected a header row with {}",
            path.display(),
            match shape {
                Shape::Empty => "it is empty".to_owned(),
                Shape::NotUtf8 => "it is not UTF-8 text".to_owned(),
                Shape::UnreadableHeader(error) => format!("its header cannot be read ({error})"),
                Shape::DuplicateColumn(name) => format!("column {name} appears twice"),
                Shape::MissingColumns(names) => format!("it has no column {names}"),
            },
            COLUMNS.join(",")
        )
    })?;
    let mut reports: Vec<Vec<proto::ActualsRow>> = Vec::new();
    let mut index_of: HashMap<(String, String), usize> = HashMap::new();
    if !file.columns.has("amount") && !file.columns.has("hours") {
        anyhow::bail!(
            "InvalidArgument: {} is not a CSV of delivery: it has no column amount (or hours); expected a header row with {}",
            path.display(),
            COLUMNS.join(",")
        );
    }
    let text = file.text;
    for record in file.reader.records() {
        let record = record.map_err(|error| {
            anyhow::anyhow!(
                "InvalidArgument: {} cannot be read: {error}",
                path.display()
            )
        })?;
        let line = record
            .position()
            .map(|position| physical_line(text, position))
            .unwrap_or_default();
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.iter().any(swallowed_rows) {
            anyhow::bail!(
                "InvalidArgument: line {line}: a quoted cell runs over several lines; a quote is probably not closed"
            );
        }
        let row = proto::ActualsRow {
            source_line: u64::from(line),
            agreement_id: file.columns.cell(&record, "agreement_id"),
            period_start: file.columns.cell(&record, "period_start"),
            plan_line: file.columns.cell(&record, "plan_line"),
            amount: file.columns.cell(&record, "amount"),
            hours: file.columns.cell(&record, "hours"),
        };
        // Rows of one report stay together however their cells are written (case, spaces),
        // so a report is never split across requests into two partial reports.
        let key = (
            row.agreement_id.trim().to_ascii_lowercase(),
            row.period_start.trim().to_owned(),
        );
        let index = *index_of.entry(key).or_insert_with(|| {
            reports.push(Vec::new());
            reports.len() - 1
        });
        reports[index].push(row);
    }
    Ok(reports)
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
