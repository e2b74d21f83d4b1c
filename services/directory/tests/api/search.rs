//! SearchProviders: filters, relevance-then-grade order, and pages.

use sds_proto::v1::{self as proto, FrameworkStatus, KeyQuestion};
use sds_testkit::bearer;

use crate::support::*;

/// Four providers that differ in every way a search can tell apart.
///
/// | name                  | service types                          | localities                      | min grade | ISFs | frameworks                    |
/// |-----------------------|----------------------------------------|---------------------------------|-----------|------|-------------------------------|
/// | Aberdeen Home Care    | Care at Home, Housing Support Service  | Aberdeenshire, Banff and Buchan | 5         | yes  | aberdeenshire: on framework   |
/// | Buchan Art Studio     | Art classes                            | Aberdeenshire                   | none      | no   | aberdeenshire: open list      |
/// | Fife Support Services | Housing Support Service                | Fife                            | 3         | yes  | fife: on framework            |
/// | Deeside Day Care      | Day support                            | Aberdeenshire                   | 6         | no   | none                          |
async fn four_providers(app: &TestApp) {
    let home_care = app
        .commissioning_registers(proto::ProviderDetails {
            name: "Aberdeen Home Care".into(),
            kind: proto::ProviderKind::RegisteredCareService as i32,
            care_inspectorate_number: "CS2004000001".into(),
            service_types: vec!["Care at Home".into(), "Housing Support Service".into()],
            localities: vec!["Aberdeenshire".into(), "Banff and Buchan".into()],
            holds_isfs: true,
            ..details("unused")
        })
        .await;
    app.record_grades(
        &home_care.id,
        vec![
            grade(KeyQuestion::SupportWellbeing, 5, "2025-03-01"),
            grade(KeyQuestion::Leadership, 6, "2025-03-01"),
        ],
    )
    .await;
    app.set_framework_status(&home_care.id, "aberdeenshire", FrameworkStatus::OnFramework)
        .await;

    let art_studio = app
        .commissioning_registers(proto::ProviderDetails {
            name: "Buchan Art Studio".into(),
            kind: proto::ProviderKind::NonCareBusiness as i32,
            service_types: vec!["Art classes".into()],
            localities: vec!["Aberdeenshire".into()],
            ..details("unused")
        })
        .await;
    app.set_framework_status(&art_studio.id, "aberdeenshire", FrameworkStatus::OpenList)
        .await;

    let fife = app
        .commissioning_registers(proto::ProviderDetails {
            name: "Fife Support Services".into(),
            service_types: vec!["Housing Support Service".into()],
            localities: vec!["Fife".into()],
            holds_isfs: true,
            ..details("unused")
        })
        .await;
    app.record_grades(
        &fife.id,
        vec![grade(KeyQuestion::StaffTeam, 3, "2024-11-20")],
    )
    .await;
    app.set_framework_status(&fife.id, "fife", FrameworkStatus::OnFramework)
        .await;

    let day_care = app
        .commissioning_registers(proto::ProviderDetails {
            name: "Deeside Day Care".into(),
            service_types: vec!["Day support".into()],
            localities: vec!["Aberdeenshire".into()],
            ..details("unused")
        })
        .await;
    app.record_grades(
        &day_care.id,
        vec![grade(KeyQuestion::SupportWellbeing, 6, "2025-06-30")],
    )
    .await;
}

fn names(response: &proto::SearchProvidersResponse) -> Vec<String> {
    response
        .providers
        .iter()
        .map(|provider| {
            provider
                .details
                .as_ref()
                .map(|details| details.name.clone())
                .unwrap_or_default()
        })
        .collect()
}

async fn names_found(app: &TestApp, request: proto::SearchProvidersRequest) -> Vec<String> {
    names(&app.search(request).await)
}

