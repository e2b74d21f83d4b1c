//! A person of Fife with an approved plan, as a social worker makes one through gRPC (the
//! flow's own set-up, `sds::flow::setup`): the authority's policy, contract defaults and
//! payment settings; the person, an eligible assessment, an indicative budget of 235.00 a
//! week, and a plan from 1 October 2026 with one option 2 line of personal care at 210.00 a
//! week whose provider is still to be chosen.

use std::sync::Arc;

use sds::flow::{self, Calendar, Platform};
use sds_platform::{AuthorityId, ManualClock};
use tonic::transport::Channel;

/// The day the flow's offer is accepted in the tests: its days are the worked example's.
pub fn calendar() -> Calendar {
    Calendar::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).expect("a date"))
}

/// Fife's staff and people with the test kit's tokens; `hand` moves "today".
pub fn fife(channel: Channel, hand: flow::Hand) -> Platform {
    Platform::in_one_process(
        AuthorityId::parse("authority", "fife").expect("valid"),
        channel,
        Arc::new(sds_testkit::token_for),
        hand,
    )
}

/// A hand that moves `clock`, shared by every service of one test process.
pub fn manual_hand(clock: &ManualClock) -> flow::Hand {
    let clock = clock.clone();
    Arc::new(move |day| {
        clock.set(ManualClock::on(day).clock().now());
        Ok(())
    })
}

/// A hand for services that read the time from a clock file (`SDS_CLOCK_FILE`).
pub fn file_hand(path: std::path::PathBuf) -> flow::Hand {
    Arc::new(move |day| {
        sds_platform::write_clock_file(&path, ManualClock::on(day).clock().now())?;
        Ok(())
    })
}

/// A hand for tests that never move the day.
pub fn still() -> flow::Hand {
    Arc::new(|_| Ok(()))
}

/// Sets Fife up and makes the person (case reference `case_reference`) through the
/// services on `platform`, approving their plan at version 1; returns the person's id.
pub async fn approved_plan_on(platform: &Platform, case_reference: &str) -> String {
    let calendar = calendar();
    flow::setup::authority(platform, &calendar)
        .await
        .expect("Fife is set up");
    flow::setup::person_with_plan(
        platform,
        &calendar,
        &flow::setup::Person {
            case_reference,
            name: "Isla Ross",
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1944, 2, 11).expect("a date"),
            locality: "Kirkcaldy",
            client_group: sds_proto::v1::ClientGroup::ElderlyFrail,
        },
    )
    .await
    .expect("the person's plan is approved")
}

/// [`approved_plan_on`] with every service on `channel`.
pub async fn approved_option_2_plan(channel: Channel, case_reference: &str) -> String {
    approved_plan_on(&fife(channel, still()), case_reference).await
}

/// Every service in one process on a private NATS, on the flow's first day, with Fife set up,
/// the person's plan approved (case reference `case_reference`) and Kingdom Home Support
/// registered, known to assessment and ready; then the whole flow driven to its end.
/// Returns the process (still running), its NATS and what the flow came to.
pub async fn whole_flow_in_one_process(
    case_reference: &str,
) -> (
    sds_testkit::TestProcess,
    sds_testkit::PrivateNats,
    flow::Outcome,
) {
    let nats = sds_testkit::PrivateNats::start().await;
    let clock = ManualClock::on(calendar().accepted_on);
    let process = sds_testkit::TestProcess::start_with(
        sds::components(),
        sds_testkit::TestSettings {
            nats_url: Some(nats.url()),
            clock: Some(clock.clock()),
            ..sds_testkit::TestSettings::default()
        },
    )
    .await;
    let commissioning = sds_testkit::token_for(&sds_testkit::authority_staff(
        "fife",
        &[sds_platform::Role::Commissioning],
    ));
    let platform = fife(process.channel().await, manual_hand(&clock));
    let person_id = approved_plan_on(&platform, case_reference).await;
    let provider = super::register_indexed_care_service(
        &process,
        &commissioning,
        "Kingdom Home Support",
        "CS2004071234",
    )
    .await;
    flow::setup::provider_ready(&platform, &provider)
        .await
        .expect("the provider is ready");
    let outcome = flow::drive(&platform, &calendar(), &person_id, &provider)
        .await
        .expect("the flow runs to its end");
    (process, nats, outcome)
}
