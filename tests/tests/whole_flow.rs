//! The flow that defines the product, end to end (issue 11, ARCHITECTURE.md): referral,
//! assessment, indicative budget, plan with an option 2 line and the provider to be chosen,
//! approval, package request, offer, acceptance (the choice recorded on the line), the
//! agreement drafted and signed by every party, the schedule, a payment run, the remittance
//! seen in the portal, a backdated variation, its adjustment in the next run, the provider
//! told, and the person's statement showing it.

use sds_platform::Role;
use sds_testkit::{authority_staff, token_for};

mod support;
use sds::flow::{self, Outcome, Platform};
use support::plans::{calendar, fife, file_hand};
use support::split::SplitPlatform;

/// What the flow must come to in either deployment shape.
fn assert_the_expected_outcome(outcome: &Outcome) {
    assert_eq!(
        outcome.runs,
        vec![(1, "3060.00".to_owned()), (1, "1830.00".to_owned())],
        "210.00 a week from 1 October through 10 January (102 days at 30.00); then the period from 11 January at 280.00 a week (1,120.00) with 710.00 for 71 backdated days at 10.00"
    );
    assert_eq!(outcome.adjustment, "710.00");
    assert_eq!(outcome.statement_in, "4890.00");
    assert_eq!(
        outcome.statement_out, "3770.00",
        "the provider drew what the first run paid and the adjustment: the support it gave to the second run"
    );
    assert!(
        outcome.statement_text.contains("3,770.00 was paid to"),
        "{}",
        outcome.statement_text
    );
    assert!(
        outcome.statement_text.contains("4,890.00"),
        "{}",
        outcome.statement_text
    );
    let expected_order = [
        "NOTIFICATION_KIND_PACKAGE_REQUESTED",
        "NOTIFICATION_KIND_PACKAGE_ANSWERED",
        "NOTIFICATION_KIND_OFFER_ACCEPTED",
        "NOTIFICATION_KIND_SCHEDULE_CHANGED",
        "NOTIFICATION_KIND_REMITTANCE_ISSUED",
        "NOTIFICATION_KIND_PLAN_VARIED",
        "NOTIFICATION_KIND_AGREEMENT_VARIED",
        "NOTIFICATION_KIND_SCHEDULE_CHANGED",
        "NOTIFICATION_KIND_REMITTANCE_ISSUED",
    ];
    assert_eq!(
        outcome.provider_told, expected_order,
        "told once each, in order"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_flow_runs_in_one_process_from_referral_to_the_persons_statement() {
    let (process, _nats, outcome) = support::plans::whole_flow_in_one_process("SW-FLOW-1").await;
    assert_the_expected_outcome(&outcome);
    process.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_flow_comes_to_the_same_outcome_with_each_service_in_its_own_process() {
    let split =
        SplitPlatform::start(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).expect("a date")).await;
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    let platform = Platform {
        assessment: split.channel("assessment").await,
        directory: split.channel("directory").await,
        contracts: split.channel("contracts").await,
        payments: split.channel("payments").await,
        ledger: split.channel("ledger").await,
        portal: split.channel("portal").await,
        ..fife(
            split.channel("directory").await,
            file_hand(split.clock_file.clone()),
        )
    };
    let person_id = support::plans::approved_plan_on(&platform, "SW-FLOW-2").await;
    let provider = support::register_indexed_on(
        split.channel("directory").await,
        &split.pool("assessment").await,
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
    assert_the_expected_outcome(&outcome);
}
