//! Package requests: published by the authority's practitioners and commissioning staff,
//! refused when they would say who they are for, one open request per plan line, and the
//! providers a request goes to, matched by locality and service type ignoring case.

use rust_decimal::Decimal;
use sds_directory::DirectoryError;
use sds_directory::domain::AuthorityId;
use sds_directory::domain::package_request::{RequestContent, RequestInput};
use sds_directory::store::package_requests::{
    NewRequest, PlanLine, insert_request, matching_providers,
};
use uuid::Uuid;

use crate::support::*;
use sds_proto::v1 as proto;

fn content(service_types: &[&str], locality: &str) -> RequestContent {
    let today = chrono::Utc::now().date_naive();
    RequestContent::new(
        RequestInput {
            needs_summary: "Help to get out to the lunch club twice a week.".to_owned(),
            service_types: service_types.iter().map(|s| (*s).to_owned()).collect(),
            locality: locality.to_owned(),
            hours_per_week: Some(Decimal::new(6, 0)),
            weekly_budget: None,
            start_date: Some(today + chrono::Days::new(30)),
            closing_date: Some(today + chrono::Days::new(14)),
        },
        today,
    )
    .expect("a good request")
}

async fn publish(
    app: &TestApp,
    line: PlanLine,
    content: &RequestContent,
) -> Result<Uuid, DirectoryError> {
    let id = Uuid::now_v7();
    let mut connection = app.pool.acquire().await.expect("a connection");
    let authority = AuthorityId::parse("authority", "aberdeenshire").expect("an authority");
    insert_request(
        &mut connection,
        &NewRequest {
            id,
            authority: &authority,
            line,
            content,
            by: "aberdeenshire",
            at: chrono::Utc::now(),
            on: chrono::Utc::now().date_naive(),
        },
    )
    .await
    .map(|()| id)
}

#[tokio::test]
async fn a_plan_line_has_one_open_request_and_it_goes_to_the_providers_of_its_area_and_kind() {
    let app = TestApp::spawn().await;
    let day_support = app
        .commissioning_registers(details("Garioch Day Support"))
        .await;
    let elsewhere = app
        .commissioning_registers(proto_details(
            "Moray Day Support",
            &["day support"],
            &["Moray"],
        ))
        .await;
    let other_kind = app
        .commissioning_registers(proto_details(
            "Deeside Gardens",
            &["Gardening"],
            &["ABERDEENSHIRE"],
        ))
        .await;
    let line = PlanLine {
        person_id: Uuid::now_v7(),
        plan_id: Uuid::now_v7(),
        line_number: 2,
    };
    let request = content(&["DAY SUPPORT", "Transport"], "aberdeenshire");
    let id = publish(&app, line, &request).await.expect("published");

    let mut connection = app.pool.acquire().await.expect("a connection");
    let matched = matching_providers(&mut connection, id)
        .await
        .expect("matched");
    assert_eq!(
        matched,
        vec![Uuid::parse_str(&day_support.id).expect("an id")]
    );
    assert!(!matched.contains(&Uuid::parse_str(&elsewhere.id).expect("an id")));
    assert!(!matched.contains(&Uuid::parse_str(&other_kind.id).expect("an id")));

    // Again, or under another reference for the plan: the person's line has its request.
    for again in [
        line,
        PlanLine {
            plan_id: Uuid::now_v7(),
            ..line
        },
    ] {
        let again = publish(&app, again, &request).await;
        assert!(
            matches!(
                again,
                Err(DirectoryError::RequestOpen { line_number: 2, .. })
            ),
            "{again:?}"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM package_request")
        .fetch_one(&app.pool)
        .await
        .expect("counted");
    assert_eq!(count, 1);
}

fn proto_details(
    name: &str,
    service_types: &[&str],
    localities: &[&str],
) -> sds_proto::v1::ProviderDetails {
    sds_proto::v1::ProviderDetails {
        service_types: service_types.iter().map(|s| (*s).to_owned()).collect(),
        localities: localities.iter().map(|s| (*s).to_owned()).collect(),
        ..details(name)
    }
}

/// A practitioner (social worker) of `authority`.
fn practitioner(authority: &str) -> String {
    sds_testkit::token_for(&sds_testkit::authority_staff(
        authority,
        &[sds_platform::Role::Practitioner],
    ))
}

fn publish_request(needs: &str) -> proto::PublishPackageRequestRequest {
    proto::PublishPackageRequestRequest {
        authority: "aberdeenshire".to_owned(),
        person_id: Uuid::now_v7().to_string(),
        plan_id: Uuid::now_v7().to_string(),
        line_number: 2,
        content: Some(proto::PackageRequestContent {
            needs_summary: needs.to_owned(),
            service_types: vec!["Day support".to_owned()],
            locality: "Aberdeenshire".to_owned(),
            amount: Some(proto::package_request_content::Amount::WeeklyBudget(
                proto::Money {
                    amount: "250.00".to_owned(),
                },
            )),
            start_date: days_from_today(21),
            closing_date: days_from_today(7),
        }),
    }
}

#[tokio::test]
async fn a_practitioner_publishes_a_request_and_providers_are_told_without_who_it_is_for() {
    let app = TestApp::spawn_with_assessment().await;
    let sent = proto::PublishPackageRequestRequest {
        person_id: app.person_with_plan().await,
        ..publish_request("Day support three days a week, likes art and music.")
    };
    let published = app
        .client()
        .publish_package_request(sds_testkit::bearer(
            &practitioner("aberdeenshire"),
            sent.clone(),
        ))
        .await
        .expect("published")
        .into_inner();
    assert_eq!(published.status, proto::PackageRequestStatus::Open as i32);
    assert_eq!(published.person_id, sent.person_id);
    assert_eq!(published.content, sent.content);

    let events = app.outbox_events().await;
    let requested: Vec<&proto::PackageRequested> = events
        .iter()
        .filter_map(|event| match &event.event.body {
            Some(proto::event::Body::PackageRequested(body)) => Some(body),
            _ => None,
        })
        .collect();
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].request_id, published.id);
    assert_eq!(requested[0].content, sent.content);
    let event = events
        .iter()
        .find(|event| event.event_type == "package.requested")
        .expect("package.requested");
    assert_eq!(event.subject, "sds.aberdeenshire.package.requested");
    // Who it is for is nowhere in what providers are told.
    let payload = format!("{:?}", event.event);
    assert!(!payload.contains(&sent.person_id), "{payload}");
    assert!(!payload.contains(&sent.plan_id), "{payload}");
}

