//! Answers to package requests: providers see the requests they match without who they are
//! for, and offer or decline; the authority and the person see the offers ranked by quality
//! before price; bad answers and callers are refused and write nothing.

use sds_platform::Role;
use sds_testkit::bearer;
use tonic::Code;
use uuid::Uuid;

use crate::package_scene::*;
use crate::support::*;
use sds_proto::v1 as proto;

#[tokio::test]
async fn providers_see_the_requests_they_match_without_who_they_are_for() {
    let scene = Scene::new().await;
    let seen = scene.list(&scene.good.1).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].id, scene.request.id);
    assert_eq!(seen[0].content, scene.request.content);
    assert!(seen[0].person_id.is_empty() && seen[0].plan_id.is_empty() && seen[0].line_number == 0);
    let got = scene
        .get(&scene.good.1)
        .await
        .expect("a matching provider reads it");
    assert!(got.person_id.is_empty(), "{got:?}");
    assert_eq!(
        got.version, 0,
        "a provider is not told how often the request changed"
    );

    // Another area's provider is shown nothing, and cannot tell the request exists.
    assert!(scene.list(&scene.elsewhere.1).await.is_empty());
    assert_code(scene.get(&scene.elsewhere.1).await, Code::NotFound);
    assert_code(scene.get(&holder_token()).await, Code::PermissionDenied);

    // The authority and the person see who it is for.
    let staff_view = scene.list(&practitioner()).await;
    assert_eq!(staff_view.len(), 1);
    assert_eq!(staff_view[0].person_id, scene.person_id);
    let own = scene
        .get(&person_token(&scene.person_id))
        .await
        .expect("the person reads it");
    assert_eq!(own.person_id, scene.person_id);
    assert_code(
        scene.get(&person_token(&Uuid::now_v7().to_string())).await,
        Code::NotFound,
    );
    assert!(
        scene
            .list(&sds_testkit::token_for(&sds_testkit::authority_staff(
                "moray",
                &[Role::Practitioner]
            )))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn offers_are_ranked_by_quality_before_price_and_declines_come_last() {
    let scene = Scene::new().await;
    let good = scene
        .answer(
            &scene.good.1,
            offer(&scene.request, &scene.good.0, "260.00"),
        )
        .await
        .expect("the good provider offers above budget");
    let weak = scene
        .answer(
            &scene.weak.1,
            offer(&scene.request, &scene.weak.0, "180.00"),
        )
        .await
        .expect("the weak provider offers cheaply");
    let ungraded = scene
        .answer(
            &scene.ungraded.1,
            offer(&scene.request, &scene.ungraded.0, "240.00"),
        )
        .await
        .expect("the ungraded provider offers within budget");
    assert_eq!(good.version, 1);
    assert_eq!(good.weekly_cost, Some(money("260.00")));
    assert!(good.over_budget);
    assert!(!weak.over_budget);
    let declined = scene
        .answer(
            &scene.elsewhere.1,
            decline(&scene.request, &scene.elsewhere.0),
        )
        .await;
    assert_code(declined, Code::NotFound);

    let ranked = scene
        .offers(&practitioner())
        .await
        .expect("staff see the offers");
    let order: Vec<(&str, u32)> = ranked
        .iter()
        .map(|offer| (offer.provider_name.as_str(), offer.rank))
        .collect();
    assert_eq!(
        order,
        vec![
            ("Garioch Day Opportunities", 1),
            ("Huntly Art Club", 2),
            ("Budget Day Care", 3)
        ],
        "a very good service first even above budget, the ungraded one next, the weak one last although cheapest"
    );
    assert_eq!(ranked[0].min_grade, 5);
    assert!(ranked[0].checks_in_date);
    assert_eq!(ranked[0].service_types_covered, 1);
    assert_eq!(ranked[2].id, weak.id);
    assert_eq!(ranked[1].id, ungraded.id);
    assert_eq!(
        scene
            .offers(&person_token(&scene.person_id))
            .await
            .expect("the person sees them"),
        ranked
    );
    assert_code(scene.offers(&scene.good.1).await, Code::NotFound);

    // A decline is listed after the offers, unranked.
    scene
        .answer(&scene.weak.1, decline(&scene.request, &scene.weak.0))
        .await
        .expect("the weak provider changes its mind");
    let ranked = scene.offers(&practitioner()).await.expect("listed");
    let last = ranked.last().expect("three answers");
    assert_eq!(
        (
            last.provider_name.as_str(),
            last.rank,
            last.kind,
            last.version
        ),
        (
            "Budget Day Care",
            0,
            proto::PackageResponseKind::Decline as i32,
            2
        )
    );

    let offered = scene.events_of("package.offered").await;
    let versions: Vec<u64> = offered
        .iter()
        .map(|event| event.aggregate_version)
        .collect();
    assert_eq!(
        versions,
        vec![2, 3, 4, 5],
        "each answer is the request's next version"
    );
    let payload = format!("{offered:?}");
    assert!(!payload.contains(&scene.person_id), "{payload}");
}

#[tokio::test]
async fn bad_answers_and_callers_are_refused_and_write_nothing() {
    let scene = Scene::new().await;
    let base = offer(&scene.request, &scene.good.0, "230.00");
    let with = |change: fn(&mut proto::RespondToPackageRequestRequest)| {
        let mut answer = base.clone();
        change(&mut answer);
        answer
    };
    let cases: Vec<(&str, proto::RespondToPackageRequestRequest)> = vec![
        (
            "request_id is \"nope\"",
            with(|a| a.request_id = "nope".to_owned()),
        ),
        ("provider_id", with(|a| a.provider_id = String::new())),
        ("kind is unspecified", with(|a| a.kind = 0)),
        ("kind", with(|a| a.kind = 9)),
        (
            "price must be one of weekly_price or hourly_rate",
            with(|a| a.price = None),
        ),
        (
            "hourly_rate is given, but the request asks for a weekly budget",
            with(|a| {
                a.price = Some(
                    proto::respond_to_package_request_request::Price::HourlyRate(money("21.50")),
                )
            }),
        ),
        (
            "weekly_price",
            with(|a| {
                a.price = Some(
                    proto::respond_to_package_request_request::Price::WeeklyPrice(money("1e3")),
                )
            }),
        ),
        (
            "weekly_price is 0.00",
            with(|a| {
                a.price =
                    Some(proto::respond_to_package_request_request::Price::WeeklyPrice(money("0")))
            }),
        ),
        (
            "earliest_start is missing",
            with(|a| a.earliest_start = None),
        ),
        (
            "earliest_start is",
            with(|a| a.earliest_start = days_from_today(-1)),
        ),
        (
            "note is 1001 characters long",
            with(|a| a.note = "a".repeat(1001)),
        ),
        (
            "note holds what looks like an email address",
            with(|a| a.note = "Write to jean.smith@example.org".to_owned()),
        ),
        (
            "note contains a control character",
            with(|a| a.note = "a\u{0}b".to_owned()),
        ),
        (
            "note contains an invisible or direction-changing character",
            with(|a| a.note = "Lives at AB1\u{200b}2 3CD".to_owned()),
        ),
    ];
    for (expected, answer) in cases {
        let refused = scene
            .answer(&scene.good.1, answer)
            .await
            .expect_err(expected);
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{expected}: {refused:?}"
        );
        assert!(
            refused.message().starts_with(expected),
            "{expected}: {}",
            refused.message()
        );
        assert!(
            !refused.message().contains("jean.smith"),
            "{}",
            refused.message()
        );
    }
    // A provider answering for another, staff answering, and an answer to a request the
    // provider does not match.
    assert_code(
        scene.answer(&scene.weak.1, base.clone()).await,
        Code::PermissionDenied,
    );
    assert_code(
        scene.answer(&practitioner(), base.clone()).await,
        Code::PermissionDenied,
    );
    assert_code(
        scene
            .answer(
                &scene.elsewhere.1,
                offer(&scene.request, &scene.elsewhere.0, "200.00"),
            )
            .await,
        Code::NotFound,
    );
    let answers: i64 = sqlx::query_scalar("SELECT count(*) FROM package_offer")
        .fetch_one(&scene.app.pool)
        .await
        .expect("counted");
    assert_eq!(answers, 0);
    assert!(scene.events_of("package.offered").await.is_empty());
    let version: i64 = sqlx::query_scalar("SELECT version FROM package_request")
        .fetch_one(&scene.app.pool)
        .await
        .expect("read");
    assert_eq!(version, 1);

    // Accepting: unknown offer, a missing holding model, a holder for the wrong model, a
    // caller who may not choose.
    let answered = scene.answer(&scene.good.1, base).await.expect("offered");
    let accept =
        |offer_id: &str, model: proto::FundHoldingModel, holder: &str| proto::AcceptOfferRequest {
            request_id: scene.request.id.clone(),
            offer_id: offer_id.to_owned(),
            offer_version: 0,
            holding_model: model as i32,
            holder: holder.to_owned(),
        };
    for (request, code, says) in [
        (
            accept(
                &Uuid::now_v7().to_string(),
                proto::FundHoldingModel::Provider,
                "",
            ),
            Code::NotFound,
            "has no offer",
        ),
        (
            accept(&answered.id, proto::FundHoldingModel::Unspecified, ""),
            Code::InvalidArgument,
            "holding_model is unspecified",
        ),
        (
            accept(&answered.id, proto::FundHoldingModel::ThirdParty, " "),
            Code::InvalidArgument,
            "holder is empty",
        ),
        (
            accept(
                &answered.id,
                proto::FundHoldingModel::ThirdParty,
                "Cornerstone",
            ),
            Code::InvalidArgument,
            "holder is not an organisation id",
        ),
        (
            accept(
                &answered.id,
                proto::FundHoldingModel::Authority,
                "cornerstone",
            ),
            Code::InvalidArgument,
            "holder is given",
        ),
    ] {
        let refused = scene
            .app
            .client()
            .accept_offer(bearer(&practitioner(), request))
            .await
            .expect_err(says);
        assert_eq!(refused.code(), code, "{refused:?}");
        assert!(refused.message().contains(says), "{}", refused.message());
    }
    for token in [
        scene.good.1.clone(),
        sds_testkit::token_for(&sds_testkit::authority_staff(
            "aberdeenshire",
            &[Role::Finance],
        )),
    ] {
        let refused = scene
            .app
            .client()
            .accept_offer(bearer(
                &token,
                accept(&answered.id, proto::FundHoldingModel::Provider, ""),
            ))
            .await
            .expect_err("may not choose");
        assert!(
            matches!(refused.code(), Code::PermissionDenied | Code::NotFound),
            "{refused:?}"
        );
    }
    let status: String = sqlx::query_scalar("SELECT status FROM package_request")
        .fetch_one(&scene.app.pool)
        .await
        .expect("read");
    assert_eq!(status, "open");
    assert!(scene.events_of("package.accepted").await.is_empty());
}

