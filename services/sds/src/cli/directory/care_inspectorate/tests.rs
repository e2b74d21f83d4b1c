//! The reader's tests: files as the Care Inspectorate publishes them (Windows-1252, UK
//! dates, real column names) and the ways a row or a whole file is refused.

use super::*;

const HEADER: &str = "CSNumber,ServiceType,Subtype,ServiceName,ServiceProvider,Council_Area_Name,Client_group,Registered_Places,ServiceStatus,Last_inspection_Date,KQ_Support_Wellbeing,KQ_Care_and_Support_Planning,KQ_Setting,KQ_Staff_Team,KQ_Leadership,KQ_Care_Play_and_Learning,MinGrade,MaxGrade,Complaints_upheld_2324";

fn file(rows: &[&str]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for row in rows {
        text.push_str("\r\n");
        text.push_str(row);
    }
    text.push_str("\r\n");
    encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
}

#[test]
fn a_windows_1252_row_with_blank_key_questions_becomes_a_service_with_its_grades() {
    let bytes = file(&[
        "CS2004071234,Support Service,Care at Home,\"Café Connect, Banchory\",Deeside Ltd,Aberdeenshire,Older people,,Active,14/03/2024,5,4,,5,4,,4,5,0",
    ]);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the fixture must really be Windows-1252"
    );
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.rejected, vec![]);
    let service = &parsed.services[0];
    assert_eq!(service.service_number, "CS2004071234");
    assert_eq!(service.service_name, "Café Connect, Banchory");
    assert_eq!(service.registered_places, None);
    assert_eq!(service.source_line, 2);
    let grades: Vec<(i32, u32, &str)> = service
        .grades
        .iter()
        .map(|grade| {
            (
                grade.key_question,
                grade.grade,
                grade.inspected_on.as_ref().unwrap().iso.as_str(),
            )
        })
        .collect();
    assert_eq!(
        grades,
        vec![
            (KeyQuestion::SupportWellbeing as i32, 5, "2024-03-14"),
            (KeyQuestion::CareAndSupportPlanning as i32, 4, "2024-03-14"),
            (KeyQuestion::StaffTeam as i32, 5, "2024-03-14"),
            (KeyQuestion::Leadership as i32, 4, "2024-03-14"),
        ]
    );
}

/// Rows as the 2026-05-31 datastore writes them: Windows-1252, the real column names,
/// "Yes"/"No"/blank combined flags in any case, blank dates for a combined service
/// graded with its partner, and an inactive service.
#[test]
fn combined_and_inactive_services_are_read_from_the_real_columns() {
    let header = "CSNumber,ServiceName,ServiceType,Combined_Service_,CaseNumber_Combined,CareService,Subtype,ServiceProvider,Council_Area_Name,ServiceStatus,Registered_Places,Last_inspection_Date,Publication_of_Latest_Grading,KQ_Support_Wellbeing,KQ_Care_and_Support_Planning,KQ_Setting,KQ_Staff_Team,KQ_Leadership,KQ_Care_Play_and_Learning";
    let rows = [
        // 2: the partner, inspected on its own date
        "CS2003001234,St Mungo’s Care Home,Care Home Service,Yes,CS2024000435,Care Home Service,Older People,St Mungo’s Ltd,Glasgow City,Active,60,05/11/2024,20/01/2025,4,4,5,4,4,",
        // 3: CS2024000435: graded 3-4, no date of its own, a publication date
        "CS2024000435,St Mungo’s Nursing,Nurse Agency,Yes,CS2003001234,Nurse Agency,,St Mungo’s Ltd,Glasgow City,Active,,,20/01/2025,4,,,,3,",
        // 4: combined ("yes"), graded, neither date: its partner's row dates it
        "CS2024000436,Café Support,Support Service,yes,cs2003001234,Support Service,Care at Home,Café Ltd,Glasgow City,ACTIVE,,,,5,,,,5,",
        // 5: not combined, inactive, graded and dated
        "CS2001000001,Closed House,Care Home Service,No,,Care Home Service,Older People,Closed Ltd,Fife,Inactive,20,01/03/2019 00:00,,3,3,3,3,3,",
        // 6: not combined, graded, no date: refused as before
        "CS2001000002,Undated House,Care Home Service,,,Care Home Service,Older People,U Ltd,Fife,Active,20,,01/02/2025,3,,,,,",
        // 7: "Yes" without a partner
        "CS2001000003,Lonely Agency,Nurse Agency,Yes,,Nurse Agency,,L Ltd,Fife,Active,,,,,,,,,",
        // 8: a flag that is neither
        "CS2001000004,Maybe House,Care Home Service,Maybe,,Care Home Service,,M Ltd,Fife,Active,,,,,,,,,",
        // 9: a partner on a row that is not combined
        "CS2001000005,Contradiction House,Care Home Service,No,CS2003001234,Care Home Service,,C Ltd,Fife,Active,,,,,,,,,",
    ];
    let text = format!("{header}\r\n{}\r\n", rows.join("\r\n"));
    let bytes = encoding_rs::WINDOWS_1252.encode(&text).0.into_owned();
    assert!(std::str::from_utf8(&bytes).is_err(), "really Windows-1252");

    let parsed = parse(&bytes).unwrap();

    let by_number = |number: &str| {
        parsed
            .services
            .iter()
            .find(|service| service.service_number == number)
            .unwrap_or_else(|| panic!("{number} was not read: {:?}", parsed.rejected))
    };
    let partner = by_number("CS2003001234");
    assert_eq!(partner.service_name, "St Mungo’s Care Home");
    assert_eq!(partner.combined_service_number, "CS2024000435");
    assert_eq!(
        partner.grades_published_on, None,
        "dated grades need no other date"
    );
    assert_eq!(partner.partner_inspected_on, None);

    let published = by_number("CS2024000435");
    assert_eq!(published.combined_service_number, "CS2003001234");
    assert_eq!(
        published
            .grades
            .iter()
            .map(|grade| (grade.grade, grade.inspected_on.clone()))
            .collect::<Vec<_>>(),
        vec![(4, None), (3, None)]
    );
    assert_eq!(
        published.grades_published_on.as_ref().unwrap().iso,
        "2025-01-20"
    );
    assert_eq!(
        published.partner_inspected_on.as_ref().unwrap().iso,
        "2024-11-05"
    );

    let from_partner = by_number("CS2024000436");
    assert_eq!(from_partner.service_name, "Café Support");
    assert_eq!(from_partner.combined_service_number, "CS2003001234");
    assert_eq!(from_partner.grades_published_on, None);
    assert_eq!(
        from_partner.partner_inspected_on.as_ref().unwrap().iso,
        "2024-11-05"
    );
    assert_eq!(
        from_partner.service_status, "ACTIVE",
        "the directory reads the status"
    );

    let closed = by_number("CS2001000001");
    assert_eq!(closed.service_status, "Inactive");
    assert_eq!(closed.combined_service_number, "");
    assert_eq!(
        closed.grades[0].inspected_on.as_ref().unwrap().iso,
        "2019-03-01"
    );

    let rejected: Vec<(u64, &str)> = parsed
        .rejected
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (
                6,
                "KQ_Support_Wellbeing has a grade but Last_inspection_Date is blank"
            ),
            (
                7,
                "Combined_Service_ is Yes but CaseNumber_Combined is blank; give the number of the service it is combined with"
            ),
            (8, "Combined_Service_ \"Maybe\" is not Yes, No or blank"),
            (
                9,
                "CaseNumber_Combined is CS2003001234 but Combined_Service_ is \"No\"; a partner is given only when Combined_Service_ is Yes"
            ),
        ]
    );
}

