//! The read audit trail of statements (`GetStatement`) and `ListReadAudit`: one entry per
//! statement given to anyone who may read the fund, one refused entry per caller told an
//! existing fund is not recorded, none for unknown funds or bad arguments; listed only by
//! the authority's staff; a table that keeps every row.

use sds_proto::v1 as proto;
use sds_testkit::{ReadAuditRow, bearer, read_audit_rows};
use tonic::Code;

use crate::support::*;

const FROM: &str = "2026-11-01";
const TO: &str = "2026-11-28";

fn statement_read(actor: (&str, &str), fund_id: &str) -> ReadAuditRow {
    ReadAuditRow::read(
        AUTHORITY,
        actor,
        ("person", PERSON),
        "ledger.GetStatement",
        fund_id,
    )
}

#[tokio::test]
async fn each_statement_given_leaves_one_entry_per_call() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "0.00").await;
    let cases = [
        (finance(AUTHORITY), (AUTHORITY, "authority")),
        (holder(HOLDER), (HOLDER, "holder")),
        (provider(PAYEE), (PAYEE, "provider")),
        (person(PERSON), (PERSON, "person")),
    ];
    for (token, actor) in cases {
        let before = read_audit_rows(&app.pool).await.len();
        let expected = statement_read(actor, &fund.id);
        app.statement(&token, &fund.id, FROM, TO)
            .await
            .expect("read");
        assert_eq!(
            &read_audit_rows(&app.pool).await[before..],
            std::slice::from_ref(&expected),
            "{actor:?}"
        );
        app.statement(&token, &fund.id, FROM, TO)
            .await
            .expect("read again");
        assert_eq!(
            read_audit_rows(&app.pool).await[before..],
            [expected.clone(), expected],
            "{actor:?} twice"
        );
    }
}

#[tokio::test]
async fn a_caller_told_a_fund_is_not_recorded_leaves_one_refused_entry_and_unknown_funds_none() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "0.00").await;
    let cases = [
        (provider(OTHER_PROVIDER), (OTHER_PROVIDER, "provider")),
        (finance(OTHER_AUTHORITY), (OTHER_AUTHORITY, "authority")),
        (person(OTHER_PERSON), (OTHER_PERSON, "person")),
    ];
    for (token, actor) in cases {
        let before = read_audit_rows(&app.pool).await.len();
        assert_code(
            app.statement(&token, &fund.id, FROM, TO).await,
            Code::NotFound,
        );
        assert_eq!(
            read_audit_rows(&app.pool).await[before..],
            [statement_read(actor, &fund.id).refused("NOT_FOUND")],
            "{actor:?}"
        );
    }
    let written = read_audit_rows(&app.pool).await;
    let unknown = "0192f0c1-0000-7000-8000-00000000dead";
    assert_code(
        app.statement(&finance(AUTHORITY), unknown, FROM, TO).await,
        Code::NotFound,
    );
    for token in [finance(AUTHORITY), provider(OTHER_PROVIDER)] {
        assert_code(
            app.statement(&token, &fund.id, TO, FROM).await,
            Code::InvalidArgument,
        );
        assert_code(
            app.statement(&token, "fund-1", FROM, TO).await,
            Code::InvalidArgument,
        );
    }
    assert_eq!(read_audit_rows(&app.pool).await, written);
}

