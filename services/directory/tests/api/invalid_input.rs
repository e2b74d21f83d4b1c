//! Bad input to every RPC is refused with InvalidArgument, a message that names the field
//! and says what is accepted, and nothing written (R3).

use sds_proto::v1::{self as proto, CheckKind, FrameworkStatus, KeyQuestion};
use sds_testkit::bearer;

use crate::support::*;

/// The details of a good registration, spoilt one field at a time.
fn bad_details() -> Vec<(&'static str, &'static str, proto::ProviderDetails)> {
    let good = details("Good Provider");
    let with = |change: fn(&mut proto::ProviderDetails)| {
        let mut spoilt = good.clone();
        change(&mut spoilt);
        spoilt
    };
    vec![
        (
            "details.capacity",
            "details.capacity is -3; it must be 0 or more",
            with(|d| d.capacity = Some(-3)),
        ),
        (
            "details.kind",
            "details.kind is unspecified; accepted: registered_care_service, voluntary_organisation, micro_provider, self_employed_personal_assistant, community_group, non_care_business",
            with(|d| d.kind = 0),
        ),
        (
            "details.kind",
            "details.kind is 99, which is not a known provider kind; accepted: registered_care_service",
            with(|d| d.kind = 99),
        ),
        (
            "details.name",
            "details.name is empty; it is required",
            with(|d| d.name = "   ".into()),
        ),
        (
            "details.name",
            "details.name is 201 characters long; at most 200 are accepted",
            with(|d| d.name = "n".repeat(201)),
        ),
        (
            "details.name",
            "details.name contains a control character",
            with(|d| d.name = "Two\nLines".into()),
        ),
        (
            "details.name",
            "details.name contains an invisible or direction-changing character",
            with(|d| d.name = "Deeside Care\u{202E}emoH".into()),
        ),
        (
            "details.name",
            "details.name is made of combining marks alone",
            with(|d| d.name = "\u{0301}\u{0301}".into()),
        ),
        (
            "details.service_types",
            "details.service_types has 51 entries; at most 50 are accepted",
            with(|d| {
                d.service_types = (0..51).map(|n| format!("Type {n}")).collect();
            }),
        ),
        (
            "details.service_types[1]",
            "details.service_types[1] is 201 characters long",
            with(|d| {
                d.service_types = vec!["Day support".into(), "t".repeat(201)];
            }),
        ),
        (
            "details.localities[0]",
            "details.localities[0] is empty",
            with(|d| d.localities = vec![String::new()]),
        ),
        (
            "details.localities",
            "details.localities has 51 entries",
            with(|d| {
                d.localities = (0..51).map(|n| format!("Place {n}")).collect();
            }),
        ),
        (
            "details.care_inspectorate_number",
            "details.care_inspectorate_number \"CS123\" is not a Care Inspectorate service number; expected CS and 10 digits",
            with(|d| d.care_inspectorate_number = "CS123".into()),
        ),
        (
            "details.contact_email",
            "details.contact_email is 255 characters long; at most 254 are accepted",
            with(|d| {
                d.contact_email = format!("{}@example.org", "a".repeat(243));
            }),
        ),
        (
            "details.contact_email",
            "details.contact_email \"not-an-email\" is not an email address",
            with(|d| d.contact_email = "not-an-email".into()),
        ),
        (
            "details.contact_phone",
            "details.contact_phone \"ring me\" is not a telephone number",
            with(|d| d.contact_phone = "ring me".into()),
        ),
        (
            "details.management_fee.flat_weekly",
            "details.management_fee.flat_weekly is not valid: amount \"12.345\" has 3 decimal places; GBP takes at most 2",
            with(|d| d.management_fee = Some(flat_weekly_fee("12.345"))),
        ),
        (
            "details.management_fee.flat_weekly",
            "details.management_fee.flat_weekly is not valid: amount \"1e3\" uses an exponent",
            with(|d| d.management_fee = Some(flat_weekly_fee("1e3"))),
        ),
        (
            "details.management_fee.flat_weekly",
            "details.management_fee.flat_weekly is \"-5.00\"; a fee cannot be negative",
            with(|d| d.management_fee = Some(flat_weekly_fee("-5.00"))),
        ),
        (
            "details.management_fee.kind",
            "details.management_fee.kind is unspecified; accepted: none, flat_weekly",
            with(|d| {
                d.management_fee = Some(proto::ManagementFeePolicy::default());
            }),
        ),
        (
            "details.management_fee.kind",
            "details.management_fee.kind is 77, which is not a known management fee kind",
            with(|d| {
                d.management_fee = Some(proto::ManagementFeePolicy {
                    kind: 77,
                    ..proto::ManagementFeePolicy::default()
                });
            }),
        ),
        (
            "details.management_fee.percentage",
            "details.management_fee.percentage is set but the fee kind is flat_weekly, which takes flat_weekly; leave it unset",
            with(|d| {
                d.management_fee = Some(proto::ManagementFeePolicy {
                    percentage: "5".into(),
                    ..flat_weekly_fee("10.00")
                });
            }),
        ),
        (
            "details.management_fee.percentage",
            "details.management_fee.percentage is 150; a percentage runs from 0 to 100",
            with(|d| {
                d.management_fee = Some(proto::ManagementFeePolicy {
                    kind: proto::ManagementFeeKind::Percentage as i32,
                    percentage: "150".into(),
                    ..proto::ManagementFeePolicy::default()
                });
            }),
        ),
        (
            "details.management_fee.admin_hourly_rate",
            "details.management_fee.admin_hourly_rate is missing; the fee kind admin_hours needs it",
            with(|d| {
                d.management_fee = Some(proto::ManagementFeePolicy {
                    kind: proto::ManagementFeeKind::AdminHours as i32,
                    admin_hours_per_week: "2".into(),
                    ..proto::ManagementFeePolicy::default()
                });
            }),
        ),
    ]
}

