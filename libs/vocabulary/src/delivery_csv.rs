//! The CSV of delivery a provider's office reports actuals with, read the same way by
//! `sds payments actuals FILE` and by the portal's upload: the columns
//! `agreement_id,period_start,plan_line,amount` in any order and case, one row per plan
//! line and period, and an `hours` column too (or instead of `amount`) for lines agreed as
//! hours a week. Only the file's shape is judged here; every cell is the server's to judge
//! (ImportActuals), so both ways in refuse a row for the same reason.

use std::collections::HashMap;

use crate::csv_file::{CsvFile, Shape, physical_line, swallowed_rows};

/// The columns a file of delivery has, as its refusals name them.
pub const COLUMNS: [&str; 4] = ["agreement_id", "period_start", "plan_line", "amount"];
/// The columns every file has; `amount` or `hours` (or both) completes them.
const KEY_COLUMNS: [&str; 3] = ["agreement_id", "period_start", "plan_line"];

/// One row as written, with its line in the file (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub source_line: u32,
    pub agreement_id: String,
    pub period_start: String,
    pub plan_line: String,
    pub amount: String,
    pub hours: String,
}

/// Why a file is not a CSV of delivery, in words that finish "... is not a CSV of
/// delivery: " or stand alone after the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDelivery {
    /// The header is wrong or missing: the reason, to follow "is not a CSV of delivery: ".
    #[error("{0}")]
    Shape(String),
    /// A row cannot be read at all.
    #[error("line {line}: {reason}")]
    Row { line: u32, reason: String },
}

/// The file's rows grouped by report (agreement and period), each report in the order it
/// first appears. Rows of one report stay together however their cells are written (case,
/// spaces), so a report is never split into two partial reports.
pub fn read(bytes: &[u8]) -> Result<Vec<Vec<DeliveryRow>>, NotDelivery> {
    let mut file = CsvFile::open(bytes, &KEY_COLUMNS).map_err(|shape| {
        NotDelivery::Shape(match shape {
            Shape::Empty => "it is empty".to_owned(),
            Shape::NotUtf8 => "it is not UTF-8 text".to_owned(),
            Shape::UnreadableHeader(error) => format!("its header cannot be read ({error})"),
            Shape::DuplicateColumn(name) => format!("column {name} appears twice"),
            Shape::MissingColumns(names) => format!("it has no column {names}"),
        })
    })?;
    if !file.columns.has("amount") && !file.columns.has("hours") {
        return Err(NotDelivery::Shape(
            "it has no column amount (or hours)".to_owned(),
        ));
    }
    let mut reports: Vec<Vec<DeliveryRow>> = Vec::new();
    let mut index_of: HashMap<(String, String), usize> = HashMap::new();
    let text = file.text;
    for record in file.reader.records() {
        let record = record.map_err(|error| NotDelivery::Row {
            line: error
                .position()
                .map(|position| physical_line(text, position))
                .unwrap_or_default(),
            reason: format!("it cannot be read ({error})"),
        })?;
        let line = record
            .position()
            .map(|position| physical_line(text, position))
            .unwrap_or_default();
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.iter().any(swallowed_rows) {
            return Err(NotDelivery::Row {
                line,
                reason: "a quoted cell runs over several lines; a quote is probably not closed"
                    .to_owned(),
            });
        }
        let row = DeliveryRow {
            source_line: line,
            agreement_id: file.columns.cell(&record, "agreement_id"),
            period_start: file.columns.cell(&record, "period_start"),
            plan_line: file.columns.cell(&record, "plan_line"),
            amount: file.columns.cell(&record, "amount"),
            hours: file.columns.cell(&record, "hours"),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_one_agreement_and_period_make_one_report_whatever_their_case() {
        let file = "\u{feff}Plan_Line,AGREEMENT_ID,period_start,amount\n\
                    1,0190A0B0-0000-7000-8000-000000000001,2026-10-01,100.00\n\
                    \n\
                    1,0190a0b0-0000-7000-8000-000000000002,2026-10-01,5.00\n\
                    2, 0190a0b0-0000-7000-8000-000000000001 ,2026-10-01,x\n";
        let reports = read(file.as_bytes()).expect("a CSV of delivery");
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0].len(), 2);
        assert_eq!(reports[0][0].source_line, 2);
        assert_eq!(reports[0][1].source_line, 5, "the blank line counts");
        assert_eq!(reports[0][1].amount, "x", "cells are the server's to judge");
        assert_eq!(reports[1][0].source_line, 4);
        assert_eq!(reports[1][0].hours, "");
    }

    #[test]
    fn a_file_without_the_key_columns_or_an_amount_is_refused_by_name() {
        assert_eq!(
            read(b"agreement_id,amount\n").unwrap_err().to_string(),
            "it has no column period_start, plan_line"
        );
        assert_eq!(
            read(b"agreement_id,period_start,plan_line\n")
                .unwrap_err()
                .to_string(),
            "it has no column amount (or hours)"
        );
        assert_eq!(read(b" \n").unwrap_err().to_string(), "it is empty");
        assert_eq!(
            read(b"agreement_id,period_start,plan_line,amount\n1,\"2026-10-01,\n2,x,y,z\n")
                .unwrap_err()
                .to_string(),
            "line 2: a quoted cell runs over several lines; a quote is probably not closed"
        );
    }
}
