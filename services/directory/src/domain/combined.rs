//! Combined services: the Care Inspectorate registers some services in combination with
//! another (a care home with its nurse agency, a housing support service with its care at
//! home service) and may inspect and grade them together. The datastore then gives some
//! of them grades but no `Last_inspection_Date` of their own. Such grades are still the
//! service's grades: they are dated, in this order of preference, by the publication date
//! of the service's latest grading, by the partner's last inspection in the same file, or
//! by the partner's latest grade already in the directory; and the import says which in a
//! note on the row. A service that is not combined gets no such benefit of the doubt: its
//! grades without a date are rejected, as every undated grade was before.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::grade::{Grade, GradeValue, KeyQuestion};
use super::import::{CareInspectorateService, ImportRow, Rejection};
use super::provider::CareInspectorateNumber;

/// The grades of a combined service that came without a date, and what may date them.
#[derive(Debug, Clone, PartialEq)]
pub struct UndatedGrades {
    /// Each key question once, as in any inspection.
    pub grades: Vec<(KeyQuestion, GradeValue)>,
    /// `Publication_of_Latest_Grading`.
    pub published_on: Option<NaiveDate>,
    /// The partner's `Last_inspection_Date` from its row in the same file.
    pub partner_inspected_on: Option<NaiveDate>,
}

/// Something the import decided about a row it kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportNote {
    pub line: u64,
    pub text: String,
}

/// The partners whose latest grade date the directory must give: those of combined
/// services whose row carries no date that could date their grades.
pub fn partners_to_look_up(rows: &[ImportRow]) -> Vec<CareInspectorateNumber> {
    let mut partners = Vec::new();
    for row in rows {
        let Some(undated) = &row.undated_grades else {
            continue;
        };
        if undated.published_on.is_none()
            && undated.partner_inspected_on.is_none()
            && let Some(partner) = &row.service.combined_with
        {
            partners.push(partner.clone());
        }
    }
    partners.sort();
    partners.dedup();
    partners
}

/// Dates the undated grades of each combined service (see the module's doc), noting the
/// date used and where it came from. A row that nothing dates, or whose date would be
/// after `today`, is rejected; rows without undated grades pass as they are.
/// `partner_grade_dates` holds the latest grade date in the directory of partners.
pub fn date_undated_grades(
    rows: Vec<ImportRow>,
    partner_grade_dates: &HashMap<CareInspectorateNumber, NaiveDate>,
    today: NaiveDate,
    rejections: &mut Vec<Rejection>,
    notes: &mut Vec<ImportNote>,
) -> Vec<CareInspectorateService> {
    let mut dated = Vec::with_capacity(rows.len());
    for row in rows {
        let ImportRow {
            mut service,
            undated_grades,
        } = row;
        let Some(undated) = undated_grades else {
            dated.push(service);
            continue;
        };
        match date_of(&service, &undated, partner_grade_dates, today) {
            Ok((inspected_on, source)) => {
                notes.push(ImportNote {
                    line: service.line,
                    text: format!(
                        "grades dated {inspected_on}, {source}: the service is combined with {} and has no Last_inspection_Date of its own",
                        service
                            .combined_with
                            .as_ref()
                            .map_or("another service", CareInspectorateNumber::as_str)
                    ),
                });
                service
                    .grades
                    .extend(undated.grades.iter().map(|&(key_question, grade)| Grade {
                        key_question,
                        grade,
                        inspected_on,
                    }));
                dated.push(service);
            }
            Err(reason) => rejections.push(Rejection {
                line: service.line,
                reason,
            }),
        }
    }
    dated
}