#[tokio::test]
async fn a_registration_with_bad_details_is_refused_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let before = app.row_counts().await;
    let mut cases = bad_details();
    cases.push((
        "details",
        "details is missing; it is required",
        proto::ProviderDetails::default(),
    ));

    for (field, expected_start, spoilt) in cases {
        let details = (field != "details").then_some(spoilt);
        let result = app
            .client()
            .register_provider(bearer(
                &new_provider_token(),
                proto::RegisterProviderRequest {
                    details,
                    request_id: String::new(),
                },
            ))
            .await;
        let message = assert_invalid(result, field);
        assert!(
            message.starts_with(expected_start),
            "expected {expected_start:?}, got {message:?}"
        );
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn an_update_with_bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Good Provider"))
        .await;
    let before = app.row_counts().await;

    for (field, _, spoilt) in bad_details() {
        let result = app
            .client()
            .update_provider(bearer(
                &token,
                proto::UpdateProviderRequest {
                    id: provider.id.clone(),
                    details: Some(spoilt),
                    expected_version: None,
                },
            ))
            .await;
        assert_invalid(result, field);
    }
    let malformed_id = app
        .client()
        .update_provider(bearer(
            &token,
            proto::UpdateProviderRequest {
                id: "not-a-uuid".into(),
                details: Some(details("Good Provider")),
                expected_version: None,
            },
        ))
        .await;
    let message = assert_invalid(malformed_id, "id");
    assert!(message.contains("expected a UUID"), "{message}");
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.get(&provider.id).await, provider);
}

#[tokio::test]
async fn getting_a_provider_by_a_malformed_id_is_invalid_argument() {
    let app = TestApp::spawn().await;

    for id in ["", "42", "0190f5c2-7d3a-7c4e-9b1a"] {
        let result = app
            .client()
            .get_provider(bearer(
                &any_provider_token(),
                proto::GetProviderRequest { id: id.into() },
            ))
            .await;
        assert_invalid(result, "id");
    }
}

