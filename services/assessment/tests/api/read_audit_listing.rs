//! `ListReadAudit` on assessment's trail: listed only by the authority's own staff, filtered
//! and paged (each page a range of an index), with bad arguments refused by field.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_testkit::{provider_org, read_audit_rows, token_for};
use tonic::Code;

use crate::read_audit::{Read, asking, call, list, person_of};
use crate::support::*;

#[tokio::test]
async fn only_the_authoritys_staff_list_its_trail_filtered_and_paged() {
    let app = TestApp::spawn().await;
    let first = app.person_with_plan("fife").await;
    let second = app.person_with_plan("fife").await;
    let elsewhere = app.person_with_plan("angus").await;
    let noon = app.clock.clock().now();
    for id in [&first, &second, &first] {
        call(&app, Read::Plan, &practitioner("fife"), id)
            .await
            .unwrap();
        app.clock.advance(chrono::Duration::hours(1));
    }
    call(&app, Read::Plan, &practitioner("angus"), &elsewhere)
        .await
        .unwrap();
    assert_code(
        call(&app, Read::Plan, &practitioner("angus"), &first).await,
        Code::NotFound,
    );

    let all = list(&app, &staff("fife", &[Role::Finance]), asking("fife"))
        .await
        .expect("any staff of fife list its trail");
    let seen: Vec<(&str, &str, &str)> = all
        .entries
        .iter()
        .map(|entry| {
            (
                entry.subject_id.as_str(),
                entry.actor.as_str(),
                entry.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (first.as_str(), "fife", "read"),
            (second.as_str(), "fife", "read"),
            (first.as_str(), "fife", "read"),
            (first.as_str(), "angus", "refused"),
        ],
        "fife's entries only, oldest first, angus's attempt included"
    );
    assert_eq!(all.page.as_ref().unwrap().total_matches, 4);
    let entry = &all.entries[0];
    assert_eq!(
        (
            entry.authority.as_str(),
            entry.actor_kind.as_str(),
            entry.subject_kind.as_str(),
            entry.what.as_str(),
            entry.record_id.as_str(),
            entry.refusal_code.as_str(),
        ),
        (
            "fife",
            "authority",
            "person",
            "assessment.GetPlan",
            first.as_str(),
            ""
        )
    );
    assert_eq!(all.entries[3].refusal_code, "NOT_FOUND");
    let at = |entry: &proto::ReadAuditEntry| {
        chrono::DateTime::parse_from_rfc3339(&entry.at).expect("RFC 3339")
    };
    assert_eq!(at(&all.entries[0]), noon, "the service's clock");

    // By subject, and by time: [since, until).
    let about_first = list(
        &app,
        &practitioner("fife"),
        proto::ListReadAuditRequest {
            subject_id: first.clone(),
            ..asking("fife")
        },
    )
    .await
    .unwrap();
    assert_eq!(about_first.entries.len(), 3);
    assert!(
        about_first
            .entries
            .iter()
            .all(|entry| entry.subject_id == first)
    );
    let rfc = |hours: i64| (noon + chrono::Duration::hours(hours)).to_rfc3339();
    let window = list(
        &app,
        &practitioner("fife"),
        proto::ListReadAuditRequest {
            since: rfc(1),
            until: rfc(2),
            ..asking("fife")
        },
    )
    .await
    .unwrap();
    assert_eq!(
        window
            .entries
            .iter()
            .map(|entry| entry.subject_id.as_str())
            .collect::<Vec<_>>(),
        [second.as_str()]
    );

    // Two at a time, every entry once; the total counted on the first page only (later
    // pages carry 0: counting on every page made listing a long trail quadratic).
    let mut paged = Vec::new();
    let mut token = String::new();
    let mut totals = Vec::new();
    loop {
        let page = list(
            &app,
            &practitioner("fife"),
            proto::ListReadAuditRequest {
                page: Some(proto::PageRequest {
                    page_size: 2,
                    page_token: token,
                }),
                ..asking("fife")
            },
        )
        .await
        .unwrap();
        assert!(page.entries.len() <= 2);
        totals.push(page.page.as_ref().unwrap().total_matches);
        paged.extend(page.entries);
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(paged, all.entries);
    assert_eq!(totals, [4, 0]);

    // Nobody else lists it.
    let provider = token_for(&provider_org(&uuid::Uuid::now_v7().to_string()));
    let person = token_for(&person_of(&first));
    for token in [practitioner("angus"), provider, person] {
        let refused = assert_code(
            list(&app, &token, asking("fife")).await,
            Code::PermissionDenied,
        );
        assert!(refused.contains("fife"), "{refused}");
    }
    let theirs = list(&app, &practitioner("angus"), asking("angus"))
        .await
        .unwrap();
    assert_eq!(theirs.entries.len(), 1);
    assert_eq!(theirs.entries[0].subject_id, elsewhere);
}

#[tokio::test]
async fn bad_list_arguments_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let someone = app.person_with_plan("fife").await;
    call(&app, Read::Plan, &practitioner("fife"), &someone)
        .await
        .unwrap();
    let written = read_audit_rows(&app.pool).await;
    let counts = app.row_counts().await;
    let page = |size: u32, token: &str| {
        Some(proto::PageRequest {
            page_size: size,
            page_token: token.into(),
        })
    };
    let cases = [
        (asking(""), "authority"),
        (asking("Fife Council"), "authority"),
        (
            proto::ListReadAuditRequest {
                subject_id: "SW-0042".into(),
                ..asking("fife")
            },
            "subject_id",
        ),
        (
            proto::ListReadAuditRequest {
                since: "last tuesday".into(),
                ..asking("fife")
            },
            "since",
        ),
        (
            proto::ListReadAuditRequest {
                until: "2026-11-28".into(),
                ..asking("fife")
            },
            "until",
        ),
        (
            proto::ListReadAuditRequest {
                since: "2026-11-28T12:00:00Z".into(),
                until: "2026-11-28T11:00:00Z".into(),
                ..asking("fife")
            },
            "until",
        ),
        (
            proto::ListReadAuditRequest {
                page: page(500, ""),
                ..asking("fife")
            },
            "page.page_size",
        ),
        (
            proto::ListReadAuditRequest {
                page: page(0, "a1.3.0000000000000000"),
                ..asking("fife")
            },
            "page.page_token",
        ),
    ];
    for (request, field) in cases {
        assert_invalid(list(&app, &practitioner("fife"), request).await, field);
    }
    assert_eq!(read_audit_rows(&app.pool).await, written);
    assert_eq!(app.row_counts().await, counts);
}

/// The plan PostgreSQL settles on for `statement` with `arguments` once it plans it
/// generically, as it may for a statement prepared and run again and again.
async fn generic_plan(app: &TestApp, statement: &str, types: &str, arguments: &str) -> String {
    let mut connection = app.pool.acquire().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE listing ({types}) AS {statement}"
    )))
    .execute(&mut *connection)
    .await
    .unwrap();
    let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN EXECUTE listing ({arguments})"
    )))
    .fetch_all(&mut *connection)
    .await
    .unwrap();
    sqlx::raw_sql("DEALLOCATE listing; RESET plan_cache_mode")
        .execute(&mut *connection)
        .await
        .unwrap();
    lines.join("\n")
}

