//! Combined services: a service registered in combination with another records its
//! partner's number, and one graded without an inspection date of its own has its grades
//! dated by its publication date, else its partner's inspection, with a note saying which.

use sds_proto::v1::{self as proto, KeyQuestion};

use crate::import::{id_of, import, service};
use crate::support::*;

const PARTNER: &str = "CS2003001234";
/// The real datastore's example: graded 3-4 with a blank Last_inspection_Date.
const COMBINED: &str = "CS2024000435";

fn combined_with(
    mut row: proto::CareInspectorateService,
    partner: &str,
) -> proto::CareInspectorateService {
    row.combined_service_number = partner.to_owned();
    row
}

/// The combined service's row with grades 3 and 4 and no inspection date.
fn undated_combined_row(line: u64) -> proto::CareInspectorateService {
    let undated = |key_question: KeyQuestion, value: u32| proto::Grade {
        key_question: key_question as i32,
        grade: value,
        inspected_on: None,
    };
    let mut row = combined_with(service(line, COMBINED, "Glasgow Nurse Agency"), PARTNER);
    row.grades = vec![
        undated(KeyQuestion::SupportWellbeing, 4),
        undated(KeyQuestion::Leadership, 3),
    ];
    row
}

fn dates_of(provider: &proto::Provider) -> Vec<String> {
    provider
        .grades
        .iter()
        .map(|grade| grade.inspected_on.as_ref().expect("dated").iso.clone())
        .collect()
}

#[tokio::test]
async fn combined_rows_record_their_partner_which_get_and_the_event_show() {
    let app = TestApp::spawn().await;
    let rows = vec![
        combined_with(service(2, PARTNER, "Glasgow Care Home"), COMBINED),
        combined_with(service(3, COMBINED, "Glasgow Nurse Agency"), PARTNER),
        service(4, "CS2004071234", "Bay Care"),
    ];

    let response = import(&app, rows.clone()).await;

    assert_eq!((response.imported, response.rejected.len()), (3, 0));
    assert!(response.notes.is_empty(), "dated rows need no note");
    let home = app.get(&id_of(&app, PARTNER).await).await;
    assert_eq!(home.combined_service_number, COMBINED);
    let alone = app.get(&id_of(&app, "CS2004071234").await).await;
    assert_eq!(alone.combined_service_number, "");
    let registered = app
        .outbox_events()
        .await
        .into_iter()
        .find(|event| event.event.aggregate_id == home.id)
        .expect("the registration event");
    assert_eq!(registered.provider().combined_service_number, COMBINED);

    let again = import(&app, rows).await;
    assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 3));

    let parted = import(&app, vec![service(2, PARTNER, "Glasgow Care Home")]).await;
    assert_eq!(parted.updated, 1, "losing the partner is a change");
    let home = app.get(&home.id).await;
    assert_eq!(
        (home.combined_service_number.as_str(), home.version),
        ("", 2)
    );
}

#[tokio::test]
async fn a_combined_service_graded_without_an_inspection_date_takes_its_publication_date_with_a_note()
 {
    let app = TestApp::spawn().await;
    let mut row = undated_combined_row(7);
    row.grades_published_on = date("2025-01-20");
    row.partner_inspected_on = date("2024-11-05");

    let response = import(&app, vec![row]).await;

    assert_eq!(
        (response.imported, response.rejected.len()),
        (1, 0),
        "{response:?}"
    );
    let provider = app.get(&id_of(&app, COMBINED).await).await;
    assert_eq!(dates_of(&provider), vec!["2025-01-20", "2025-01-20"]);
    assert_eq!(provider.min_grade, 3);
    assert_eq!(provider.combined_service_number, PARTNER);
    assert_eq!(response.notes.len(), 1);
    assert_eq!(response.notes[0].line, 7);
    assert_eq!(
        response.notes[0].text,
        "grades dated 2025-01-20, the publication date of its latest grading: the service is combined with CS2003001234 and has no Last_inspection_Date of its own"
    );
}

#[tokio::test]
async fn a_combined_service_without_either_date_takes_its_partners_inspection_in_the_file_with_a_note()
 {
    let app = TestApp::spawn().await;
    let mut row = undated_combined_row(5);
    row.partner_inspected_on = date("2024-11-05");

    let response = import(&app, vec![row]).await;

    assert_eq!(response.imported, 1, "{response:?}");
    let provider = app.get(&id_of(&app, COMBINED).await).await;
    assert_eq!(dates_of(&provider), vec!["2024-11-05", "2024-11-05"]);
    assert_eq!(response.notes[0].line, 5);
    assert!(
        response.notes[0]
            .text
            .starts_with("grades dated 2024-11-05, its partner's last inspection in the same file"),
        "{}",
        response.notes[0].text
    );
}

#[tokio::test]
async fn a_combined_service_without_a_date_in_its_row_takes_its_partners_latest_grade_in_the_directory()
 {
    let app = TestApp::spawn().await;
    let mut partner = service(2, PARTNER, "Glasgow Care Home");
    partner.grades = vec![
        grade(KeyQuestion::Setting, 5, "2023-05-02"),
        grade(KeyQuestion::StaffTeam, 4, "2023-05-02"),
    ];
    import(&app, vec![partner.clone()]).await;
    partner.grades = vec![grade(KeyQuestion::Setting, 5, "2024-09-30")];
    import(&app, vec![partner]).await;

    let response = import(&app, vec![undated_combined_row(3)]).await;

    assert_eq!(response.imported, 1, "{response:?}");
    let provider = app.get(&id_of(&app, COMBINED).await).await;
    assert_eq!(dates_of(&provider), vec!["2024-09-30", "2024-09-30"]);
    assert!(
        response.notes[0].text.starts_with(
            "grades dated 2024-09-30, the date of its partner's latest grade in the directory"
        ),
        "{}",
        response.notes[0].text
    );
}

#[tokio::test]
async fn undated_grades_are_rejected_when_nothing_dates_them_or_the_service_is_not_combined() {
    let app = TestApp::spawn().await;
    let mut not_combined = undated_combined_row(3);
    not_combined.service_number = "CS2004071234".into();
    not_combined.combined_service_number = String::new();
    let mut combined_with_itself = service(4, "CS2004071235", "Itself");
    combined_with_itself.combined_service_number = "CS2004071235".into();

    let response = import(
        &app,
        vec![undated_combined_row(2), not_combined, combined_with_itself],
    )
    .await;

    assert_eq!(response.imported, 0);
    assert!(response.notes.is_empty());
    let rejected: Vec<(u64, &str)> = response
        .rejected
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.as_str()))
        .collect();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert_eq!(rejected[0].0, 2);
    assert!(
        rejected[0].1.starts_with(
            "grades[0].inspected_on is missing and nothing dates the grades of this combined service"
        ) && rejected[0].1.contains("its partner CS2003001234"),
        "{}",
        rejected[0].1
    );
    assert_eq!(
        rejected[1],
        (
            3,
            "grades[0].inspected_on is missing; expected a date as YYYY-MM-DD"
        )
    );
    assert!(
        rejected[2]
            .1
            .starts_with("combined_service_number is CS2004071235, the service's own number"),
        "{}",
        rejected[2].1
    );
    assert_eq!(app.row_counts().await.providers, 0);
}
