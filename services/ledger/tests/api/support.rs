//! What every test needs: the ledger spawned on a fresh database with a clock the test
//! moves, clients, tokens for the usual callers, example messages, and ways to look at what
//! was written.

#![allow(dead_code)]

use prost::Message as _;
use sds_ledger::SCHEMA;
use sds_platform::{AuthorityId, OrgKind, Principal, Role};
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::{self as proto, LedgerAccountKind, TransferCategory};
use sds_testkit::{TestProcess, TestSettings, authority_staff, bearer, provider_org, token_for};
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic::{Code, Status};
use uuid::Uuid;

pub type Client = LedgerServiceClient<Channel>;

pub const AUTHORITY: &str = "fife";
pub const OTHER_AUTHORITY: &str = "angus";
pub const TODAY: &str = "2026-11-28";
pub const PERSON: &str = "0192f0c1-0000-7000-8000-0000000000a1";
pub const OTHER_PERSON: &str = "0192f0c1-0000-7000-8000-0000000000a2";
/// The third party holding the test funds.
pub const HOLDER: &str = "0192f0c1-0000-7000-8000-0000000000b1";
/// The provider the test funds pay.
pub const PAYEE: &str = "0192f0c1-0000-7000-8000-0000000000c1";
pub const OTHER_PROVIDER: &str = "0192f0c1-0000-7000-8000-0000000000c2";

