//! Reading the policy file of `sds assessment policy set`: the proto3 JSON (pbjson, proto
//! field names or their lowerCamelCase JSON names) of `sds.v1.PolicyDetails`, from a file or
//! standard input (`-`).
//!
//! What must stay true: a file that is not that JSON is refused before anything is sent,
//! in one message naming the file and, where there is one, the field by its path
//! (`approval_limits.panel.child`), so that it can be fixed without reading the proto.
//! Whether the policy itself is sound (limits rising with seniority, bands not overlapping)
//! is the server's to judge, in its own `InvalidArgument`.

use std::path::Path;

use anyhow::Context;
use sds_proto::v1::{Date, PolicyDetails};

/// What the file should be, for refusals.
const EXPECTED: &str =
    "expected the proto3 JSON of sds.v1.PolicyDetails, as in deploy/local/sample/policy.json";

/// Reads and parses the policy file, or standard input for `-`.
pub fn read_policy_details(file: &Path) -> anyhow::Result<PolicyDetails> {
    let (source, text) = read_source(file)?;
    policy_details_from_json(&source, &text)
}

/// The text of `file`, or of standard input for `-`, with the name a refusal gives it.
pub fn read_source(file: &Path) -> anyhow::Result<(String, String)> {
    if file.as_os_str() == "-" {
        let text =
            std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?;
        Ok(("standard input".to_owned(), text))
    } else {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        Ok((file.display().to_string(), text))
    }
}

/// Parses `text` as `PolicyDetails`; `source` names it in a refusal.
pub fn policy_details_from_json(source: &str, text: &str) -> anyhow::Result<PolicyDetails> {
    from_json(source, text, EXPECTED)
}

/// Parses `text` as one `T` (a generated message, or a list of them); a refusal names
/// `source`, the field by its path, and what was `expected`.
pub fn from_json<T: serde::de::DeserializeOwned>(
    source: &str,
    text: &str,
    expected: &str,
) -> anyhow::Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let problem = in_words(error.inner());
        // The root is printed as "."; a refusal there names no field.
        if path == "." {
            anyhow::anyhow!("{source}: {problem}; {expected}")
        } else {
            anyhow::anyhow!("{source}: {path}: {problem}; {expected}")
        }
    })?;
    // Something after the value (a second object, stray text) means the file is not one
    // value, whatever its first part says.
    deserializer
        .end()
        .map_err(|error| anyhow::anyhow!("{source}: {error}; {expected}"))?;
    Ok(value)
}

/// serde_json's refusal, except where it speaks of pbjson's insides: a number field
/// (which takes a JSON number or a string of digits) given a value it cannot hold, such as
/// a negative or fractional number of days, is refused by an untagged enum whose message
/// says only that no variant matched.
fn in_words(error: &serde_json::Error) -> String {
    let message = error.to_string();
    const UNTAGGED: &str = "data did not match any variant of untagged enum Content";
    match message.strip_prefix(UNTAGGED) {
        Some(position) => format!(
            "is not a number this field can hold (a whole number, 0 or more for counts){position}"
        ),
        None => message,
    }
}

/// Puts the flags that override the file (`--authority`, `--effective-from`) in place, so
/// that one file serves any authority and any date (as `deploy/local/up` uses it).
pub fn override_fields(
    details: &mut PolicyDetails,
    authority: Option<String>,
    effective_from: Option<String>,
) {
    if let Some(authority) = authority {
        details.authority = authority;
    }
    if let Some(iso) = effective_from {
        details.effective_from = Some(Date { iso });
    }
}

#[cfg(test)]
mod tests {
    use sds_proto::v1 as proto;
    use sds_proto::v1::{limit, policy_details};

    use super::*;

