//! Who may subscribe, and which cursors are refused. A refusal comes before anything is
//! sent and writes nothing.

use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn a_cursor_that_is_not_a_notification_number_or_is_beyond_the_latest_is_refused_naming_after()
 {
    let app = TestApp::spawn().await;
    let deeside = new_id();
    let token = provider(&deeside);
    let before = app.row_counts().await;
    let cases = [
        ("1", "your latest notification is 0"),
        ("-1", "is not a notification number"),
        ("abc", "is not a notification number"),
        ("4.0", "is not a notification number"),
        (" 2", "is not a notification number"),
        ("1e3", "is not a notification number"),
        ("99999999999999999999", "is not a notification number"),
    ];
    for (after, words) in cases {
        let status = app.subscribe(&token, after).await.expect_err(after);
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{after}: {}",
            status.message()
        );
        assert!(
            status.message().starts_with("after ") && status.message().contains(words),
            "{after}: {}",
            status.message()
        );
    }
    assert_eq!(app.row_counts().await, before, "a refusal writes nothing");

    app.deliver(&remittance(&deeside, "R000000001", "10.00"))
        .await;
    let status = app
        .subscribe(&token, "2")
        .await
        .expect_err("beyond the latest");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("is 2, but your latest notification is 1"),
        "{}",
        status.message()
    );
    let mut up_to_date = app
        .subscribe(&token, "1")
        .await
        .expect("the latest is a cursor");
    app.publish(&remittance(&deeside, "R000000002", "10.00"), None)
        .await;
    assert_eq!(next(&mut up_to_date).await.seq, 2);
}

#[tokio::test]
async fn only_a_provider_or_a_holder_subscribes_and_a_call_without_a_valid_token_is_unauthenticated()
 {
    let app = TestApp::spawn().await;
    let refused = [
        (commissioning(AUTHORITY), "kind authority"),
        (person(&new_id()), "kind person"),
        (provider("deeside-care"), "not a UUID"),
    ];
    for (token, words) in refused {
        let status = app.subscribe(&token, "").await.expect_err(words);
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{}",
            status.message()
        );
        assert!(status.message().contains(words), "{}", status.message());
    }

    let mut anonymous = app.client_without_token();
    let status = anonymous
        .subscribe(sds_proto::v1::SubscribeRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    let expired = sds_testkit::expired_token(&sds_testkit::provider_org(&new_id()));
    let status = app.subscribe(&expired, "").await.expect_err("expired");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(app.row_counts().await, (0, 0));

    // A holder is a subscriber of its own.
    let holder_id = new_id();
    let mut stream = app.subscribe(&holder(&holder_id), "").await.unwrap();
    app.publish(
        &event(
            AUTHORITY,
            "R000000007",
            1,
            sds_proto::v1::event::Body::RemittanceIssued(sds_proto::v1::RemittanceIssued {
                number: "R000000007".into(),
                run_id: new_id(),
                run_date: date("2026-11-30"),
                payee_kind: sds_proto::v1::PayeeKind::Holder as i32,
                payee_id: holder_id.clone(),
                items: 1,
                total: money("375.00"),
            }),
        ),
        None,
    )
    .await;
    assert_eq!(
        remittance_number(&next(&mut stream).await),
        Some("R000000007")
    );
}