#[tokio::test]
async fn a_check_with_bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (provider, token) = app
        .provider_registers_itself(details("Checked Provider"))
        .await;
    let before = app.row_counts().await;
    let good = proto::Check {
        kind: CheckKind::PvgMembership as i32,
        reference: "PVG-1".into(),
        checked_on: date("2025-01-10"),
        expires_on: date("2028-01-10"),
        status: 0,
    };
    let with = |change: fn(&mut proto::Check)| {
        let mut spoilt = good.clone();
        change(&mut spoilt);
        Some(spoilt)
    };
    let cases = vec![
        (
            "check.expires_on",
            "check.expires_on \"2026-02-30\" is not a date; expected YYYY-MM-DD",
            with(|c| c.expires_on = date("2026-02-30")),
        ),
        (
            "check.expires_on",
            "check.expires_on \"10/01/2028\" is not a date",
            with(|c| c.expires_on = date("10/01/2028")),
        ),
        (
            "check.expires_on",
            "check.expires_on 2300-01-01 is out of range; dates from 1900-01-01 to 2200-12-31",
            with(|c| c.expires_on = date("2300-01-01")),
        ),
        (
            "check.expires_on",
            "check.expires_on 2024-01-01 is before checked_on 2025-01-10",
            with(|c| c.expires_on = date("2024-01-01")),
        ),
        (
            "check.checked_on",
            "check.checked_on is missing; expected a date as YYYY-MM-DD",
            with(|c| c.checked_on = None),
        ),
        (
            "check.checked_on",
            "check.checked_on 1850-06-01 is out of range",
            with(|c| c.checked_on = date("1850-06-01")),
        ),
        (
            "check.kind",
            "check.kind is unspecified; accepted: registration, pvg_membership",
            with(|c| c.kind = 0),
        ),
        (
            "check.kind",
            "check.kind is 9, which is not a known check kind",
            with(|c| c.kind = 9),
        ),
        (
            "check.reference",
            "check.reference is 101 characters long; at most 100 are accepted",
            with(|c| c.reference = "r".repeat(101)),
        ),
        (
            "check.checked_on",
            "check.checked_on ",
            with(|c| c.checked_on = days_from_today(30)),
        ),
        (
            "check.reference",
            "check.reference is empty; a pvg_membership check needs its reference, the PVG membership number",
            with(|c| c.reference = "  ".into()),
        ),
        ("check", "check is missing", None),
    ];

    for (field, expected_start, check) in cases {
        let result = app
            .client()
            .record_check(bearer(
                &token,
                proto::RecordCheckRequest {
                    provider_id: provider.id.clone(),
                    check,
                },
            ))
            .await;
        let message = assert_invalid(result, field);
        assert!(
            message.starts_with(expected_start),
            "expected {expected_start:?}, got {message:?}"
        );
    }
    let malformed_id = app
        .client()
        .record_check(bearer(
            &token,
            proto::RecordCheckRequest {
                provider_id: "x".into(),
                check: Some(good.clone()),
            },
        ))
        .await;
    assert_invalid(malformed_id, "provider_id");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn grades_with_bad_input_are_refused_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Graded Provider"))
        .await;
    let before = app.row_counts().await;
    let good = grade(KeyQuestion::SupportWellbeing, 5, "2025-04-01");
    let cases = vec![
        (
            "grades[1].grade",
            "grades[1].grade is 7; Care Inspectorate grades run from 1 to 6",
            vec![good.clone(), grade(KeyQuestion::Setting, 7, "2025-04-01")],
        ),
        (
            "grades[0].grade",
            "grades[0].grade is 0; Care Inspectorate grades run from 1 to 6",
            vec![grade(KeyQuestion::Setting, 0, "2025-04-01")],
        ),
        (
            "grades[0].key_question",
            "grades[0].key_question is unspecified; accepted: support_wellbeing",
            vec![proto::Grade {
                key_question: 0,
                ..good.clone()
            }],
        ),
        (
            "grades[0].key_question",
            "grades[0].key_question is 12, which is not a known key question",
            vec![proto::Grade {
                key_question: 12,
                ..good.clone()
            }],
        ),
        (
            "grades[0].inspected_on",
            "grades[0].inspected_on \"2025-13-01\" is not a date",
            vec![proto::Grade {
                inspected_on: date("2025-13-01"),
                ..good.clone()
            }],
        ),
        (
            "grades[1].key_question",
            "grades[1].key_question repeats support_wellbeing from grades[0]",
            vec![good.clone(), good.clone()],
        ),
        ("grades", "grades is empty", vec![]),
    ];

    for (field, expected_start, grades) in cases {
        let result = app
            .client()
            .record_grades(bearer(
                &commissioning("aberdeenshire"),
                proto::RecordGradesRequest {
                    provider_id: provider.id.clone(),
                    grades,
                },
            ))
            .await;
        let message = assert_invalid(result, field);
        assert!(
            message.starts_with(expected_start),
            "expected {expected_start:?}, got {message:?}"
        );
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_framework_status_with_bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Framework Provider"))
        .await;
    let before = app.row_counts().await;
    let request = |authority: &str, status: i32| proto::SetFrameworkStatusRequest {
        provider_id: provider.id.clone(),
        authority: authority.to_owned(),
        status,
    };
    let cases = vec![
        (
            "status",
            "status is unspecified; accepted: on_framework, open_list, off_framework",
            request("aberdeenshire", 0),
        ),
        (
            "status",
            "status is 8, which is not a known framework status",
            request("aberdeenshire", 8),
        ),
        (
            "authority",
            "authority \"Aberdeen Shire\" is not an authority id",
            request("Aberdeen Shire", FrameworkStatus::OnFramework as i32),
        ),
        (
            "authority",
            "authority is empty",
            request("", FrameworkStatus::OnFramework as i32),
        ),
    ];

    for (field, expected_start, bad) in cases {
        let result = app
            .client()
            .set_framework_status(bearer(&commissioning("aberdeenshire"), bad))
            .await;
        let message = assert_invalid(result, field);
        assert!(
            message.starts_with(expected_start),
            "expected {expected_start:?}, got {message:?}"
        );
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_search_with_bad_input_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let search = proto::SearchProvidersRequest::default;
    let cases = vec![
        (
            "min_grade",
            "min_grade is 7; give a grade from 1 to 6, or 0 for no minimum",
            proto::SearchProvidersRequest {
                min_grade: 7,
                ..search()
            },
        ),
        (
            "page.page_size",
            "page.page_size is 500; at most 200 are accepted",
            proto::SearchProvidersRequest {
                page: Some(proto::PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                ..search()
            },
        ),
        (
            "page.page_token",
            "page.page_token is not a token this search issued",
            proto::SearchProvidersRequest {
                page: Some(proto::PageRequest {
                    page_size: 0,
                    page_token: "bm90IGEgdG9rZW4".into(),
                }),
                ..search()
            },
        ),
        (
            "framework_authority",
            "framework_authority is empty but framework_status is given",
            proto::SearchProvidersRequest {
                framework_status: FrameworkStatus::OnFramework as i32,
                ..search()
            },
        ),
        (
            "framework_status",
            "framework_status is unspecified but framework_authority is \"fife\"",
            proto::SearchProvidersRequest {
                framework_authority: "fife".into(),
                ..search()
            },
        ),
        (
            "framework_status",
            "framework_status is 12, which is not a known framework status",
            proto::SearchProvidersRequest {
                framework_authority: "fife".into(),
                framework_status: 12,
                ..search()
            },
        ),
        (
            "text",
            "text is 201 characters long; at most 200 are accepted",
            proto::SearchProvidersRequest {
                text: "w".repeat(201),
                ..search()
            },
        ),
        (
            "locality",
            "locality contains a control character",
            proto::SearchProvidersRequest {
                locality: "Fife\t".repeat(2),
                ..search()
            },
        ),
    ];

    for (field, expected_start, request) in cases {
        let result = app
            .client()
            .search_providers(bearer(&any_provider_token(), request))
            .await;
        let message = assert_invalid(result, field);
        assert!(
            message.starts_with(expected_start),
            "expected {expected_start:?}, got {message:?}"
        );
    }
}