/// The date for the undated grades of `service` and the words that say where it came
/// from, or why there is none.
fn date_of(
    service: &CareInspectorateService,
    undated: &UndatedGrades,
    partner_grade_dates: &HashMap<CareInspectorateNumber, NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, &'static str), String> {
    let Some(partner) = &service.combined_with else {
        // Conversion lets only a combined service send undated grades; this keeps the rule
        // here too, so that no path dates the grades of a service that is not combined.
        return Err(
            "grades[0].inspected_on is missing; only a service combined with another (combined_service_number) may leave its grades undated".to_owned(),
        );
    };
    let from_the_row = [
        (
            undated.published_on,
            "grades_published_on",
            "the publication date of its latest grading",
        ),
        (
            undated.partner_inspected_on,
            "partner_inspected_on",
            "its partner's last inspection in the same file",
        ),
    ];
    for (date, field, source) in from_the_row {
        if let Some(date) = date {
            if date > today {
                return Err(format!(
                    "{field} {date} is after today ({today}); grades come from an inspection that has happened"
                ));
            }
            return Ok((date, source));
        }
    }
    match partner_grade_dates.get(partner) {
        Some(date) => Ok((
            *date,
            "the date of its partner's latest grade in the directory",
        )),
        None => Err(format!(
            "grades[0].inspected_on is missing and nothing dates the grades of this combined service: grades_published_on and partner_inspected_on are unset and the directory holds no grades of its partner {partner}; give Last_inspection_Date or Publication_of_Latest_Grading, or import the partner's inspection first"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CareServiceStatus;

    fn number(raw: &str) -> CareInspectorateNumber {
        CareInspectorateNumber::parse("n", raw).unwrap()
    }

    fn day(iso: &str) -> NaiveDate {
        NaiveDate::parse_from_str(iso, "%Y-%m-%d").unwrap()
    }

    fn combined_row(published_on: Option<&str>, partner_inspected_on: Option<&str>) -> ImportRow {
        let grade = |value| GradeValue::new("grade", value).unwrap();
        ImportRow {
            service: CareInspectorateService {
                line: 9,
                number: number("CS2024000435"),
                name: "Combined Nursing Agency".into(),
                service_types: vec!["Nurse Agency".into()],
                localities: vec!["Glasgow City".into()],
                capacity: None,
                status: CareServiceStatus::Active,
                combined_with: Some(number("CS2003001234")),
                grades: vec![],
            },
            undated_grades: Some(UndatedGrades {
                grades: vec![
                    (KeyQuestion::SupportWellbeing, grade(4)),
                    (KeyQuestion::Leadership, grade(3)),
                ],
                published_on: published_on.map(day),
                partner_inspected_on: partner_inspected_on.map(day),
            }),
        }
    }

    fn dated(
        row: ImportRow,
        partner_grade_dates: &HashMap<CareInspectorateNumber, NaiveDate>,
    ) -> (
        Vec<CareInspectorateService>,
        Vec<Rejection>,
        Vec<ImportNote>,
    ) {
        let (mut rejections, mut notes) = (Vec::new(), Vec::new());
        let services = date_undated_grades(
            vec![row],
            partner_grade_dates,
            day("2026-06-01"),
            &mut rejections,
            &mut notes,
        );
        (services, rejections, notes)
    }

    #[test]
    fn the_publication_date_wins_over_the_partners_dates() {
        let directory = HashMap::from([(number("CS2003001234"), day("2023-01-01"))]);
        let (services, rejections, notes) = dated(
            combined_row(Some("2025-01-20"), Some("2024-11-05")),
            &directory,
        );
        assert!(rejections.is_empty());
        let dates: Vec<NaiveDate> = services[0]
            .grades
            .iter()
            .map(|grade| grade.inspected_on)
            .collect();
        assert_eq!(dates, vec![day("2025-01-20"), day("2025-01-20")]);
        assert_eq!(
            notes,
            vec![ImportNote {
                line: 9,
                text: "grades dated 2025-01-20, the publication date of its latest grading: the service is combined with CS2003001234 and has no Last_inspection_Date of its own".into()
            }]
        );
    }

    #[test]
    fn without_a_publication_date_the_partners_row_then_the_directory_dates_the_grades() {
        let directory = HashMap::from([(number("CS2003001234"), day("2023-01-01"))]);
        let (services, _, notes) = dated(combined_row(None, Some("2024-11-05")), &directory);
        assert_eq!(services[0].grades[0].inspected_on, day("2024-11-05"));
        assert!(
            notes[0]
                .text
                .contains("its partner's last inspection in the same file")
        );

        let (services, _, notes) = dated(combined_row(None, None), &directory);
        assert_eq!(services[0].grades[0].inspected_on, day("2023-01-01"));
        assert!(
            notes[0]
                .text
                .contains("its partner's latest grade in the directory")
        );
        assert_eq!(
            partners_to_look_up(&[
                combined_row(None, None),
                combined_row(Some("2025-01-20"), None)
            ]),
            vec![number("CS2003001234")]
        );
    }

    #[test]
    fn nothing_to_date_the_grades_or_a_date_after_today_rejects_the_row() {
        let (services, rejections, notes) = dated(combined_row(None, None), &HashMap::new());
        assert!(services.is_empty() && notes.is_empty());
        assert!(
            rejections[0]
                .reason
                .starts_with("grades[0].inspected_on is missing and nothing dates the grades"),
            "{}",
            rejections[0].reason
        );
        let (_, rejections, _) = dated(combined_row(Some("2026-07-01"), None), &HashMap::new());
        assert!(
            rejections[0]
                .reason
                .starts_with("grades_published_on 2026-07-01 is after today"),
            "{}",
            rejections[0].reason
        );
    }
}
