//! `sds assessment import` end to end against a real `sds serve`: a case system's export
//! imports its good people, reports each bad row by line and is unchanged the second time;
//! a file that is not the export is refused before anything is sent.

mod support;

use support::{ServerProcess, refusal, stderr_of, stdout_of, write_temp};

/// A case system's export: UTF-8 with a byte-order mark, columns in its own order, SW-1
/// with two lines (option 2 and option 3), SW-2 with one, and SW-3 with a good row and a
/// bad one (an amount with three decimals on line 5).
const CASE_EXPORT: &str = "\u{feff}case_reference,display_name,date_of_birth,locality,client_groups,eligibility,support_type,option,weekly_amount,start_date,end_date,provider,holding_model,holder\n\
SW-1,Morag Innes,1941-02-17,Banchory,elderly_frail;physical_sensory_disability,substantial,personal_care,2,210.00,2026-10-01,,CS2004071234,provider,\n\
SW-1,Morag Innes,1941-02-17,Banchory,elderly_frail;physical_sensory_disability,substantial,day_support,3,90.00,2026-10-01,,,,\n\
SW-2,Ann Gordon,1950-06-30,Stonehaven,learning_disability,critical,social_support,1,45.50,2026-11-01,2027-10-31,,,\n\
SW-3,Iain Reid,1962-03-03,Huntly,mental_health,moderate,other,1,12.345,2026-10-01,,,,\n\
SW-3,Iain Reid,1962-03-03,Huntly,mental_health,moderate,personal_care,1,20.00,2026-10-01,,,,\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_case_system_export_imports_its_good_people_reports_the_bad_row_and_is_unchanged_the_second_time()
 {
    let server = ServerProcess::start().await;
    // The export names its option 2 provider by the number the directory lists.
    server
        .directory_lists("Banchory Home Care", "CS2004071234")
        .await;
    let commissioning = server.commissioning_token();
    let file = write_temp("case-export.csv", CASE_EXPORT.as_bytes());
    let file = file.to_str().expect("the temporary path is UTF-8");
    let import = || {
        server.run(
            &["assessment", "import", "--authority", "demo-shire", file],
            Some(&commissioning),
        )
    };

    let first = import();

    assert!(first.status.success(), "{}", stderr_of(&first));
    let rejection = r#"{"line": 5, "reason": "weekly_amount is not an amount: amount \"12.345\" has 3 decimal places; GBP takes at most 2"}"#;
    assert_eq!(
        stdout_of(&first).lines().last(),
        Some(
            format!(
                r#"{{"people_imported": 2, "people_updated": 0, "people_unchanged": 0, "people_rejected": 1, "rejected": [{rejection}]}}"#
            )
            .as_str()
        )
    );
    assert!(
        stderr_of(&first).contains(
            "line 5: rejected: weekly_amount is not an amount: amount \"12.345\" has 3 decimal places; GBP takes at most 2\n"
        ),
        "{}",
        stderr_of(&first)
    );

    let second = import();

    assert!(second.status.success(), "{}", stderr_of(&second));
    assert_eq!(
        stdout_of(&second).lines().last(),
        Some(
            format!(
                r#"{{"people_imported": 0, "people_updated": 0, "people_unchanged": 2, "people_rejected": 1, "rejected": [{rejection}]}}"#
            )
            .as_str()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_the_case_export_is_refused_before_anything_is_sent() {
    let server = ServerProcess::start().await;
    let file = write_temp(
        "not-a-case-export.csv",
        b"CSNumber,ServiceName\nCS2004071234,Acme\n",
    );
    let output = server.run(
        &[
            "assessment",
            "import",
            "--authority",
            "demo-shire",
            file.to_str().expect("the temporary path is UTF-8"),
        ],
        Some(&server.commissioning_token()),
    );
    let message = refusal(&output);
    assert!(
        message.contains("the header lacks case_reference"),
        "{message}"
    );
}