    const SAMPLE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/local/sample/policy.json"
    ));

    fn up_to(amount: &str) -> Option<proto::Limit> {
        Some(proto::Limit {
            limit: Some(limit::Limit::UpTo(proto::Money {
                amount: amount.into(),
            })),
        })
    }

    #[test]
    fn the_sample_policy_reads_as_the_documented_policy() {
        let details = policy_details_from_json("policy.json", SAMPLE).unwrap();
        assert_eq!(details.authority, "demo-shire");
        assert_eq!(
            details.eligibility_threshold,
            proto::EligibilityLevel::Substantial as i32
        );
        let limits = details.approval_limits.clone().unwrap();
        let practitioner = limits.practitioner.unwrap();
        assert_eq!(
            (practitioner.child, practitioner.adult),
            (up_to("275.00"), up_to("375.00"))
        );
        let team_manager = limits.team_manager.unwrap();
        assert_eq!(
            (team_manager.child, team_manager.adult),
            (up_to("600.00"), up_to("800.00"))
        );
        let unlimited = Some(proto::Limit {
            limit: Some(limit::Limit::Unlimited(true)),
        });
        let panel = limits.panel.unwrap();
        assert_eq!((panel.child, panel.adult), (unlimited.clone(), unlimited));
        assert_eq!(details.backdating_days, 90);
        assert_eq!(
            details.review_interval,
            Some(policy_details::ReviewInterval::ReviewIntervalMonths(12))
        );
        assert_eq!(details.sending_location, "100");
        assert!(!details.resource_allocation.unwrap().questions.is_empty());
    }

    #[test]
    fn the_sample_policy_is_one_the_assessment_service_accepts() {
        let details = policy_details_from_json("policy.json", SAMPLE).unwrap();
        let policy = sds_assessment::grpc::convert::policy(Some(details));
        assert!(policy.is_ok(), "{policy:?}");
    }

    #[test]
    fn flags_override_the_files_authority_and_date_and_leave_the_rest() {
        let mut details = policy_details_from_json("policy.json", SAMPLE).unwrap();
        let before = details.clone();
        override_fields(&mut details, None, None);
        assert_eq!(details, before);
        override_fields(
            &mut details,
            Some("east-ayrshire".into()),
            Some("2027-04-01".into()),
        );
        assert_eq!(details.authority, "east-ayrshire");
        assert_eq!(details.effective_from.unwrap().iso, "2027-04-01");
        assert_eq!(details.approval_limits, before.approval_limits);
    }

    fn refusal(text: &str) -> String {
        policy_details_from_json("policy.json", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_misspelt_field_is_refused_naming_the_file_and_where_it_is() {
        let text = SAMPLE.replace("\"up_to\"", "\"upto\"");
        let message = refusal(&text);
        assert!(
            message.starts_with("policy.json: approval_limits.practitioner.child"),
            "{message}"
        );
        assert!(message.contains("unknown field `upto`"), "{message}");
        assert!(message.contains("sds.v1.PolicyDetails"), "{message}");
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_refused_naming_its_field() {
        let text = SAMPLE.replace(
            "\"ELIGIBILITY_LEVEL_SUBSTANTIAL\"",
            "\"ELIGIBILITY_LEVEL_HIGH\"",
        );
        let message = refusal(&text);
        assert!(
            message.starts_with("policy.json: eligibility_threshold: "),
            "{message}"
        );
        for wrong in ["\"ninety\"", "-1", "1.5"] {
            let text = SAMPLE.replace(
                "\"backdating_days\": 90",
                &format!("\"backdating_days\": {wrong}"),
            );
            let message = refusal(&text);
            assert!(
                message.starts_with("policy.json: backdating_days: "),
                "{message}"
            );
            assert!(!message.contains("untagged"), "{message}");
        }
    }

    #[test]
    fn other_json_or_no_json_is_refused_as_not_a_policy() {
        let message = refusal(r#"{"versions": [], "until": "2026-04-01"}"#);
        assert!(message.contains("unknown field `versions`"), "{message}");
        let message = refusal("[1, 2]");
        assert!(
            message.starts_with("policy.json: invalid type"),
            "{message}"
        );
        let message = refusal("authority: demo-shire");
        assert!(message.contains("line 1 column 1"), "{message}");
        let message = refusal(&format!("{SAMPLE}{{}}"));
        assert!(message.contains("trailing characters"), "{message}");
    }
}
