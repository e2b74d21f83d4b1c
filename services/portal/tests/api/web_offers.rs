//! The provider dashboard's open requests: shown as the directory shows them to this
//! provider, answered with the offer form, and the answer reaching the directory as the
//! provider's own.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_testkit::{authority_staff, bearer, provider_org, token_for};
use tonic::transport::Channel;

use crate::web_support::*;

const HOSTILE: &str = "<script>alert('x')</script>";

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

async fn register(
    directory: &mut DirectoryServiceClient<Channel>,
    name: &str,
    locality: &str,
) -> String {
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    directory
        .register_provider(bearer(
            &commissioning,
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    name: name.into(),
                    kind: proto::ProviderKind::NonCareBusiness as i32,
                    service_types: vec!["Support services".into()],
                    localities: vec![locality.into()],
                    ..proto::ProviderDetails::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .expect("register the provider")
        .into_inner()
        .id
}

async fn publish_request(
    platform: &Platform,
    directory: &mut DirectoryServiceClient<Channel>,
) -> String {
    let person_id = platform.person_for_a_request("240.00").await;
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    directory
        .publish_package_request(bearer(
            &practitioner,
            proto::PublishPackageRequestRequest {
                authority: "fife".into(),
                person_id,
                plan_id: uuid::Uuid::now_v7().to_string(),
                line_number: 1,
                content: Some(proto::PackageRequestContent {
                    needs_summary: "Help getting up and dressed each morning.".into(),
                    service_types: vec!["Support services".into()],
                    locality: "Fife".into(),
                    amount: Some(proto::package_request_content::Amount::WeeklyBudget(
                        proto::Money {
                            amount: "240.00".into(),
                        },
                    )),
                    start_date: date("2026-12-21"),
                    closing_date: date("2026-12-07"),
                }),
            },
        ))
        .await
        .expect("published")
        .into_inner()
        .id
}

/// The offers the directory holds on the request, as the practitioner sees them.
async fn offers_on(
    directory: &mut DirectoryServiceClient<Channel>,
    request_id: &str,
) -> Vec<proto::PackageOffer> {
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    directory
        .list_offers(bearer(
            &practitioner,
            proto::ListOffersRequest {
                request_id: request_id.into(),
            },
        ))
        .await
        .expect("offers")
        .into_inner()
        .offers
}

#[tokio::test(flavor = "multi_thread")]
async fn the_offer_form_sends_the_providers_offer_to_the_directory_and_the_dashboard_shows_it_escaped()
 {
    let platform = Platform::start(vec![
        sds_directory::component(),
        sds_assessment::component(),
    ])
    .await;
    let mut directory = DirectoryServiceClient::new(platform.process.channel().await);
    let provider = register(&mut directory, "Kingdom Home Support", "Fife").await;
    let request_id = publish_request(&platform, &mut directory).await;
    let mut browser =
        Browser::signed_in(platform.web(), &token_for(&provider_org(&provider))).await;

    let dashboard = browser.get("/portal/provider").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    let text = visible_text(&dashboard.body);
    assert!(
        text.contains("Help getting up and dressed each morning."),
        "{text}"
    );
    assert!(text.contains("£240.00 a week"), "{text}");
    assert!(text.contains("Starts 21 December 2026"), "{text}");
    assert!(
        dashboard
            .body
            .contains(&format!("for=\"price-{request_id}\"")),
        "every input has its label"
    );

    let csrf = csrf_in(&dashboard.body);
    let sent = browser
        .post(
            "/portal/provider/answers",
            &[
                ("csrf", &csrf),
                ("request_id", &request_id),
                ("answer", "offer"),
                ("price_kind", "weekly"),
                ("price", "£230"),
                ("earliest_start", "2026-12-14"),
                ("note", HOSTILE),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.header("location"), Some("/portal/provider?sent=1"));

    let offers = offers_on(&mut directory, &request_id).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].provider_id, provider);
    assert_eq!(
        offers[0].note, HOSTILE,
        "the directory keeps the note as written"
    );
    assert_eq!(
        offers[0]
            .weekly_cost
            .as_ref()
            .map(|cost| cost.amount.as_str()),
        Some("230.00")
    );
    assert_eq!(offers[0].earliest_start, date("2026-12-14"));

    let after = browser.get("/portal/provider?sent=1").await;
    assert!(!after.body.contains("<script>"), "{}", after.body);
    let text = visible_text(&after.body);
    assert!(text.contains("Your answer was sent."), "{text}");
    assert!(
        text.contains(&format!(
            "You offered £230.00 a week, starting 14 December 2026. Your note: {HOSTILE}"
        )),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_without_the_csrf_token_or_with_a_bad_price_is_refused_and_never_reaches_the_directory()
 {
    let platform = Platform::start(vec![
        sds_directory::component(),
        sds_assessment::component(),
    ])
    .await;
    let mut directory = DirectoryServiceClient::new(platform.process.channel().await);
    let provider = register(&mut directory, "Kingdom Home Support", "Fife").await;
    let request_id = publish_request(&platform, &mut directory).await;
    let mut browser =
        Browser::signed_in(platform.web(), &token_for(&provider_org(&provider))).await;
    let csrf = browser.csrf_of("/portal/provider").await;
    let offer = |csrf: &str, price: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("request_id".to_owned(), request_id.clone()),
            ("answer".to_owned(), "offer".to_owned()),
            ("price_kind".to_owned(), "weekly".to_owned()),
            ("price".to_owned(), price.to_owned()),
            ("earliest_start".to_owned(), "2026-12-14".to_owned()),
        ]
    };
    let as_pairs = |fields: &[(String, String)]| -> Vec<(String, String)> { fields.to_vec() };
    // What a plain double submit would accept: the CSRF cookie's own value. The form's token
    // is bound to the session, so that is refused too.
    let cookie_value = browser.cookies["sds_csrf"].clone();
    assert_ne!(cookie_value, csrf);

    for (fields, status, says) in [
        (as_pairs(&offer("", "230.00")), 403, "This form has expired"),
        (
            as_pairs(&offer(&cookie_value, "230.00")),
            403,
            "This form has expired",
        ),
        (
            as_pairs(&offer("forged", "230.00")),
            403,
            "This form has expired",
        ),
        (
            as_pairs(&offer(&csrf, "")),
            400,
            "Write your price in pounds",
        ),
        (
            as_pairs(&offer(&csrf, "12.345")),
            400,
            "Your answer was not sent",
        ),
    ] {
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let answer = browser.post("/portal/provider/answers", &borrowed).await;
        assert_eq!(answer.status, status, "{}", answer.body);
        assert!(answer.body.contains(says), "{says}: {}", answer.body);
    }
    assert!(offers_on(&mut directory, &request_id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_working_elsewhere_is_not_shown_the_request_and_cannot_answer_it() {
    let platform = Platform::start(vec![
        sds_directory::component(),
        sds_assessment::component(),
    ])
    .await;
    let mut directory = DirectoryServiceClient::new(platform.process.channel().await);
    let elsewhere = register(&mut directory, "Highland Care", "Inverness").await;
    let request_id = publish_request(&platform, &mut directory).await;
    let mut browser =
        Browser::signed_in(platform.web(), &token_for(&provider_org(&elsewhere))).await;

    let dashboard = browser.get("/portal/provider").await;
    assert!(!dashboard.body.contains(&request_id));
    assert!(visible_text(&dashboard.body).contains("There are no open requests"));
    let csrf = csrf_in(&dashboard.body);
    let answer = browser
        .post(
            "/portal/provider/answers",
            &[
                ("csrf", &csrf),
                ("request_id", &request_id),
                ("answer", "decline"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(offers_on(&mut directory, &request_id).await.is_empty());
}