#[tokio::test]
async fn only_the_authoritys_staff_list_its_trail() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "0.00").await;
    app.statement(&person(PERSON), &fund.id, FROM, TO)
        .await
        .unwrap();
    let _ = app
        .statement(&provider(OTHER_PROVIDER), &fund.id, FROM, TO)
        .await;
    let asking = |authority: &str| proto::ListReadAuditRequest {
        authority: authority.into(),
        subject_id: PERSON.into(),
        ..Default::default()
    };
    let listed = app
        .client()
        .list_read_audit(bearer(&manager(AUTHORITY), asking(AUTHORITY)))
        .await
        .expect("staff list their authority's trail")
        .into_inner();
    let seen: Vec<(&str, &str, &str, &str)> = listed
        .entries
        .iter()
        .map(|entry| {
            (
                entry.actor.as_str(),
                entry.what.as_str(),
                entry.record_id.as_str(),
                entry.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (PERSON, "ledger.GetStatement", fund.id.as_str(), "read"),
            (
                OTHER_PROVIDER,
                "ledger.GetStatement",
                fund.id.as_str(),
                "refused"
            ),
        ]
    );
    for token in [
        finance(OTHER_AUTHORITY),
        provider(PAYEE),
        holder(HOLDER),
        person(PERSON),
    ] {
        let refused = app
            .client()
            .list_read_audit(bearer(&token, asking(AUTHORITY)))
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    let theirs = app
        .client()
        .list_read_audit(bearer(&finance(OTHER_AUTHORITY), asking(OTHER_AUTHORITY)))
        .await
        .unwrap()
        .into_inner();
    assert!(theirs.entries.is_empty(), "{theirs:?}");
    sds_testkit::assert_read_audit_is_append_only(&app.pool).await;
}

#[derive(Debug, Clone, Copy)]
enum FundRead {
    Fund,
    Transfers,
}

impl FundRead {
    fn what(self) -> &'static str {
        match self {
            FundRead::Fund => "ledger.GetFund",
            FundRead::Transfers => "ledger.ListTransfers",
        }
    }

    async fn call(self, app: &TestApp, token: &str, fund_id: &str) -> Result<(), tonic::Status> {
        match self {
            FundRead::Fund => app.get_fund(token, fund_id).await.map(|_| ()),
            FundRead::Transfers => app
                .client()
                .list_transfers(bearer(
                    token,
                    proto::ListTransfersRequest {
                        fund_id: fund_id.into(),
                        page: None,
                    },
                ))
                .await
                .map(|_| ()),
        }
    }
}

#[tokio::test]
async fn a_fund_or_its_transfers_given_leave_one_entry_and_a_refusal_one_refused_entry() {
    let app = TestApp::spawn().await;
    let fund = app.open_fund(PERSON, "0.00").await;
    let entry = |read: FundRead, actor: (&str, &str)| {
        ReadAuditRow::read(AUTHORITY, actor, ("person", PERSON), read.what(), &fund.id)
    };
    let readers = [
        (finance(AUTHORITY), (AUTHORITY, "authority")),
        (holder(HOLDER), (HOLDER, "holder")),
        (provider(PAYEE), (PAYEE, "provider")),
        (person(PERSON), (PERSON, "person")),
    ];
    let strangers = [
        (provider(OTHER_PROVIDER), (OTHER_PROVIDER, "provider")),
        (finance(OTHER_AUTHORITY), (OTHER_AUTHORITY, "authority")),
        (person(OTHER_PERSON), (OTHER_PERSON, "person")),
    ];
    for read in [FundRead::Fund, FundRead::Transfers] {
        for (token, actor) in &readers {
            let before = read_audit_rows(&app.pool).await.len();
            read.call(&app, token, &fund.id).await.expect("read");
            read.call(&app, token, &fund.id).await.expect("read again");
            assert_eq!(
                read_audit_rows(&app.pool).await[before..],
                [entry(read, *actor), entry(read, *actor)],
                "{read:?} {actor:?}"
            );
        }
        for (token, actor) in &strangers {
            let before = read_audit_rows(&app.pool).await.len();
            assert_code(read.call(&app, token, &fund.id).await, Code::NotFound);
            assert_eq!(
                read_audit_rows(&app.pool).await[before..],
                [entry(read, *actor).refused("NOT_FOUND")],
                "{read:?} {actor:?}"
            );
        }
        let written = read_audit_rows(&app.pool).await;
        let unknown = "0192f0c1-0000-7000-8000-00000000dead";
        assert_code(
            read.call(&app, &finance(AUTHORITY), unknown).await,
            Code::NotFound,
        );
        assert_code(
            read.call(&app, &finance(AUTHORITY), "F-1").await,
            Code::InvalidArgument,
        );
        assert_eq!(read_audit_rows(&app.pool).await, written, "{read:?}");
    }
}
