//! The portal in a real browser (issue 11, "Quality"): headless Chromium signs in as a
//! provider, answers a request with an offer, uploads actuals with one bad row and sees its
//! error; then signs in as the person and reads their plan, statement and chart. Every page
//! is photographed into target/browser-artefacts/ and checked with axe-core, which must
//! find no serious or critical violation.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_testkit::{authority_staff, bearer, token_for};
use serde_json::json;

use crate::web_package::*;
use crate::webdriver::{Chromium, artefacts, axe_script};

/// A request in Fife the package's provider matches, as a social worker publishes it.
async fn publish_request(platform: &crate::web_support::Platform) -> String {
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    DirectoryServiceClient::new(platform.process.channel().await)
        .publish_package_request(bearer(
            &practitioner,
            proto::PublishPackageRequestRequest {
                authority: "fife".into(),
                person_id: platform.person_for_a_request("240.00").await,
                plan_id: uuid::Uuid::now_v7().to_string(),
                line_number: 1,
                content: Some(proto::PackageRequestContent {
                    needs_summary: "Company on two afternoons a week.".into(),
                    service_types: vec!["Support services".into()],
                    locality: "Fife".into(),
                    amount: Some(proto::package_request_content::Amount::WeeklyBudget(
                        proto::Money {
                            amount: "240.00".into(),
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
        .expect("the request is published")
        .into_inner()
        .id
}

/// Signs in on the sign-in page with `token`, and waits for the page that follows to say
/// `lands_on`.
async fn sign_in(browser: &Chromium, base: &str, token: &str, lands_on: &str) {
    browser.open(&format!("{base}/portal/sign-in")).await;
    browser.type_into("#token", token).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(lands_on).await;
}

/// Photographs the page as `step`, then checks it with axe-core.
async fn photograph_and_check(browser: &Chromium, axe: &str, step: &str) {
    browser.screenshot(step).await;
    let violations = browser.serious_accessibility_violations(axe).await;
    assert!(
        violations.is_empty(),
        "axe-core finds serious or critical violations on {step}:\n{}",
        violations.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_chromium_a_provider_offers_and_uploads_actuals_and_the_person_reads_their_plan_statement_and_chart()
 {
    // The browser and axe-core first: when they are missing the test fails at once, naming
    // what to install.
    let axe = axe_script();
    let browser = Chromium::start().await;
    let platform = whole_platform().await;
    let package = active_package_on_actuals(&platform).await;
    let request_id = publish_request(&platform).await;
    let base = format!("http://{}", platform.web());

    // The provider's dashboard.
    sign_in(
        &browser,
        &base,
        &package.provider_token(),
        "Your provider dashboard",
    )
    .await;
    let dashboard = browser
        .wait_for_text("Company on two afternoons a week.")
        .await;
    assert!(dashboard.contains("Your active packages"), "{dashboard}");
    photograph_and_check(&browser, &axe, "01-provider-dashboard").await;

    // An offer through the form, as a provider's office types it.
    browser
        .type_into(&format!("[id=\"price-{request_id}\"]"), "230.00")
        .await;
    // A date input takes typed digits in the browser's locale; the value is set as the
    // form sends it (ISO), so the test does not depend on the machine's language.
    browser
        .execute(
            "document.getElementById(arguments[0]).value = '2026-12-14';",
            json!([format!("start-{request_id}")]),
        )
        .await;
    browser
        .type_into(
            &format!("[id=\"note-{request_id}\"]"),
            "Two regular carers.",
        )
        .await;
    browser
        .click(&format!(
            "article[aria-labelledby=\"request-{request_id}\"] button[type=submit]"
        ))
        .await;
    let offered = browser.wait_for_text("Your answer was sent.").await;
    assert!(
        offered.contains("You offered £230.00 a week, starting 14 December 2026."),
        "{offered}"
    );
    assert!(browser.url().await.ends_with("/portal/provider?sent=1"));
    browser.screenshot("02-offer-sent").await;

    // A file of actuals with one bad row, chosen in the file input.
    let id = &package.agreement_id;
    let file = artefacts().join("actuals-with-a-bad-row.csv");
    std::fs::write(
        &file,
        format!(
            "agreement_id,period_start,plan_line,amount\n{id},2026-10-01,1,850.00\n{id},2026-11-01,1,12;50\n"
        ),
    )
    .expect("write the file to upload");
    browser
        .type_into("#actuals-file", &file.display().to_string())
        .await;
    browser
        .click("form[action=\"/portal/provider/actuals/upload\"] button[type=submit]")
        .await;
    let uploaded = browser.wait_for_text("What your file recorded").await;
    assert!(
        uploaded.contains("Your file had 2 rows. We recorded 1 report. 1 row was not recorded."),
        "{uploaded}"
    );
    assert!(
        uploaded.contains("In the amount column: \"12;50\" is not an amount"),
        "{uploaded}"
    );
    photograph_and_check(&browser, &axe, "03-actuals-uploaded").await;

    // Signed out, then in as the person.
    browser.click("form.sign-out button[type=submit]").await;
    browser.wait_for_text("Your sign-in token").await;
    sign_in(
        &browser,
        &base,
        &package.person_token(),
        "Your support and your money",
    )
    .await;
    let page = browser.wait_for_text("How your money was spent").await;
    for expected in [
        "Hello, Morag Innes.",
        "Your plan starts on 1 October 2026.",
        "Your budget is £235.00 a week.",
        "Your plan costs £210.00 a week.",
        "Your agreement starts on 1 October 2026.",
        "This shows your budget and what was spent each month.",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let bars = browser
        .execute(
            "return document.querySelectorAll('figure svg rect').length;",
            json!([]),
        )
        .await;
    assert!(
        bars.as_u64().unwrap_or_default() >= 2,
        "the chart draws bars: {bars}"
    );
    assert!(page.contains("Budget and spend by month"), "{page}");
    photograph_and_check(&browser, &axe, "04-person-page").await;
    browser.screenshot_of("figure", "05-person-chart").await;
}