#[tokio::test]
async fn a_request_that_would_say_who_it_is_for_or_is_malformed_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = practitioner("aberdeenshire");
    let with = |change: fn(&mut proto::PublishPackageRequestRequest)| {
        let mut request = publish_request("Personal care each morning.");
        change(&mut request);
        request
    };
    let cases: Vec<(&str, proto::PublishPackageRequestRequest)> = vec![
        (
            "content.needs_summary holds what looks like a postcode",
            publish_request("Lives at AB51 3XY."),
        ),
        (
            "content.needs_summary holds what looks like a date",
            publish_request("Born 01/02/1940."),
        ),
        (
            "content.needs_summary holds what looks like a date",
            publish_request("Born 12 March 1941."),
        ),
        (
            "content.needs_summary contains a control character",
            publish_request("Needs\u{0}help"),
        ),
        (
            "content.needs_summary contains an invisible or direction-changing character",
            publish_request("Lives at AB1\u{200b}2 3CD"),
        ),
        (
            "content.hours_per_week is \"1e2\"",
            with(|r| {
                if let Some(content) = r.content.as_mut() {
                    content.amount = Some(proto::package_request_content::Amount::HoursPerWeek(
                        "1e2".to_owned(),
                    ));
                }
            }),
        ),
        (
            "line_number is 4294967295",
            with(|r| r.line_number = u32::MAX),
        ),
        ("person_id is \"\"", with(|r| r.person_id = String::new())),
        ("line_number is 0", with(|r| r.line_number = 0)),
        ("content is missing", with(|r| r.content = None)),
        (
            "content.weekly_budget",
            with(|r| {
                if let Some(content) = r.content.as_mut() {
                    content.amount = Some(proto::package_request_content::Amount::WeeklyBudget(
                        proto::Money {
                            amount: "12.345".to_owned(),
                        },
                    ));
                }
            }),
        ),
        (
            "content.closing_date",
            with(|r| {
                if let Some(content) = r.content.as_mut() {
                    content.closing_date = days_from_today(30);
                }
            }),
        ),
    ];
    for (expected, request) in cases {
        let refused = app
            .client()
            .publish_package_request(sds_testkit::bearer(&token, request))
            .await
            .expect_err(expected);
        assert_eq!(
            refused.code(),
            tonic::Code::InvalidArgument,
            "{expected}: {refused:?}"
        );
        assert!(
            refused.message().starts_with(expected),
            "{expected}: {}",
            refused.message()
        );
        assert!(!refused.message().contains("AB51"), "{}", refused.message());
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM package_request")
        .fetch_one(&app.pool)
        .await
        .expect("counted");
    assert_eq!(count, 0);
    assert!(app.outbox_events().await.is_empty());
}

#[tokio::test]
async fn only_the_authoritys_practitioners_and_commissioning_staff_publish_its_requests() {
    let app = TestApp::spawn_with_assessment().await;
    let request = proto::PublishPackageRequestRequest {
        person_id: app.person_with_plan().await,
        ..publish_request("Personal care each morning.")
    };
    for token in [
        practitioner("moray"),
        new_provider_token(),
        holder_token(),
        sds_testkit::token_for(&sds_testkit::authority_staff(
            "aberdeenshire",
            &[sds_platform::Role::Finance],
        )),
    ] {
        let refused = app
            .client()
            .publish_package_request(sds_testkit::bearer(&token, request.clone()))
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused:?}");
    }
    app.client()
        .publish_package_request(sds_testkit::bearer(
            &commissioning("aberdeenshire"),
            request,
        ))
        .await
        .expect("commissioning staff publish");
}
