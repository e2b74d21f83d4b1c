//! Contract defaults: set by an authority's commissioning staff, read by its staff.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_testkit::bearer;
use tonic::Code;

use crate::support::*;

#[tokio::test]
async fn defaults_are_set_and_read_back_with_a_version_raised_by_each_change() {
    let app = TestApp::spawn().await;
    let first = app.set_defaults("fife", terms()).await.expect("set");
    assert_eq!(first.version, 1);
    assert_eq!(first.authority, "fife");
    assert_eq!(first.terms, Some(terms()));

    let read = app
        .client()
        .get_contract_defaults(bearer(
            &practitioner("fife"),
            proto::GetContractDefaultsRequest {
                authority: "fife".into(),
            },
        ))
        .await
        .expect("any staff of the authority reads them")
        .into_inner();
    assert_eq!(read, first);

    let again = app.set_defaults("fife", terms()).await.expect("retried");
    assert_eq!(again.version, 1, "the same terms again change nothing");

    let changed_terms = proto::ContractDefaultTerms {
        timing: Some(proto::PaymentTiming {
            timing: Some(proto::payment_timing::Timing::Advance(proto::InAdvance {})),
        }),
        basis: proto::PaymentBasis::Scheduled as i32,
        fee: Some(proto::AgreementFee {
            kind: proto::ManagementFeeKind::FlatWeekly as i32,
            flat_weekly: money("12.50"),
            ..proto::AgreementFee::default()
        }),
        notice_days: 0,
        ..terms()
    };
    let changed = app
        .set_defaults("fife", changed_terms.clone())
        .await
        .expect("changed");
    assert_eq!(changed.version, 2);
    let fee = changed.terms.as_ref().and_then(|terms| terms.fee.clone());
    assert_eq!(
        fee.map(|fee| (fee.flat_weekly, fee.placement)),
        Some((money("12.50"), proto::FeePlacement::OnTop as i32)),
        "a flat fee is on top of the budget"
    );
    let third = app
        .set_defaults(
            "fife",
            proto::ContractDefaultTerms {
                review_after_months: 12,
                ..changed_terms
            },
        )
        .await
        .expect("changed again");
    assert_eq!(third.version, 3);
}

#[tokio::test]
async fn defaults_not_yet_set_are_not_found() {
    let app = TestApp::spawn().await;
    let message = assert_code(
        app.client()
            .get_contract_defaults(bearer(
                &commissioning("fife"),
                proto::GetContractDefaultsRequest {
                    authority: "fife".into(),
                },
            ))
            .await,
        Code::NotFound,
    );
    assert!(message.contains("SetContractDefaults"), "{message}");
}

#[tokio::test]
async fn only_the_authoritys_commissioning_staff_set_them_and_only_its_staff_read_them() {
    let app = TestApp::spawn().await;
    app.set_defaults("fife", terms()).await.expect("set");
    let before = app.row_counts().await;
    for token in [
        commissioning("angus"),
        practitioner("fife"),
        staff("fife", &[Role::Finance]),
        provider(PROVIDER_ID),
    ] {
        let message = assert_code(
            app.client()
                .set_contract_defaults(bearer(
                    &token,
                    proto::SetContractDefaultsRequest {
                        authority: "fife".into(),
                        terms: Some(proto::ContractDefaultTerms {
                            notice_days: 90,
                            ..terms()
                        }),
                    },
                ))
                .await,
            Code::PermissionDenied,
        );
        assert!(message.contains("commissioning staff"), "{message}");
    }
    for token in [commissioning("angus"), provider(PROVIDER_ID)] {
        assert_code(
            app.client()
                .get_contract_defaults(bearer(
                    &token,
                    proto::GetContractDefaultsRequest {
                        authority: "fife".into(),
                    },
                ))
                .await,
            Code::PermissionDenied,
        );
    }
    assert_eq!(app.row_counts().await, before, "nothing written");
    let unchanged = app
        .client()
        .get_contract_defaults(bearer(
            &practitioner("fife"),
            proto::GetContractDefaultsRequest {
                authority: "fife".into(),
            },
        ))
        .await
        .expect("read")
        .into_inner();
    assert_eq!((unchanged.version, unchanged.terms), (1, Some(terms())));
}
