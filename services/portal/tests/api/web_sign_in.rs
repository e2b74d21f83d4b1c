//! Sign-in by token on the web pages: tokens verified exactly as gRPC verifies them, kept in
//! a strict cookie, forms protected against cross-site requests, and each provider shown
//! only its own dashboard.

use std::time::Duration;

use sds_platform::TokenIssuer;
use sds_proto::v1::CareServiceStatus;
use sds_testkit::{expired_token, http_get, provider_org};

use crate::support::*;
use crate::web_support::*;

#[tokio::test]
async fn a_good_token_signs_in_with_a_strict_http_only_cookie_and_opens_the_providers_own_dashboard()
 {
    let app = TestApp::spawn().await;
    let provider_id = new_id();
    let mut browser = Browser::new(app.web);

    let answer = browser.sign_in(&provider(&provider_id)).await;

    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location"), Some("/portal/provider"));
    let session_cookie = answer
        .headers
        .iter()
        .find(|(name, value)| name == "set-cookie" && value.starts_with("sds_session="))
        .map(|(_, value)| value.clone())
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(
        session_cookie.contains("SameSite=Strict"),
        "{session_cookie}"
    );
    assert!(session_cookie.contains("Path=/portal"), "{session_cookie}");
    let dashboard = browser.get("/portal/provider").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(dashboard.body.contains("<h1>Your provider dashboard</h1>"));
    assert_eq!(
        dashboard
            .header("content-security-policy")
            .map(|policy| policy.contains("default-src 'none'")),
        Some(true)
    );
    let by_id = browser
        .get(&format!("/portal/providers/{}", provider_id.to_uppercase()))
        .await;
    assert_eq!(by_id.status, 200, "its own dashboard by id, in any case");
}

#[tokio::test]
async fn bad_expired_and_foreign_tokens_are_refused_with_the_reason_and_no_session_cookie() {
    let app = TestApp::spawn().await;
    let foreign = TokenIssuer::shared_secret("another-secret-that-is-at-least-32-bytes-long")
        .issue(&provider_org(&new_id()), Duration::from_secs(600))
        .unwrap();
    for (token, reason) in [
        ("not-a-token", "malformed"),
        ("<script>alert(1)</script>", "not a sign-in token"),
        (foreign.as_str(), "signature is not valid"),
        (&expired_token(&provider_org(&new_id())), "expired"),
        ("", "Paste your sign-in token"),
    ] {
        let mut browser = Browser::new(app.web);
        let answer = browser.sign_in(token).await;
        assert_eq!(answer.status, 401, "{token}: {}", answer.body);
        assert!(answer.body.contains(reason), "{token}: {}", answer.body);
        assert!(
            !answer.body.contains("<script>"),
            "the token is never echoed as markup"
        );
        assert!(!browser.cookies.contains_key("sds_session"), "{token}");
        assert_eq!(browser.get("/portal/provider").await.status, 303);
    }
}

#[tokio::test]
async fn authority_staff_and_holders_are_told_the_pages_are_for_providers_and_people() {
    let app = TestApp::spawn().await;
    for token in [commissioning(AUTHORITY), holder(&new_id())] {
        let mut browser = Browser::new(app.web);
        let answer = browser.sign_in(&token).await;
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert!(
            answer
                .body
                .contains("for providers and for the people they support")
        );
        assert!(!browser.cookies.contains_key("sds_session"));
    }
}

#[tokio::test]
async fn a_provider_cannot_open_another_providers_dashboard_and_a_person_cannot_open_any() {
    let app = TestApp::spawn().await;
    let (own, other) = (new_id(), new_id());
    let mut provider_browser = Browser::signed_in(app.web, &provider(&own)).await;

    let refused = provider_browser
        .get(&format!("/portal/providers/{other}"))
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("another provider&#39;s dashboard"),
        "{}",
        refused.body
    );
    assert_eq!(
        provider_browser
            .get("/portal/providers/not-a-uuid")
            .await
            .status,
        403
    );

    let mut person_browser = Browser::signed_in(app.web, &person(&new_id())).await;
    for path in [
        "/portal/provider".to_owned(),
        format!("/portal/providers/{own}"),
    ] {
        let refused = person_browser.get(&path).await;
        assert_eq!(refused.status, 403, "{path}");
        assert!(
            refused.body.contains("only for providers"),
            "{}",
            refused.body
        );
    }
}

