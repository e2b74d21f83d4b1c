//! ImportCareInspectorateServices: a batch of datastore rows. Each row is converted and
//! judged on its own (a bad row is rejected with its line and reason; the rest import);
//! the undated grades of combined services are dated from what the row and the directory
//! know (`domain::combined`), with a note saying how; then the kept rows are written in
//! one transaction with one event per provider registered or changed. Field names in
//! rejections are the row's own, since a rejection already names its line.

use sds_platform::Principal;
use sds_proto::v1 as proto;
use tracing::info;

use crate::domain::care_service::status_from_datastore;
use crate::domain::combined::{self, ImportNote, UndatedGrades};
use crate::domain::import::{
    self as import_rules, CareInspectorateService, ImportRow, MAX_ROWS_PER_BATCH, Rejection,
};
use crate::domain::{CareInspectorateNumber, ChangeName, GradeValue, Invalid, KeyQuestion, grade};
use crate::error::DirectoryError;
use crate::{events, store};
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;
use sds_vocabulary::text::{MAX_TEXT_CHARS, optional_text, required_text};

use super::DirectoryApi;
use super::convert::{date_field, grade_list, optional_care_inspectorate_number};

impl DirectoryApi {
    /// A batch too large is refused whole; within a batch, each invalid row is rejected
    /// with its line and reason and the valid rows still import.
    pub(super) async fn import_batch(
        &self,
        principal: &Principal,
        services: Vec<proto::CareInspectorateService>,
    ) -> Result<proto::ImportCareInspectorateServicesResponse, DirectoryError> {
        if services.len() > MAX_ROWS_PER_BATCH {
            let problem = format!(
                "has {} rows; send at most {MAX_ROWS_PER_BATCH} per request",
                services.len()
            );
            return Err(Invalid::new("services", problem).into());
        }
        let today = self.today();
        let mut rejections = Vec::new();
        let mut rows = Vec::with_capacity(services.len());
        for raw in services {
            let line = raw.source_line;
            let row = ImportRow::try_from(raw).and_then(|row| {
                grade::ensure_inspected_by("grades", &row.service.grades, today).map(|()| row)
            });
            match row {
                Ok(row) => rows.push(row),
                Err(invalid) => rejections.push(Rejection {
                    line,
                    reason: invalid.to_string(),
                }),
            }
        }
        let rows = import_rules::first_row_of_each_service(rows, &mut rejections);
        let mut notes = Vec::new();
        if rows.is_empty() {
            return Ok(response(ImportCounts::default(), rejections, notes));
        }

        let mut transaction = self.pool.begin().await?;
        // Read in the import's transaction, so a partner's grades are read as they stand
        // when this batch's own grades are written.
        let partner_grade_dates =
            store::latest_grade_dates(&mut transaction, &combined::partners_to_look_up(&rows))
                .await?;
        let services = combined::date_undated_grades(
            rows,
            &partner_grade_dates,
            today,
            &mut rejections,
            &mut notes,
        );
        let outcome =
            store::import_services(&mut transaction, &services, &principal.org_id).await?;
        let registered = store::load_providers(&mut transaction, &outcome.registered).await?;
        let updated = store::load_providers(&mut transaction, &outcome.updated).await?;
        let mut new_events = Vec::with_capacity(registered.len() + updated.len());
        new_events.extend(
            registered
                .iter()
                .map(|record| events::registered(record, today)),
        );
        new_events.extend(
            updated
                .iter()
                .map(|record| events::updated(record, ChangeName::Import, today)),
        );
        events::publish_all(&mut transaction, new_events).await?;
        transaction.commit().await?;

        info!(
            registered = registered.len(),
            updated = updated.len(),
            unchanged = outcome.unchanged,
            rejected = rejections.len(),
            noted = notes.len(),
            by = %principal.org_id,
            "care inspectorate services imported"
        );
        let counts = ImportCounts {
            imported: count(registered.len()),
            updated: count(updated.len()),
            unchanged: outcome.unchanged,
        };
        Ok(response(counts, rejections, notes))
    }
}

#[derive(Debug, Default)]
struct ImportCounts {
    imported: u64,
    updated: u64,
    unchanged: u64,
}

