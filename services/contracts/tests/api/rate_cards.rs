//! Rate cards: set by the provider or commissioners, versioned forward by later cards and
//! uplifts, read by authority staff and the provider itself.

use sds_proto::v1::{self as proto, RateComponent};
use tonic::Code;

use crate::support::*;

fn percentage(rate_card_id: &str, from: &str, percent: &str) -> proto::ScheduleUpliftRequest {
    proto::ScheduleUpliftRequest {
        rate_card_id: rate_card_id.to_owned(),
        effective_from: date(from),
        uplift: Some(proto::schedule_uplift_request::Uplift::Percentage(
            percent.to_owned(),
        )),
    }
}

#[tokio::test]
async fn a_provider_sets_its_own_card_and_it_reads_back_adding_up() {
    let app = TestApp::spawn().await;
    let card = app
        .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .expect("set by the provider");
    assert_eq!(card.provider_id, PROVIDER_ID);
    assert_eq!(card.service_type, "Care at home");
    assert_eq!(
        rates(&card),
        vec![(1, "2026-04-01".into(), "25.37".into(), "set".into())]
    );
    assert_eq!(card.versions[0].components, components());

    for token in [
        provider(PROVIDER_ID),
        practitioner("fife"),
        commissioning("angus"),
    ] {
        let read = app.get_card(&token, &card.id).await.expect("read");
        assert_eq!(read, card);
    }
}

#[tokio::test]
async fn commissioning_staff_set_a_card_and_a_later_one_becomes_its_next_version() {
    let app = TestApp::spawn().await;
    // Only for a provider the directory lists.
    let unknown = assert_code(
        app.set_card(&commissioning("fife"), card_request("2026-04-01"))
            .await,
        Code::FailedPrecondition,
    );
    assert!(unknown.contains(PROVIDER_ID), "{unknown}");
    app.register_provider(
        PROVIDER_ID,
        "Kingdom Care",
        proto::ProviderKind::VoluntaryOrganisation,
    )
    .await;
    let first = app
        .set_card(&commissioning("fife"), card_request("2026-04-01"))
        .await
        .expect("set by commissioning staff");
    let second = app
        .set_card(
            &provider(PROVIDER_ID),
            proto::SetRateCardRequest {
                components: vec![
                    amount(RateComponent::CareWorkerWage, "13.45"),
                    amount(RateComponent::OnCosts, "3.36"),
                ],
                ..card_request("2027-04-01")
            },
        )
        .await
        .expect("a later card");
    assert_eq!(second.id, first.id, "the same provider and service type");
    assert_eq!(
        rates(&second),
        vec![
            (1, "2026-04-01".into(), "25.37".into(), "set".into()),
            (2, "2027-04-01".into(), "16.81".into(), "set".into()),
        ]
    );

    let other_service = app
        .set_card(
            &provider(PROVIDER_ID),
            proto::SetRateCardRequest {
                service_type: "Day support".into(),
                ..card_request("2026-01-01")
            },
        )
        .await
        .expect("another service type is another card");
    assert_ne!(other_service.id, first.id);
    assert_eq!(other_service.versions.len(), 1);
}

