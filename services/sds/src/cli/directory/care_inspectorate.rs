//! Reading the Care Inspectorate datastore CSV as the Care Inspectorate publishes it:
//! Windows-1252 text, UK day/month/year dates, blank grades for key questions that do not
//! apply to a service, columns in any order (extra ones, such as the rolling yearly
//! complaint columns, ignored).
//!
//! A service registered in combination with another (`Combined_Service_` "Yes", the
//! partner's number in `CaseNumber_Combined`) may carry grades without a
//! `Last_inspection_Date` of its own. Those grades are sent undated, with the service's
//! `Publication_of_Latest_Grading` and the partner's `Last_inspection_Date` from the same
//! file, for the directory to date (a file is sent in several batches, so only the reader
//! sees the partner's row for sure). Grades without a date are still refused for any
//! other service.
//!
//! Parsing is pure: it turns the file's bytes into rows ready to send and rejections with
//! their line numbers. A file that is not that CSV at all is refused before anything is sent.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::NaiveDate;
use sds_proto::v1::{
    CareInspectorateService, Date, Grade, ImportCareInspectorateServicesRequest, KeyQuestion,
};
use serde_json::json;

use crate::cli::ClientArgs;

/// The columns without which a file is not the datastore CSV.
const REQUIRED_COLUMNS: [&str; 4] = [
    "CSNumber",
    "ServiceName",
    "ServiceType",
    "Council_Area_Name",
];

/// Key-question columns and the question each grades.
const KEY_QUESTION_COLUMNS: [(&str, KeyQuestion); 6] = [
    ("KQ_Support_Wellbeing", KeyQuestion::SupportWellbeing),
    (
        "KQ_Care_and_Support_Planning",
        KeyQuestion::CareAndSupportPlanning,
    ),
    ("KQ_Setting", KeyQuestion::Setting),
    ("KQ_Staff_Team", KeyQuestion::StaffTeam),
    ("KQ_Leadership", KeyQuestion::Leadership),
    (
        "KQ_Care_Play_and_Learning",
        KeyQuestion::CarePlayAndLearning,
    ),
];

/// A row the importer will not send, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
}

/// The outcome of reading a file: rows to send and rows refused.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub services: Vec<CareInspectorateService>,
    pub rejected: Vec<Rejection>,
}

/// Why a whole file is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("the file is empty; expected the Care Inspectorate datastore CSV with a header row")]
    Empty,
    #[error(
        "not a Care Inspectorate datastore CSV: the header lacks {missing}; expected columns such as CSNumber, ServiceName, ServiceType, Council_Area_Name, KQ_Support_Wellbeing, Last_inspection_Date"
    )]
    MissingColumns { missing: String },
    #[error("not a Care Inspectorate datastore CSV: the header row cannot be read ({0})")]
    UnreadableHeader(String),
}

/// Turns the bytes of a datastore file into rows and rejections.
pub fn parse(bytes: &[u8]) -> Result<ParsedFile, FileError> {
    let text = decode(bytes);
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|error| FileError::UnreadableHeader(error.to_string()))?
        .clone();
    let columns = Columns::from_header(&header)?;

    let mut parsed = ParsedFile::default();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let mut inspected_on_of: HashMap<String, NaiveDate> = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let fallback_line = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(2);
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error
                    .position()
                    .map_or(fallback_line, |position| position.line() + 1);
                parsed.rejected.push(Rejection {
                    line,
                    reason: format!("the row cannot be read as CSV: {error}"),
                });
                continue;
            }
        };
        // csv numbers the first record after the header 1; people count the file's lines, header included.
        let line = record
            .position()
            .map_or(fallback_line, |position| position.line() + 1);
        if record.iter().all(str::is_empty) {
            continue;
        }
        match columns.service_from(&record, line) {
            Ok((service, inspected_on)) => {
                if let Some(first) = first_line_of.get(&service.service_number) {
                    parsed.rejected.push(Rejection {
                        line,
                        reason: format!(
                            "CSNumber {} appears again (first at line {first})",
                            service.service_number
                        ),
                    });
                    continue;
                }
                first_line_of.insert(service.service_number.clone(), line);
                if let Some(inspected_on) = inspected_on {
                    inspected_on_of.insert(service.service_number.clone(), inspected_on);
                }
                parsed.services.push(service);
            }
            Err(reason) => parsed.rejected.push(Rejection { line, reason }),
        }
    }
    for service in &mut parsed.services {
        if has_undated_grades(service)
            && let Some(partner_inspected_on) =
                inspected_on_of.get(&service.combined_service_number)
        {
            service.partner_inspected_on = Some(date_message(*partner_inspected_on));
        }
    }
    Ok(parsed)
}

