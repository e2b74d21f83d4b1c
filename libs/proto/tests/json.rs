//! The JSON of the generated types, as `sds` prints it: proto field names as keys, every
//! field printed even at its default, enums by their proto names, 64-bit integers as
//! strings. Scripts depend on this shape.

use sds_proto::v1::{
    FrameworkMembership, FrameworkStatus, PageResponse, Provider, ProviderDetails, ProviderKind,
};
use serde_json::json;

#[test]
fn a_provider_prints_with_snake_case_keys_enum_names_and_64_bit_integers_as_strings() {
    let provider = Provider {
        id: "0190a0b0-0000-7000-8000-000000000001".to_owned(),
        details: Some(ProviderDetails {
            name: "Deeside Art Studio".to_owned(),
            kind: ProviderKind::NonCareBusiness as i32,
            holds_isfs: true,
            ..ProviderDetails::default()
        }),
        frameworks: vec![FrameworkMembership {
            authority: "demo-shire".to_owned(),
            status: FrameworkStatus::OnFramework as i32,
        }],
        version: 3,
        ..Provider::default()
    };
    let printed = serde_json::to_value(&provider).expect("a provider serializes");
    assert_eq!(printed["details"]["name"], "Deeside Art Studio");
    assert_eq!(
        printed["details"]["kind"],
        "PROVIDER_KIND_NON_CARE_BUSINESS"
    );
    assert_eq!(printed["details"]["holds_isfs"], true);
    assert_eq!(
        printed["frameworks"][0]["status"],
        "FRAMEWORK_STATUS_ON_FRAMEWORK"
    );
    assert_eq!(printed["version"], "3");
}

#[test]
fn fields_at_their_default_are_printed_but_unset_optional_fields_are_not() {
    let printed = serde_json::to_value(Provider::default()).expect("a provider serializes");
    assert_eq!(printed["min_grade"], 0);
    assert_eq!(printed["grades"], json!([]));
    assert_eq!(printed["registered_at"], "");
    assert!(printed.get("details").is_none(), "{printed}");

    let page = serde_json::to_value(PageResponse::default()).expect("a page serializes");
    assert_eq!(page, json!({"next_page_token": "", "total_matches": "0"}));
}

#[test]
fn printed_json_reads_back_into_the_same_message() {
    let provider = Provider {
        id: "an id".to_owned(),
        min_grade: 4,
        version: u64::MAX,
        ..Provider::default()
    };
    let text = serde_json::to_string(&provider).expect("a provider serializes");
    let read_back: Provider = serde_json::from_str(&text).expect("its JSON reads back");
    assert_eq!(read_back, provider);
}
