//! A package request from publication to the person's plan, through the platform as `sds
//! serve` composes it: the social worker publishes a request for the person's option 2 line,
//! a matching provider offers, the person accepts, and assessment records the chosen
//! provider on the line from `package.accepted`, publishing `plan.provider_chosen` once.

use std::time::Duration;

use sds_platform::{AuthorityId, ManualClock, OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, authority_staff, bearer, provider_org, token_for,
    wait_until,
};
use uuid::Uuid;

mod support;

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

fn person_token(person_id: &str) -> String {
    token_for(&Principal {
        org_id: format!("person-{person_id}"),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![AuthorityId::parse("authority", "fife").expect("valid")],
        person_id: Some(person_id.to_owned()),
    })
}

/// A request for ten hours a week on line 1 of the person's plan.
fn request_for_line_one(person_id: &str) -> proto::PublishPackageRequestRequest {
    proto::PublishPackageRequestRequest {
        authority: "fife".into(),
        person_id: person_id.to_owned(),
        plan_id: Uuid::now_v7().to_string(),
        line_number: 1,
        content: Some(proto::PackageRequestContent {
            needs_summary: "Help getting up and dressed each morning.".into(),
            service_types: vec!["Support services".into()],
            locality: "Fife".into(),
            amount: Some(proto::package_request_content::Amount::HoursPerWeek(
                "10".into(),
            )),
            start_date: date("2026-12-21"),
            closing_date: date("2026-12-07"),
        }),
    }
}

/// A second request for line 1 of the person's plan, refused.
async fn request_and_offer_refused(
    directory: &mut DirectoryServiceClient<tonic::transport::Channel>,
    practitioner: &str,
    person_id: &str,
) -> tonic::Status {
    directory
        .publish_package_request(bearer(practitioner, request_for_line_one(person_id)))
        .await
        .expect_err("the line names its provider")
}

/// The provider chosen on line 1 of the person's latest plan version, and that version.
async fn chosen_on_line_one(
    assessment: &mut AssessmentServiceClient<tonic::transport::Channel>,
    token: &str,
    person_id: &str,
) -> (u32, String, i32) {
    let plan = assessment
        .get_plan(bearer(
            token,
            proto::GetPlanRequest {
                person_id: person_id.to_owned(),
                version: 0,
            },
        ))
        .await
        .expect("the plan")
        .into_inner();
    match plan.lines[0]
        .arrangement
        .as_ref()
        .and_then(|arrangement| arrangement.arrangement.clone())
    {
        Some(proto::arrangement::Arrangement::PersonDirected(directed)) => {
            (plan.version, directed.provider, directed.holding_model)
        }
        other => panic!("line 1 is option 2: {other:?}"),
    }
}

/// A request for line 1 of the person's plan and `provider`'s offer of ten hours at 21.00;
/// returns the request's id and the offer.
async fn request_and_offer(
    directory: &mut DirectoryServiceClient<tonic::transport::Channel>,
    practitioner: &str,
    person_id: &str,
    provider: &proto::Provider,
) -> (String, proto::PackageOffer) {
    let request = directory
        .publish_package_request(bearer(practitioner, request_for_line_one(person_id)))
        .await
        .expect("published")
        .into_inner();
    let offer = directory
        .respond_to_package_request(bearer(
            &token_for(&provider_org(&provider.id)),
            proto::RespondToPackageRequestRequest {
                request_id: request.id.clone(),
                provider_id: provider.id.clone(),
                kind: proto::PackageResponseKind::Offer as i32,
                price: Some(
                    proto::respond_to_package_request_request::Price::HourlyRate(proto::Money {
                        amount: "21.00".into(),
                    }),
                ),
                earliest_start: date("2026-12-14"),
                note: "Two regular carers for mornings.".into(),
            },
        ))
        .await
        .expect("offered")
        .into_inner();
    (request.id, offer)
}

