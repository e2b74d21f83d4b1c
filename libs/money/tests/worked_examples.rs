//! The two worked examples of DOMAIN.md, run through the preview exactly as the CLI
//! would, and compared with the expected output as JSON values.

use std::path::PathBuf;

use serde_json::Value;

fn example(name: &str, suffix: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "examples"]
        .iter()
        .collect::<PathBuf>()
        .join(format!("{name}.{suffix}.json"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

fn assert_example_matches(name: &str) {
    let output = sds_money::preview_json(&example(name, "input"))
        .unwrap_or_else(|error| panic!("{name}: preview refused the input: {error}"));
    let actual: Value = serde_json::from_str(&output).expect("preview prints JSON");
    let expected: Value =
        serde_json::from_str(&example(name, "expected")).expect("expected output is JSON");
    assert_eq!(actual, expected, "{name}: preview output was\n{output}");
}

#[test]
fn four_weekly_advance_with_a_backdated_increase_matches_the_worked_example() {
    assert_example_matches("four-weekly-advance-backdated-increase");
}

#[test]
fn quarterly_arrears_with_a_line_ended_after_the_fact_matches_the_worked_example() {
    assert_example_matches("quarterly-arrears-ended-after-the-fact");
}
