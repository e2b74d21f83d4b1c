//! The read audit trail of agreements (`GetAgreement`, `GetAgreementSummary`) and
//! `ListReadAudit`: one entry per agreement or summary given to anyone who may see it, one
//! refused entry per caller told an existing agreement does not exist, none for unknown
//! agreements or bad ids; `ListAgreements`' one entry per agreement listed; listed only by
//! the authority's staff; a table that keeps every row.

use sds_proto::v1 as proto;
use sds_testkit::{ReadAuditRow, bearer, read_audit_rows};
use tonic::{Code, Status};

use crate::agreements::{by_hand, holder, person};
use crate::plan_events::*;
use crate::support::*;

#[derive(Debug, Clone, Copy)]
enum Read {
    Agreement,
    Summary,
}

impl Read {
    fn what(self) -> &'static str {
        match self {
            Read::Agreement => "contracts.GetAgreement",
            Read::Summary => "contracts.GetAgreementSummary",
        }
    }

    async fn call(self, app: &TestApp, token: &str, id: &str) -> Result<(), Status> {
        match self {
            Read::Agreement => app.get(token, id).await.map(|_| ()),
            Read::Summary => app.summary(token, id).await.map(|_| ()),
        }
    }
}

fn agreement_read(read: Read, actor: (&str, &str), id: &str) -> ReadAuditRow {
    ReadAuditRow::read("fife", actor, ("person", PERSON_ID), read.what(), id)
}

/// An agreement of fife's drafted by hand for [`PERSON_ID`]; returns its id.
async fn drafted(app: &TestApp) -> String {
    app.plan_held_undrafted().await;
    app.draft(&practitioner("fife"), by_hand())
        .await
        .expect("drafted")
        .id
}

#[tokio::test]
async fn each_agreement_or_summary_given_leaves_one_entry_per_call() {
    let app = TestApp::spawn().await;
    let id = drafted(&app).await;
    let cases = [
        (Read::Agreement, practitioner("fife"), ("fife", "authority")),
        (
            Read::Agreement,
            provider(PROVIDER_ID),
            (PROVIDER_ID, "provider"),
        ),
        (Read::Summary, person(PERSON_ID), (PERSON_ID, "person")),
        (Read::Summary, holder(), (HOLDER_ID, "holder")),
    ];
    for (read, token, actor) in cases {
        let before = read_audit_rows(&app.pool).await.len();
        let expected = agreement_read(read, actor, &id);
        read.call(&app, &token, &id).await.expect("read");
        assert_eq!(
            &read_audit_rows(&app.pool).await[before..],
            std::slice::from_ref(&expected),
            "{read:?} {actor:?}"
        );
        read.call(&app, &token, &id).await.expect("read again");
        assert_eq!(
            read_audit_rows(&app.pool).await[before..],
            [expected.clone(), expected],
            "{read:?} {actor:?} twice"
        );
    }
}

#[tokio::test]
async fn a_caller_told_an_agreement_does_not_exist_leaves_one_refused_entry_and_unknown_ids_none() {
    let app = TestApp::spawn().await;
    let id = drafted(&app).await;
    let stranger = "0192f0c1-0000-7000-8000-0000000000b2";
    let cases = [
        (provider(OTHER_PROVIDER_ID), (OTHER_PROVIDER_ID, "provider")),
        (practitioner("angus"), ("angus", "authority")),
        (person(stranger), (stranger, "person")),
    ];
    for (token, actor) in cases {
        for read in [Read::Agreement, Read::Summary] {
            let before = read_audit_rows(&app.pool).await.len();
            assert_code(read.call(&app, &token, &id).await, Code::NotFound);
            assert_eq!(
                read_audit_rows(&app.pool).await[before..],
                [agreement_read(read, actor, &id).refused("NOT_FOUND")],
                "{read:?} {actor:?}"
            );
        }
    }
    let written = read_audit_rows(&app.pool).await;
    let unknown = "0192f0c1-0000-7000-8000-0000000000ff";
    for read in [Read::Agreement, Read::Summary] {
        for token in [practitioner("fife"), provider(OTHER_PROVIDER_ID)] {
            assert_code(read.call(&app, &token, unknown).await, Code::NotFound);
            assert_invalid(read.call(&app, &token, "not-an-id").await, "agreement_id");
        }
    }
    assert_eq!(read_audit_rows(&app.pool).await, written);
}