/// The person's acceptance of `offer` on request `request_id`.
async fn accept(
    directory: &mut DirectoryServiceClient<tonic::transport::Channel>,
    person: &str,
    request_id: &str,
    offer: &proto::PackageOffer,
) {
    directory
        .accept_offer(bearer(
            person,
            proto::AcceptOfferRequest {
                request_id: request_id.to_owned(),
                offer_id: offer.id.clone(),
                offer_version: offer.version,
                holding_model: proto::FundHoldingModel::Provider as i32,
                holder: String::new(),
            },
        ))
        .await
        .expect("the person accepts");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accepted_offer_becomes_the_choice_on_the_persons_plan_line() {
    let nats = PrivateNats::start().await;
    let process = TestProcess::start_with(
        sds::components(),
        TestSettings {
            nats_url: Some(nats.url()),
            clock: Some(
                ManualClock::on(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()).clock(),
            ),
            ..TestSettings::default()
        },
    )
    .await;
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    let person_id =
        support::plans::approved_option_2_plan(process.channel().await, "SW-PKG-1").await;
    let provider = support::register_indexed_care_service(
        &process,
        &commissioning,
        "Kingdom Home Support",
        "CS2004071234",
    )
    .await;
    let mut directory = DirectoryServiceClient::new(process.channel().await);
    let mut assessment = AssessmentServiceClient::new(process.channel().await);

    let person = person_token(&person_id);
    let (request_id, offer) =
        request_and_offer(&mut directory, &practitioner, &person_id, &provider).await;
    accept(&mut directory, &person, &request_id, &offer).await;
    assert_eq!(
        offer.weekly_cost.map(|cost| cost.amount),
        Some("210.00".to_owned()),
        "ten hours at 21.00"
    );

    let (version, chosen, holding) = wait_until(
        Duration::from_secs(20),
        "assessment records the choice on the plan line",
        || {
            let mut assessment = assessment.clone();
            let practitioner = practitioner.clone();
            let person_id = person_id.clone();
            async move {
                let seen = chosen_on_line_one(&mut assessment, &practitioner, &person_id).await;
                (seen.0 == 2).then_some(seen)
            }
        },
    )
    .await;
    assert_eq!(chosen, provider.id);
    assert_eq!(holding, proto::FundHoldingModel::Provider as i32);
    assert_eq!(version, 2);

    // The choice was recorded once: one plan.provider_chosen, and no later version.
    let pool = process.pool(sds_assessment::SCHEMA);
    let chosen_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type = 'plan.provider_chosen'")
            .fetch_one(&pool)
            .await
            .expect("outbox");
    assert_eq!(chosen_events, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (latest, _, _) = chosen_on_line_one(&mut assessment, &practitioner, &person_id).await;
    assert_eq!(latest, 2);
    let actor: String =
        sqlx::query_scalar("SELECT actor FROM person_audit WHERE action = 'plan.provider_chosen'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert!(actor.starts_with("directory"), "{actor}");

    // The line now names its provider: it is not put to the market again.
    let refused = request_and_offer_refused(&mut directory, &practitioner, &person_id).await;
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    assert!(
        refused.message().contains("already names its provider"),
        "{refused:?}"
    );

    // An acceptance that would name another provider on a line that names one by the time
    // it arrives (staff recorded a choice by hand meanwhile) is set aside with its reason;
    // the plan keeps the staff's choice.
    let other_person_id =
        support::plans::approved_option_2_plan(process.channel().await, "SW-PKG-2").await;
    let other = support::register_indexed_care_service(
        &process,
        &commissioning,
        "Leven Care at Home",
        "CS2009054321",
    )
    .await;
    let (other_request, other_offer) =
        request_and_offer(&mut directory, &practitioner, &other_person_id, &other).await;
    assessment
        .record_provider_choice(bearer(
            &practitioner,
            proto::RecordProviderChoiceRequest {
                person_id: other_person_id.clone(),
                version: 1,
                line_number: 1,
                provider: provider.id.clone(),
                holding_model: proto::FundHoldingModel::Provider as i32,
                holder: String::new(),
            },
        ))
        .await
        .expect("staff record a choice by hand");
    accept(
        &mut directory,
        &person_token(&other_person_id),
        &other_request,
        &other_offer,
    )
    .await;
    let reason: String = wait_until(
        Duration::from_secs(30),
        "the second acceptance is set aside",
        || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar(
                    "SELECT reason FROM dead_letter WHERE event_type = 'package.accepted'",
                )
                .fetch_optional(&pool)
                .await
                .expect("dead letters")
            }
        },
    )
    .await;
    assert!(reason.contains("already names provider"), "{reason}");
    let (latest, still, _) =
        chosen_on_line_one(&mut assessment, &practitioner, &other_person_id).await;
    assert_eq!((latest, still), (2, provider.id.clone()));

    // An acceptance naming the provider the line already names, but with another holder (a
    // second request for the line accepted before the first choice was recorded): set aside
    // too, the holder on the plan unchanged.
    let mut rows = sds_events::outbox::OutboxRows::of(vec![sds_events::NewEvent::new(
        AuthorityId::parse("authority", "fife").expect("valid"),
        Uuid::now_v7().to_string(),
        1,
        proto::event::Body::PackageAccepted(proto::PackageAccepted {
            request_id: Uuid::now_v7().to_string(),
            offer_id: Uuid::now_v7().to_string(),
            provider_id: provider.id.clone(),
            person_id: person_id.clone(),
            plan_id: Uuid::now_v7().to_string(),
            line_number: 1,
            closed_for: vec![],
            holding_model: proto::FundHoldingModel::ThirdParty as i32,
            holder: Uuid::now_v7().to_string(),
        }),
    )]);
    let jetstream = async_nats::jetstream::new(
        async_nats::connect(nats.url())
            .await
            .expect("connect to NATS"),
    );
    sds_testkit::publish_event(
        &jetstream,
        &rows.subjects[0],
        &rows.event_ids[0].to_string(),
        rows.payloads.remove(0).into(),
    )
    .await;
    let reason: String = wait_until(
        Duration::from_secs(30),
        "the acceptance with another holder is set aside",
        || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar(
                    "SELECT reason FROM dead_letter WHERE reason LIKE '%with the fund held%'",
                )
                .fetch_optional(&pool)
                .await
                .expect("dead letters")
            }
        },
    )
    .await;
    assert!(reason.contains("the choice on the plan stands"), "{reason}");
    let (latest, still, holding) =
        chosen_on_line_one(&mut assessment, &practitioner, &person_id).await;
    assert_eq!(
        (latest, still, holding),
        (
            2,
            provider.id.clone(),
            proto::FundHoldingModel::Provider as i32
        )
    );
    process.shutdown().await;
}
