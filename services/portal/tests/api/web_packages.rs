//! The provider dashboard's active packages, upcoming payments and remittances: read as the
//! provider from contracts and payments, free of the person, and shown to that provider
//! alone.

use std::time::Duration;

use sds_testkit::{provider_org, token_for, wait_until};

use crate::web_package::*;
use crate::web_support::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_shows_the_providers_active_package_its_next_payment_and_its_remittance_without_the_person()
 {
    let platform = whole_platform().await;
    let package = active_package_on_actuals(&platform).await;
    let short = &package.agreement_id.replace('-', "")[24..];
    let mut browser = Browser::signed_in(platform.web(), &package.provider_token()).await;

    // The remittance reaches the portal's store by event after the run.
    let dashboard = wait_until(
        Duration::from_secs(30),
        "the dashboard lists the remittance",
        || {
            let mut browser = Browser {
                web: browser.web,
                cookies: browser.cookies.clone(),
            };
            async move {
                let page = browser.get("/portal/provider").await;
                page.body.contains("<h3 id=\"remittance-").then_some(page)
            }
        },
    )
    .await;

    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    let text = visible_text(&dashboard.body);
    assert!(
        text.contains(&format!(
            "{short} fife Line 1: personal care, £210.00 a week 1 October 2026 £210.00 every month in arrears, on what you report you delivered"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Agreement {short}: £930.00 on 14 January 2027, for 1 December 2026 to 31 December 2026."
        )),
        "{text}"
    );
    assert!(
        text.contains("Remittance R000000001 Issued on 14 December 2026 for £1,830.00."),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{short} 1 November 2026 to 30 November 2026 £930.00 £1,830.00"
        )),
        "the remittance's line, October's 930.00 paid with November: {text}"
    );
    assert!(
        dashboard
            .body
            .contains(&format!("value=\"{}\"", package.agreement_id)),
        "the report form names the agreement"
    );
    for personal in [PERSON_NAME, &package.person_id, "Kirkcaldy", "1944"] {
        assert!(
            !dashboard.body.contains(personal),
            "the dashboard shows nothing of the person ({personal})"
        );
    }
    let again = browser.get("/portal/provider").await;
    assert_eq!(again.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_provider_sees_none_of_the_package_its_payments_or_its_remittance() {
    let platform = whole_platform().await;
    let package = active_package_on_actuals(&platform).await;
    let other = uuid::Uuid::now_v7().to_string();
    let mut browser = Browser::signed_in(platform.web(), &token_for(&provider_org(&other))).await;

    let dashboard = browser.get("/portal/provider").await;

    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    let text = visible_text(&dashboard.body);
    assert!(text.contains("You have no active packages."), "{text}");
    assert!(text.contains("No payments are due to you."), "{text}");
    assert!(text.contains("No remittances yet."), "{text}");
    assert!(
        text.contains("None of your active packages is paid on what you deliver."),
        "{text}"
    );
    assert!(!dashboard.body.contains(&package.agreement_id));
    let theirs = browser
        .get(&format!("/portal/providers/{}", package.provider_id))
        .await;
    assert_eq!(theirs.status, 403);
}
