//! Package requests in the store (WIP, issue 11): one open request per plan line, and the
//! providers a request goes to, matched by locality and service type ignoring case.

use rust_decimal::Decimal;
use sds_directory::DirectoryError;
use sds_directory::domain::AuthorityId;
use sds_directory::domain::package_request::{RequestContent, RequestInput};
use sds_directory::store::package_requests::{
    NewRequest, PlanLine, insert_request, matching_providers,
};
use uuid::Uuid;

use crate::support::*;

fn content(service_types: &[&str], locality: &str) -> RequestContent {
    let today = chrono::Utc::now().date_naive();
    RequestContent::new(
        RequestInput {
            needs_summary: "Help to get out to the lunch club twice a week.".to_owned(),
            service_types: service_types.iter().map(|s| (*s).to_owned()).collect(),
            locality: locality.to_owned(),
            hours_per_week: Some(Decimal::new(6, 0)),
            weekly_budget: None,
            start_date: Some(today + chrono::Days::new(30)),
            closing_date: Some(today + chrono::Days::new(14)),
        },
        today,
    )
    .expect("a good request")
}

async fn publish(
    app: &TestApp,
    line: PlanLine,
    content: &RequestContent,
) -> Result<Uuid, DirectoryError> {
    let id = Uuid::now_v7();
    let mut connection = app.pool.acquire().await.expect("a connection");
    let authority = AuthorityId::parse("authority", "aberdeenshire").expect("an authority");
    insert_request(
        &mut connection,
        &NewRequest {
            id,
            authority: &authority,
            line,
            content,
            by: "aberdeenshire",
            at: chrono::Utc::now(),
            on: chrono::Utc::now().date_naive(),
        },
    )
    .await
    .map(|()| id)
}

#[tokio::test]
async fn a_plan_line_has_one_open_request_and_it_goes_to_the_providers_of_its_area_and_kind() {
    let app = TestApp::spawn().await;
    let day_support = app
        .commissioning_registers(details("Garioch Day Support"))
        .await;
    let elsewhere = app
        .commissioning_registers(proto_details(
            "Moray Day Support",
            &["day support"],
            &["Moray"],
        ))
        .await;
    let other_kind = app
        .commissioning_registers(proto_details(
            "Deeside Gardens",
            &["Gardening"],
            &["ABERDEENSHIRE"],
        ))
        .await;
    let line = PlanLine {
        person_id: Uuid::now_v7(),
        plan_id: Uuid::now_v7(),
        line_number: 2,
    };
    let request = content(&["DAY SUPPORT", "Transport"], "aberdeenshire");
    let id = publish(&app, line, &request).await.expect("published");

    let mut connection = app.pool.acquire().await.expect("a connection");
    let matched = matching_providers(&mut connection, id)
        .await
        .expect("matched");
    assert_eq!(
        matched,
        vec![Uuid::parse_str(&day_support.id).expect("an id")]
    );
    assert!(!matched.contains(&Uuid::parse_str(&elsewhere.id).expect("an id")));
    assert!(!matched.contains(&Uuid::parse_str(&other_kind.id).expect("an id")));

    let again = publish(&app, line, &request).await;
    assert!(
        matches!(
            again,
            Err(DirectoryError::RequestOpen { line_number: 2, .. })
        ),
        "{again:?}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM package_request")
        .fetch_one(&app.pool)
        .await
        .expect("counted");
    assert_eq!(count, 1);
}

fn proto_details(
    name: &str,
    service_types: &[&str],
    localities: &[&str],
) -> sds_proto::v1::ProviderDetails {
    sds_proto::v1::ProviderDetails {
        service_types: service_types.iter().map(|s| (*s).to_owned()).collect(),
        localities: localities.iter().map(|s| (*s).to_owned()).collect(),
        ..details(name)
    }
}
