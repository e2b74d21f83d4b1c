//! The whole flow leaves one distributed trace per action along its path, captured by an
//! in-process OTLP receiver: the person's acceptance of an offer is one trace from the
//! directory's RPC through assessment recording the choice and the portal telling the
//! provider, to contracts drafting the agreement from `plan.provider_chosen`; the last
//! signature of the backdated variation is one trace from contracts through payments
//! recomputing the schedule to the portal telling the provider of the change. And nothing a
//! person could be recognised by (their name, date of birth, the needs written about them)
//! is in any span.
//!
//! The tracing subscriber is global to the process, so this file holds one test and is a
//! test binary of its own.

use std::time::Duration;

use sds_testkit::{ExportedSpan, OtlpReceiver, wait_until};

mod support;
use support::spans::{export_spans_to, flush};

/// The event types handled in `trace_id`, by which consumer.
fn handled_in(spans: &[ExportedSpan], trace_id: &str) -> Vec<(String, String)> {
    let mut handled: Vec<(String, String)> = spans
        .iter()
        .filter(|span| span.name() == "event.handle" && span.trace_id() == trace_id)
        .map(|span| {
            (
                span.string_attribute("event_type")
                    .unwrap_or_default()
                    .to_owned(),
                span.string_attribute("consumer")
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    handled.sort();
    handled.dedup();
    handled
}

/// The trace of a span named `rpc` in which every one of `event_types` is handled.
fn trace_of(spans: &[ExportedSpan], rpc: &str, event_types: &[&str]) -> Option<String> {
    spans
        .iter()
        .filter(|span| span.name() == rpc)
        .map(ExportedSpan::trace_id)
        .find(|trace_id| {
            let handled = handled_in(spans, trace_id);
            event_types
                .iter()
                .all(|wanted| handled.iter().any(|(event_type, _)| event_type == wanted))
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn each_action_of_the_whole_flow_is_one_trace_across_the_services_and_no_span_names_the_person()
 {
    let receiver = OtlpReceiver::start().await;
    let provider_spans = export_spans_to(&receiver, "sds-whole-flow-trace");
    let (process, _nats, _outcome) = support::plans::whole_flow_in_one_process("SW-TRACE-1").await;

    let (acceptance, variation, spans) = wait_until(
        Duration::from_secs(30),
        "the acceptance's and the variation's traces reach every service",
        || async {
            flush(&provider_spans).await;
            let spans = receiver.spans();
            let acceptance = trace_of(
                &spans,
                "sds.v1.DirectoryService/AcceptOffer",
                &["package.accepted", "plan.provider_chosen"],
            )?;
            let variation = trace_of(
                &spans,
                "sds.v1.ContractsService/SignAgreement",
                &["agreement.varied", "schedule.changed"],
            )?;
            Some((acceptance, variation, spans))
        },
    )
    .await;

    let accepted = handled_in(&spans, &acceptance);
    for (event_type, consumer) in [
        ("package.accepted", "assessment-package-choices"),
        ("plan.provider_chosen", "contracts-plans"),
    ] {
        assert!(
            accepted
                .iter()
                .any(|(handled, by)| handled == event_type && by.starts_with(consumer)),
            "the acceptance's trace has {event_type} handled by {consumer}: {accepted:#?}"
        );
    }
    assert!(
        accepted
            .iter()
            .any(|(handled, by)| handled == "package.accepted" && by.starts_with("portal")),
        "the portal tells the provider in the acceptance's trace: {accepted:#?}"
    );
    let varied = handled_in(&spans, &variation);
    for (event_type, consumer) in [
        ("agreement.varied", "payments"),
        ("schedule.changed", "portal"),
    ] {
        assert!(
            varied
                .iter()
                .any(|(handled, by)| handled == event_type && by.starts_with(consumer)),
            "the variation's trace has {event_type} handled by {consumer}: {varied:#?}"
        );
    }

    // Nothing that names the person is in any span: not their name, their date of birth
    // or the needs written about them (the ids are pseudonyms and may appear).
    let everything = format!("{spans:?}");
    for personal in ["Isla Ross", "1944-02-11", "Help getting up and dressed"] {
        assert!(
            !everything.contains(personal),
            "{personal:?} reached a span"
        );
    }
    process.shutdown().await;
}
