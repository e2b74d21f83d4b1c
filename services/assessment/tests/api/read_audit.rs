//! The read audit trail of people's records and plans (`GetPerson`, `GetPlan`): one entry
//! per read, one per refusal of someone who exists and none for anyone else, at most one
//! refusal a minute per caller, RPC and person; `LookupPeople`'s one entry per person
//! returned (or refused); and a table that keeps every row. Listing it is
//! `read_audit_listing`.

use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_testkit::{ReadAuditRow, bearer, provider_org, read_audit_rows, token_for};
use tonic::{Code, Status};

use crate::support::*;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    Person,
    Plan,
}

impl Read {
    pub(crate) fn what(self) -> &'static str {
        match self {
            Read::Person => "assessment.GetPerson",
            Read::Plan => "assessment.GetPlan",
        }
    }
}

/// Calls `read` for the person `id` as the holder of `token`.
pub(crate) async fn call(app: &TestApp, read: Read, token: &str, id: &str) -> Result<(), Status> {
    let mut client = app.client();
    match read {
        Read::Person => client
            .get_person(bearer(token, proto::GetPersonRequest { id: id.into() }))
            .await
            .map(|_| ()),
        Read::Plan => client
            .get_plan(bearer(
                token,
                proto::GetPlanRequest {
                    person_id: id.into(),
                    version: 0,
                },
            ))
            .await
            .map(|_| ()),
    }
}

pub(crate) async fn list(
    app: &TestApp,
    token: &str,
    request: proto::ListReadAuditRequest,
) -> Result<proto::ListReadAuditResponse, Status> {
    app.client()
        .list_read_audit(bearer(token, request))
        .await
        .map(tonic::Response::into_inner)
}

pub(crate) fn asking(authority: &str) -> proto::ListReadAuditRequest {
    proto::ListReadAuditRequest {
        authority: authority.into(),
        ..Default::default()
    }
}

pub(crate) fn person_of(id: &str) -> Principal {
    Principal {
        org_id: id.into(),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![],
        person_id: Some(id.into()),
    }
}

#[tokio::test]
async fn each_read_of_a_persons_record_or_plan_leaves_one_entry_per_call() {
    let app = TestApp::spawn().await;
    let someone = app.person_with_plan("fife").await;
    let cases = [
        (Read::Person, Role::Finance),
        (Read::Plan, Role::Practitioner),
    ];
    for (read, role) in cases {
        let before = read_audit_rows(&app.pool).await;
        let token = staff("fife", &[role]);
        let expected = ReadAuditRow::read(
            "fife",
            ("fife", "authority"),
            ("person", &someone),
            read.what(),
            &someone,
        );
        call(&app, read, &token, &someone).await.expect("read");
        let after = read_audit_rows(&app.pool).await;
        assert_eq!(
            &after[before.len()..],
            std::slice::from_ref(&expected),
            "{read:?}"
        );
        call(&app, read, &token, &someone)
            .await
            .expect("read again");
        let again = read_audit_rows(&app.pool).await;
        assert_eq!(
            again[before.len()..],
            [expected.clone(), expected],
            "{read:?} twice"
        );
    }
}

