//! Reporting delivery from the dashboard: the form for one agreement and period, and the
//! upload of the CSV `sds payments actuals FILE` sends, both reaching payments as the
//! provider, with every refused row named by its line in plain words.

use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_testkit::bearer;

use crate::web_package::*;
use crate::web_support::*;

/// What payments recorded of the provider's reports, as the schedule's history carries
/// them: each period's first day and amount, in order.
async fn reported(platform: &Platform, package: &ActivePackage) -> Vec<(String, String)> {
    let schedule = PaymentsServiceClient::new(platform.process.channel().await)
        .get_schedule(bearer(
            &package.provider_token(),
            proto::GetScheduleRequest {
                agreement_id: package.agreement_id.clone(),
                until: None,
            },
        ))
        .await
        .expect("the schedule")
        .into_inner();
    schedule
        .history
        .unwrap_or_default()
        .actuals
        .into_iter()
        .map(|actual| {
            (
                actual.period_start.unwrap_or_default().iso,
                actual.amount.unwrap_or_default().amount,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_form_records_an_ended_period_and_explains_a_refused_one() {
    let platform = whole_platform().await;
    let package = active_package_on_actuals(&platform).await;
    let mut browser = Browser::signed_in(platform.web(), &package.provider_token()).await;
    let csrf = browser.csrf_of("/portal/provider").await;

    let sent = browser
        .post(
            "/portal/provider/actuals",
            &[
                ("csrf", &csrf),
                ("agreement_id", &package.agreement_id),
                ("period_start", "2026-10-01"),
                ("amount_1", "800.00"),
            ],
        )
        .await;

    assert_eq!(sent.status, 200, "{}", sent.body);
    let text = visible_text(&sent.body);
    assert!(
        text.contains("is recorded. You reported £800.00 against £930.00 planned, and the period pays £800.00."),
        "{text}"
    );
    assert_eq!(
        reported(&platform, &package).await,
        vec![("2026-10-01".to_owned(), "800.00".to_owned())]
    );

    let refused = browser
        .post(
            "/portal/provider/actuals",
            &[
                ("csrf", &csrf),
                ("agreement_id", &package.agreement_id),
                ("period_start", "2026-10-01"),
                ("amount_1", "lots"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let text = visible_text(&refused.body);
    assert!(
        text.contains("Your report was not recorded. Line 1: amount: \"lots\" is not an amount"),
        "{text}"
    );

    let forged = browser
        .post(
            "/portal/provider/actuals",
            &[
                ("csrf", "forged"),
                ("agreement_id", &package.agreement_id),
                ("period_start", "2026-10-01"),
                ("amount_1", "1.00"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(
        reported(&platform, &package).await.len(),
        1,
        "refused reports record nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uploaded_csv_records_its_good_reports_and_names_the_bad_row_by_its_line() {
    let platform = whole_platform().await;
    let package = active_package_on_actuals(&platform).await;
    let mut browser = Browser::signed_in(platform.web(), &package.provider_token()).await;
    let csrf = browser.csrf_of("/portal/provider").await;
    let id = &package.agreement_id;
    // Columns in another order and case, as `sds payments actuals` takes them; line 3 is a
    // report of its own with an amount that is not one.
    let file = format!(
        "Period_Start,agreement_id,plan_line,AMOUNT\n2026-10-01,{id},1,850.00\n2026-11-01,{id},1,12;50\n"
    );

    let uploaded = browser
        .post_file(
            "/portal/provider/actuals/upload",
            &[("csrf", &csrf)],
            "file",
            "october.csv",
            file.as_bytes(),
        )
        .await;

    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    let text = visible_text(&uploaded.body);
    assert!(
        text.contains("Your file had 2 rows. We recorded 1 report. 1 row was not recorded."),
        "{text}"
    );
    assert!(
        text.contains("3 In the amount column: \"12;50\" is not an amount"),
        "{text}"
    );
    assert_eq!(
        reported(&platform, &package).await,
        vec![("2026-10-01".to_owned(), "850.00".to_owned())]
    );

    let forged = browser
        .post_file(
            "/portal/provider/actuals/upload",
            &[("csrf", "forged")],
            "file",
            "october.csv",
            format!("agreement_id,period_start,plan_line,amount\n{id},2026-10-01,1,1.00\n")
                .as_bytes(),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let not_a_csv = browser
        .post_file(
            "/portal/provider/actuals/upload",
            &[("csrf", &csrf)],
            "file",
            "notes.txt",
            b"what we did in October\n",
        )
        .await;
    assert_eq!(not_a_csv.status, 400, "{}", not_a_csv.body);
    // A file beyond the listener's body limit is answered as too large, not as a stale form.
    let huge = vec![b'x'; 5 * 1024 * 1024];
    let too_large = browser
        .post_file(
            "/portal/provider/actuals/upload",
            &[("csrf", &csrf)],
            "file",
            "year.csv",
            &huge,
        )
        .await;
    assert_eq!(too_large.status, 413, "{}", too_large.body);
    assert!(
        visible_text(&too_large.body).contains("We take files of up to 4 MB"),
        "{}",
        too_large.body
    );
    assert!(
        visible_text(&not_a_csv.body).contains(
            "Nothing was recorded: that file is not a CSV of delivery (it has no column agreement_id, period_start, plan_line)."
        ),
        "{}",
        not_a_csv.body
    );
    assert_eq!(
        reported(&platform, &package).await,
        vec![("2026-10-01".to_owned(), "850.00".to_owned())],
        "neither the forged nor the unreadable upload recorded anything"
    );
}
