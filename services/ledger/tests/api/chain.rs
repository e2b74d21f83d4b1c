//! The hash chain extended behind the postings: a posting stages its link and commits
//! without waiting for the chain head; the linker chains each staged link exactly once, in
//! one unforked chain however many linkers run; and until a link is chained the audit
//! checks its rows against the digest staged with them.

use std::time::Duration;

use sds_ledger::audit;
use uuid::Uuid;

use crate::support::*;

async fn staged(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM chain_pending")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// (links on the chain, the head's place, distinct link ids the history rows name).
async fn chain_counts(app: &TestApp) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM chain_link), (SELECT seq FROM chain_head), \
             (SELECT count(DISTINCT id) FROM ( \
                 SELECT chain_link_id AS id FROM transfer UNION ALL \
                 SELECT chain_link_id FROM pending_resolution UNION ALL \
                 SELECT chain_link_id FROM entry) named)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_service_chains_each_posting_soon_after_its_commit_and_once() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "500.00").await;
    for _ in 0..5 {
        app.create(&finance(AUTHORITY), vec![TestApp::spend(&fund, "10.00")])
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while staged(&app).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the linker left links staged for 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (links, head, named) = chain_counts(&app).await;
    assert_eq!((links, head), (6, 6), "funding and five payments");
    assert_eq!(named, 6);
    assert_eq!(app.link_staged().await, 0, "nothing is left to link twice");
    assert_eq!(audit::run(&app.pool).await.unwrap().violations, vec![]);
}

#[tokio::test]
async fn a_posting_commits_while_the_chain_head_is_held_and_its_rows_are_audited_while_staged() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    // Someone (a linker, a long audit) holds the head: postings must not queue behind it.
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("SELECT seq FROM chain_head FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let funded = tokio::time::timeout(Duration::from_secs(5), app.fund(&fund, "500.00"))
        .await
        .expect("the posting commits without the chain head");
    assert_eq!(staged(&app).await, 1);
    let report = audit::run(&app.pool).await.unwrap();
    assert_eq!(report.violations, vec![], "a staged link whose rows match");

    // Changed behind the service before its link is chained: the staged digest names it.
    tamper(
        &app,
        &["UPDATE transfer SET amount_pence = 50001 WHERE id = $1"],
        &funded.id,
    )
    .await;
    let report = audit::run(&app.pool).await.unwrap();
    let history: Vec<&str> = report
        .violations
        .iter()
        .filter(|v| v.kind == "history_changed")
        .map(|v| v.detail.as_str())
        .collect();
    assert_eq!(history.len(), 1, "{report:?}");
    assert!(
        history[0].starts_with("staged chain link id "),
        "{history:?}"
    );

    // Once the head is free the link is chained as staged, and still fails to match.
    holder.rollback().await.unwrap();
    app.link_staged().await;
    assert_eq!(staged(&app).await, 0);
    let report = audit::run(&app.pool).await.unwrap();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.detail.starts_with("chain link 1 does not match")),
        "{report:?}"
    );
}

#[tokio::test]
async fn linkers_racing_each_other_and_the_postings_make_one_unbroken_chain() {
    let app = TestApp::spawn().await;
    let mut funds = Vec::new();
    for person in 0..4u128 {
        let fund = app
            .open_fund(&Uuid::from_u128(0xa0 + person).to_string(), "")
            .await;
        app.fund(&fund, "1000.00").await;
        funds.push(fund);
    }
    let postings = funds.iter().map(|fund| {
        let app = &app;
        async move {
            for _ in 0..25 {
                app.create(&finance(AUTHORITY), vec![TestApp::spend(fund, "1.00")])
                    .await
                    .unwrap();
            }
        }
    });
    let linkers = (0..3).map(|_| async {
        for _ in 0..40 {
            app.link_staged().await;
            tokio::task::yield_now().await;
        }
    });
    tokio::join!(
        futures::future::join_all(postings),
        futures::future::join_all(linkers)
    );
    app.link_staged().await;
    let (links, head, named) = chain_counts(&app).await;
    assert_eq!(links, 4 + 100, "four fundings and a hundred payments");
    assert_eq!((head, named), (links, links));
    let report = audit::run(&app.pool).await.unwrap();
    assert_eq!(report.violations, vec![]);
}

/// `times` payments of 10.00 out of `fund`, chained before this returns; their ids.
async fn spend_and_chain(app: &TestApp, fund: &sds_proto::v1::Fund, times: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..times {
        let created = app
            .create(&finance(AUTHORITY), vec![TestApp::spend(fund, "10.00")])
            .await
            .unwrap();
        ids.extend(created.into_iter().map(|transfer| transfer.id));
    }
    app.link_staged().await;
    ids
}

#[tokio::test]
async fn an_audit_going_on_from_the_last_walks_only_the_new_links_and_still_finds_a_change_in_them()
{
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "").await;
    app.fund(&fund, "500.00").await;
    let old = spend_and_chain(&app, &fund, 3).await;
    let (report, walked) = audit::run_from(&app.pool, audit::ChainWalk::default())
        .await
        .unwrap();
    assert_eq!(report.violations, vec![]);
    assert_eq!(walked.seq(), 4, "funding and three payments");

    let new = spend_and_chain(&app, &fund, 2).await;
    let (report, walked_on) = audit::run_from(&app.pool, walked.clone()).await.unwrap();
    assert_eq!(report.violations, vec![]);
    assert_eq!(walked_on.seq(), 6, "on to the two new links");
    assert_eq!(
        report,
        audit::run(&app.pool).await.unwrap(),
        "as a whole audit says"
    );

    // A new link's rows changed: the walk from the last audit hashes it and says so.
    tamper(
        &app,
        &["UPDATE transfer SET amount_pence = 1001 WHERE id = $1"],
        &new[1],
    )
    .await;
    let (report, _) = audit::run_from(&app.pool, walked).await.unwrap();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.detail.starts_with("chain link 6 does not match")),
        "{report:?}"
    );
    tamper(
        &app,
        &["UPDATE transfer SET amount_pence = 1000 WHERE id = $1"],
        &new[1],
    )
    .await;

    // An old link's rows rewritten consistently (the transfer and its entries, the account
    // sums left as they were balance out): only a walk from the start hashes that link.
    tamper(
        &app,
        &["UPDATE transfer SET note = 'rewritten' WHERE id = $1"],
        &old[0],
    )
    .await;
    let (report, _) = audit::run_from(&app.pool, walked_on).await.unwrap();
    assert_eq!(report.violations, vec![], "old links are not hashed again");
    let whole = audit::run(&app.pool).await.unwrap();
    assert!(
        whole
            .violations
            .iter()
            .any(|v| v.detail.starts_with("chain link 2 does not match")),
        "{whole:?}"
    );
}