/// The response, with rejections and notes in line order.
fn response(
    counts: ImportCounts,
    mut rejections: Vec<Rejection>,
    mut notes: Vec<ImportNote>,
) -> proto::ImportCareInspectorateServicesResponse {
    rejections.sort_by_key(|rejection| rejection.line);
    notes.sort_by_key(|note| note.line);
    proto::ImportCareInspectorateServicesResponse {
        imported: counts.imported,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected: rejections
            .into_iter()
            .map(|rejection| proto::ImportRejection {
                line: rejection.line,
                reason: rejection.reason,
            })
            .collect(),
        notes: notes
            .into_iter()
            .map(|note| proto::ImportNote {
                line: note.line,
                text: note.text,
            })
            .collect(),
    }
}

fn count(items: usize) -> u64 {
    u64::try_from(items).unwrap_or(u64::MAX)
}

/// One row of the datastore.
impl TryFrom<proto::CareInspectorateService> for ImportRow {
    type Error = Invalid;

    fn try_from(raw: proto::CareInspectorateService) -> Result<Self, Invalid> {
        if raw.service_number.trim().is_empty() {
            return Err(Invalid::new(
                "service_number",
                "is empty; every row needs its service number, such as CS2004071234",
            ));
        }
        let number = CareInspectorateNumber::parse("service_number", &raw.service_number)?;
        let name = required_text("service_name", &raw.service_name, MAX_TEXT_CHARS)?;
        let service_type = required_text("service_type", &raw.service_type, MAX_TEXT_CHARS)?;
        let subtype = optional_text("subtype", &raw.subtype, MAX_TEXT_CHARS)?;
        let council_area = optional_text("council_area", &raw.council_area, MAX_TEXT_CHARS)?;
        // Not stored, but still refused when they could not be real.
        optional_text("service_provider", &raw.service_provider, MAX_TEXT_CHARS)?;
        optional_text("client_group", &raw.client_group, MAX_TEXT_CHARS)?;
        let status = status_from_datastore("service_status", &raw.service_status)?;
        let capacity = raw
            .registered_places
            .map(|places| {
                u32::try_from(places).map_err(|_| {
                    Invalid::new(
                        "registered_places",
                        format!("is {places}; it must be 0 or more"),
                    )
                })
            })
            .transpose()?;
        let combined_with = optional_care_inspectorate_number(
            "combined_service_number",
            &raw.combined_service_number,
        )?;
        if combined_with.as_ref() == Some(&number) {
            return Err(Invalid::new(
                "combined_service_number",
                format!(
                    "is {number}, the service's own number; give the number of the service it is combined with, or leave it empty"
                ),
            ));
        }
        let published_on = optional_date("grades_published_on", raw.grades_published_on.as_ref())?;
        let partner_inspected_on =
            optional_date("partner_inspected_on", raw.partner_inspected_on.as_ref())?;
        let (grades, undated_grades) = if combined_with.is_some() && any_undated(&raw.grades) {
            let grades = undated_grade_list("grades", &raw.grades)?;
            let undated = UndatedGrades {
                grades,
                published_on,
                partner_inspected_on,
            };
            (Vec::new(), Some(undated))
        } else {
            // Undated grades of a service that is not combined are refused here, naming
            // the grade whose date is missing.
            (grade_list("grades", raw.grades)?, None)
        };
        let mut service_types = vec![service_type];
        if let Some(subtype) = subtype
            && !subtype.eq_ignore_ascii_case(&service_types[0])
        {
            service_types.push(subtype);
        }
        Ok(ImportRow {
            service: CareInspectorateService {
                line: raw.source_line,
                number,
                name,
                service_types,
                localities: council_area.into_iter().collect(),
                capacity,
                status,
                combined_with,
                grades,
            },
            undated_grades,
        })
    }
}

fn is_undated(grade: &proto::Grade) -> bool {
    grade
        .inspected_on
        .as_ref()
        .is_none_or(|date| date.iso.trim().is_empty())
}

fn any_undated(grades: &[proto::Grade]) -> bool {
    grades.iter().any(is_undated)
}

/// A date that may be left unset (or empty).
fn optional_date(
    field: &str,
    raw: Option<&proto::Date>,
) -> Result<Option<chrono::NaiveDate>, Invalid> {
    match raw {
        Some(date) if !date.iso.trim().is_empty() => date_field(field, Some(date)).map(Some),
        _ => Ok(None),
    }
}