#[tokio::test]
async fn without_search_text_providers_are_sorted_by_grade_then_name_with_the_ungraded_last() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;

    let response = app.search(proto::SearchProvidersRequest::default()).await;

    assert_eq!(
        names(&response),
        vec![
            "Deeside Day Care",
            "Aberdeen Home Care",
            "Fife Support Services",
            "Buchan Art Studio"
        ]
    );
    assert_eq!(response.page.map(|page| page.total_matches), Some(4));
}

#[tokio::test]
async fn search_text_ranks_the_best_match_first_and_grade_breaks_ties() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;
    let text = |words: &str| proto::SearchProvidersRequest {
        text: words.to_owned(),
        ..proto::SearchProvidersRequest::default()
    };

    // "Care" twice (name and service type) outranks "Care" once, whatever the grades.
    assert_eq!(
        names_found(&app, text("care")).await,
        vec!["Aberdeen Home Care", "Deeside Day Care"]
    );
    // Every word must match; forms of a word match each other.
    assert_eq!(
        names_found(&app, text("home caring")).await,
        vec!["Aberdeen Home Care"]
    );
    // The name weighs most; equal matches in service types fall back to grade order.
    assert_eq!(
        names_found(&app, text("support")).await,
        vec![
            "Fife Support Services",
            "Deeside Day Care",
            "Aberdeen Home Care"
        ]
    );
    // Localities are searched too, though a name outranks them.
    assert_eq!(
        names_found(&app, text("buchan")).await,
        vec!["Buchan Art Studio", "Aberdeen Home Care"]
    );
    // Words too common to index narrow nothing.
    assert_eq!(names_found(&app, text("the")).await.len(), 4);
    // Search syntax and stray punctuation are words to look for, never an error.
    assert_eq!(
        names_found(&app, text("\"day care\" -home & | ! ( :* '")).await,
        vec!["Deeside Day Care"]
    );
}

#[tokio::test]
async fn a_service_type_matches_in_any_case() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;

    let found = names_found(
        &app,
        proto::SearchProvidersRequest {
            service_type: "housing SUPPORT service".into(),
            ..proto::SearchProvidersRequest::default()
        },
    )
    .await;

    assert_eq!(found, vec!["Aberdeen Home Care", "Fife Support Services"]);
}

#[tokio::test]
async fn a_locality_matches_in_any_case() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;
    let locality = |name: &str| proto::SearchProvidersRequest {
        locality: name.to_owned(),
        ..proto::SearchProvidersRequest::default()
    };

    assert_eq!(
        names_found(&app, locality("banff and buchan")).await,
        vec!["Aberdeen Home Care"]
    );
    assert_eq!(
        names_found(&app, locality("ABERDEENSHIRE")).await,
        vec![
            "Deeside Day Care",
            "Aberdeen Home Care",
            "Buchan Art Studio"
        ]
    );
    assert!(
        names_found(&app, locality("Banff")).await.is_empty(),
        "a locality matches whole"
    );
}

#[tokio::test]
async fn a_minimum_grade_leaves_out_lower_graded_and_ungraded_providers() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;

    let found = names_found(
        &app,
        proto::SearchProvidersRequest {
            min_grade: 5,
            ..proto::SearchProvidersRequest::default()
        },
    )
    .await;

    assert_eq!(found, vec!["Deeside Day Care", "Aberdeen Home Care"]);
}

#[tokio::test]
async fn framework_status_is_asked_of_one_authority_and_no_status_counts_as_off_framework() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;
    let in_aberdeenshire = |status: FrameworkStatus| proto::SearchProvidersRequest {
        framework_authority: "aberdeenshire".into(),
        framework_status: status as i32,
        ..proto::SearchProvidersRequest::default()
    };

    assert_eq!(
        names_found(&app, in_aberdeenshire(FrameworkStatus::OnFramework)).await,
        vec!["Aberdeen Home Care"]
    );
    assert_eq!(
        names_found(&app, in_aberdeenshire(FrameworkStatus::OpenList)).await,
        vec!["Buchan Art Studio"]
    );
    assert_eq!(
        names_found(&app, in_aberdeenshire(FrameworkStatus::OffFramework)).await,
        vec!["Deeside Day Care", "Fife Support Services"]
    );
}

