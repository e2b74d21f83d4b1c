//! Reading the Care Inspectorate datastore CSV as the Care Inspectorate publishes it:
//! Windows-1252 text, UK day/month/year dates, blank grades for key questions that do not
//! apply to a service, columns in any order (extra ones, such as the rolling yearly
//! complaint columns, ignored).
//!
//! Parsing is pure: it turns the file's bytes into rows ready to send and rejections with
//! their line numbers. A file that is not that CSV at all is refused before anything is sent.

use std::collections::HashMap;

use chrono::NaiveDate;
use sds_proto::v1::{CareInspectorateService, Date, Grade, KeyQuestion};

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
            Ok(service) => {
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
                parsed.services.push(service);
            }
            Err(reason) => parsed.rejected.push(Rejection { line, reason }),
        }
    }
    Ok(parsed)
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

    fn service_from(
        &self,
        record: &csv::StringRecord,
        line: u64,
    ) -> Result<CareInspectorateService, String> {
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
            let Some(inspected_on) = inspected_on else {
                return Err(format!(
                    "{column} has a grade but Last_inspection_Date is blank"
                ));
            };
            grades.push(Grade {
                key_question: key_question as i32,
                grade,
                inspected_on: Some(Date {
                    iso: inspected_on.format("%Y-%m-%d").to_string(),
                }),
            });
        }

        Ok(CareInspectorateService {
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
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "CSNumber,ServiceType,Subtype,ServiceName,ServiceProvider,Council_Area_Name,Client_group,Registered_Places,ServiceStatus,Last_inspection_Date,KQ_Support_Wellbeing,KQ_Care_and_Support_Planning,KQ_Setting,KQ_Staff_Team,KQ_Leadership,KQ_Care_Play_and_Learning,MinGrade,MaxGrade,Complaints_upheld_2324";

    fn file(rows: &[&str]) -> Vec<u8> {
        let mut text = String::from(HEADER);
        for row in rows {
            text.push_str("\r\n");
            text.push_str(row);
        }
        text.push_str("\r\n");
        encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
    }

    #[test]
    fn a_windows_1252_row_with_blank_key_questions_becomes_a_service_with_its_grades() {
        let bytes = file(&[
            "CS2004071234,Support Service,Care at Home,\"Café Connect, Banchory\",Deeside Ltd,Aberdeenshire,Older people,,Active,14/03/2024,5,4,,5,4,,4,5,0",
        ]);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the fixture must really be Windows-1252"
        );
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.rejected, vec![]);
        let service = &parsed.services[0];
        assert_eq!(service.service_number, "CS2004071234");
        assert_eq!(service.service_name, "Café Connect, Banchory");
        assert_eq!(service.registered_places, None);
        assert_eq!(service.source_line, 2);
        let grades: Vec<(i32, u32, &str)> = service
            .grades
            .iter()
            .map(|grade| {
                (
                    grade.key_question,
                    grade.grade,
                    grade.inspected_on.as_ref().unwrap().iso.as_str(),
                )
            })
            .collect();
        assert_eq!(
            grades,
            vec![
                (KeyQuestion::SupportWellbeing as i32, 5, "2024-03-14"),
                (KeyQuestion::CareAndSupportPlanning as i32, 4, "2024-03-14"),
                (KeyQuestion::StaffTeam as i32, 5, "2024-03-14"),
                (KeyQuestion::Leadership as i32, 4, "2024-03-14"),
            ]
        );
    }

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let text = "Town,Last_inspection_Date,KQ_Leadership,Council_Area_Name,ServiceType,ServiceName,CSNumber\nElgin,01/02/2025,6,Moray,Care Home Service,Elgin House,CS2010123456\n";
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.services.len(), 1);
        assert_eq!(parsed.services[0].council_area, "Moray");
        assert_eq!(parsed.services[0].grades[0].grade, 6);
    }

    #[test]
    fn bad_rows_are_rejected_with_their_line_and_reason_and_the_rest_kept() {
        let bytes = file(&[
            ",Support Service,,No Number,X,Moray,,,Active,01/01/2024,5,,,,,,5,5,0",
            "CS2004071235,Support Service,,Seven,X,Moray,,,Active,01/01/2024,7,,,,,,7,7,0",
            "CS2004071236,Support Service,,Bad Date,X,Moray,,,Active,31/02/2024,5,,,,,,5,5,0",
            "CS2004071237,Care Home Service,,Good,X,Moray,,40,Active,01/01/2024,5,5,5,5,5,,5,5,0",
            "CS2004071238,Care Home Service,,Minus,X,Moray,,-4,Active,01/01/2024,5,5,5,5,5,,5,5,0",
            "CS2004071237,Care Home Service,,Twice,X,Moray,,40,Active,01/01/2024,5,5,5,5,5,,5,5,0",
        ]);
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.services.len(), 1);
        assert_eq!(parsed.services[0].registered_places, Some(40));
        let lines: Vec<u64> = parsed
            .rejected
            .iter()
            .map(|rejection| rejection.line)
            .collect();
        assert_eq!(lines, vec![2, 3, 4, 6, 7]);
        assert_eq!(parsed.rejected[0].reason, "CSNumber is missing");
        assert_eq!(
            parsed.rejected[1].reason,
            "KQ_Support_Wellbeing grade \"7\" is outside 1-6"
        );
        assert!(
            parsed.rejected[2]
                .reason
                .contains("Last_inspection_Date \"31/02/2024\" is not a date")
        );
        assert!(
            parsed.rejected[3]
                .reason
                .contains("Registered_Places \"-4\"")
        );
        assert_eq!(
            parsed.rejected[4].reason,
            "CSNumber CS2004071237 appears again (first at line 5)"
        );
    }

    #[test]
    fn a_file_that_is_not_the_datastore_csv_is_refused_whole() {
        assert_eq!(parse(b"").unwrap_err(), FileError::Empty);
        let error = parse(b"name,email\nAnn,ann@example.org\n").unwrap_err();
        assert!(
            matches!(error, FileError::MissingColumns { ref missing } if missing == "CSNumber, ServiceName, ServiceType, Council_Area_Name")
        );
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00";
        assert!(matches!(
            parse(png).unwrap_err(),
            FileError::MissingColumns { .. }
        ));
    }

    #[test]
    fn a_utf8_file_with_a_byte_order_mark_is_read_as_utf8() {
        let text = "\u{feff}CSNumber,ServiceName,ServiceType,Council_Area_Name\nCS2004071234,Café Ltd,Support Service,Highland\n";
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.services[0].service_name, "Café Ltd");
    }

    #[test]
    fn the_sample_file_shipped_for_deploy_local_parses_cleanly() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/local/sample/care-inspectorate-sample.csv"
        ))
        .unwrap();
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.rejected, vec![]);
        assert!(parsed.services.len() >= 10);
    }
}