#[tokio::test]
async fn only_the_authoritys_staff_list_its_trail() {
    let app = TestApp::spawn().await;
    let id = drafted(&app).await;
    Read::Summary
        .call(&app, &person(PERSON_ID), &id)
        .await
        .unwrap();
    let _ = Read::Agreement
        .call(&app, &provider(OTHER_PROVIDER_ID), &id)
        .await;
    let asking = |authority: &str| proto::ListReadAuditRequest {
        authority: authority.into(),
        ..Default::default()
    };
    let listed = app
        .client()
        .list_read_audit(bearer(&staff("fife", &[]), asking("fife")))
        .await
        .expect("any staff of fife list its trail")
        .into_inner();
    let seen: Vec<(&str, &str, &str, &str)> = listed
        .entries
        .iter()
        .map(|entry| {
            (
                entry.actor.as_str(),
                entry.what.as_str(),
                entry.outcome.as_str(),
                entry.refusal_code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (PERSON_ID, "contracts.GetAgreementSummary", "read", ""),
            (
                OTHER_PROVIDER_ID,
                "contracts.GetAgreement",
                "refused",
                "NOT_FOUND"
            ),
        ]
    );
    for token in [
        practitioner("angus"),
        provider(PROVIDER_ID),
        holder(),
        person(PERSON_ID),
    ] {
        let refused = app
            .client()
            .list_read_audit(bearer(&token, asking("fife")))
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    sds_testkit::assert_read_audit_is_append_only(&app.pool).await;
}

/// `ListAgreements` of fife's agreements as the holder of `token`: the ids listed.
async fn listed(app: &TestApp, token: &str, authority: &str) -> Result<Vec<String>, Status> {
    app.list(
        token,
        proto::ListAgreementsRequest {
            authority: authority.into(),
            ..Default::default()
        },
    )
    .await
    .map(|page| {
        page.agreements
            .into_iter()
            .map(|agreement| agreement.id)
            .collect()
    })
}

#[tokio::test]
async fn a_list_of_agreements_leaves_one_entry_per_agreement_given() {
    let app = TestApp::spawn().await;
    let first = drafted(&app).await;
    // Another person's plan, whose line another provider delivers.
    let other_person = "0192f0c1-0000-7000-8000-0000000000a2";
    let theirs = approved(
        "fife",
        proto::Plan {
            person_id: other_person.into(),
            ..plan(
                "fife",
                1,
                vec![directed_line(1, OTHER_PROVIDER_ID, Some(HOLDER_ID))],
            )
        },
    );
    app.publish(&theirs, &theirs.event_id).await;
    app.wait_for_plan_events(2).await;
    // Drafted as the plan arrives, as a held plan's option 2 line is.
    let second: uuid::Uuid = sqlx::query_scalar("SELECT id FROM agreement WHERE person_id = $1")
        .bind(uuid::Uuid::parse_str(other_person).unwrap())
        .fetch_one(&app.pool)
        .await
        .expect("the other person's agreement");
    let second = second.to_string();
    let whose = |id: &str| {
        if id == second {
            other_person
        } else {
            PERSON_ID
        }
    };
    let list_read = |actor: (&str, &str), id: &str| {
        ReadAuditRow::read(
            "fife",
            actor,
            ("person", whose(id)),
            "contracts.ListAgreements",
            id,
        )
    };
    let staff_read = listed(&app, &practitioner("fife"), "fife").await.unwrap();
    assert_eq!(staff_read.len(), 2);
    let before = read_audit_rows(&app.pool).await.len();
    let again = listed(&app, &practitioner("fife"), "fife").await.unwrap();
    assert_eq!(
        read_audit_rows(&app.pool).await[before..],
        again
            .iter()
            .map(|id| list_read(("fife", "authority"), id))
            .collect::<Vec<_>>(),
        "one entry per agreement listed, in the order listed"
    );
    let mut ids = again.clone();
    ids.sort();
    let mut drafted_ids = vec![first.clone(), second.clone()];
    drafted_ids.sort();
    assert_eq!(ids, drafted_ids);

    // The provider of the first agreement's line sees it, and leaves an entry for it only.
    let before = read_audit_rows(&app.pool).await.len();
    let theirs = listed(&app, &provider(PROVIDER_ID), "").await.unwrap();
    assert_eq!(
        read_audit_rows(&app.pool).await[before..],
        theirs
            .iter()
            .map(|id| list_read((PROVIDER_ID, "provider"), id))
            .collect::<Vec<_>>()
    );
    assert_eq!(theirs, std::slice::from_ref(&first));

    // Nothing given, nothing written: a provider of none, a list refused for its scope.
    let written = read_audit_rows(&app.pool).await;
    let nobody = "0192f0c1-0000-7000-8000-0000000000c9";
    assert_eq!(
        listed(&app, &provider(nobody), "").await.unwrap(),
        Vec::<String>::new()
    );
    assert_code(
        listed(&app, &practitioner("angus"), "fife").await,
        Code::PermissionDenied,
    );
    assert_eq!(read_audit_rows(&app.pool).await, written);
}
