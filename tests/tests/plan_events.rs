//! The social worker's flow across the platform as `sds serve` composes it: person,
//! policy, assessment, budget, plan, approval, a provider choice, a backdated variation and
//! the end of the plan, each through gRPC; every plan event reaches NATS JetStream exactly
//! once, in its own transaction's order, with the plan version as its aggregate version.
//! The provider chosen is one the directory registered: its Care Inspectorate number
//! reaches assessment through the directory's events and resolves to its directory id.

use std::time::Duration;

use prost::Message as _;
use sds_platform::{ManualClock, Role};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::{self as proto, ClientGroup, EligibilityLevel, Event};
mod support;

use sds_testkit::{
    PrivateNats, TestProcess, TestSettings, authority_staff, bearer, token_for, wait_until,
};

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

fn money(amount: &str) -> Option<proto::Money> {
    Some(proto::Money {
        amount: amount.to_owned(),
    })
}

fn limit(amount: Option<&str>) -> Option<proto::Limit> {
    Some(proto::Limit {
        limit: Some(match amount {
            Some(amount) => proto::limit::Limit::UpTo(proto::Money {
                amount: amount.to_owned(),
            }),
            None => proto::limit::Limit::Unlimited(true),
        }),
    })
}

fn roles(child: Option<&str>, adult: Option<&str>) -> Option<proto::RoleLimits> {
    Some(proto::RoleLimits {
        child: limit(child),
        adult: limit(adult),
    })
}