#[tokio::test]
async fn a_card_from_a_date_not_after_the_latest_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    app.set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .expect("set");
    let before = app.row_counts().await;
    for from in ["2026-03-31", "2026-04-01"] {
        let message = assert_code(
            app.set_card(&provider(PROVIDER_ID), card_request(from))
                .await,
            Code::FailedPrecondition,
        );
        assert!(message.contains("2026-04-01"), "{message}");
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn other_providers_and_holders_neither_set_nor_read_a_providers_card() {
    let app = TestApp::spawn().await;
    let card = app
        .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .expect("set");
    let before = app.row_counts().await;
    let other = provider(OTHER_PROVIDER_ID);
    let message = assert_code(
        app.set_card(&other, card_request("2027-04-01")).await,
        Code::PermissionDenied,
    );
    assert!(message.contains("the provider itself"), "{message}");
    assert_code(
        app.set_card(&practitioner("fife"), card_request("2027-04-01"))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        app.uplift(&other, percentage(&card.id, "2027-04-01", "3.5"))
            .await,
        Code::PermissionDenied,
    );
    assert_code(app.get_card(&other, &card.id).await, Code::PermissionDenied);
    let holder = sds_testkit::token_for(&sds_platform::Principal {
        org_kind: sds_platform::OrgKind::Holder,
        ..sds_testkit::provider_org(PROVIDER_ID)
    });
    assert_code(
        app.get_card(&holder, &card.id).await,
        Code::PermissionDenied,
    );
    assert_eq!(app.row_counts().await, before, "nothing written");
}

#[tokio::test]
async fn a_percentage_uplift_raises_every_component_from_its_date() {
    let app = TestApp::spawn().await;
    let card = app
        .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .expect("set");
    let uplifted = app
        .uplift(
            &commissioning("fife"),
            percentage(&card.id, "2027-04-01", "3.5"),
        )
        .await
        .expect("uplift");
    assert_eq!(
        rates(&uplifted),
        vec![
            (1, "2026-04-01".into(), "25.37".into(), "set".into()),
            (2, "2027-04-01".into(), "26.26".into(), "uplift".into()),
        ]
    );
    let raised = &uplifted.versions[1];
    assert_eq!(component_of(raised, RateComponent::CareWorkerWage), "13.04");
    assert_eq!(component_of(raised, RateComponent::Surplus), "1.04");
    assert_eq!(
        app.get_card(&provider(PROVIDER_ID), &card.id)
            .await
            .expect("read"),
        uplifted
    );
    let (percent,): (Option<rust_decimal::Decimal>,) =
        sqlx::query_as("SELECT uplift_percent FROM rate_card_version WHERE version = 2")
            .fetch_one(&app.pool)
            .await
            .expect("stored");
    assert_eq!(percent.map(|value| value.to_string()), Some("3.50".into()));

    let before = app.row_counts().await;
    let message = assert_code(
        app.uplift(
            &provider(PROVIDER_ID),
            percentage(&card.id, "2027-04-01", "2"),
        )
        .await,
        Code::FailedPrecondition,
    );
    assert!(message.contains("2027-04-01"), "{message}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn new_values_replace_only_the_components_named() {
    let app = TestApp::spawn().await;
    let card = app
        .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .expect("set");
    let uplifted = app
        .uplift(
            &provider(PROVIDER_ID),
            proto::ScheduleUpliftRequest {
                rate_card_id: card.id.clone(),
                effective_from: date("2027-04-01"),
                uplift: Some(proto::schedule_uplift_request::Uplift::NewValues(
                    proto::NewRateValues {
                        components: vec![amount(RateComponent::CareWorkerWage, "13.45")],
                    },
                )),
            },
        )
        .await
        .expect("uplift");
    let raised = &uplifted.versions[1];
    assert_eq!(
        raised.hourly_rate.clone().unwrap_or_default().amount,
        "26.22",
        "25.37 + 0.85"
    );
    assert_eq!(component_of(raised, RateComponent::CareWorkerWage), "13.45");
    assert_eq!(component_of(raised, RateComponent::OnCosts), "3.15");
    assert_eq!(component_of(raised, RateComponent::Surplus), "1.00");
    assert_eq!(uplifted.versions[0], card.versions[0], "history kept");
}

#[tokio::test]
async fn an_unknown_card_is_not_found() {
    let app = TestApp::spawn().await;
    let missing = "0192f0c1-0000-7000-8000-0000000000ff";
    assert_code(
        app.get_card(&commissioning("fife"), missing).await,
        Code::NotFound,
    );
    assert_code(
        app.uplift(
            &commissioning("fife"),
            percentage(missing, "2027-04-01", "3"),
        )
        .await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn versions_are_never_changed_in_the_database() {
    let app = TestApp::spawn().await;
    app.set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .expect("set");
    let refused = sqlx::query("UPDATE rate_card_version SET hourly_rate = 1")
        .execute(&app.pool)
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let refused = sqlx::query("DELETE FROM rate_card_component")
        .execute(&app.pool)
        .await;
    assert!(refused.is_err(), "{refused:?}");
}
