//! Package requests reach the providers they match, by the portal's own copy of the
//! directory; answers and choices reach the providers concerned, and nobody else.

use sds_proto::v1::{self as proto, CareServiceStatus};

use crate::support::*;

/// The request a notification carries, if it is one.
fn requested(notification: &proto::Notification) -> Option<&proto::PackageRequestedNotice> {
    match &notification.body {
        Some(proto::notification::Body::PackageRequested(requested)) => Some(requested),
        _ => None,
    }
}

#[tokio::test]
async fn a_package_request_reaches_only_the_active_providers_working_there_in_one_of_its_service_types_ignoring_case()
 {
    let app = TestApp::spawn().await;
    let (matching, shouting, elsewhere, inactive, other_service) =
        (new_id(), new_id(), new_id(), new_id(), new_id());
    let active = CareServiceStatus::Active;
    for published in [
        provider_published(
            &matching,
            1,
            &["Care at home"],
            &["Banchory", "Aboyne"],
            active,
        ),
        provider_published(
            &shouting,
            1,
            &["Day support", "CARE AT HOME"],
            &["BANCHORY"],
            active,
        ),
        provider_published(&elsewhere, 1, &["Care at home"], &["Peterhead"], active),
        provider_published(
            &inactive,
            1,
            &["Care at home"],
            &["Banchory"],
            CareServiceStatus::Inactive,
        ),
        provider_published(
            &other_service,
            1,
            &["Housing support"],
            &["Banchory"],
            active,
        ),
    ] {
        app.deliver(&published).await;
    }
    let mut watching = app.subscribe(&provider(&matching), "").await.unwrap();
    let mut not_matching = app.subscribe(&provider(&elsewhere), "").await.unwrap();

    let request_id = new_id();
    app.deliver(&package_requested(
        &request_id,
        "banchory",
        &["care at home", "Respite"],
    ))
    .await;

    let told = next(&mut watching).await;
    assert_eq!(told.seq, 1);
    assert_eq!(told.kind, proto::NotificationKind::PackageRequested as i32);
    let body = requested(&told).expect("a package request");
    assert_eq!(body.request_id, request_id);
    let content = body.content.as_ref().unwrap();
    assert_eq!(content.locality, "banchory");
    assert_eq!(
        content.needs_summary,
        "Help to get up and dressed each morning"
    );
    assert_eq!(
        content.amount,
        Some(proto::package_request_content::Amount::WeeklyBudget(
            proto::Money {
                amount: "240.00".into()
            }
        ))
    );
    assert_eq!(app.kept_for(&shouting).await, 1);
    for left_out in [&elsewhere, &inactive, &other_service] {
        assert_eq!(app.kept_for(left_out).await, 0);
    }
    // The provider elsewhere is not sent the request: its first notification is its own.
    app.publish(&remittance(&elsewhere, "R000000001", "10.00"), None)
        .await;
    let own = next(&mut not_matching).await;
    assert_eq!((own.seq, remittance_number(&own)), (1, Some("R000000001")));
}

#[tokio::test]
async fn a_provider_that_moved_away_is_no_longer_sent_requests_and_an_older_event_does_not_bring_it_back()
 {
    let app = TestApp::spawn().await;
    let mover = new_id();
    let active = CareServiceStatus::Active;
    app.deliver(&provider_published(
        &mover,
        2,
        &["Care at home"],
        &["Huntly"],
        active,
    ))
    .await;
    // Version 1 arrives late (a redelivery after a retry): it changes nothing.
    app.deliver(&provider_published(
        &mover,
        1,
        &["Care at home"],
        &["Banchory"],
        active,
    ))
    .await;
    app.deliver(&package_requested(&new_id(), "Banchory", &["Care at home"]))
        .await;
    assert_eq!(app.kept_for(&mover).await, 0);
    app.deliver(&package_requested(&new_id(), "Huntly", &["Care at home"]))
        .await;
    assert_eq!(app.kept_for(&mover).await, 1);
}