#[tokio::test]
async fn a_refused_read_of_someone_who_exists_leaves_one_refused_entry_under_their_authority() {
    let app = TestApp::spawn().await;
    let someone = app.person_with_plan("fife").await;
    let provider_id = uuid::Uuid::now_v7().to_string();
    let stranger = uuid::Uuid::now_v7().to_string();
    let cases = [
        (
            token_for(&provider_org(&provider_id)),
            (provider_id.as_str(), "provider"),
            Code::PermissionDenied,
            "PERMISSION_DENIED",
        ),
        (
            practitioner("angus"),
            ("angus", "authority"),
            Code::NotFound,
            "NOT_FOUND",
        ),
        (
            token_for(&person_of(&stranger)),
            (stranger.as_str(), "person"),
            Code::PermissionDenied,
            "PERMISSION_DENIED",
        ),
    ];
    for (token, actor, code, refusal) in cases {
        for read in [Read::Plan, Read::Person] {
            let before = read_audit_rows(&app.pool).await;
            assert_code(call(&app, read, &token, &someone).await, code);
            let expected =
                ReadAuditRow::read("fife", actor, ("person", &someone), read.what(), &someone)
                    .refused(refusal);
            assert_eq!(
                read_audit_rows(&app.pool).await[before.len()..],
                [expected],
                "{actor:?} {read:?}"
            );
        }
    }

    // Nobody to hide, nothing to record: an unknown person, a bad id, a version not there.
    let written = read_audit_rows(&app.pool).await;
    let unknown = "0192f0c1-0000-7000-8000-00000000dead";
    for read in [Read::Plan, Read::Person] {
        assert_code(
            call(&app, read, &practitioner("fife"), unknown).await,
            Code::NotFound,
        );
        let provider = token_for(&provider_org(&provider_id));
        assert_code(
            call(&app, read, &provider, unknown).await,
            Code::PermissionDenied,
        );
        let field = match read {
            Read::Person => "id",
            Read::Plan => "person_id",
        };
        assert_invalid(call(&app, read, &practitioner("fife"), "SW-1").await, field);
    }
    let missing_version = app
        .client()
        .get_plan(bearer(
            &practitioner("fife"),
            proto::GetPlanRequest {
                person_id: someone.clone(),
                version: 9,
            },
        ))
        .await;
    assert_code(missing_version, Code::NotFound);
    assert_eq!(read_audit_rows(&app.pool).await, written);
}