#[tokio::test]
async fn a_page_of_the_trail_is_a_range_of_an_index() {
    let app = TestApp::spawn().await;
    // 60,000 entries of 600 people under twenty authorities, fife's among them.
    sqlx::query(
        "INSERT INTO read_audit (authority, actor, actor_kind, subject_kind, subject_id, what, \
             record_id, outcome, at) \
         SELECT CASE WHEN n % 20 = 0 THEN 'fife' ELSE 'a' || (n % 20) END, 'fife', 'authority', \
             'person', ('0192f0c1-0000-7000-8000-' || lpad((n % 600)::text, 12, '0'))::uuid, \
             'assessment.GetPlan', 'x', 'read', \
             timestamptz '2026-11-28T00:00:00Z' + n * interval '1 second' \
         FROM generate_series(1, 60000) AS n",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE read_audit")
        .execute(&app.pool)
        .await
        .unwrap();
    let types = "text, timestamptz, timestamptz, bigint, bigint";
    let bounds = "'fife', NULL, NULL, 1000, 201";
    let every = generic_plan(&app, sds_platform::read_audit::PAGE, types, bounds).await;
    assert!(
        every.contains("Index Scan using read_audit_by_authority")
            && every.contains("Index Cond: ((ROW(authority, \"position\") > ROW($1, $4))")
            && !every.contains("Sort"),
        "{every}"
    );
    let one = generic_plan(
        &app,
        sds_platform::read_audit::SUBJECT_PAGE,
        &format!("{types}, uuid"),
        &format!("{bounds}, '0192f0c1-0000-7000-8000-000000000020'"),
    )
    .await;
    assert!(
        one.contains("Index Scan using read_audit_by_subject")
            || one.contains("Bitmap Index Scan on read_audit_by_subject"),
        "{one}"
    );
    assert!(
        one.contains("Index Cond: ((ROW(authority, subject_id, \"position\") > ROW($1, $6, $4))"),
        "{one}"
    );
    // As the service runs them, planned for their arguments: read in index order, no sort.
    let subject = uuid::Uuid::parse_str("0192f0c1-0000-7000-8000-000000000020").unwrap();
    for (statement, index) in [
        (sds_platform::read_audit::PAGE, "read_audit_by_authority"),
        (
            sds_platform::read_audit::SUBJECT_PAGE,
            "read_audit_by_subject",
        ),
    ] {
        let mut explain = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {statement}")))
            .persistent(false)
            .bind("fife")
            .bind(None::<chrono::DateTime<chrono::Utc>>)
            .bind(None::<chrono::DateTime<chrono::Utc>>)
            .bind(1000_i64)
            .bind(201_i64);
        if statement.contains("$6") {
            explain = explain.bind(subject);
        }
        let plan: Vec<String> = explain.fetch_all(&app.pool).await.unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains(&format!("Index Scan using {index}")) && !plan.contains("Sort"),
            "{plan}"
        );
    }

    // And the pages, read through, give every entry once.
    let mut token = String::new();
    let mut listed = 0;
    loop {
        let page = list(
            &app,
            &practitioner("fife"),
            proto::ListReadAuditRequest {
                subject_id: "0192f0c1-0000-7000-8000-000000000020".into(),
                page: Some(proto::PageRequest {
                    page_size: 200,
                    page_token: token,
                }),
                ..asking("fife")
            },
        )
        .await
        .unwrap();
        listed += page.entries.len();
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(listed, 100);
}
