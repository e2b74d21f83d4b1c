//! Bad input for the RPCs that change an agreement once drafted (VaryAgreement,
//! EndAgreement) and for pricing a draft on a rate card: `InvalidArgument` naming the field,
//! and nothing written.

use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::Code;

use crate::agreements::by_hand;
use crate::support::*;

#[tokio::test]
async fn bad_variations_and_notices_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let active = app.active_agreement().await;
    let id = active.id.as_str();
    let staff = practitioner("fife");
    let terms = active.terms.clone().unwrap();
    let written = app.agreement_rows().await;

    let vary = |change: &dyn Fn(&mut proto::VaryAgreementRequest)| {
        let mut request = proto::VaryAgreementRequest {
            agreement_id: id.into(),
            effective_from: date("2027-01-01"),
            terms: Some(proto::AgreementTerms {
                notice_days: 56,
                ..terms.clone()
            }),
        };
        change(&mut request);
        request
    };
    let terms_with = |change: &dyn Fn(&mut proto::AgreementTerms)| {
        vary(&|request| change(request.terms.as_mut().unwrap()))
    };
    let varies: Vec<(proto::VaryAgreementRequest, &str)> = vec![
        (
            vary(&|request| request.agreement_id = "nope".into()),
            "agreement_id",
        ),
        (
            vary(&|request| request.effective_from = None),
            "effective_from",
        ),
        (
            vary(&|request| request.effective_from = date("2027-02-30")),
            "effective_from",
        ),
        (
            vary(&|request| request.effective_from = date("2026-11-30")),
            "effective_from",
        ),
        (
            vary(&|request| request.effective_from = date("2200-12-31")),
            "effective_from",
        ),
        (vary(&|request| request.terms = None), "terms"),
        (
            vary(&|request| request.terms = Some(terms.clone())),
            "terms",
        ),
        (terms_with(&|terms| terms.frequency = 0), "terms.frequency"),
        (terms_with(&|terms| terms.frequency = 99), "terms.frequency"),
        (terms_with(&|terms| terms.timing = None), "terms.timing"),
        (terms_with(&|terms| terms.basis = 0), "terms.basis"),
        (
            terms_with(&|terms| terms.flex_tolerance_percent = "ten".into()),
            "terms.flex_tolerance_percent",
        ),
        (terms_with(&|terms| terms.fee = None), "terms.fee"),
        (
            terms_with(&|terms| terms.review_on = date("2026-11-01")),
            "terms.review_on",
        ),
        (
            terms_with(&|terms| terms.start = date("2026-12-02")),
            "terms.start",
        ),
        (
            terms_with(&|terms| terms.end = date("2026-11-01")),
            "terms.end",
        ),
        (
            terms_with(&|terms| terms.notice_days = 100_000),
            "terms.notice_days",
        ),
    ];
    for (request, field) in varies {
        assert_invalid(
            app.client().vary_agreement(bearer(&staff, request)).await,
            field,
        );
    }

    let end = |agreement_id: &str, last_day: Option<proto::Date>, reason: &str| {
        proto::EndAgreementRequest {
            agreement_id: agreement_id.into(),
            last_day,
            reason: reason.into(),
        }
    };
    let long = "x".repeat(301);
    let ends: Vec<(proto::EndAgreementRequest, &str)> = vec![
        (
            end("nope", date("2027-01-31"), "Moving away"),
            "agreement_id",
        ),
        (end(id, None, "Moving away"), "last_day"),
        (end(id, date("31/01/2027"), "Moving away"), "last_day"),
        (end(id, date("2027-01-31"), " "), "reason"),
        (end(id, date("2027-01-31"), &long), "reason"),
        (end(id, date("2026-12-01"), "Moving away"), "last_day"),
    ];
    for (request, field) in ends {
        assert_invalid(
            app.client().end_agreement(bearer(&staff, request)).await,
            field,
        );
    }
    assert_eq!(app.agreement_rows().await, written, "nothing written");
    assert_eq!(
        app.get(&staff, id).await.unwrap(),
        active,
        "the agreement is as it was"
    );
}

#[tokio::test]
async fn a_draft_is_priced_only_on_its_own_provider_s_card_and_only_for_hours() {
    let app = TestApp::spawn().await;
    app.plan_held_undrafted().await;
    let own = app
        .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .unwrap();
    let theirs = app
        .set_card(
            &provider(OTHER_PROVIDER_ID),
            proto::SetRateCardRequest {
                provider_id: OTHER_PROVIDER_ID.into(),
                ..card_request("2026-04-01")
            },
        )
        .await
        .unwrap();
    let staff = practitioner("fife");
    for (rate_card_id, field) in [
        ("nope".to_owned(), "rate_card_id"),
        (theirs.id.clone(), "rate_card_id"),
        // The held plan's line is a weekly amount, not hours: nothing to price.
        (own.id.clone(), "rate_card_id"),
    ] {
        assert_invalid(
            app.draft(
                &staff,
                proto::DraftAgreementRequest {
                    rate_card_id,
                    ..by_hand()
                },
            )
            .await,
            field,
        );
    }
    assert_eq!(app.agreement_rows().await, (0, 0, 0, 0), "nothing written");
}

#[tokio::test]
async fn a_rate_card_is_changed_at_most_two_years_ahead_and_never_by_another_authority_s_staff() {
    let app = TestApp::spawn().await;
    let (card, drafted) = app.priced_draft().await;
    app.all_sign(&drafted.id, 1).await;
    let versions = app.version_rows().await;
    let uplift = |from: &str| proto::ScheduleUpliftRequest {
        rate_card_id: card.id.clone(),
        effective_from: date(from),
        uplift: Some(proto::schedule_uplift_request::Uplift::Percentage(
            "4".into(),
        )),
    };
    let message = assert_invalid(
        app.uplift(&provider(PROVIDER_ID), uplift("2200-12-31"))
            .await,
        "effective_from",
    );
    assert!(
        message.contains("2028-11-28"),
        "names the furthest date: {message}"
    );
    assert_invalid(
        app.set_card(&provider(PROVIDER_ID), card_request("2029-01-01"))
            .await,
        "effective_from",
    );
    // Angus's commissioning staff may not reprice fife's agreement; fife's may.
    let refused = assert_code(
        app.uplift(&commissioning("angus"), uplift("2027-04-01"))
            .await,
        Code::PermissionDenied,
    );
    assert!(refused.contains("fife"), "{refused}");
    assert_code(
        app.set_card(&commissioning("angus"), card_request("2027-04-01"))
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(app.version_rows().await, versions, "nothing moved");
    app.uplift(&commissioning("fife"), uplift("2027-04-01"))
        .await
        .unwrap();
    assert_eq!(app.version_rows().await.len(), versions.len() + 1);
}
