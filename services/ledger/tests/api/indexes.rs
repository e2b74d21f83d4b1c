//! Reads that every call makes must not read the whole table as the books grow. Checked on
//! the plan PostgreSQL makes when it may not read a table through (`enable_seqscan` off):
//! if no index serves the read, the plan is still a sequential scan. The fund's accounts
//! were found so by `sds simulate --seed 42 --funds 10000 --days 365` (4 ms a read).

use crate::support::*;

/// The plan of `statement` for the fund given, with sequential scans made a last resort.
async fn plan_without_table_reads(app: &TestApp, statement: &str, fund_id: &str) -> String {
    let mut connection = app.pool.acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *connection)
        .await
        .unwrap();
    let lines: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {statement}")))
            .bind(uuid::Uuid::parse_str(fund_id).unwrap())
            .fetch_all(&mut *connection)
            .await
            .unwrap();
    sqlx::query("RESET enable_seqscan")
        .execute(&mut *connection)
        .await
        .unwrap();
    lines.join("\n")
}

#[tokio::test]
async fn a_fund_s_accounts_are_found_through_an_index_not_by_reading_every_account() {
    let app = TestApp::spawn().await;
    app.set_today("2026-04-01");
    let fund = app.open_fund(PERSON, "0.00").await;
    app.fund(&fund, "100.00").await;
    // As the ledger reads a fund's accounts for GetFund, statements and postings.
    let plan = plan_without_table_reads(
        &app,
        "SELECT a.id FROM account a WHERE a.fund_id = $1 ORDER BY a.kind, a.payee_id, a.id",
        &fund.id,
    )
    .await;
    assert!(
        plan.contains("account_by_fund") && !plan.contains("Seq Scan"),
        "{plan}"
    );
}