#[tokio::test]
async fn pages_send_a_browser_without_a_session_to_sign_in_and_forget_an_expired_one() {
    let app = TestApp::spawn().await;
    let answer = http_get(app.web, "/portal/provider").await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/portal/sign-in"));
    assert_eq!(
        http_get(app.web, "/portal").await.header("location"),
        Some("/portal/sign-in")
    );

    let mut browser = Browser::new(app.web);
    browser.cookies.insert(
        "sds_session".into(),
        expired_token(&provider_org(&new_id())),
    );
    let answer = browser.get("/portal/provider").await;
    assert_eq!(answer.status, 303);
    assert!(
        !browser.cookies.contains_key("sds_session"),
        "the expired token is forgotten"
    );
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let token = provider(&new_id());

    // Sign-in without the token the sign-in page set.
    let mut stranger = Browser::new(app.web);
    let answer = stranger
        .post("/portal/sign-in", &[("token", &token), ("csrf", "guessed")])
        .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("This form has expired"));
    assert!(!stranger.cookies.contains_key("sds_session"));

    // Sign-out with a wrong token leaves the session as it was.
    let mut browser = Browser::signed_in(app.web, &token).await;
    let before = browser.csrf_of("/portal/provider").await;
    let answer = browser.post("/portal/sign-out", &[("csrf", "x")]).await;
    assert_eq!(answer.status, 403);
    assert_eq!(browser.get("/portal/provider").await.status, 200);

    // Each sign-in has a CSRF token of its own.
    let mut again = Browser::signed_in(app.web, &token).await;
    assert_ne!(again.csrf_of("/portal/provider").await, before);
}

#[tokio::test]
async fn signing_out_forgets_the_session() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::signed_in(app.web, &provider(&new_id())).await;
    let csrf = browser.csrf_of("/portal/provider").await;

    let answer = browser.post("/portal/sign-out", &[("csrf", &csrf)]).await;

    assert_eq!(answer.status, 303);
    assert_eq!(answer.header("location"), Some("/portal/sign-in"));
    assert!(!browser.cookies.contains_key("sds_session"));
    assert_eq!(browser.get("/portal/provider").await.status, 303);
}

#[tokio::test]
async fn the_dashboard_lists_the_providers_notifications_in_words_with_hostile_text_escaped() {
    let app = TestApp::spawn().await;
    let (own, other) = (new_id(), new_id());
    let hostile = "<script>alert('x')</script>";
    for id in [&own, &other] {
        app.deliver(&provider_published(
            id,
            1,
            &["Care at home"],
            &[hostile],
            CareServiceStatus::Active,
        ))
        .await;
    }
    let request_id = new_id();
    app.deliver(&package_requested(&request_id, hostile, &["Care at home"]))
        .await;
    app.deliver(&remittance(&own, "R-<b>1</b>", "1540.00"))
        .await;
    let mut browser = Browser::signed_in(app.web, &provider(&own)).await;

    let page = browser.get("/portal/provider").await;

    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert!(!page.body.contains("<b>1</b>"), "{}", page.body);
    assert!(
        page.body
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
    );
    let text = visible_text(&page.body);
    assert!(
        text.contains("Remittance R-<b>1</b> for £1,540.00 was issued on 30 November 2026"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "New request {}",
            &request_id.replace('-', "")[24..]
        )),
        "{text}"
    );
    assert!(
        text.contains("£240.00 a week, starting 4 January 2027. Offers close on 18 December 2026."),
        "{text}"
    );
}