#[test]
fn columns_are_found_by_name_in_any_order() {
    let text = "Town,Last_inspection_Date,KQ_Leadership,Council_Area_Name,ServiceType,ServiceName,CSNumber\nElgin,01/02/2025,6,Moray,Care Home Service,Elgin House,CS2010123456\n";
    let parsed = parse(text.as_bytes()).unwrap();
    assert_eq!(parsed.services.len(), 1);
    assert_eq!(parsed.services[0].council_area, "Moray");
    assert_eq!(parsed.services[0].grades[0].grade, 6);
}

#[test]
fn bad_rows_are_rejected_with_their_line_and_reason_and_the_rest_kept() {
    let bytes = file(&[
        ",Support Service,,No Number,X,Moray,,,Active,01/01/2024,5,,,,,,5,5,0",
        "CS2004071235,Support Service,,Seven,X,Moray,,,Active,01/01/2024,7,,,,,,7,7,0",
        "CS2004071236,Support Service,,Bad Date,X,Moray,,,Active,31/02/2024,5,,,,,,5,5,0",
        "CS2004071237,Care Home Service,,Good,X,Moray,,40,Active,01/01/2024,5,5,5,5,5,,5,5,0",
        "CS2004071238,Care Home Service,,Minus,X,Moray,,-4,Active,01/01/2024,5,5,5,5,5,,5,5,0",
        "CS2004071237,Care Home Service,,Twice,X,Moray,,40,Active,01/01/2024,5,5,5,5,5,,5,5,0",
    ]);
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.services.len(), 1);
    assert_eq!(parsed.services[0].registered_places, Some(40));
    let lines: Vec<u64> = parsed
        .rejected
        .iter()
        .map(|rejection| rejection.line)
        .collect();
    assert_eq!(lines, vec![2, 3, 4, 6, 7]);
    assert_eq!(parsed.rejected[0].reason, "CSNumber is missing");
    assert_eq!(
        parsed.rejected[1].reason,
        "KQ_Support_Wellbeing grade \"7\" is outside 1-6"
    );
    assert!(
        parsed.rejected[2]
            .reason
            .contains("Last_inspection_Date \"31/02/2024\" is not a date")
    );
    assert!(
        parsed.rejected[3]
            .reason
            .contains("Registered_Places \"-4\"")
    );
    assert_eq!(
        parsed.rejected[4].reason,
        "CSNumber CS2004071237 appears again (first at line 5)"
    );
}

#[test]
fn a_file_that_is_not_the_datastore_csv_is_refused_whole() {
    assert_eq!(parse(b"").unwrap_err(), FileError::Empty);
    let error = parse(b"name,email\nAnn,ann@example.org\n").unwrap_err();
    assert!(
        matches!(error, FileError::MissingColumns { ref missing } if missing == "CSNumber, ServiceName, ServiceType, Council_Area_Name")
    );
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00";
    assert!(matches!(
        parse(png).unwrap_err(),
        FileError::MissingColumns { .. }
    ));
}

#[test]
fn a_utf8_file_with_a_byte_order_mark_is_read_as_utf8() {
    let text = "\u{feff}CSNumber,ServiceName,ServiceType,Council_Area_Name\nCS2004071234,Café Ltd,Support Service,Highland\n";
    let parsed = parse(text.as_bytes()).unwrap();
    assert_eq!(parsed.services[0].service_name, "Café Ltd");
}

#[test]
fn the_sample_file_shipped_for_deploy_local_parses_cleanly() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/local/sample/care-inspectorate-sample.csv"
    ))
    .unwrap();
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.rejected, vec![]);
    assert!(parsed.services.len() >= 10);
}
