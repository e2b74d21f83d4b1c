//! The end of an agreement: notice from a party (no sooner than the notice period allows),
//! the plan's end, and an agreement under notice that still follows the plan until its last
//! day; `agreement.ended` each time the last day is set or brought forward; and replaying
//! every consumed event changes nothing.

use sds_proto::v1 as proto;
use tonic::Code;
use uuid::Uuid;

use crate::agreements::person;
use crate::plan_events::*;
use crate::support::*;
use crate::variations::*;

#[tokio::test]
async fn notice_ends_an_agreement_no_sooner_than_the_notice_period_allows() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    let message = assert_invalid(
        app.end(&provider(PROVIDER_ID), id, "2026-12-10").await,
        "last_day",
    );
    assert!(
        message.contains("2026-12-26"),
        "names the earliest: {message}"
    );
    assert_code(
        app.end(&provider(OTHER_PROVIDER_ID), id, "2027-01-31")
            .await,
        Code::NotFound,
    );
    assert!(app.events_of("agreement.ended").await.is_empty());

    let ended = app
        .end(&provider(PROVIDER_ID), id, "2027-01-31")
        .await
        .unwrap();
    assert_eq!(ended.status, proto::AgreementStatus::Ended as i32);
    assert_eq!(iso(&ended.last_day), "2027-01-31");
    assert_eq!(ended.end_cause, proto::AgreementEndCause::Notice as i32);
    assert_eq!(
        app.end(&provider(PROVIDER_ID), id, "2027-01-31")
            .await
            .unwrap(),
        ended,
        "the same notice again changes nothing"
    );
    assert_code(
        app.end(&practitioner("fife"), id, "2027-02-28").await,
        Code::FailedPrecondition,
    );
    let summary = app.summary(&person(PERSON_ID), id).await.unwrap();
    assert!(
        summary.text.contains("and ends on 31 January 2027."),
        "the summary tells the person the last day: {}",
        summary.text
    );
    let events = app.events_of("agreement.ended").await;
    assert_eq!(events.len(), 1);
    let Some(proto::event::Body::AgreementEnded(end)) = &events[0].body else {
        panic!("unexpected {:?}", events[0].body);
    };
    assert_eq!(end.agreement_id, id);
    assert_eq!(iso(&end.last_day), "2027-01-31");
    assert_eq!(iso(&end.recorded_on), TODAY);
    assert_eq!(end.version, 1);
    assert_eq!(end.payee_id, HOLDER_ID);
    assert_eq!(end.cause, proto::AgreementEndCause::Notice as i32);
}

#[tokio::test]
async fn the_plan_s_end_ends_the_agreements_it_funds_and_replaying_every_event_changes_nothing() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    let varied = varied_plan(2, "2026-12-14", TODAY, "240.0000");
    app.publish(&varied, &varied.event_id).await;
    app.wait_for_plan_events(2).await;
    app.all_sign(id, 2).await;
    let ended = ended_plan(3, "2027-03-01");
    app.publish(&ended, &ended.event_id).await;
    app.wait_for_plan_events(3).await;
    let now = app.get(&person(PERSON_ID), id).await.unwrap();
    assert_eq!(now.status, proto::AgreementStatus::Ended as i32);
    assert_eq!(
        iso(&now.last_day),
        "2027-02-28",
        "the day before the plan ends"
    );
    assert_eq!(now.end_cause, proto::AgreementEndCause::PlanEnded as i32);
    let events = app.events_of("agreement.ended").await;
    assert_eq!(events.len(), 1);

    // Every consumed event again, under new message ids and as new events about the same
    // plan versions: nothing changes.
    let versions = app.version_rows().await;
    let outbox = app.outbox_count().await;
    let first = held_plan();
    for event in [&first, &varied, &ended] {
        app.publish(event, &format!("{}-again", event.event_id))
            .await;
        let mut copy = (*event).clone();
        copy.event_id = Uuid::now_v7().to_string();
        app.publish(&copy, &copy.event_id).await;
    }
    app.wait_for_plan_events(6).await;
    assert_eq!(app.version_rows().await, versions);
    assert_eq!(app.outbox_count().await, outbox);
    assert_eq!(
        app.get(&person(PERSON_ID), id).await.unwrap(),
        now,
        "the agreement is as it was"
    );
}

#[tokio::test]
async fn an_agreement_under_notice_follows_the_plan_until_its_last_day() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    app.end(&provider(PROVIDER_ID), id, "2027-01-31")
        .await
        .unwrap();
    // More support from 4 January, within the notice period: varied and signed as usual.
    app.today_is("2027-01-06");
    let more = changed_plan(2, "2027-01-04", "2027-01-06", "250.0000");
    app.publish(&more, &more.event_id).await;
    app.wait_for_plan_events(2).await;
    let pending = app.get(&practitioner("fife"), id).await.unwrap();
    assert_eq!(pending.awaiting_version, 2);
    let agreed = app.all_sign(id, 2).await;
    assert_eq!(weekly_of(&agreed, 3), "250.00");
    assert_eq!(iso(&agreed.last_day), "2027-01-31", "still ending then");
    assert_eq!(app.events_of("agreement.varied").await.len(), 1);
    // A change after the last day is moot; the plan ending sooner brings the end forward.
    let mut later = changed_plan(3, "2027-02-08", "2027-01-06", "260.0000");
    if let Some(proto::event::Body::PlanVaried(varied)) = later.body.as_mut() {
        varied.plan.as_mut().unwrap().lines[2].number = 4;
    }
    app.publish(&later, &later.event_id).await;
    app.wait_for_plan_events(3).await;
    assert_eq!(app.get(&practitioner("fife"), id).await.unwrap().version, 2);
    let ended = ended_plan(4, "2027-01-20");
    app.publish(&ended, &ended.event_id).await;
    app.wait_for_plan_events(4).await;
    let now = app.get(&person(PERSON_ID), id).await.unwrap();
    assert_eq!(iso(&now.last_day), "2027-01-19");
    assert_eq!(now.end_cause, proto::AgreementEndCause::PlanEnded as i32);
    let last_days: Vec<String> = app
        .events_of("agreement.ended")
        .await
        .iter()
        .map(|event| match &event.body {
            Some(proto::event::Body::AgreementEnded(end)) => iso(&end.last_day).to_owned(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(last_days, vec!["2027-01-31", "2027-01-19"]);
}