#[tokio::test]
async fn a_read_whose_entry_cannot_be_written_fails_without_giving_the_plan() {
    let app = TestApp::spawn().await;
    let someone = app.person_with_plan("fife").await;
    sqlx::query(
        "CREATE FUNCTION refuse_entries() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION 'no entries today'; END; $$",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER no_entries BEFORE INSERT ON read_audit \
         FOR EACH ROW EXECUTE FUNCTION refuse_entries()",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let trail = app.audit_of(&someone).await;
    for read in [Read::Plan, Read::Person] {
        assert_code(
            call(&app, read, &practitioner("fife"), &someone).await,
            Code::Internal,
        );
    }
    assert_eq!(
        app.audit_of(&someone).await,
        trail,
        "the read's transaction, person_audit's row included, is rolled back"
    );
}

#[tokio::test]
async fn the_trail_keeps_every_row() {
    let app = TestApp::spawn().await;
    let someone = app.person_with_plan("fife").await;
    call(&app, Read::Person, &practitioner("fife"), &someone)
        .await
        .unwrap();
    sds_testkit::assert_read_audit_is_append_only(&app.pool).await;
}

async fn look_up(
    app: &TestApp,
    token: &str,
    authority: &str,
    ids: &[&str],
) -> Result<Vec<String>, Status> {
    app.client()
        .lookup_people(bearer(
            token,
            proto::LookupPeopleRequest {
                authority: authority.into(),
                person_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
                on_behalf_of: String::new(),
            },
        ))
        .await
        .map(|answer| {
            answer
                .into_inner()
                .people
                .into_iter()
                .map(|person| person.person_id)
                .collect()
        })
}

#[tokio::test]
async fn a_lookup_leaves_one_entry_per_person_returned_and_a_refused_one_per_person_recorded() {
    let app = TestApp::spawn().await;
    let first = app.person_with_plan("fife").await;
    let second = app.person_with_plan("fife").await;
    let elsewhere = app.person_with_plan("angus").await;
    let unknown = "0192f0c1-0000-7000-8000-00000000dead";
    let lookup = |actor: (&str, &str), id: &str| {
        ReadAuditRow::read("fife", actor, ("person", id), "assessment.LookupPeople", id)
    };

    let before = read_audit_rows(&app.pool).await.len();
    let found = look_up(
        &app,
        &staff("fife", &[Role::Finance]),
        "fife",
        &[&second, unknown, &first, &elsewhere],
    )
    .await
    .expect("looked up");
    assert_eq!(found, [second.clone(), first.clone()]);
    let fife = ("fife", "authority");
    assert_eq!(
        read_audit_rows(&app.pool).await[before..],
        [lookup(fife, &second), lookup(fife, &first)],
        "one entry per person returned, in the order asked; none for the unknown or another authority's"
    );

    // Refused: one entry per person asked for who is recorded under the authority asked.
    let provider_id = uuid::Uuid::now_v7().to_string();
    let cases = [
        (practitioner("angus"), ("angus", "authority")),
        (
            token_for(&provider_org(&provider_id)),
            (provider_id.as_str(), "provider"),
        ),
    ];
    for (token, actor) in cases {
        let before = read_audit_rows(&app.pool).await.len();
        assert_code(
            look_up(&app, &token, "fife", &[&first, unknown, &elsewhere]).await,
            Code::PermissionDenied,
        );
        assert_eq!(
            read_audit_rows(&app.pool).await[before..],
            [lookup(actor, &first).refused("PERMISSION_DENIED")],
            "{actor:?}"
        );
    }

    // Bad arguments write nothing; a caller who is no staff is refused before they are read.
    let written = read_audit_rows(&app.pool).await;
    assert_invalid(
        look_up(&app, &practitioner("fife"), "fife", &["SW-1"]).await,
        "person_ids[0]",
    );
    assert_invalid(
        look_up(&app, &practitioner("fife"), "fife", &[]).await,
        "person_ids",
    );
    assert_code(
        look_up(
            &app,
            &token_for(&provider_org(&provider_id)),
            "fife",
            &["SW-1"],
        )
        .await,
        Code::PermissionDenied,
    );
    assert_eq!(read_audit_rows(&app.pool).await, written);
}

#[tokio::test]
async fn a_refused_caller_that_loops_leaves_one_refused_entry_a_minute() {
    let app = TestApp::spawn().await;
    let someone = app.person_with_plan("fife").await;
    let other = app.person_with_plan("fife").await;
    let angus = practitioner("angus");
    let refused = |read: Read, id: &str| {
        ReadAuditRow::read(
            "fife",
            ("angus", "authority"),
            ("person", id),
            read.what(),
            id,
        )
        .refused("NOT_FOUND")
    };
    let before = read_audit_rows(&app.pool).await.len();
    for _ in 0..20 {
        assert_code(
            call(&app, Read::Person, &angus, &someone).await,
            Code::NotFound,
        );
    }
    // Another RPC, another person: counted apart.
    assert_code(
        call(&app, Read::Plan, &angus, &someone).await,
        Code::NotFound,
    );
    assert_code(
        call(&app, Read::Person, &angus, &other).await,
        Code::NotFound,
    );
    assert_code(
        call(&app, Read::Person, &angus, &other).await,
        Code::NotFound,
    );
    // A refusal coalesced within a minute is still answered as before.
    app.clock.advance(chrono::Duration::seconds(59));
    assert_code(
        call(&app, Read::Person, &angus, &someone).await,
        Code::NotFound,
    );
    assert_eq!(
        read_audit_rows(&app.pool).await[before..],
        [
            refused(Read::Person, &someone),
            refused(Read::Plan, &someone),
            refused(Read::Person, &other),
        ],
        "the first refusal of the minute only"
    );
    // The next minute of the service's clock records the first refusal again.
    app.clock.advance(chrono::Duration::seconds(1));
    for _ in 0..3 {
        assert_code(
            call(&app, Read::Person, &angus, &someone).await,
            Code::NotFound,
        );
    }
    assert_eq!(
        read_audit_rows(&app.pool).await[before..],
        [
            refused(Read::Person, &someone),
            refused(Read::Plan, &someone),
            refused(Read::Person, &other),
            refused(Read::Person, &someone),
        ]
    );
    // Reads are never coalesced.
    let before = read_audit_rows(&app.pool).await.len();
    for _ in 0..3 {
        call(&app, Read::Person, &practitioner("fife"), &someone)
            .await
            .unwrap();
    }
    assert_eq!(read_audit_rows(&app.pool).await.len(), before + 3);
}
