//! The person's choice of an offer: it shows the person to that provider only, closes the
//! request, says so in package.accepted, and holds neither side to terms the other did not see.

use tonic::Code;

use crate::package_scene::*;
use crate::support::*;
use sds_proto::v1 as proto;

#[tokio::test]
async fn accepting_an_offer_shows_the_person_to_that_provider_only_and_closes_the_request() {
    let scene = Scene::new().await;
    let chosen = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "245.00"),
        )
        .await
        .expect("offered");
    scene
        .answer(
            &scene.weak.1,
            offer(&scene.request, &scene.weak.0, "200.00"),
        )
        .await
        .expect("offered");
    scene
        .answer(
            &scene.ungraded.1,
            decline(&scene.request, &scene.ungraded.0),
        )
        .await
        .expect("declined");

    let accepted = scene
        .accept(&person_token(&scene.person_id), &chosen, chosen.version)
        .await
        .expect("the person accepts");
    assert_eq!(
        accepted.status,
        proto::PackageRequestStatus::Accepted as i32
    );
    assert_eq!(accepted.accepted_offer_id, chosen.id);
    assert_eq!(
        accepted.holding_model,
        proto::FundHoldingModel::Provider as i32
    );

    let events = scene.events_of("package.accepted").await;
    assert_eq!(events.len(), 1);
    let Some(proto::event::Body::PackageAccepted(body)) = &events[0].body else {
        panic!("package.accepted carries PackageAccepted: {:?}", events[0]);
    };
    assert_eq!(body.provider_id, scene.good.0.id);
    assert_eq!(body.person_id, scene.person_id);
    assert_eq!(body.plan_id, accepted.plan_id);
    assert_eq!(body.line_number, 2);
    assert_eq!(body.holding_model, proto::FundHoldingModel::Provider as i32);
    let mut closed_for = body.closed_for.clone();
    closed_for.sort();
    let mut others = vec![scene.weak.0.id.clone(), scene.ungraded.0.id.clone()];
    others.sort();
    assert_eq!(closed_for, others);

    // The chosen provider now sees who it is for; the others see only that it is accepted.
    let chosen_view = scene.get(&scene.good.1).await.expect("the chosen provider");
    assert_eq!(chosen_view.person_id, scene.person_id);
    let other_view = scene
        .get(&scene.weak.1)
        .await
        .expect("an answering provider");
    assert!(other_view.person_id.is_empty() && other_view.accepted_offer_id.is_empty());
    assert_eq!(
        other_view.status,
        proto::PackageRequestStatus::Accepted as i32
    );
    let other_answer = other_view
        .your_answer
        .expect("its own answer is shown to it");
    assert_eq!(other_answer.provider_id, scene.weak.0.id);
    let listed = scene.list(&scene.weak.1).await;
    assert!(
        listed.iter().any(|request| request.id == scene.request.id
            && request.person_id.is_empty()
            && request.your_answer.is_some()),
        "a provider still lists a request it answered, closed to it: {listed:?}"
    );
    assert!(
        scene.list(&scene.elsewhere.1).await.is_empty(),
        "a provider that neither matches nor answered lists nothing"
    );

    // No more answers; the same acceptance again changes nothing; another one is refused.
    assert_code(
        scene
            .answer(
                &scene.weak.1,
                offer(&scene.request, &scene.weak.0, "150.00"),
            )
            .await,
        Code::FailedPrecondition,
    );
    let again = scene
        .accept(&practitioner(), &chosen, 0)
        .await
        .expect("a retry is answered");
    assert_eq!(again.version, accepted.version);
    let weak_offer = scene
        .offers(&practitioner())
        .await
        .expect("listed")
        .into_iter()
        .find(|offer| offer.provider_id == scene.weak.0.id)
        .expect("the weak offer");
    let message = assert_code(
        scene.accept(&practitioner(), &weak_offer, 0).await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("already accepted"), "{message}");
    assert_eq!(scene.events_of("package.accepted").await.len(), 1);
}

#[tokio::test]
async fn an_offer_changed_after_it_was_shown_is_not_accepted_at_the_old_terms() {
    let scene = Scene::new().await;
    let first = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "230.00"),
        )
        .await
        .expect("offered");
    let same = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "230.00"),
        )
        .await
        .expect("the same offer again is answered");
    assert_eq!((same.id.as_str(), same.version), (first.id.as_str(), 1));
    let raised = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "249.00"),
        )
        .await
        .expect("the price changes");
    assert_eq!((raised.id.as_str(), raised.version), (first.id.as_str(), 2));
    assert_eq!(scene.events_of("package.offered").await.len(), 2);

    let stale = assert_code(
        scene.accept(&practitioner(), &first, 1).await,
        Code::Aborted,
    );
    assert!(stale.contains("list the offers again"), "{stale}");
    assert!(scene.events_of("package.accepted").await.is_empty());
    scene
        .accept(&practitioner(), &raised, 2)
        .await
        .expect("accepted at the terms shown");
}

#[tokio::test]
async fn acceptances_and_answers_racing_each_other_are_refused_cleanly_and_one_offer_wins() {
    let scene = Scene::new().await;
    let mut offers = Vec::new();
    for (provider, token) in [&scene.good, &scene.weak, &scene.ungraded] {
        offers.push(
            scene
                .answer(token, offer(&scene.request, provider, "230.00"))
                .await
                .expect("offered"),
        );
    }
    let person = person_token(&scene.person_id);
    let staff = practitioner();
    let mut accepting = Vec::new();
    for round in 0..6 {
        let token = if round % 2 == 0 { &person } else { &staff };
        let chosen = &offers[round % offers.len()];
        accepting.push(scene.accept(token, chosen, 0));
    }
    let answering = (0..6).map(|round| {
        scene.answer(
            &scene.weak.1,
            offer(
                &scene.request,
                &scene.weak.0,
                &format!("{}.00", 200 + round),
            ),
        )
    });
    let (accepted, answered) = tokio::join!(
        futures::future::join_all(accepting),
        futures::future::join_all(answering)
    );
    let winners: Vec<String> = accepted
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .map(|request| request.accepted_offer_id.clone())
        .collect();
    assert!(!winners.is_empty(), "{accepted:?}");
    assert!(
        winners.iter().all(|winner| *winner == winners[0]),
        "one offer wins: {winners:?}"
    );
    for result in &accepted {
        if let Err(status) = result {
            assert!(
                matches!(status.code(), Code::FailedPrecondition | Code::Aborted),
                "{status:?}"
            );
        }
    }
    for result in &answered {
        if let Err(status) = result {
            assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        }
    }
    assert_eq!(scene.events_of("package.accepted").await.len(), 1);
}
