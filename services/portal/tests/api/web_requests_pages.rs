//! The dashboard's open requests come a page at a time: the newest 25, a link to the next
//! page and one back to the newest; a page link that was changed is answered with a way back,
//! not an error page.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_testkit::{authority_staff, bearer, provider_org, token_for};

use crate::web_support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_pages_through_its_open_requests_newest_first() {
    let platform = Platform::start(vec![
        sds_directory::component(),
        sds_assessment::component(),
    ])
    .await;
    let channel = platform.process.channel().await;
    let mut directory = DirectoryServiceClient::new(channel.clone());
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    let provider = directory
        .register_provider(bearer(
            &commissioning,
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    name: "Kingdom Home Support".into(),
                    kind: proto::ProviderKind::NonCareBusiness as i32,
                    service_types: vec!["Support services".into()],
                    localities: vec!["Fife".into()],
                    ..proto::ProviderDetails::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .expect("registered")
        .into_inner()
        .id;
    // One person whose plan has 26 option 2 lines, a request for each.
    let today = chrono::NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).expect("a date");
    let person_id = sds_testkit::plans::approved_plan(
        channel,
        "fife",
        today,
        (0..26)
            .map(|_| sds_testkit::plans::option_2_line("10.00", today))
            .collect(),
    )
    .await;
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    for line_number in 1..=26 {
        directory
            .publish_package_request(bearer(
                &practitioner,
                proto::PublishPackageRequestRequest {
                    authority: "fife".into(),
                    person_id: person_id.clone(),
                    plan_id: uuid::Uuid::now_v7().to_string(),
                    line_number,
                    content: Some(proto::PackageRequestContent {
                        needs_summary: format!("Support for part {line_number} of the plan."),
                        service_types: vec!["Support services".into()],
                        locality: "Fife".into(),
                        amount: Some(proto::package_request_content::Amount::WeeklyBudget(
                            proto::Money {
                                amount: "10.00".into(),
                            },
                        )),
                        start_date: Some(proto::Date {
                            iso: "2026-12-21".into(),
                        }),
                        closing_date: Some(proto::Date {
                            iso: "2026-12-07".into(),
                        }),
                    }),
                },
            ))
            .await
            .expect("published");
    }
    let mut browser =
        Browser::signed_in(platform.web(), &token_for(&provider_org(&provider))).await;

    let first = browser.get("/portal/provider").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let text = visible_text(&first.body);
    assert_eq!(first.body.matches("<article class=\"request\"").count(), 25);
    assert!(
        text.contains("Support for part 26 of the plan."),
        "newest first: {text}"
    );
    assert!(!text.contains("Support for part 1 of the plan."), "{text}");
    assert!(!text.contains("Back to the newest requests"), "{text}");
    let link = first
        .body
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/portal/provider?requests="))
        .expect("a link to more requests")
        .replace("&amp;", "&");

    let second = browser.get(&link).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let text = visible_text(&second.body);
    assert_eq!(second.body.matches("<article class=\"request\"").count(), 1);
    assert!(text.contains("Support for part 1 of the plan."), "{text}");
    assert!(text.contains("Back to the newest requests"), "{text}");
    assert!(
        !second.body.contains("/portal/provider?requests="),
        "no further page"
    );

    // A link with the field twice (or one that cannot be read at all) is still the page.
    for odd in [
        "/portal/provider?requests=a&requests=b",
        "/portal/provider?sent=1&sent=2",
        "/portal/provider?%ZZ=1",
    ] {
        let page = browser.get(odd).await;
        assert_eq!(page.status, 200, "{odd}: {}", page.body);
        assert!(
            visible_text(&page.body).contains("What you have been told"),
            "{odd}"
        );
    }

    let changed = browser
        .get("/portal/provider?requests=bm90LWEtdG9rZW4")
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let text = visible_text(&changed.body);
    assert!(
        text.contains("That page of requests cannot be shown."),
        "{text}"
    );
    assert!(
        text.contains("What you have been told"),
        "the rest of the page: {text}"
    );
}