/// Every event on `sds.fife.plan.>` in the stream, in stream order: (type, aggregate version).
async fn plan_events_in_stream(jetstream: &async_nats::jetstream::Context) -> Vec<(String, u64)> {
    let stream = jetstream
        .get_stream("SDS_EVENTS")
        .await
        .expect("the stream");
    let last = stream.cached_info().state.last_sequence;
    let mut seen = Vec::new();
    for sequence in 1..=last {
        let Ok(message) = stream.get_raw_message(sequence).await else {
            continue;
        };
        if !message.subject.starts_with("sds.fife.plan.") {
            continue;
        }
        let event = Event::decode(message.payload.as_ref()).expect("an envelope");
        seen.push((event.event_type, event.aggregate_version));
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_from_referral_to_its_end_publishes_each_event_once_with_its_version() {
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
    let mut client = AssessmentServiceClient::new(process.channel().await);
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));

    client
        .set_policy(bearer(
            &commissioning,
            proto::SetPolicyRequest {
                details: Some(proto::PolicyDetails {
                    authority: "fife".into(),
                    effective_from: date("2026-04-01"),
                    eligibility_threshold: EligibilityLevel::Substantial as i32,
                    resource_allocation: None,
                    standard_hourly_rate: money("23.50"),
                    approval_limits: Some(proto::ApprovalLimits {
                        practitioner: roles(Some("275.00"), Some("375.00")),
                        team_manager: roles(Some("600.00"), Some("800.00")),
                        panel: roles(None, None),
                    }),
                    backdating_days: 90,
                    review_interval: Some(
                        proto::policy_details::ReviewInterval::ReviewIntervalMonths(12),
                    ),
                    sending_location: "100".into(),
                }),
            },
        ))
        .await
        .expect("policy");
    let person = client
        .record_person(bearer(
            &practitioner,
            proto::RecordPersonRequest {
                authority: "fife".into(),
                details: Some(proto::PersonDetails {
                    case_reference: "SW-E2E-1".into(),
                    display_name: "Isla Ross".into(),
                    date_of_birth: date("1944-02-11"),
                    locality: "Kirkcaldy".into(),
                    client_groups: vec![ClientGroup::ElderlyFrail as i32],
                }),
            },
        ))
        .await
        .expect("person")
        .into_inner();
    let person_id = person.id.clone();
    client
        .record_assessment(bearer(
            &practitioner,
            proto::RecordAssessmentRequest {
                person_id: person_id.clone(),
                outcomes: vec!["To keep going to the lunch club".into()],
                needs: vec!["Help getting up and dressed".into()],
                eligibility: EligibilityLevel::Substantial as i32,
                assessed_on: date("2026-09-20"),
                community_resources: vec![],
            },
        ))
        .await
        .expect("eligible");
    client
        .set_indicative_budget(bearer(
            &practitioner,
            proto::SetIndicativeBudgetRequest {
                person_id: person_id.clone(),
                method: Some(proto::set_indicative_budget_request::Method::HoursAtRates(
                    proto::HoursAtRates {
                        items: vec![proto::HoursItem {
                            description: "personal care".into(),
                            hours_per_week: "10".into(),
                            hourly_rate: None,
                        }],
                    },
                )),
                set_on: None,
            },
        ))
        .await
        .expect("budget at the standard rate: 235.00");
    let line = proto::NewPlanLine {
        support_type: proto::SupportType::PersonalCare as i32,
        amount: Some(proto::LineAmount {
            amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                amount: "210.00".into(),
            })),
        }),
        arrangement: Some(proto::Arrangement {
            arrangement: Some(proto::arrangement::Arrangement::PersonDirected(
                proto::PersonDirected::default(),
            )),
        }),
        start: date("2026-10-01"),
        end: None,
    };
    client
        .draft_plan(bearer(
            &practitioner,
            proto::DraftPlanRequest {
                person_id: person_id.clone(),
                effective_from: date("2026-10-01"),
                lines: vec![line],
            },
        ))
        .await
        .expect("draft");
    let submit = |version: u32| proto::SubmitPlanRequest {
        person_id: person_id.clone(),
        version,
        over_budget_reason: "agreed at panel".into(),
    };
    let approve = |version: u32| proto::ApprovePlanRequest {
        person_id: person_id.clone(),
        version,
    };
    client
        .submit_plan(bearer(&practitioner, submit(1)))
        .await
        .expect("submit v1");
    client
        .approve_plan(bearer(&practitioner, approve(1)))
        .await
        .expect("approve v1");
    // The directory registers the service the person chose; assessment hears of it
    // through provider.registered and resolves its number to its directory id.
    let registered = support::register_indexed_care_service(
        &process,
        &commissioning,
        "Kingdom Home Support",
        "CS2004071234",
    )
    .await;
    let chosen = client
        .record_provider_choice(bearer(
            &practitioner,
            proto::RecordProviderChoiceRequest {
                person_id: person_id.clone(),
                version: 1,
                line_number: 1,
                provider: "CS2004071234".into(),
                holding_model: proto::FundHoldingModel::Provider as i32,
                holder: String::new(),
            },
        ))
        .await
        .expect("choice: v2")
        .into_inner();
    let Some(proto::arrangement::Arrangement::PersonDirected(directed)) = chosen.lines[0]
        .arrangement
        .as_ref()
        .and_then(|arrangement| arrangement.arrangement.clone())
    else {
        panic!("line 1 is option 2: {:?}", chosen.lines[0]);
    };
    assert_eq!(
        directed.provider, registered.id,
        "the number resolved to the directory id"
    );
    client
        .vary_plan(bearer(
            &practitioner,
            proto::VaryPlanRequest {
                person_id: person_id.clone(),
                version: 2,
                effective_from: date("2026-11-01"),
                changes: vec![proto::LineChange {
                    kind: Some(proto::line_change::Kind::Change(proto::LineChangeUpdate {
                        number: 1,
                        amount: Some(proto::LineAmount {
                            amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                                amount: "280.00".into(),
                            })),
                        }),
                        ..proto::LineChangeUpdate::default()
                    })),
                }],
                end_plan: false,
            },
        ))
        .await
        .expect("backdated variation: v3");
    client
        .submit_plan(bearer(&practitioner, submit(3)))
        .await
        .expect("submit v3");
    client
        .approve_plan(bearer(&practitioner, approve(3)))
        .await
        .expect("approve v3");
    client
        .vary_plan(bearer(
            &practitioner,
            proto::VaryPlanRequest {
                person_id: person_id.clone(),
                version: 3,
                effective_from: date("2027-01-01"),
                changes: vec![],
                end_plan: true,
            },
        ))
        .await
        .expect("end: v4");
    client
        .submit_plan(bearer(&practitioner, submit(4)))
        .await
        .expect("submit v4");
    client
        .approve_plan(bearer(&practitioner, approve(4)))
        .await
        .expect("approve v4");

    let jetstream =
        async_nats::jetstream::new(async_nats::connect(nats.url()).await.expect("nats"));
    let expected: Vec<(String, u64)> = vec![
        ("plan.approved".into(), 1),
        ("plan.provider_chosen".into(), 2),
        ("plan.varied".into(), 3),
        ("plan.ended".into(), 4),
    ];
    let seen = wait_until(
        Duration::from_secs(20),
        "every plan event is in the stream",
        || async {
            let seen = plan_events_in_stream(&jetstream).await;
            (seen.len() >= expected.len()).then_some(seen)
        },
    )
    .await;
    assert_eq!(seen, expected, "each once, in order, with its version");
    // The relay marks an event published only after the stream has acknowledged it, so
    // the last one can be in the stream a moment before its outbox row says so.
    let pool = process.pool(sds_assessment::SCHEMA);
    wait_until(
        Duration::from_secs(20),
        "every event of the outbox is published",
        || async {
            let unpublished: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&pool)
                    .await
                    .expect("outbox");
            (unpublished == 0).then_some(())
        },
    )
    .await;
    process.shutdown().await;
}