#[tokio::test]
async fn providers_are_found_by_whether_they_hold_isfs() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;
    let holding = |holds: bool| proto::SearchProvidersRequest {
        holds_isfs: Some(holds),
        ..proto::SearchProvidersRequest::default()
    };

    assert_eq!(
        names_found(&app, holding(true)).await,
        vec!["Aberdeen Home Care", "Fife Support Services"]
    );
    assert_eq!(
        names_found(&app, holding(false)).await,
        vec!["Deeside Day Care", "Buchan Art Studio"]
    );
}

#[tokio::test]
async fn filters_combine() {
    let app = TestApp::spawn().await;
    four_providers(&app).await;

    let found = names_found(
        &app,
        proto::SearchProvidersRequest {
            service_type: "Housing Support Service".into(),
            locality: "Aberdeenshire".into(),
            holds_isfs: Some(true),
            min_grade: 4,
            framework_authority: "aberdeenshire".into(),
            framework_status: FrameworkStatus::OnFramework as i32,
            ..proto::SearchProvidersRequest::default()
        },
    )
    .await;

    assert_eq!(found, vec!["Aberdeen Home Care"]);
}

#[tokio::test]
async fn pages_walk_through_every_match_once_and_report_the_total() {
    let app = TestApp::spawn().await;
    for number in 1..=7 {
        app.commissioning_registers(details(&format!("Provider {number}")))
            .await;
    }
    let page = |token: String| proto::SearchProvidersRequest {
        service_type: "Day support".into(),
        page: Some(proto::PageRequest {
            page_size: 3,
            page_token: token,
        }),
        ..proto::SearchProvidersRequest::default()
    };

    let first = app.search(page(String::new())).await;
    let first_page = first.page.clone().expect("page");
    let second = app.search(page(first_page.next_page_token.clone())).await;
    let second_page = second.page.clone().expect("page");
    let third = app.search(page(second_page.next_page_token.clone())).await;
    let third_page = third.page.clone().expect("page");

    assert_eq!(
        names(&first),
        vec!["Provider 1", "Provider 2", "Provider 3"]
    );
    assert_eq!(
        names(&second),
        vec!["Provider 4", "Provider 5", "Provider 6"]
    );
    assert_eq!(names(&third), vec!["Provider 7"]);
    for page in [&first_page, &second_page, &third_page] {
        assert_eq!(page.total_matches, 7);
    }
    assert!(!first_page.next_page_token.is_empty());
    assert!(
        third_page.next_page_token.is_empty(),
        "the last page says so"
    );
}

#[tokio::test]
async fn a_page_token_from_another_search_or_altered_is_refused() {
    let app = TestApp::spawn().await;
    for number in 1..=3 {
        app.commissioning_registers(details(&format!("Provider {number}")))
            .await;
    }
    let first = app
        .search(proto::SearchProvidersRequest {
            service_type: "Day support".into(),
            page: Some(proto::PageRequest {
                page_size: 1,
                page_token: String::new(),
            }),
            ..proto::SearchProvidersRequest::default()
        })
        .await;
    let token = first.page.expect("page").next_page_token;
    let mut altered = token.clone().into_bytes();
    altered[4] = if altered[4] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ASCII token");

    for (service_type, page_token) in [("Art classes", token.clone()), ("Day support", altered)] {
        let result = app
            .client()
            .search_providers(bearer(
                &any_provider_token(),
                proto::SearchProvidersRequest {
                    service_type: service_type.into(),
                    page: Some(proto::PageRequest {
                        page_size: 1,
                        page_token,
                    }),
                    ..proto::SearchProvidersRequest::default()
                },
            ))
            .await;
        let message = assert_invalid(result, "page.page_token");
        assert!(message.contains("without a page token"), "{message}");
    }
}
