//! Bad input for every RPC: `InvalidArgument` naming the field by its path, and nothing
//! written.

use sds_proto::v1::{self as proto, RateComponent};
use sds_testkit::bearer;

use crate::support::*;

fn fee(fee: proto::AgreementFee) -> proto::ContractDefaultTerms {
    proto::ContractDefaultTerms {
        fee: Some(fee),
        ..terms()
    }
}

fn arrears(lag_days: u32) -> Option<proto::PaymentTiming> {
    Some(proto::PaymentTiming {
        timing: Some(proto::payment_timing::Timing::Arrears(proto::InArrears {
            lag_days,
        })),
    })
}

#[tokio::test]
async fn bad_defaults_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let percentage = |percent: &str| proto::AgreementFee {
        kind: proto::ManagementFeeKind::Percentage as i32,
        percentage: percent.into(),
        placement: proto::FeePlacement::OnTop as i32,
        ..proto::AgreementFee::default()
    };
    let cases: Vec<(&str, Option<proto::ContractDefaultTerms>, &str)> = vec![
        ("Fife!", Some(terms()), "authority"),
        ("fife", None, "terms"),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                frequency: 0,
                ..terms()
            }),
            "terms.frequency",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                frequency: 9,
                ..terms()
            }),
            "terms.frequency",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                timing: None,
                ..terms()
            }),
            "terms.timing",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                timing: arrears(91),
                ..terms()
            }),
            "terms.timing.arrears.lag_days",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                timing: Some(proto::PaymentTiming {
                    timing: Some(proto::payment_timing::Timing::Advance(proto::InAdvance {})),
                }),
                ..terms()
            }),
            "terms.basis",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                basis: 0,
                ..terms()
            }),
            "terms.basis",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                flex_tolerance_percent: "100.5".into(),
                ..terms()
            }),
            "terms.flex_tolerance_percent",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                flex_tolerance_percent: "ten".into(),
                ..terms()
            }),
            "terms.flex_tolerance_percent",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                fee: None,
                ..terms()
            }),
            "terms.fee",
        ),
        (
            "fife",
            Some(fee(proto::AgreementFee::default())),
            "terms.fee.kind",
        ),
        ("fife", Some(fee(percentage("0"))), "terms.fee.percentage"),
        (
            "fife",
            Some(fee(percentage("7.125"))),
            "terms.fee.percentage",
        ),
        (
            "fife",
            Some(fee(proto::AgreementFee {
                placement: 0,
                ..percentage("7.5")
            })),
            "terms.fee.placement",
        ),
        (
            "fife",
            Some(fee(proto::AgreementFee {
                flat_weekly: money("10.00"),
                ..percentage("7.5")
            })),
            "terms.fee.flat_weekly",
        ),
        (
            "fife",
            Some(fee(proto::AgreementFee {
                kind: proto::ManagementFeeKind::FlatWeekly as i32,
                flat_weekly: money("0.00"),
                ..proto::AgreementFee::default()
            })),
            "terms.fee.flat_weekly",
        ),
        (
            "fife",
            Some(fee(proto::AgreementFee {
                kind: proto::ManagementFeeKind::FlatWeekly as i32,
                flat_weekly: money("10.00"),
                placement: proto::FeePlacement::WithinBudget as i32,
                ..proto::AgreementFee::default()
            })),
            "terms.fee.placement",
        ),
        (
            "fife",
            Some(fee(proto::AgreementFee {
                kind: proto::ManagementFeeKind::AdminHours as i32,
                admin_hours_per_week: "169".into(),
                admin_hourly_rate: money("20.00"),
                ..proto::AgreementFee::default()
            })),
            "terms.fee.admin_hours_per_week",
        ),
        (
            "fife",
            Some(fee(proto::AgreementFee {
                kind: proto::ManagementFeeKind::AdminHours as i32,
                admin_hours_per_week: "1.5".into(),
                ..proto::AgreementFee::default()
            })),
            "terms.fee.admin_hourly_rate",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                notice_days: 366,
                ..terms()
            }),
            "terms.notice_days",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                review_after_months: 0,
                ..terms()
            }),
            "terms.review_after_months",
        ),
        (
            "fife",
            Some(proto::ContractDefaultTerms {
                review_after_months: 61,
                ..terms()
            }),
            "terms.review_after_months",
        ),
    ];
    for (authority, terms, field) in cases {
        let result = app
            .client()
            .set_contract_defaults(bearer(
                &commissioning("fife"),
                proto::SetContractDefaultsRequest {
                    authority: authority.into(),
                    terms,
                },
            ))
            .await;
        assert_invalid(result, field);
    }
    assert_invalid(
        app.client()
            .get_contract_defaults(bearer(
                &commissioning("fife"),
                proto::GetContractDefaultsRequest {
                    authority: "".into(),
                },
            ))
            .await,
        "authority",
    );
    assert_eq!(app.row_counts().await.defaults, 0, "nothing written");
}