#[tokio::test]
async fn an_accepted_offer_tells_the_chosen_provider_and_holder_who_it_is_for_and_the_others_only_that_the_request_closed()
 {
    let app = TestApp::spawn().await;
    let (chosen, passed_over, bystander, holder_id) = (new_id(), new_id(), new_id(), new_id());
    let (request_id, offer_id, person_id, plan_id) = (new_id(), new_id(), new_id(), new_id());
    let offered = event(
        AUTHORITY,
        &request_id,
        2,
        proto::event::Body::PackageOffered(proto::PackageOffered {
            request_id: request_id.clone(),
            offer_id: offer_id.clone(),
            provider_id: chosen.clone(),
            kind: proto::PackageResponseKind::Offer as i32,
        }),
    );
    app.deliver(&offered).await;
    let accepted = event(
        AUTHORITY,
        &request_id,
        3,
        proto::event::Body::PackageAccepted(proto::PackageAccepted {
            request_id: request_id.clone(),
            offer_id: offer_id.clone(),
            provider_id: chosen.clone(),
            person_id: person_id.clone(),
            plan_id: plan_id.clone(),
            line_number: 2,
            closed_for: vec![passed_over.clone()],
            holding_model: proto::FundHoldingModel::ThirdParty as i32,
            holder: holder_id.clone(),
        }),
    );
    app.deliver(&accepted).await;

    let mut chosen_stream = app.subscribe(&provider(&chosen), "").await.unwrap();
    let [answered, accepted] =
        <[proto::Notification; 2]>::try_from(next_n(&mut chosen_stream, 2).await).unwrap();
    assert_eq!(
        answered.body,
        Some(proto::notification::Body::PackageAnswered(
            proto::PackageAnsweredNotice {
                request_id: request_id.clone(),
                offer_id: offer_id.clone(),
                kind: proto::PackageResponseKind::Offer as i32,
            }
        ))
    );
    assert_eq!(
        accepted.body,
        Some(proto::notification::Body::OfferAccepted(
            proto::OfferAcceptedNotice {
                request_id: request_id.clone(),
                offer_id,
                person_id: person_id.clone(),
                plan_id,
                line_number: 2,
            }
        ))
    );

    let mut passed_over_stream = app.subscribe(&provider(&passed_over), "").await.unwrap();
    let closed = next(&mut passed_over_stream).await;
    assert_eq!(closed.kind, proto::NotificationKind::RequestClosed as i32);
    assert_eq!(
        closed.body,
        Some(proto::notification::Body::RequestClosed(
            proto::RequestClosedNotice { request_id }
        ))
    );
    // The holder the person chose hears of the choice too.
    let mut holder_stream = app.subscribe(&holder(&holder_id), "").await.unwrap();
    assert_eq!(
        next(&mut holder_stream).await.kind,
        proto::NotificationKind::OfferAccepted as i32
    );
    // Only the chosen provider's and the holder's notifications name the person.
    let naming_the_person: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification WHERE body::text LIKE '%' || $1 || '%'",
    )
    .bind(&person_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(naming_the_person, 2);
    assert_eq!(app.kept_for(&bystander).await, 0);
}

#[tokio::test]
async fn a_withdrawn_request_is_closed_for_the_providers_it_was_shown_to_and_those_that_answered_once_each()
 {
    let app = TestApp::spawn().await;
    let (shown, shown_and_answered, answered_elsewhere, bystander) =
        (new_id(), new_id(), new_id(), new_id());
    let active = CareServiceStatus::Active;
    for published in [
        provider_published(&shown, 1, &["Care at home"], &["Banchory"], active),
        provider_published(
            &shown_and_answered,
            1,
            &["Care at home"],
            &["Banchory"],
            active,
        ),
        // It answered while it still worked there; it has moved away since.
        provider_published(
            &answered_elsewhere,
            1,
            &["Care at home"],
            &["Peterhead"],
            active,
        ),
        provider_published(&bystander, 1, &["Housing support"], &["Banchory"], active),
    ] {
        app.deliver(&published).await;
    }
    let request_id = new_id();
    let requested = package_requested(&request_id, "Banchory", &["Care at home"]);
    let content = match &requested.body {
        Some(proto::event::Body::PackageRequested(requested)) => requested.content.clone(),
        _ => None,
    };
    let withdrawn = event(
        AUTHORITY,
        &request_id,
        3,
        proto::event::Body::PackageWithdrawn(proto::PackageWithdrawn {
            request_id: request_id.clone(),
            content,
            closed_for: vec![shown_and_answered.clone(), answered_elsewhere.clone()],
        }),
    );
    app.deliver(&withdrawn).await;
    // A redelivery tells no one again.
    app.deliver(&withdrawn).await;

    let closed = Some(proto::notification::Body::RequestClosed(
        proto::RequestClosedNotice {
            request_id: request_id.clone(),
        },
    ));
    for told in [&shown, &shown_and_answered, &answered_elsewhere] {
        let mut stream = app.subscribe(&provider(told), "").await.unwrap();
        let notification = next(&mut stream).await;
        assert_eq!(notification.seq, 1);
        assert_eq!(notification.body, closed);
        assert_eq!(app.kept_for(told).await, 1, "told once");
    }
    assert_eq!(app.kept_for(&bystander).await, 0);
}
