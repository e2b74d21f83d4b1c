//! A package request is published only for what the person's plan allows, as assessment
//! holds it: an option 2 line of an approved version, its provider still to be chosen, for
//! no more than the line's weekly amount. Anything else is refused with the field it
//! concerns, and a refusal, or assessment not answering, writes nothing.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_testkit::{authority_staff, bearer, token_for};
use tonic::Code;
use uuid::Uuid;

use crate::package_scene::{practitioner, request_for};
use crate::support::*;

async fn nothing_written(app: &TestApp) {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM package_request")
        .fetch_one(&app.pool)
        .await
        .expect("counted");
    assert_eq!(count, 0, "no request was written");
    let package_events: Vec<String> = app
        .outbox_events()
        .await
        .into_iter()
        .map(|event| event.event_type)
        .filter(|event_type| event_type.starts_with("package."))
        .collect();
    assert!(
        package_events.is_empty(),
        "no event was written: {package_events:?}"
    );
}

fn weekly_budget(request: &mut proto::PublishPackageRequestRequest, amount: &str) {
    if let Some(content) = request.content.as_mut() {
        content.amount = Some(proto::package_request_content::Amount::WeeklyBudget(
            proto::Money {
                amount: amount.to_owned(),
            },
        ));
    }
}

#[tokio::test]
async fn a_request_the_persons_plan_does_not_allow_is_refused_with_the_field_and_writes_nothing() {
    let app = TestApp::spawn_with_assessment().await;
    let person_id = app.person_with_plan().await;
    let today = chrono::Utc::now().date_naive();
    let elsewhere = sds_testkit::plans::approved_plan(
        app.channel(),
        "moray",
        today,
        vec![sds_testkit::plans::option_2_line("250.00", today)],
    )
    .await;
    let with = |change: &dyn Fn(&mut proto::PublishPackageRequestRequest)| {
        let mut request = request_for(&person_id);
        change(&mut request);
        request
    };
    let cases: Vec<(Code, String, proto::PublishPackageRequestRequest)> = vec![
        (
            Code::NotFound,
            "person_id: ".to_owned(),
            request_for(&Uuid::now_v7().to_string()),
        ),
        // A person of Moray, asked for as if of Aberdeenshire, is not told apart from no one.
        (
            Code::NotFound,
            "person_id: ".to_owned(),
            request_for(&elsewhere),
        ),
        (
            Code::FailedPrecondition,
            "line_number: line 1 is option 3 (the authority arranges it)".to_owned(),
            with(&|request| request.line_number = 1),
        ),
        (
            Code::FailedPrecondition,
            "line_number: is 3; version 1 of the person's plan has lines 1 to 2".to_owned(),
            with(&|request| request.line_number = 3),
        ),
        (
            Code::FailedPrecondition,
            "content.weekly_budget: is 250.01 a week, more than line 2 allows (250.00 a week)"
                .to_owned(),
            with(&|request| weekly_budget(request, "250.01")),
        ),
    ];
    for (code, expected, request) in cases {
        let refused = app
            .client()
            .publish_package_request(bearer(&practitioner(), request))
            .await
            .expect_err(&expected);
        assert_eq!(refused.code(), code, "{expected}: {refused:?}");
        assert!(
            refused.message().starts_with(&expected),
            "{expected}: {}",
            refused.message()
        );
    }
    nothing_written(&app).await;

    // What the plan allows, exactly, is published.
    let published = app
        .client()
        .publish_package_request(bearer(
            &practitioner(),
            with(&|request| weekly_budget(request, "250.00")),
        ))
        .await
        .expect("the line's whole amount may be asked for")
        .into_inner();
    assert_eq!(published.person_id, person_id);
    assert_eq!(published.line_number, 2);
}