pub struct TestApp {
    pub pool: PgPool,
    client: Client,
    _process: TestProcess,
    /// The service's clock, which tests move on.
    pub clock: sds_platform::ManualClock,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Vec::new()).await
    }

    /// With further `SDS_*` settings.
    pub async fn spawn_with(environment: Vec<(&'static str, String)>) -> TestApp {
        let clock = sds_platform::ManualClock::on(TODAY.parse().expect("a date"));
        let process = TestProcess::start_with(
            vec![sds_ledger::component()],
            TestSettings {
                clock: Some(clock.clock()),
                environment,
                ..TestSettings::default()
            },
        )
        .await;
        let client = LedgerServiceClient::new(process.channel().await);
        let pool = process.pool(SCHEMA);
        TestApp {
            pool,
            client,
            _process: process,
            clock,
        }
    }

    /// Chains every link staged so far, as the service's linker would on its next round;
    /// returns how many it linked.
    pub async fn link_staged(&self) -> usize {
        sds_ledger::chain::linker::link_all(&self.pool, &self.clock.clock())
            .await
            .expect("the staged links are chained")
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    pub fn set_today(&self, iso: &str) {
        let day: chrono::NaiveDate = iso.parse().expect("a date");
        self.clock
            .set(day.and_hms_opt(12, 0, 0).expect("noon").and_utc());
    }

    /// Opens a fund held by [`HOLDER`] for `person`, paying [`PAYEE`], 375.00 a week.
    pub async fn open_fund(&self, person: &str, overdraft: &str) -> proto::Fund {
        self.client()
            .open_fund(bearer(
                &manager(AUTHORITY),
                fund_request(&Uuid::now_v7().to_string(), person, overdraft),
            ))
            .await
            .expect("the fund opens")
            .into_inner()
    }

    pub async fn create(
        &self,
        token: &str,
        transfers: Vec<proto::NewTransfer>,
    ) -> Result<Vec<proto::Transfer>, Status> {
        self.client()
            .create_transfers(bearer(token, proto::CreateTransfersRequest { transfers }))
            .await
            .map(|response| response.into_inner().transfers)
    }

    /// Streams `chunks` to `PostBulk`.
    pub async fn post_bulk(
        &self,
        token: &str,
        chunks: Vec<Vec<proto::NewTransfer>>,
    ) -> Result<proto::PostBulkResponse, Status> {
        let chunks: Vec<proto::PostBulkChunk> = chunks
            .into_iter()
            .map(|transfers| proto::PostBulkChunk { transfers })
            .collect();
        self.client()
            .post_bulk(bearer(token, futures::stream::iter(chunks)))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Pays `amount` into the fund from the authority, as finance.
    pub async fn fund(&self, fund: &proto::Fund, amount: &str) -> proto::Transfer {
        let transfer = new_transfer(
            account(fund, LedgerAccountKind::AuthorityFunding),
            account(fund, LedgerAccountKind::FundBalance),
            amount,
            TransferCategory::Funding,
        );
        self.create(&finance(AUTHORITY), vec![transfer])
            .await
            .expect("the funding is recorded")
            .remove(0)
    }

    /// Pays `amount` from the fund to its payee, as finance.
    pub fn spend(fund: &proto::Fund, amount: &str) -> proto::NewTransfer {
        new_transfer(
            account(fund, LedgerAccountKind::FundBalance),
            account(fund, LedgerAccountKind::Payable),
            amount,
            TransferCategory::SupportPayment,
        )
    }

    pub async fn balance(&self, account_id: &str, as_at: Option<&str>) -> proto::Balance {
        self.client()
            .get_balance(bearer(
                &finance(AUTHORITY),
                proto::GetBalanceRequest {
                    account_id: account_id.to_owned(),
                    as_at: as_at.map(|iso| proto::Date { iso: iso.into() }),
                },
            ))
            .await
            .expect("the balance reads")
            .into_inner()
    }

    /// The fund balance account's balance and available amount.
    pub async fn fund_balance(&self, fund: &proto::Fund) -> (String, String) {
        let balance = self
            .balance(&account(fund, LedgerAccountKind::FundBalance), None)
            .await;
        (amount_of(&balance.balance), amount_of(&balance.available))
    }

    pub async fn get_fund(&self, token: &str, id: &str) -> Result<proto::Fund, Status> {
        self.client()
            .get_fund(bearer(token, proto::GetFundRequest { fund_id: id.into() }))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Rows in each table, to show that a refused request wrote nothing.
    pub async fn row_counts(&self) -> RowCounts {
        let (funds, transfers, entries, resolutions, events, versions): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM fund), (SELECT count(*) FROM transfer), \
                    (SELECT count(*) FROM entry), (SELECT count(*) FROM pending_resolution), \
                    (SELECT count(*) FROM outbox), \
                    (SELECT coalesce(sum(version), 0)::bigint FROM account)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("count rows");
        RowCounts {
            funds,
            transfers,
            entries,
            resolutions,
            events,
            versions,
        }
    }

    pub async fn events_of(&self, event_type: &str) -> Vec<proto::Event> {
        let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY position",
        )
        .bind(event_type)
        .fetch_all(&self.pool)
        .await
        .expect("read the outbox");
        payloads
            .iter()
            .map(|payload| proto::Event::decode(payload.as_slice()).expect("an event"))
            .collect()
    }

    /// Every account's stored balance against the sum of its entries: the two must agree.
    pub async fn assert_entries_match_balances(&self) {
        let disagreeing: Vec<(Uuid, i64, i64)> = sqlx::query_as(
            "SELECT a.id, a.credits_posted - a.debits_posted, \
                    coalesce((SELECT sum(amount_pence) FROM entry e WHERE e.account_id = a.id), 0)::bigint \
             FROM account a \
             WHERE a.credits_posted - a.debits_posted \
                   <> coalesce((SELECT sum(amount_pence) FROM entry e WHERE e.account_id = a.id), 0)",
        )
        .fetch_all(&self.pool)
        .await
        .expect("compare balances with entries");
        assert!(disagreeing.is_empty(), "{disagreeing:?}");
        let total: Option<i64> =
            sqlx::query_scalar("SELECT sum(credits_posted - debits_posted)::bigint FROM account")
                .fetch_one(&self.pool)
                .await
                .expect("sum balances");
        assert_eq!(total.unwrap_or(0), 0, "debits and credits differ");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub funds: i64,
    pub transfers: i64,
    pub entries: i64,
    pub resolutions: i64,
    pub events: i64,
    pub versions: i64,
}

// ---- callers ----------------------------------------------------------------------------

pub fn staff(authority: &str, roles: &[Role]) -> String {
    token_for(&authority_staff(authority, roles))
}

pub fn finance(authority: &str) -> String {
    staff(authority, &[Role::Finance])
}

pub fn manager(authority: &str) -> String {
    staff(authority, &[Role::Practitioner])
}

pub fn provider(id: &str) -> String {
    token_for(&provider_org(id))
}

pub fn holder(id: &str) -> String {
    token_for(&Principal {
        org_id: id.to_owned(),
        org_kind: OrgKind::Holder,
        roles: vec![],
        authorities: vec![AuthorityId::parse("authority", AUTHORITY).expect("an authority")],
        person_id: None,
    })
}

pub fn person(id: &str) -> String {
    token_for(&Principal {
        org_id: id.to_owned(),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![],
        person_id: Some(id.to_owned()),
    })
}

// ---- example messages -------------------------------------------------------------------

pub fn money(amount: &str) -> Option<proto::Money> {
    Some(proto::Money {
        amount: amount.to_owned(),
    })
}

pub fn amount_of(money: &Option<proto::Money>) -> String {
    money.clone().unwrap_or_default().amount
}

pub fn fund_request(id: &str, person: &str, overdraft: &str) -> proto::OpenFundRequest {
    proto::OpenFundRequest {
        fund_id: id.to_owned(),
        authority: AUTHORITY.into(),
        person_id: person.to_owned(),
        holding_model: proto::FundHoldingModel::ThirdParty as i32,
        holder_id: HOLDER.into(),
        weekly_budget: money("375.00"),
        overdraft_limit: money(overdraft),
        payee_ids: vec![PAYEE.into()],
    }
}

/// The id of the fund's account of `kind` (its first, for payables).
pub fn account(fund: &proto::Fund, kind: LedgerAccountKind) -> String {
    fund.accounts
        .iter()
        .find(|account| account.kind == kind as i32)
        .map(|account| account.id.clone())
        .unwrap_or_else(|| panic!("the fund has a {kind:?} account"))
}

/// Money from the authority into the fund.
pub fn funding(fund: &proto::Fund, amount: &str) -> proto::NewTransfer {
    new_transfer(
        account(fund, LedgerAccountKind::AuthorityFunding),
        account(fund, LedgerAccountKind::FundBalance),
        amount,
        TransferCategory::Funding,
    )
}

pub fn new_transfer(
    debit: String,
    credit: String,
    amount: &str,
    category: TransferCategory,
) -> proto::NewTransfer {
    proto::NewTransfer {
        id: Uuid::now_v7().to_string(),
        debit_account_id: debit,
        credit_account_id: credit,
        amount: money(amount),
        category: category as i32,
        reference: "instalment 1".into(),
        note: String::new(),
        pending: false,
    }
}

// ---- assertions -------------------------------------------------------------------------

/// The call failed with `code`; returns its message.
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> String {
    let status = result.expect_err("the call should fail");
    assert_eq!(status.code(), code, "unexpected status {status:?}");
    status.message().to_owned()
}

/// The call failed with `InvalidArgument` naming `field` first; returns its message.
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) -> String {
    let message = assert_code(result, Code::InvalidArgument);
    assert!(
        message.starts_with(&format!("{field} ")),
        "expected the message to name {field}: {message}"
    );
    message
}

/// Runs `statements` as a superuser with every trigger off (as someone going behind the
/// service would).
pub async fn tamper(app: &TestApp, statements: &[&'static str], bind: &str) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("the test connects as a superuser");
    for statement in statements {
        sqlx::query(*statement)
            .bind(Uuid::parse_str(bind).unwrap())
            .execute(&mut *tx)
            .await
            .expect("tamper");
    }
    tx.commit().await.unwrap();
}
