//! A provider holding the person's fund records the charges it draws from it, from its
//! dashboard: the ledger records each once, refuses more than the fund holds, and the
//! person's statement then says how the money was spent.

use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_testkit::{authority_staff, bearer, token_for};

use crate::web_package::*;
use crate::web_support::*;

/// The value of the form field `name` on the page.
fn field_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("a {name} field in the page: {html}"))
        + marker.len();
    let end = html[start..].find('"').expect("the closing quote");
    html[start..start + end].to_owned()
}

/// The fund the package's first payment run opened, which its provider holds.
async fn held_fund(platform: &Platform, package: &ActivePackage) -> String {
    let fund_id = PaymentsServiceClient::new(platform.process.channel().await)
        .get_schedule(bearer(
            &package.provider_token(),
            proto::GetScheduleRequest {
                agreement_id: package.agreement_id.clone(),
                until: None,
            },
        ))
        .await
        .expect("the schedule")
        .into_inner()
        .fund_id;
    assert!(!fund_id.is_empty(), "the run opened the provider-held fund");
    fund_id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_records_a_draw_from_the_fund_it_holds_once_and_the_statement_shows_it() {
    let platform = whole_platform().await;
    let package = active_package_on_actuals(&platform).await;
    let channel = platform.process.channel().await;
    let fund_id = held_fund(&platform, &package).await;

    let mut browser = Browser::signed_in(platform.web(), &package.provider_token()).await;
    let dashboard = browser.get("/portal/provider").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(
        visible_text(&dashboard.body).contains("Charges drawn from funds you hold"),
        "{}",
        dashboard.body
    );
    assert!(
        dashboard
            .body
            .contains(&format!("<option value=\"{fund_id}\">"))
    );
    assert!(dashboard.body.contains("for=\"draw-amount\""), "labelled");
    let csrf = csrf_in(&dashboard.body);
    let draw_id = field_value(&dashboard.body, "draw_id");
    let form = |amount: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("draw_id", draw_id.clone()),
            ("fund_id", fund_id.clone()),
            ("amount", amount.to_owned()),
            ("for", "Support from 1 to 28 December".to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let mut browser = browser.clone();
        async move {
            let borrowed: Vec<(&str, &str)> = fields
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect();
            browser.post("/portal/provider/draws", &borrowed).await
        }
    };

    for (amount, status, says) in [
        ("", 400, "write the amount in pounds and pence"),
        ("99999.00", 400, "The fund does not hold that much."),
    ] {
        let refused = send(form(amount)).await;
        assert_eq!(refused.status, status, "{}", refused.body);
        assert!(
            visible_text(&refused.body).contains(says),
            "{says}: {}",
            refused.body
        );
    }
    let recorded = send(form("100.00")).await;
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    assert!(
        visible_text(&recorded.body).contains(
            "£100.00 was recorded as drawn from the fund for Support from 1 to 28 December."
        ),
        "{}",
        recorded.body
    );
    // The same form sent again (a reload): recorded once.
    let again = send(form("100.00")).await;
    assert_eq!(again.status, 200, "{}", again.body);

    let finance = token_for(&authority_staff("fife", &[Role::Finance]));
    let transfers = LedgerServiceClient::new(channel.clone())
        .list_transfers(bearer(
            &finance,
            proto::ListTransfersRequest {
                fund_id: fund_id.clone(),
                page: None,
            },
        ))
        .await
        .expect("the fund's transfers")
        .into_inner()
        .transfers;
    let draws: Vec<&proto::Transfer> = transfers
        .iter()
        .filter(|transfer| transfer.category == proto::TransferCategory::SupportPayment as i32)
        .collect();
    assert_eq!(draws.len(), 1, "{transfers:?}");
    assert_eq!(draws[0].id, draw_id);

    let statement = LedgerServiceClient::new(channel)
        .get_statement(bearer(
            &package.person_token(),
            proto::GetStatementRequest {
                fund_id,
                from: Some(proto::Date {
                    iso: "2026-11-01".into(),
                }),
                to: Some(proto::Date {
                    iso: "2026-11-28".into(),
                }),
            },
        ))
        .await
        .expect("the person's statement")
        .into_inner();
    assert_eq!(
        statement.total_out.unwrap_or_default().amount,
        "100.00",
        "{}",
        statement.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_without_a_fund_of_its_own_sees_no_draw_form_and_cannot_draw_from_another() {
    let platform = whole_platform().await;
    let package = active_package_on_actuals(&platform).await;
    let fund_id = held_fund(&platform, &package).await;
    let stranger = sds_testkit::provider_org(&uuid::Uuid::now_v7().to_string());
    let mut browser = Browser::signed_in(platform.web(), &token_for(&stranger)).await;
    let dashboard = browser.get("/portal/provider").await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    assert!(!dashboard.body.contains("Charges drawn from funds you hold"));
    let csrf = csrf_in(&dashboard.body);
    let draw_id = uuid::Uuid::now_v7().to_string();
    let refused = browser
        .post(
            "/portal/provider/draws",
            &[
                ("csrf", &csrf),
                ("draw_id", &draw_id),
                ("fund_id", &fund_id),
                ("amount", "10.00"),
                ("for", "Support"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        visible_text(&refused.body).contains("You do not hold that fund"),
        "{}",
        refused.body
    );
}