#[tokio::test]
async fn a_line_whose_provider_staff_have_recorded_is_not_put_to_the_market_again() {
    let app = TestApp::spawn_with_assessment().await;
    let person_id = app.person_with_plan().await;
    let provider = app
        .provider_registers_itself(details("Garioch Home Care"))
        .await
        .0;
    let assessment = proto::assessment_service_client::AssessmentServiceClient::new(app.channel());
    // Assessment learns of the provider from provider.registered; staff record the choice
    // once it has.
    let choice = proto::RecordProviderChoiceRequest {
        person_id: person_id.clone(),
        version: 1,
        line_number: 2,
        provider: provider.id.clone(),
        holding_model: proto::FundHoldingModel::Provider as i32,
        holder: String::new(),
    };
    sds_testkit::wait_until(
        std::time::Duration::from_secs(15),
        "staff record the person's choice",
        || {
            let mut assessment = assessment.clone();
            let choice = choice.clone();
            async move {
                assessment
                    .record_provider_choice(bearer(&practitioner(), choice))
                    .await
                    .ok()
            }
        },
    )
    .await;

    let refused = app
        .client()
        .publish_package_request(bearer(&practitioner(), request_for(&person_id)))
        .await
        .expect_err("the line has its provider");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused.message().starts_with(&format!(
            "line_number: line 2 already names its provider ({})",
            provider.id
        )),
        "{}",
        refused.message()
    );
    nothing_written(&app).await;
}

#[tokio::test]
async fn while_a_variation_is_drafted_a_request_is_checked_against_the_approved_version() {
    let app = TestApp::spawn_with_assessment().await;
    let person_id = app.person_with_plan().await;
    let today = chrono::Utc::now().date_naive();
    let mut assessment =
        proto::assessment_service_client::AssessmentServiceClient::new(app.channel());
    let draft = assessment
        .vary_plan(bearer(
            &practitioner(),
            proto::VaryPlanRequest {
                person_id: person_id.clone(),
                version: 1,
                effective_from: Some(proto::Date {
                    iso: today.to_string(),
                }),
                changes: vec![proto::LineChange {
                    kind: Some(proto::line_change::Kind::Add(
                        sds_testkit::plans::option_2_line("50.00", today),
                    )),
                }],
                end_plan: false,
            },
        ))
        .await
        .expect("a variation is drafted")
        .into_inner();
    assert_eq!(draft.status, proto::PlanStatus::Draft as i32);

    // The line only the draft has is not there to ask for yet.
    let refused = app
        .client()
        .publish_package_request(bearer(
            &practitioner(),
            proto::PublishPackageRequestRequest {
                line_number: 3,
                ..request_for(&person_id)
            },
        ))
        .await
        .expect_err("line 3 is only drafted");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("line_number: is 3; version 1 of the person's plan has lines 1 to 2"),
        "{}",
        refused.message()
    );
    // The approved line is.
    app.client()
        .publish_package_request(bearer(&practitioner(), request_for(&person_id)))
        .await
        .expect("line 2 of the approved version");
}

#[tokio::test]
async fn when_assessment_cannot_be_reached_the_caller_is_told_to_try_again_and_nothing_is_published()
 {
    // Nothing listens on the discard port of the loopback address.
    let app = TestApp::spawn_with_assessment_at("http://127.0.0.1:9").await;
    let refused = app
        .client()
        .publish_package_request(bearer(
            &practitioner(),
            request_for(&Uuid::now_v7().to_string()),
        ))
        .await
        .expect_err("assessment is away");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains("try again"),
        "{}",
        refused.message()
    );
    nothing_written(&app).await;
}

#[tokio::test]
async fn staff_of_two_authorities_publish_for_a_person_only_under_the_persons_own_authority() {
    let app = TestApp::spawn_with_assessment().await;
    let person_id = app.person_with_plan().await;
    let mut both = authority_staff("aberdeenshire", &[Role::Practitioner]);
    both.authorities
        .push(sds_platform::AuthorityId::parse("authority", "moray").expect("valid"));
    let refused = app
        .client()
        .publish_package_request(bearer(
            &token_for(&both),
            proto::PublishPackageRequestRequest {
                authority: "moray".to_owned(),
                content: request_for(&person_id).content.map(|content| {
                    proto::PackageRequestContent {
                        locality: "Moray".to_owned(),
                        ..content
                    }
                }),
                ..request_for(&person_id)
            },
        ))
        .await
        .expect_err("the person is Aberdeenshire's");
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    nothing_written(&app).await;
}
