//! RecordPerson and GetPerson: the minimum kept about a person, keyed on the case
//! reference within an authority, with every change and read in the audit trail.

use sds_proto::v1::{self as proto, ClientGroup};
use sds_testkit::bearer;

use crate::support::*;

#[tokio::test]
async fn a_person_is_recorded_once_per_case_reference_and_changes_make_versions() {
    let app = TestApp::spawn().await;

    let first = app.record_person("fife", person("SW-1001")).await;
    let again = app.record_person("fife", person("SW-1001")).await;
    let moved = app
        .record_person(
            "fife",
            proto::PersonDetails {
                locality: "Kirkcaldy".into(),
                ..person("SW-1001")
            },
        )
        .await;

    assert_eq!(first.version, 1);
    assert_eq!(again, first, "the same details again change nothing");
    assert_eq!(moved.id, first.id);
    assert_eq!(moved.version, 2);
    assert_eq!(moved.details.as_ref().unwrap().locality, "Kirkcaldy");
    assert_eq!(app.row_counts().await.people, 1);
    let actions: Vec<String> = app
        .audit_of(&first.id)
        .await
        .into_iter()
        .map(|(_, action)| action)
        .collect();
    assert_eq!(
        actions,
        ["person.created", "person.confirmed", "person.updated"]
    );
}

#[tokio::test]
async fn the_same_case_reference_in_two_authorities_is_two_people() {
    let app = TestApp::spawn().await;
    let fife = app.record_person("fife", person("SW-1001")).await;
    let angus = app.record_person("angus", person("SW-1001")).await;
    assert_ne!(fife.id, angus.id);
    assert_eq!(app.row_counts().await.people, 2);
}

#[tokio::test]
async fn getting_a_person_shows_what_was_recorded_and_leaves_a_trace() {
    let app = TestApp::spawn().await;
    let recorded = app
        .record_person(
            "fife",
            proto::PersonDetails {
                client_groups: vec![
                    ClientGroup::Carer as i32,
                    ClientGroup::Autism as i32,
                    ClientGroup::Carer as i32,
                ],
                ..person("SW-2002")
            },
        )
        .await;

    let read = app
        .client()
        .get_person(bearer(
            &staff("fife", &[sds_platform::Role::Finance]),
            proto::GetPersonRequest {
                id: recorded.id.clone(),
            },
        ))
        .await
        .expect("any staff of the authority read it")
        .into_inner();

    assert_eq!(read, recorded);
    assert_eq!(
        read.details.unwrap().client_groups,
        vec![ClientGroup::Carer as i32, ClientGroup::Autism as i32],
        "each group once, in a stable order"
    );
    let trail = app.audit_of(&recorded.id).await;
    assert_eq!(
        trail.last().unwrap(),
        &("fife".to_owned(), "person.read".to_owned())
    );
}