fn has_undated_grades(service: &CareInspectorateService) -> bool {
    service
        .grades
        .iter()
        .any(|grade| grade.inspected_on.is_none())
}

fn date_message(date: NaiveDate) -> Date {
    Date {
        iso: date.format("%Y-%m-%d").to_string(),
    }
}

/// The datastore is published as Windows-1252; a file saved again as UTF-8 (with or
/// without a byte-order mark) is read as UTF-8.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// Where each column we read sits in this file's header.
struct Columns {
    positions: HashMap<String, usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, FileError> {
        let positions: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(position, name)| (name.trim().to_ascii_lowercase(), position))
            .collect();
        let missing: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|name| !positions.contains_key(&name.to_ascii_lowercase()))
            .collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns {
                missing: missing.join(", "),
            });
        }
        Ok(Self { positions })
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> &'r str {
        self.positions
            .get(&column.to_ascii_lowercase())
            .and_then(|position| record.get(*position))
            .unwrap_or("")
    }

    /// The service on one row, and its `Last_inspection_Date`.
    fn service_from(
        &self,
        record: &csv::StringRecord,
        line: u64,
    ) -> Result<(CareInspectorateService, Option<NaiveDate>), String> {
        let service_number = self.get(record, "CSNumber").to_ascii_uppercase();
        if service_number.is_empty() {
            return Err("CSNumber is missing".into());
        }
        if !is_service_number(&service_number) {
            return Err(format!(
                "CSNumber {service_number:?} is not a service number; expected CS followed by 10 digits"
            ));
        }
        let service_name = self.get(record, "ServiceName");
        if service_name.is_empty() {
            return Err("ServiceName is missing".into());
        }

        let registered_places = match self.get(record, "Registered_Places") {
            "" => None,
            raw => match raw.parse::<i32>() {
                Ok(places) if places >= 0 => Some(places),
                _ => {
                    return Err(format!(
                        "Registered_Places {raw:?} is not a whole number of 0 or more"
                    ));
                }
            },
        };

        let combined_service_number = self.combined_partner(record)?;
        let inspected_on = match self.get(record, "Last_inspection_Date") {
            "" => None,
            raw => Some(parse_uk_date(raw).ok_or_else(|| {
                format!("Last_inspection_Date {raw:?} is not a date; expected day/month/year such as 14/03/2024")
            })?),
        };

        let mut grades = Vec::new();
        for (column, key_question) in KEY_QUESTION_COLUMNS {
            let raw = self.get(record, column);
            if raw.is_empty() {
                continue; // the key question does not apply to this kind of service
            }
            let grade = match raw.parse::<u32>() {
                Ok(grade @ 1..=6) => grade,
                _ => return Err(format!("{column} grade {raw:?} is outside 1-6")),
            };
            let inspected_on = match inspected_on {
                Some(inspected_on) => Some(date_message(inspected_on)),
                // Graded together with its partner: the directory dates these grades.
                None if !combined_service_number.is_empty() => None,
                None => {
                    return Err(format!(
                        "{column} has a grade but Last_inspection_Date is blank"
                    ));
                }
            };
            grades.push(Grade {
                key_question: key_question as i32,
                grade,
                inspected_on,
            });
        }
        // Read only when it may date grades, so a stray value elsewhere rejects nothing.
        let grades_published_on = if !grades.is_empty() && inspected_on.is_none() {
            match self.get(record, "Publication_of_Latest_Grading") {
                "" => None,
                raw => Some(date_message(parse_uk_date(raw).ok_or_else(|| {
                    format!("Publication_of_Latest_Grading {raw:?} is not a date; expected day/month/year such as 14/03/2024")
                })?)),
            }
        } else {
            None
        };

        let service = CareInspectorateService {
            service_number,
            service_name: service_name.to_owned(),
            service_type: self.get(record, "ServiceType").to_owned(),
            subtype: self.get(record, "Subtype").to_owned(),
            service_provider: self.get(record, "ServiceProvider").to_owned(),
            council_area: self.get(record, "Council_Area_Name").to_owned(),
            client_group: self.get(record, "Client_group").to_owned(),
            registered_places,
            service_status: self.get(record, "ServiceStatus").to_owned(),
            grades,
            source_line: line,
            combined_service_number,
            grades_published_on,
            partner_inspected_on: None,
        };
        Ok((service, inspected_on))
    }

    /// The partner's service number when `Combined_Service_` says "Yes" (any case), empty
    /// when it says "No" or is blank. A partner number on a row that is not combined is
    /// refused rather than guessed about: one of the two columns is wrong.
    fn combined_partner(&self, record: &csv::StringRecord) -> Result<String, String> {
        let combined = self.get(record, "Combined_Service_");
        let partner = self.get(record, "CaseNumber_Combined").to_ascii_uppercase();
        match combined.to_ascii_lowercase().as_str() {
            "yes" if partner.is_empty() => Err(
                "Combined_Service_ is Yes but CaseNumber_Combined is blank; give the number of the service it is combined with".into(),
            ),
            "yes" if !is_service_number(&partner) => Err(format!(
                "CaseNumber_Combined {partner:?} is not a service number; expected CS followed by 10 digits"
            )),
            "yes" => Ok(partner),
            "no" | "" if partner.is_empty() => Ok(String::new()),
            "no" | "" => Err(format!(
                "CaseNumber_Combined is {partner} but Combined_Service_ is {combined:?}; a partner is given only when Combined_Service_ is Yes"
            )),
            _ => Err(format!(
                "Combined_Service_ {combined:?} is not Yes, No or blank"
            )),
        }
    }
}