/// The grades of a combined service sent without a date: all of them undated (one date
/// then serves the whole inspection, as a row's Last_inspection_Date does), each valid,
/// each key question once.
fn undated_grade_list(
    field: &str,
    raw: &[proto::Grade],
) -> Result<Vec<(KeyQuestion, GradeValue)>, Invalid> {
    if let (Some(dated), Some(undated)) = (
        raw.iter().position(|grade| !is_undated(grade)),
        raw.iter().position(is_undated),
    ) {
        return Err(Invalid::new(
            format!("{field}[{undated}].inspected_on"),
            format!(
                "is missing while {field}[{dated}] has a date; date every grade, or none to have the directory date a combined service's grades"
            ),
        ));
    }
    let mut grades: Vec<(KeyQuestion, GradeValue)> = Vec::with_capacity(raw.len());
    for (index, grade) in raw.iter().enumerate() {
        let key_question = KeyQuestion::from_wire(
            &format!("{field}[{index}].key_question"),
            grade.key_question,
        )?;
        let value = GradeValue::new(&format!("{field}[{index}].grade"), grade.grade)?;
        if let Some(earlier) = grades.iter().position(|(other, _)| *other == key_question) {
            return Err(Invalid::new(
                format!("{field}[{index}].key_question"),
                format!(
                    "repeats {} from {field}[{earlier}]; give each key question once",
                    key_question.name()
                ),
            ));
        }
        grades.push((key_question, value));
    }
    Ok(grades)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> proto::CareInspectorateService {
        proto::CareInspectorateService {
            service_number: "CS2004071234".into(),
            service_name: "Bay Care at Home".into(),
            service_type: "Support Service".into(),
            subtype: "Care at Home".into(),
            council_area: "Fife".into(),
            registered_places: Some(20),
            source_line: 7,
            ..proto::CareInspectorateService::default()
        }
    }

    fn undated(key_question: KeyQuestion, grade: u32) -> proto::Grade {
        proto::Grade {
            key_question: key_question.wire_number(),
            grade,
            inspected_on: None,
        }
    }

    #[test]
    fn an_import_row_takes_its_type_subtype_and_council_area() {
        let row = ImportRow::try_from(row()).unwrap().service;
        assert_eq!(row.service_types, vec!["Support Service", "Care at Home"]);
        assert_eq!(row.localities, vec!["Fife"]);
        assert_eq!(row.capacity, Some(20));
        assert_eq!(row.line, 7);
        assert_eq!(row.combined_with, None);
    }

    #[test]
    fn only_a_combined_service_may_send_undated_grades_and_then_all_of_them() {
        let grades = vec![
            undated(KeyQuestion::SupportWellbeing, 4),
            undated(KeyQuestion::Leadership, 3),
        ];
        let not_combined = ImportRow::try_from(proto::CareInspectorateService {
            grades: grades.clone(),
            ..row()
        })
        .unwrap_err();
        assert_eq!(not_combined.field(), "grades[0].inspected_on");

        let combined = ImportRow::try_from(proto::CareInspectorateService {
            grades: grades.clone(),
            combined_service_number: "cs2003001234".into(),
            ..row()
        })
        .unwrap();
        assert_eq!(
            combined
                .service
                .combined_with
                .as_ref()
                .map(CareInspectorateNumber::as_str),
            Some("CS2003001234")
        );
        assert_eq!(
            combined.undated_grades.map(|undated| undated.grades.len()),
            Some(2)
        );

        let mut mixed = grades;
        mixed[1].inspected_on = Some(proto::Date {
            iso: "2025-02-11".into(),
        });
        let error = ImportRow::try_from(proto::CareInspectorateService {
            grades: mixed,
            combined_service_number: "CS2003001234".into(),
            ..row()
        })
        .unwrap_err();
        assert_eq!(error.field(), "grades[0].inspected_on");
    }

    #[test]
    fn a_service_cannot_be_combined_with_itself_or_a_malformed_number() {
        for (partner, problem_start) in [
            ("CS2004071234", "is CS2004071234, the service's own number"),
            (
                "SP2003001234",
                "\"SP2003001234\" is not a Care Inspectorate service number",
            ),
        ] {
            let error = ImportRow::try_from(proto::CareInspectorateService {
                combined_service_number: partner.into(),
                ..row()
            })
            .unwrap_err();
            assert_eq!(error.field(), "combined_service_number");
            assert!(error.problem().starts_with(problem_start), "{error}");
        }
    }
}
