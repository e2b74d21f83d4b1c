//! The portal's pages count against the person who asks for them: a page is served by
//! calling other services as the portal (which is not limited), so the page itself takes
//! from the person's rate limit, and a person over it is asked to wait while others are
//! served.

use crate::web_person::{person_token, person_with_an_approved_plan};
use crate::web_support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_person_reloading_their_page_too_fast_is_asked_to_wait_while_others_are_served() {
    let platform = Platform::start_with_environment(
        vec![sds_assessment::component(), sds_contracts::component()],
        vec![
            ("SDS_RATE_LIMIT_PER_SECOND", "1".to_owned()),
            // Enough for the authority's staff to set up two people first.
            ("SDS_RATE_LIMIT_BURST", "20".to_owned()),
        ],
    )
    .await;
    let hasty = person_with_an_approved_plan(&platform, "Isla Ross").await;
    let mut browser = Browser::signed_in(platform.web(), &person_token(&hasty)).await;

    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 0..30 {
        let page = browser.get("/portal/me").await;
        statuses.push(page.status);
        if page.status == 429 {
            refused = Some(page);
            break;
        }
    }
    // Each page takes one request of the burst of 20 (more if it also calls as the
    // person), and one a second comes back while the test runs.
    let refused = refused.unwrap_or_else(|| panic!("never asked to wait: {statuses:?}"));
    assert!(statuses.len() <= 25, "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|status| *status == 200),
        "{statuses:?}"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        visible_text(&refused.body).contains("Please wait 1 second and try again."),
        "{}",
        refused.body
    );

    // Someone else is served meanwhile (a person the platform has no record of: their page
    // says so, but it is not a request to wait).
    let patient = uuid::Uuid::now_v7().to_string();
    let mut other = Browser::signed_in(platform.web(), &person_token(&patient)).await;
    let page = other.get("/portal/me").await;
    assert_ne!(page.status, 429, "{}", page.body);
    assert!(!page.body.contains("Please slow down"), "{}", page.body);
}