fn is_service_number(raw: &str) -> bool {
    raw.len() == 12 && raw.starts_with("CS") && raw[2..].chars().all(|c| c.is_ascii_digit())
}

/// Day/month/year, as the datastore writes dates; a time part, when present, is ignored.
fn parse_uk_date(raw: &str) -> Option<NaiveDate> {
    let date_part = raw.split_whitespace().next()?;
    let date = NaiveDate::parse_from_str(date_part, "%d/%m/%Y").ok()?;
    // Reject two-digit years, which chrono would read as the first century.
    (1900..=2200)
        .contains(&chrono::Datelike::year(&date))
        .then_some(date)
}

/// Rows per import call: large enough for set-based writes, small enough to report progress.
const IMPORT_BATCH: usize = 500;

/// `sds directory import-care-inspectorate FILE`: reads the whole file first (a file that
/// is not the datastore CSV is refused before anything is sent), sends it in batches with
/// a progress bar, and prints the summary line last.
pub(super) async fn import(args: &ClientArgs, file: &std::path::Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = parse(&bytes).map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    let mut rejected: Vec<(u64, String)> = parsed
        .rejected
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.clone()))
        .collect();
    for (line, reason) in &rejected {
        eprintln!("line {line}: rejected: {reason}");
    }

    let mut client = super::client(args).await?;
    let progress = indicatif::ProgressBar::new(parsed.services.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {pos}/{len} services ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let (mut imported, mut updated, mut unchanged) = (0u64, 0u64, 0u64);
    let mut notes: Vec<(u64, String)> = Vec::new();
    for batch in parsed.services.chunks(IMPORT_BATCH) {
        let response = client
            .import_care_inspectorate_services(ImportCareInspectorateServicesRequest { services: batch.to_vec() })
            .await
            .map_err(|status| {
                progress.abandon();
                anyhow::anyhow!(
                    "{:?}: {} (after {} imported and {} updated; the import is idempotent, so run it again once fixed)",
                    status.code(),
                    status.message(),
                    imported,
                    updated
                )
            })?
            .into_inner();
        imported += response.imported;
        updated += response.updated;
        unchanged += response.unchanged;
        for rejection in response.rejected {
            progress
                .suspend(|| eprintln!("line {}: rejected: {}", rejection.line, rejection.reason));
            rejected.push((rejection.line, rejection.reason));
        }
        for note in response.notes {
            progress.suspend(|| eprintln!("line {}: note: {}", note.line, note.text));
            notes.push((note.line, note.text));
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    rejected.sort();
    notes.sort();
    eprintln!(
        "{imported} new services registered; {} already known ({updated} changed, {unchanged} unchanged); {} rows rejected; {} notes",
        updated + unchanged,
        rejected.len(),
        notes.len()
    );
    // "updated" counts every row that matched a known service number, changed or not, so
    // that imported + updated + rejected accounts for every row of the file.
    let summary = json!({
        "imported": imported,
        "updated": updated + unchanged,
        "rejected": rejected.iter().map(|(line, reason)| json!({"line": line, "reason": reason})).collect::<Vec<_>>(),
        "notes": notes.iter().map(|(line, text)| json!({"line": line, "text": text})).collect::<Vec<_>>(),
    });
    println!("{summary}");
    Ok(())
}

#[cfg(test)]
mod tests;
