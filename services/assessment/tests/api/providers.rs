//! The providers a plan line names: a Care Inspectorate number resolves to the directory id
//! of the provider the directory published with it, and the line is stored naming that id;
//! a provider the directory has not published is refused where it is named, writing
//! nothing; a number the directory moves follows it, and an older event changes nothing.

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::Status;

use crate::support::*;
use crate::variations::{approved_plan, events, line, option_2_pending};

const UNKNOWN_NUMBER: &str = "CS2099000001";
const UNKNOWN_ID: &str = "0192f0c1-0000-7000-8000-0000000bad01";

fn chosen(provider: &str) -> proto::arrangement::Arrangement {
    proto::arrangement::Arrangement::PersonDirected(proto::PersonDirected {
        provider: provider.to_owned(),
        holding_model: proto::FundHoldingModel::Provider as i32,
        holder: String::new(),
    })
}

fn arranged(provider: &str) -> proto::arrangement::Arrangement {
    proto::arrangement::Arrangement::AuthorityArranged(proto::AuthorityArranged {
        provider: provider.to_owned(),
    })
}

fn provider_of(line: &proto::PlanLine) -> String {
    match line
        .arrangement
        .as_ref()
        .and_then(|arrangement| arrangement.arrangement.clone())
    {
        Some(proto::arrangement::Arrangement::PersonDirected(directed)) => directed.provider,
        Some(proto::arrangement::Arrangement::AuthorityArranged(arranged)) => arranged.provider,
        other => panic!("no provider on {other:?}"),
    }
}

async fn draft(
    app: &TestApp,
    person_id: &str,
    arrangement: proto::arrangement::Arrangement,
) -> Result<proto::Plan, Status> {
    app.client()
        .draft_plan(bearer(
            &practitioner("fife"),
            proto::DraftPlanRequest {
                person_id: person_id.to_owned(),
                effective_from: date("2026-12-01"),
                lines: vec![line("120.00", arrangement, "2026-12-01")],
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn versions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM plan_version")
        .fetch_one(&app.pool)
        .await
        .expect("count versions")
}

#[tokio::test]
async fn a_care_inspectorate_number_on_a_line_is_stored_as_the_directory_id_it_resolves_to() {
    let app = TestApp::spawn().await;
    let someone = app.record_person("fife", person("SW-9001")).await;

    let drafted = draft(&app, &someone.id, chosen(KNOWN_PROVIDER_NUMBER))
        .await
        .expect("draft");

    assert_eq!(provider_of(&drafted.lines[0]), KNOWN_PROVIDER_ID);
    let stored: String = sqlx::query_scalar("SELECT provider FROM plan_line")
        .fetch_one(&app.pool)
        .await
        .expect("the stored line");
    assert_eq!(stored, KNOWN_PROVIDER_ID);
    let by_id = draft(&app, &someone.id, arranged(KNOWN_PROVIDER_ID))
        .await
        .expect("redraft naming the id");
    assert_eq!(provider_of(&by_id.lines[0]), KNOWN_PROVIDER_ID);
}

#[tokio::test]
async fn a_provider_the_directory_has_not_published_is_refused_where_it_is_named_and_nothing_is_written()
 {
    let app = TestApp::spawn().await;
    let plan = approved_plan(&app).await;
    let before = (versions(&app).await, events(&app).await.len());
    let staff = practitioner("fife");
    let mut client = app.client();

    let drafting_for_someone_else = app.record_person("fife", person("SW-9002")).await;
    for (arrangement, field) in [
        (
            chosen(UNKNOWN_NUMBER),
            "lines[0].arrangement.person_directed.provider",
        ),
        (
            arranged(UNKNOWN_ID),
            "lines[0].arrangement.authority_arranged.provider",
        ),
    ] {
        let message = assert_invalid(
            draft(&app, &drafting_for_someone_else.id, arrangement).await,
            field,
        );
        assert!(
            message.contains("is not in the provider directory"),
            "{message}"
        );
    }
    assert_invalid(
        client
            .record_provider_choice(bearer(
                &staff,
                proto::RecordProviderChoiceRequest {
                    person_id: plan.person_id.clone(),
                    version: plan.version,
                    line_number: 1,
                    provider: UNKNOWN_NUMBER.into(),
                    holding_model: proto::FundHoldingModel::Provider as i32,
                    holder: String::new(),
                },
            ))
            .await,
        "provider",
    );
    for (change, field) in [
        (
            proto::line_change::Kind::Add(line("40.00", chosen(UNKNOWN_NUMBER), "2026-12-01")),
            "changes[0].add.arrangement.person_directed.provider",
        ),
        (
            proto::line_change::Kind::Change(proto::LineChangeUpdate {
                number: 2,
                arrangement: Some(proto::Arrangement {
                    arrangement: Some(arranged(UNKNOWN_ID)),
                }),
                ..proto::LineChangeUpdate::default()
            }),
            "changes[0].change.arrangement.authority_arranged.provider",
        ),
    ] {
        assert_invalid(
            client
                .vary_plan(bearer(
                    &staff,
                    proto::VaryPlanRequest {
                        person_id: plan.person_id.clone(),
                        version: plan.version,
                        effective_from: date("2026-12-01"),
                        changes: vec![proto::LineChange { kind: Some(change) }],
                        end_plan: false,
                    },
                ))
                .await,
            field,
        );
    }

    assert_eq!((versions(&app).await, events(&app).await.len()), before);
    let pending = draft(&app, &drafting_for_someone_else.id, option_2_pending())
        .await
        .expect("a choice still pending needs no provider");
    assert!(pending.lines[0].pending.contains("choice pending"));
}

#[tokio::test]
async fn a_number_the_directory_moves_follows_it_and_an_older_event_changes_nothing() {
    let app = TestApp::spawn().await;
    let someone = app.record_person("fife", person("SW-9003")).await;
    let other = "0192f0c1-0000-7000-8000-00000000c5a2";

    // The directory corrects the number onto another provider.
    directory_published(&app.pool, other, Some(KNOWN_PROVIDER_NUMBER), 1).await;
    let moved = draft(&app, &someone.id, chosen(KNOWN_PROVIDER_NUMBER))
        .await
        .expect("draft");
    assert_eq!(provider_of(&moved.lines[0]), other);

    // A late copy of the first provider's registration does not take the number back.
    directory_published(&app.pool, KNOWN_PROVIDER_ID, Some(KNOWN_PROVIDER_NUMBER), 1).await;
    let still = draft(&app, &someone.id, chosen(KNOWN_PROVIDER_NUMBER))
        .await
        .expect("redraft");
    assert_eq!(provider_of(&still.lines[0]), other);

    // A newer version of the first provider with the number does.
    directory_published(&app.pool, KNOWN_PROVIDER_ID, Some(KNOWN_PROVIDER_NUMBER), 2).await;
    let back = draft(&app, &someone.id, chosen(KNOWN_PROVIDER_NUMBER))
        .await
        .expect("redraft");
    assert_eq!(provider_of(&back.lines[0]), KNOWN_PROVIDER_ID);
}