#[tokio::test]
async fn bad_rate_cards_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let with = |components: Vec<proto::RateAmount>| proto::SetRateCardRequest {
        components,
        ..card_request("2026-04-01")
    };
    let wage = || amount(RateComponent::CareWorkerWage, "12.60");
    let cases: Vec<(proto::SetRateCardRequest, &str)> = vec![
        (
            proto::SetRateCardRequest {
                provider_id: "provider-1".into(),
                ..card_request("2026-04-01")
            },
            "provider_id",
        ),
        (
            proto::SetRateCardRequest {
                service_type: " ".into(),
                ..card_request("2026-04-01")
            },
            "service_type",
        ),
        (card_request("2026-02-30"), "effective_from"),
        (
            proto::SetRateCardRequest {
                effective_from: None,
                ..card_request("2026-04-01")
            },
            "effective_from",
        ),
        (with(vec![]), "components"),
        (
            with(vec![amount(RateComponent::OnCosts, "3.15")]),
            "components",
        ),
        (
            with(vec![amount(RateComponent::CareWorkerWage, "0.00")]),
            "components",
        ),
        (
            with(vec![wage(), amount(RateComponent::Travel, "-0.01")]),
            "components[1].hourly",
        ),
        (
            with(vec![wage(), amount(RateComponent::Travel, "2.105")]),
            "components[1].hourly",
        ),
        (
            with(vec![
                wage(),
                proto::RateAmount {
                    component: RateComponent::Travel as i32,
                    hourly: None,
                },
            ]),
            "components[1].hourly",
        ),
        (
            with(vec![wage(), amount(RateComponent::Unspecified, "1.00")]),
            "components[1].component",
        ),
        (with(vec![wage(), wage()]), "components[1]"),
    ];
    for (request, field) in cases {
        assert_invalid(app.set_card(&provider(PROVIDER_ID), request).await, field);
    }
    assert_eq!(
        app.row_counts().await,
        RowCounts {
            defaults: 0,
            cards: 0,
            versions: 0,
            components: 0
        },
        "nothing written"
    );
}

#[tokio::test]
async fn bad_uplifts_and_reads_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let card = app
        .set_card(&provider(PROVIDER_ID), card_request("2026-04-01"))
        .await
        .expect("set");
    let before = app.row_counts().await;
    let request =
        |uplift: Option<proto::schedule_uplift_request::Uplift>| proto::ScheduleUpliftRequest {
            rate_card_id: card.id.clone(),
            effective_from: date("2027-04-01"),
            uplift,
        };
    let percentage = |percent: &str| {
        Some(proto::schedule_uplift_request::Uplift::Percentage(
            percent.into(),
        ))
    };
    let values = |components: Vec<proto::RateAmount>| {
        Some(proto::schedule_uplift_request::Uplift::NewValues(
            proto::NewRateValues { components },
        ))
    };
    let cases: Vec<(proto::ScheduleUpliftRequest, &str)> = vec![
        (
            proto::ScheduleUpliftRequest {
                rate_card_id: "".into(),
                ..request(percentage("3.5"))
            },
            "rate_card_id",
        ),
        (
            proto::ScheduleUpliftRequest {
                effective_from: date("2027-4-1"),
                ..request(percentage("3.5"))
            },
            "effective_from",
        ),
        (request(None), "uplift"),
        (request(percentage("0")), "percentage"),
        (request(percentage("100.5")), "percentage"),
        (request(percentage("3.125")), "percentage"),
        (request(percentage("-2")), "percentage"),
        (request(values(vec![])), "new_values.components"),
        (
            request(values(vec![amount(RateComponent::Travel, "-1.00")])),
            "new_values.components[0].hourly",
        ),
        (
            request(values(vec![amount(RateComponent::Unspecified, "1.00")])),
            "new_values.components[0].component",
        ),
        (
            request(values(vec![
                amount(RateComponent::Travel, "2.50"),
                amount(RateComponent::Travel, "2.60"),
            ])),
            "new_values.components[1]",
        ),
    ];
    for (request, field) in cases {
        assert_invalid(app.uplift(&provider(PROVIDER_ID), request).await, field);
    }
    assert_invalid(
        app.get_card(&provider(PROVIDER_ID), "not-an-id").await,
        "rate_card_id",
    );
    assert_eq!(app.row_counts().await, before, "nothing written");
}
