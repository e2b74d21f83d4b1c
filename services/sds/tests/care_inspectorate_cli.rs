//! `sds directory import-care-inspectorate` against a real `sds serve`: the datastore CSV
//! imported idempotently with its events, a file that is not the datastore refused and bad
//! rows reported by line, combined services' grades dated with a note, and inactive
//! services left out of search.

mod support;

use std::time::Duration;

use sds_testkit::wait_until;
use serde_json::Value;
use support::*;

fn count_providers(server: &ServerProcess, token: &str) -> u64 {
    let output = server.run(
        &["directory", "search", "--page-size", "1", "--json"],
        Some(token),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    // proto3 JSON carries 64-bit integers as strings.
    value["page"]["total_matches"]
        .as_str()
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no page.total_matches in {value}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_care_inspectorate_import_is_idempotent_and_publishes_events() {
    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();

    let first = server.run(
        &[
            "directory",
            "import-care-inspectorate",
            sample_csv().to_str().unwrap(),
        ],
        Some(&commissioning),
    );
    assert!(first.status.success(), "{}", stderr_of(&first));
    let summary = last_line_json(&first);
    let rows = summary["imported"].as_u64().unwrap();
    assert!(rows >= 10, "{summary}");
    assert_eq!(summary["updated"], 0);
    assert_eq!(summary["rejected"], Value::Array(vec![]));

    let again = server.run(
        &[
            "directory",
            "import-care-inspectorate",
            sample_csv().to_str().unwrap(),
        ],
        Some(&commissioning),
    );
    let summary = last_line_json(&again);
    assert_eq!(summary["imported"], 0, "{summary}");
    assert_eq!(summary["updated"].as_u64().unwrap(), rows);
    assert_eq!(count_providers(&server, &commissioning), rows);

    let searched = server.run(
        &[
            "directory",
            "search",
            "--locality",
            "Aberdeenshire",
            "--min-grade",
            "4",
            "--json",
        ],
        Some(&commissioning),
    );
    let found: Value = serde_json::from_slice(&searched.stdout).unwrap();
    let providers = found["providers"].as_array().unwrap();
    assert!(!providers.is_empty());
    for provider in providers {
        assert!(provider["min_grade"].as_u64().unwrap() >= 4, "{provider}");
    }

    // Every imported provider's registration reaches the event stream through the outbox.
    let client = async_nats::connect(server.setting("SDS_NATS_URL"))
        .await
        .unwrap();
    let jetstream = async_nats::jetstream::new(client);
    wait_until(
        Duration::from_secs(20),
        "provider.registered events reach JetStream",
        || {
            let jetstream = jetstream.clone();
            async move {
                let mut stream = jetstream.get_stream("SDS_EVENTS").await.ok()?;
                let info = stream.info().await.ok()?;
                (info.state.messages >= rows).then_some(())
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_the_datastore_is_refused_and_bad_rows_are_reported_by_line() {
    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();

    let not_csv = write_temp("people.csv", b"name,email\nAnn,ann@example.org\n");
    let output = server.run(
        &[
            "directory",
            "import-care-inspectorate",
            not_csv.to_str().unwrap(),
        ],
        Some(&commissioning),
    );
    assert!(!output.status.success());
    let message = stderr_of(&output);
    assert!(
        message.contains("not a Care Inspectorate datastore CSV"),
        "{message}"
    );
    assert_eq!(
        count_providers(&server, &commissioning),
        0,
        "nothing may be written"
    );

    let mixed = write_temp(
        "mixed.csv",
        b"CSNumber,ServiceName,ServiceType,Council_Area_Name,Last_inspection_Date,KQ_Leadership\r\n\
          CS2004000001,Good Care,Support Service,Moray,01/02/2025,5\r\n\
          ,No Number,Support Service,Moray,01/02/2025,5\r\n\
          CS2004000003,Graded Seven,Support Service,Moray,01/02/2025,7\r\n\
          CS2004000004,Bad Date,Support Service,Moray,32/01/2025,5\r\n",
    );
    let output = server.run(
        &[
            "directory",
            "import-care-inspectorate",
            mixed.to_str().unwrap(),
        ],
        Some(&commissioning),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let summary = last_line_json(&output);
    assert_eq!(summary["imported"], 1, "{summary}");
    let lines: Vec<u64> = summary["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5]);
    assert_eq!(summary["rejected"][0]["reason"], "CSNumber is missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_import_notes_how_it_dated_a_combined_services_grades_and_search_leaves_inactive_services_out()
 {
    let server = ServerProcess::start().await;
    let commissioning = server.commissioning_token();
    // Windows-1252, as published: \x92 is the right single quotation mark.
    let file = write_temp(
        "combined.csv",
        b"CSNumber,ServiceName,ServiceType,Combined_Service_,CaseNumber_Combined,Council_Area_Name,ServiceStatus,Last_inspection_Date,Publication_of_Latest_Grading,KQ_Support_Wellbeing,KQ_Leadership\r\n\
          CS2003001234,St Mungo\x92s Care Home,Care Home Service,Yes,CS2024000435,Glasgow City,Active,05/11/2024,,4,4\r\n\
          CS2024000435,St Mungo\x92s Nursing,Nurse Agency,Yes,CS2003001234,Glasgow City,Active,,20/01/2025,4,3\r\n\
          CS2001000001,Closed House,Care Home Service,No,,Glasgow City,Inactive,01/03/2019,,3,3\r\n",
    );

    let output = server.run(
        &[
            "directory",
            "import-care-inspectorate",
            file.to_str().unwrap(),
        ],
        Some(&commissioning),
    );

    assert!(output.status.success(), "{}", stderr_of(&output));
    let summary = last_line_json(&output);
    assert_eq!(summary["imported"], 3, "{summary}");
    assert_eq!(summary["rejected"], Value::Array(vec![]));
    assert_eq!(summary["notes"].as_array().unwrap().len(), 1, "{summary}");
    assert_eq!(summary["notes"][0]["line"], 3);
    let note = summary["notes"][0]["text"].as_str().unwrap();
    assert!(
        note.starts_with("grades dated 2025-01-20, the publication date of its latest grading"),
        "{note}"
    );
    let progress = stderr_of(&output);
    assert!(
        progress.contains("line 3: note: grades dated 2025-01-20"),
        "{progress}"
    );
    assert!(progress.contains("0 rows rejected; 1 notes"), "{progress}");

    assert_eq!(
        count_providers(&server, &commissioning),
        2,
        "inactive left out"
    );
    let with_inactive = server.run(
        &["directory", "search", "--include-inactive", "--json"],
        Some(&commissioning),
    );
    assert!(
        with_inactive.status.success(),
        "{}",
        stderr_of(&with_inactive)
    );
    let found: Value = serde_json::from_slice(&with_inactive.stdout).unwrap();
    assert_eq!(found["page"]["total_matches"], "3", "{found}");
    let providers = found["providers"].as_array().unwrap();
    let closed = providers
        .iter()
        .find(|provider| provider["details"]["name"] == "Closed House")
        .expect("the inactive service is found when asked for");
    assert_eq!(
        closed["care_service_status"],
        "CARE_SERVICE_STATUS_INACTIVE"
    );
    let nursing = providers
        .iter()
        .find(|provider| provider["details"]["care_inspectorate_number"] == "CS2024000435")
        .expect("the combined service");
    assert_eq!(nursing["combined_service_number"], "CS2003001234");
    assert_eq!(nursing["details"]["name"], "St Mungo\u{2019}s Nursing");
}
