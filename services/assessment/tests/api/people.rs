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

async fn lookup(
    app: &TestApp,
    token: &str,
    authority: &str,
    ids: Vec<String>,
) -> Result<proto::LookupPeopleResponse, tonic::Status> {
    app.client()
        .lookup_people(bearer(
            token,
            proto::LookupPeopleRequest {
                authority: authority.to_owned(),
                person_ids: ids,
                on_behalf_of: String::new(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn looking_people_up_gives_their_case_references_in_order_and_audits_each_read() {
    let app = TestApp::spawn().await;
    let first = app.record_person("fife", person("SW-3001")).await;
    let second = app.record_person("fife", person("SW-3002")).await;
    let elsewhere = app.record_person("angus", person("SW-3003")).await;
    let unknown = "0192f0c1-0000-7000-8000-00000000dead".to_owned();

    let found = lookup(
        &app,
        &staff("fife", &[sds_platform::Role::Finance]),
        "fife",
        vec![
            second.id.clone(),
            unknown,
            elsewhere.id.clone(),
            first.id.clone(),
        ],
    )
    .await
    .expect("finance staff look people up");
    let references: Vec<(String, String)> = found
        .people
        .iter()
        .map(|person| (person.person_id.clone(), person.case_reference.clone()))
        .collect();
    assert_eq!(
        references,
        vec![
            (second.id.clone(), "SW-3002".to_owned()),
            (first.id.clone(), "SW-3001".to_owned()),
        ],
        "in the order asked; unknown people and other authorities' left out"
    );
    assert_eq!(
        found.people[0].display_name,
        second.details.as_ref().unwrap().display_name
    );
    assert_eq!(
        app.audit_of(&first.id).await.last().unwrap(),
        &("fife".to_owned(), "person.looked_up".to_owned())
    );
    assert_eq!(
        app.audit_of(&elsewhere.id).await.last().unwrap().1,
        "person.created",
        "a person not given out is not audited as read"
    );
}

#[tokio::test]
async fn looking_people_up_refuses_other_callers_and_bad_ids() {
    let app = TestApp::spawn().await;
    let recorded = app.record_person("fife", person("SW-3001")).await;
    assert_code(
        lookup(&app, &provider_token(), "fife", vec![recorded.id.clone()]).await,
        tonic::Code::PermissionDenied,
    );
    assert_code(
        lookup(
            &app,
            &staff("angus", &[sds_platform::Role::Finance]),
            "fife",
            vec![recorded.id.clone()],
        )
        .await,
        tonic::Code::PermissionDenied,
    );
    let finance = staff("fife", &[sds_platform::Role::Finance]);
    assert_invalid(lookup(&app, &finance, "fife", vec![]).await, "person_ids");
    assert_invalid(
        lookup(
            &app,
            &finance,
            "fife",
            vec![recorded.id.clone(), "SW-3001".to_owned()],
        )
        .await,
        "person_ids[1]",
    );
    assert_invalid(
        lookup(&app, &finance, "fife", vec![recorded.id.clone(); 5001]).await,
        "person_ids",
    );
    assert_invalid(
        lookup(&app, &finance, "Fife!", vec![recorded.id.clone()]).await,
        "authority",
    );
    assert_eq!(
        app.audit_of(&recorded.id).await.len(),
        1,
        "nothing was read"
    );
}
