//! The read audit trail of payees' bank accounts (`GetPayeeBankAccount`) and
//! `ListReadAudit`: one entry per account given to the authority's finance staff, naming
//! the payee as what its schedules pay it as; one refused entry per other caller asking
//! for an account that is recorded, none for a payee without one or a bad argument; listed
//! only by the authority's staff; a table that keeps every row.

use sds_proto::v1 as proto;
use sds_testkit::{ReadAuditRow, bearer, read_audit_rows};
use tonic::{Code, Status};

use crate::run_support::*;
use crate::support::*;

async fn get_account(
    app: &TestApp,
    token: &str,
    authority: &str,
    payee: &str,
) -> Result<proto::PayeeBankAccount, Status> {
    app.client()
        .get_payee_bank_account(bearer(
            token,
            proto::GetPayeeBankAccountRequest {
                authority: authority.to_owned(),
                payee_id: payee.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn account_read(actor: (&str, &str), payee: (&str, &str)) -> ReadAuditRow {
    ReadAuditRow::read(
        AUTHORITY,
        actor,
        payee,
        "payments.GetPayeeBankAccount",
        payee.1,
    )
}

/// fife pays [`PROVIDER`] on the test agreement and [`HOLDER`] on another, and holds
/// accounts for both and for [`OTHER_PROVIDER`], whom no schedule pays yet.
async fn accounts_entered(app: &TestApp) {
    app.deliver(&signed(first_version())).await;
    let mut held = held_by_third_party(first_version());
    held.id = uuid::Uuid::now_v7().to_string();
    app.deliver(&signed(held)).await;
    for payee in [PROVIDER, HOLDER, OTHER_PROVIDER] {
        app.set_payee_account(&finance(AUTHORITY), payee, payee_account(payee))
            .await
            .expect("entered");
    }
}

#[tokio::test]
async fn each_account_given_leaves_one_entry_per_call_naming_the_payee_by_its_kind() {
    let app = TestApp::spawn().await;
    accounts_entered(&app).await;
    let cases = [
        (PROVIDER, "provider"),
        (HOLDER, "holder"),
        (OTHER_PROVIDER, "payee"),
    ];
    for (payee, kind) in cases {
        let before = read_audit_rows(&app.pool).await.len();
        let expected = account_read((AUTHORITY, "authority"), (kind, payee));
        get_account(&app, &finance(AUTHORITY), AUTHORITY, payee)
            .await
            .expect("read");
        assert_eq!(
            &read_audit_rows(&app.pool).await[before..],
            std::slice::from_ref(&expected),
            "{kind}"
        );
        get_account(&app, &finance(AUTHORITY), AUTHORITY, payee)
            .await
            .expect("read again");
        assert_eq!(
            read_audit_rows(&app.pool).await[before..],
            [expected.clone(), expected],
            "{kind} twice"
        );
    }
}

#[tokio::test]
async fn a_refused_read_of_a_recorded_account_leaves_one_refused_entry_and_no_account_none() {
    let app = TestApp::spawn().await;
    accounts_entered(&app).await;
    let cases = [
        (practitioner(AUTHORITY), (AUTHORITY, "authority")),
        (finance(OTHER_AUTHORITY), (OTHER_AUTHORITY, "authority")),
        (provider(PROVIDER), (PROVIDER, "provider")),
        (holder(HOLDER), (HOLDER, "holder")),
    ];
    for (token, actor) in cases {
        let before = read_audit_rows(&app.pool).await.len();
        assert_refused(
            get_account(&app, &token, AUTHORITY, PROVIDER).await,
            Code::PermissionDenied,
            "finance staff",
        );
        assert_eq!(
            read_audit_rows(&app.pool).await[before..],
            [account_read(actor, ("provider", PROVIDER)).refused("PERMISSION_DENIED")],
            "{actor:?}"
        );
    }
    let written = read_audit_rows(&app.pool).await;
    let unpaid = "0192f0c1-0000-7000-8000-0000000000c9";
    assert_refused(
        get_account(&app, &finance(AUTHORITY), AUTHORITY, unpaid).await,
        Code::NotFound,
        unpaid,
    );
    assert_refused(
        get_account(&app, &practitioner(AUTHORITY), AUTHORITY, unpaid).await,
        Code::PermissionDenied,
        "finance staff",
    );
    // Recorded with fife, not with angus: nothing of angus's to read or refuse.
    assert_refused(
        get_account(&app, &finance(OTHER_AUTHORITY), OTHER_AUTHORITY, PROVIDER).await,
        Code::NotFound,
        PROVIDER,
    );
    for (authority, payee, field) in [
        ("Fife!", PROVIDER, "authority"),
        (AUTHORITY, "Kingdom Care", "payee_id"),
    ] {
        assert_refused(
            get_account(&app, &finance(AUTHORITY), authority, payee).await,
            Code::InvalidArgument,
            field,
        );
    }
    assert_eq!(read_audit_rows(&app.pool).await, written);
}

#[tokio::test]
async fn only_the_authoritys_staff_list_its_trail() {
    let app = TestApp::spawn().await;
    accounts_entered(&app).await;
    get_account(&app, &finance(AUTHORITY), AUTHORITY, HOLDER)
        .await
        .unwrap();
    let _ = get_account(&app, &provider(OTHER_PROVIDER), AUTHORITY, HOLDER).await;
    let asking = |authority: &str| proto::ListReadAuditRequest {
        authority: authority.into(),
        subject_id: HOLDER.into(),
        ..Default::default()
    };
    let listed = app
        .client()
        .list_read_audit(bearer(&practitioner(AUTHORITY), asking(AUTHORITY)))
        .await
        .expect("staff list their authority's trail")
        .into_inner();
    let seen: Vec<(&str, &str, &str, &str)> = listed
        .entries
        .iter()
        .map(|entry| {
            (
                entry.actor.as_str(),
                entry.subject_kind.as_str(),
                entry.outcome.as_str(),
                entry.refusal_code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (AUTHORITY, "holder", "read", ""),
            (OTHER_PROVIDER, "holder", "refused", "PERMISSION_DENIED"),
        ]
    );
    for token in [finance(OTHER_AUTHORITY), provider(PROVIDER), holder(HOLDER)] {
        assert_refused(
            app.client()
                .list_read_audit(bearer(&token, asking(AUTHORITY)))
                .await,
            Code::PermissionDenied,
            "read audit trail",
        );
    }
    sds_testkit::assert_read_audit_is_append_only(&app.pool).await;
}

#[tokio::test]
async fn a_refused_caller_that_loops_leaves_one_refused_entry_a_minute() {
    let app = TestApp::spawn().await;
    accounts_entered(&app).await;
    let refused =
        account_read((PROVIDER, "provider"), ("provider", PROVIDER)).refused("PERMISSION_DENIED");
    let before = read_audit_rows(&app.pool).await.len();
    for _ in 0..10 {
        assert_refused(
            get_account(&app, &provider(PROVIDER), AUTHORITY, PROVIDER).await,
            Code::PermissionDenied,
            "finance staff",
        );
    }
    assert_eq!(
        &read_audit_rows(&app.pool).await[before..],
        std::slice::from_ref(&refused)
    );
    app.clock.advance(chrono::Duration::minutes(1));
    for _ in 0..10 {
        assert_refused(
            get_account(&app, &provider(PROVIDER), AUTHORITY, PROVIDER).await,
            Code::PermissionDenied,
            "finance staff",
        );
    }
    assert_eq!(
        read_audit_rows(&app.pool).await[before..],
        [refused.clone(), refused]
    );
}
