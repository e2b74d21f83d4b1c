//! The import of the Care Inspectorate datastore: one row per registered care service,
//! keyed on its service number. A new number registers a provider of kind registered care
//! service; a known number updates only what the Care Inspectorate owns (name, service
//! types, localities, capacity, status and grades) and leaves what the provider maintains
//! (ISFs, fee policy, contacts, kind) alone. A service listed as inactive stays in the
//! directory, marked so; one listed as active again is marked active. Rows the directory
//! finds invalid are rejected one by one with their line and reason; the rest of the batch
//! still imports.

use std::collections::HashMap;

use super::care_service::CareServiceStatus;
use super::combined::UndatedGrades;
use super::grade::Grade;
use super::provider::CareInspectorateNumber;

/// Rows per request. A larger file is sent in several requests, each one transaction.
pub const MAX_ROWS_PER_BATCH: usize = 5000;

/// One valid row of the datastore, in the directory's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct CareInspectorateService {
    /// The line of the source file, echoed in rejections.
    pub line: u64,
    pub number: CareInspectorateNumber,
    pub name: String,
    /// The service type, and its subtype when there is one.
    pub service_types: Vec<String>,
    /// The council area, when given.
    pub localities: Vec<String>,
    /// Registered places.
    pub capacity: Option<u32>,
    /// Whether the service operates (`ServiceStatus`).
    pub status: CareServiceStatus,
    /// The service it is registered in combination with (`CaseNumber_Combined`).
    pub combined_with: Option<CareInspectorateNumber>,
    pub grades: Vec<Grade>,
}

/// A valid row as it arrived, before the undated grades of a combined service are dated
/// (see [`super::combined`]). `service.grades` holds the grades that came with a date.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub service: CareInspectorateService,
    /// Grades that came without a date; only a combined service may send them.
    pub undated_grades: Option<UndatedGrades>,
}

/// A row the directory refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
}

/// Keeps the first row of each service number and rejects the others: one batch must say
/// one thing about each service, and which repeat "wins" is not for the directory to guess.
pub fn first_row_of_each_service(
    rows: Vec<ImportRow>,
    rejections: &mut Vec<Rejection>,
) -> Vec<ImportRow> {
    let mut first_line_of: HashMap<CareInspectorateNumber, u64> =
        HashMap::with_capacity(rows.len());
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let service = &row.service;
        match first_line_of.get(&service.number) {
            Some(first_line) => rejections.push(Rejection {
                line: service.line,
                reason: format!(
                    "service_number {} also appears on line {first_line} of this batch; send each service once",
                    service.number
                ),
            }),
            None => {
                first_line_of.insert(service.number.clone(), service.line);
                kept.push(row);
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, number: &str) -> ImportRow {
        let service = CareInspectorateService {
            line,
            number: CareInspectorateNumber::parse("service_number", number).unwrap(),
            name: format!("Service on line {line}"),
            service_types: vec!["Housing Support Service".into()],
            localities: vec!["Fife".into()],
            capacity: None,
            status: CareServiceStatus::Active,
            combined_with: None,
            grades: vec![],
        };
        ImportRow {
            service,
            undated_grades: None,
        }
    }

    #[test]
    fn a_service_number_repeated_in_a_batch_keeps_its_first_row() {
        let mut rejections = Vec::new();
        let kept = first_row_of_each_service(
            vec![
                row(2, "CS2004071234"),
                row(3, "CS2004071235"),
                row(4, "CS2004071234"),
            ],
            &mut rejections,
        );
        assert_eq!(
            kept.iter().map(|row| row.service.line).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(rejections.len(), 1);
        assert_eq!(rejections[0].line, 4);
        assert!(rejections[0].reason.contains("line 2"));
    }
}
