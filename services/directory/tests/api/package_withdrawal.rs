//! The authority withdraws a package request: closed to answers and to acceptance, the
//! providers that answered named in package.withdrawn once, the line free for a new request;
//! nobody else may, and an accepted request stays accepted.

use sds_platform::Role;
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::package_scene::*;
use sds_proto::v1 as proto;

#[tokio::test]
async fn a_withdrawn_request_takes_no_answers_or_acceptance_names_who_answered_once_and_frees_its_line()
 {
    let scene = Scene::new().await;
    let offered = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "245.00"),
        )
        .await
        .expect("offered");
    scene
        .answer(&scene.weak.1, decline(&scene.request, &scene.weak.0))
        .await
        .expect("declined");

    let withdrawn = scene.withdraw(&practitioner()).await.expect("withdrawn");
    assert_eq!(withdrawn.status, proto::PackageRequestStatus::Closed as i32);

    let events = scene.events_of("package.withdrawn").await;
    assert_eq!(events.len(), 1);
    let Some(proto::event::Body::PackageWithdrawn(body)) = &events[0].body else {
        panic!(
            "package.withdrawn carries PackageWithdrawn: {:?}",
            events[0]
        );
    };
    assert_eq!(body.request_id, scene.request.id);
    let mut answered = body.closed_for.clone();
    answered.sort();
    let mut expected = vec![scene.good.0.id.clone(), scene.weak.0.id.clone()];
    expected.sort();
    assert_eq!(answered, expected);
    let content = body.content.as_ref().expect("the anonymised content");
    assert_eq!(
        content.locality,
        scene.request.content.as_ref().unwrap().locality
    );
    assert!(
        !format!("{body:?}").contains(&scene.person_id),
        "the event does not say who the request was for"
    );

    // A provider that answered may not change its answer; one that had not is no longer
    // shown the request at all.
    let changed = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "230.00"),
        )
        .await
        .expect_err("no answers after withdrawal");
    assert_eq!(changed.code(), Code::FailedPrecondition, "{changed:?}");
    let late = scene
        .answer(
            &scene.ungraded.1,
            offer(&scene.request, &scene.ungraded.0, "230.00"),
        )
        .await
        .expect_err("no answers after withdrawal");
    assert_eq!(late.code(), Code::NotFound, "{late:?}");
    assert!(
        scene
            .list(&scene.ungraded.1)
            .await
            .iter()
            .all(|shown| shown.id != scene.request.id)
    );
    let accepting = scene
        .accept(&person_token(&scene.person_id), &offered, offered.version)
        .await
        .expect_err("no acceptance after withdrawal");
    assert_eq!(accepting.code(), Code::FailedPrecondition, "{accepting:?}");
    assert!(
        accepting.message().contains("closed by the authority"),
        "{}",
        accepting.message()
    );

    // Withdrawing again changes nothing and tells no one again.
    let again = scene.withdraw(&practitioner()).await.expect("a retry");
    assert_eq!(again.status, proto::PackageRequestStatus::Closed as i32);
    assert_eq!(again.version, withdrawn.version);
    assert_eq!(scene.events_of("package.withdrawn").await.len(), 1);

    // The person's line can be asked for again.
    scene
        .app
        .client()
        .publish_package_request(bearer(&practitioner(), request_for(&scene.person_id)))
        .await
        .expect("a new request for the same line");
}

#[tokio::test]
async fn only_the_authoritys_publishing_staff_may_withdraw_a_request_and_a_refusal_changes_nothing()
{
    let scene = Scene::new().await;
    let other_authority = sds_testkit::token_for(&sds_testkit::authority_staff(
        "moray",
        &[Role::Practitioner],
    ));
    let finance_only = sds_testkit::token_for(&sds_testkit::authority_staff(
        "aberdeenshire",
        &[Role::Finance],
    ));
    let cases: [(&str, String, Code); 4] = [
        (
            "a provider it was shown to",
            scene.good.1.clone(),
            Code::PermissionDenied,
        ),
        (
            "the person it is for",
            person_token(&scene.person_id),
            Code::PermissionDenied,
        ),
        (
            "staff of another authority",
            other_authority,
            Code::NotFound,
        ),
        (
            "finance staff of the authority",
            finance_only,
            Code::PermissionDenied,
        ),
    ];
    for (who, token, code) in cases {
        let refused = scene.withdraw(&token).await.expect_err(who);
        assert_eq!(refused.code(), code, "{who}: {refused:?}");
    }
    let malformed = scene
        .app
        .client()
        .withdraw_package_request(bearer(
            &practitioner(),
            proto::WithdrawPackageRequestRequest {
                request_id: "not-an-id".to_owned(),
            },
        ))
        .await
        .expect_err("a malformed id");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(
        malformed.message().contains("request_id"),
        "{}",
        malformed.message()
    );
    let unknown = scene
        .app
        .client()
        .withdraw_package_request(bearer(
            &practitioner(),
            proto::WithdrawPackageRequestRequest {
                request_id: Uuid::now_v7().to_string(),
            },
        ))
        .await
        .expect_err("an unknown request");
    assert_eq!(unknown.code(), Code::NotFound);

    let still = scene.get(&practitioner()).await.expect("still there");
    assert_eq!(still.status, proto::PackageRequestStatus::Open as i32);
    assert_eq!(still.version, scene.request.version);
    assert!(scene.events_of("package.withdrawn").await.is_empty());
}

#[tokio::test]
async fn an_accepted_request_cannot_be_withdrawn_its_choice_is_changed_by_varying_the_plan() {
    let scene = Scene::new().await;
    let offered = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "245.00"),
        )
        .await
        .expect("offered");
    scene
        .accept(&person_token(&scene.person_id), &offered, offered.version)
        .await
        .expect("accepted");

    let refused = scene.withdraw(&practitioner()).await.expect_err("accepted");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("varying the plan"),
        "{}",
        refused.message()
    );
    let still = scene.get(&practitioner()).await.expect("still there");
    assert_eq!(still.status, proto::PackageRequestStatus::Accepted as i32);
    assert!(scene.events_of("package.withdrawn").await.is_empty());
}
