//! Who changed a provider, when and how: one history row per version.

use sds_proto::v1::{FrameworkStatus, KeyQuestion};
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn every_version_records_who_made_it_and_what_kind_of_change_it_was() {
    let app = TestApp::spawn().await;
    let (provider, _) = app
        .provider_registers_itself(details("Audited Provider"))
        .await;
    app.record_grades(
        &provider.id,
        vec![grade(KeyQuestion::StaffTeam, 5, "2025-01-20")],
    )
    .await;
    app.set_framework_status(&provider.id, "fife", FrameworkStatus::OnFramework)
        .await;
    let id = Uuid::parse_str(&provider.id).expect("uuid");

    let history: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT version, change, changed_by FROM provider_change WHERE provider_id = $1 ORDER BY version",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .expect("read history");
    let (registered_by, updated_by): (String, String) =
        sqlx::query_as("SELECT registered_by, updated_by FROM provider WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("read provider");

    assert_eq!(
        history,
        vec![
            (1, "registered".to_owned(), provider.id.clone()),
            (2, "grades".to_owned(), "aberdeenshire".to_owned()),
            (3, "framework_status".to_owned(), "fife".to_owned()),
        ]
    );
    assert_eq!(
        (registered_by, updated_by),
        (provider.id.clone(), "fife".to_owned())
    );
}
