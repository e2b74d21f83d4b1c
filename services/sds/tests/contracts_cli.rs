//! `sds contracts ...` against a real `sds serve`: an authority's default terms set and read
//! back; a provider's rate card set, uplifted and shown as a table of its versions; flags of
//! the wrong shape refused before anything is sent. Agreements are in `contracts_agreement_cli`.

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn commissioning_staff_set_default_terms_and_a_rate_card_that_is_uplifted_from_its_date() {
    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();

    let defaults = printed(&server.run(
        &[
            "contracts",
            "defaults",
            "set",
            "--authority",
            "demo-shire",
            "--frequency",
            "four-weekly",
            "--timing",
            "arrears:14",
            "--basis",
            "actuals",
            "--tolerance",
            "10",
            "--fee",
            "percentage:7.5:within-budget",
            "--notice-days",
            "28",
            "--review-after-months",
            "12",
        ],
        Some(&commissioning),
    ));
    assert_eq!(
        defaults["terms"]["frequency"],
        "PAYMENT_FREQUENCY_FOUR_WEEKLY"
    );
    assert_eq!(defaults["terms"]["timing"]["arrears"]["lag_days"], 14);
    assert_eq!(defaults["terms"]["fee"]["percentage"], "7.5");
    let read = printed(&server.run(
        &["contracts", "defaults", "get", "--authority", "demo-shire"],
        Some(&server.staff_token("practitioner")),
    ));
    assert_eq!(read, defaults);

    let provider = server
        .directory_lists("Deeside Home Care", "CS2004071234")
        .await;
    let card = printed(&server.run(
        &[
            "contracts",
            "rate-card",
            "set",
            "--provider",
            &provider,
            "--service-type",
            "Care at home",
            "--from",
            "2026-04-01",
            "--component",
            "care-worker-wage=12.60",
            "--component",
            "on-costs=3.15",
            "--component",
            "travel=2.10",
            "--component",
            "training=0.52",
            "--component",
            "overheads=4.00",
            "--component",
            "management=2.00",
            "--component",
            "surplus=1.00",
        ],
        Some(&commissioning),
    ));
    assert_eq!(card["versions"][0]["hourly_rate"]["amount"], "25.37");
    let card_id = card["id"].as_str().expect("a card id").to_owned();
    let uplifted = printed(&server.run(
        &[
            "contracts",
            "rate-card",
            "uplift",
            &card_id,
            "--from",
            "2027-04-01",
            "--percent",
            "3.5",
        ],
        Some(&commissioning),
    ));
    assert_eq!(uplifted["versions"][1]["hourly_rate"]["amount"], "26.26");

    let table = server.run(
        &["contracts", "rate-card", "get", &card_id],
        Some(&commissioning),
    );
    let text = stdout_of(&table);
    assert!(table.status.success(), "{}", stderr_of(&table));
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("VERSION  FROM"), "{text}");
    assert!(
        rows[2].contains("2027-04-01") && rows[2].contains("26.26") && rows[2].contains("13.04"),
        "{text}"
    );
    let json = printed(&server.run(
        &["contracts", "rate-card", "get", &card_id, "--json"],
        Some(&commissioning),
    ));
    assert_eq!(json, uplifted);
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_of_the_wrong_shape_are_refused_before_anything_is_sent() {
    // No server: a refusal here never reached one.
    let env = [("SDS_ADDR", "127.0.0.1:9"), ("SDS_TOKEN", "unused")];
    for (args, expected) in [
        (
            vec![
                "contracts",
                "defaults",
                "set",
                "--authority",
                "demo-shire",
                "--frequency",
                "four-weekly",
                "--timing",
                "later",
                "--basis",
                "scheduled",
                "--tolerance",
                "10",
                "--fee",
                "none",
                "--notice-days",
                "28",
                "--review-after-months",
                "12",
            ],
            "--timing \"later\" is not advance or arrears:LAG_DAYS",
        ),
        (
            vec![
                "contracts",
                "rate-card",
                "set",
                "--provider",
                "p",
                "--service-type",
                "s",
                "--from",
                "2026-04-01",
                "--component",
                "bonus=1.00",
            ],
            "\"bonus\" is not a rate component",
        ),
    ] {
        let output = sds(&args, &env);
        let message = refusal(&output);
        assert!(message.contains(expected), "{message}");
    }
}