#[tokio::test]
async fn staff_page_through_their_authoritys_requests_newest_first() {
    let app = TestApp::spawn_with_assessment().await;
    let mut published = Vec::new();
    for _ in 0..3 {
        let person_id = app.person_with_plan().await;
        published.push(
            app.client()
                .publish_package_request(bearer(&practitioner(), request_for(&person_id)))
                .await
                .expect("published")
                .into_inner()
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .client()
            .list_package_requests(bearer(
                &practitioner(),
                proto::ListPackageRequestsRequest {
                    status: proto::PackageRequestStatus::Open as i32,
                    page: Some(proto::PageRequest {
                        page_size: 2,
                        page_token: token.clone(),
                    }),
                },
            ))
            .await
            .expect("a page")
            .into_inner();
        let page_info = page.page.expect("page info");
        assert_eq!(page_info.total_matches, 3);
        seen.extend(page.requests.into_iter().map(|request| request.id));
        if page_info.next_page_token.is_empty() {
            break;
        }
        token = page_info.next_page_token;
    }
    published.reverse();
    assert_eq!(seen, published);
    let refused = app
        .client()
        .list_package_requests(bearer(
            &practitioner(),
            proto::ListPackageRequestsRequest {
                status: 0,
                page: Some(proto::PageRequest {
                    page_size: 201,
                    page_token: String::new(),
                }),
            },
        ))
        .await;
    assert_invalid(refused, "page.page_size");
}
