//! Balances (now, pending, and as at the end of a past day) and the fund's transfers.

use sds_platform::read_audit;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sqlx::PgPool;
use uuid::Uuid;

use super::convert::{self, money_message, transfer_message};
use super::funds::{audited_fund, readable_fund};
use crate::error::LedgerError;
use crate::store;
use sds_vocabulary::paging;

pub(super) async fn balance(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::GetBalanceRequest,
) -> Result<proto::Balance, LedgerError> {
    let account_id = convert::required_id("account_id", &request.account_id)?;
    let as_at = convert::optional_date("as_at", request.as_at.as_ref())?;
    let mut connection = pool.acquire().await?;
    let not_found = || LedgerError::AccountNotFound {
        field: "account_id".into(),
        id: account_id,
    };
    let fund_id: Uuid = {
        use sds_platform::StoreContext as _;
        sqlx::query_scalar("SELECT fund_id FROM account WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&mut *connection)
            .await
            .operation("select account's fund")?
            .ok_or_else(not_found)?
    };
    let (_, accounts) = readable_fund(&mut connection, principal, fund_id)
        .await
        .map_err(|_| not_found())?;
    let (account, _) = accounts
        .iter()
        .find(|(account, _)| account.id == account_id)
        .ok_or_else(not_found)?;
    let as_at_balance = match as_at {
        Some(day) => Some(store::balance_as_at(&mut connection, account_id, day).await?),
        None => None,
    };
    Ok(proto::Balance {
        account_id: account_id.to_string(),
        fund_id: fund_id.to_string(),
        kind: sds_vocabulary::named_enum::WireEnum::wire_number(account.kind),
        balance: Some(money_message(account.balance())),
        pending_debits: Some(money_message(account.debits_pending)),
        pending_credits: Some(money_message(account.credits_pending)),
        available: Some(money_message(account.available())),
        as_at: as_at.map(|day| proto::Date {
            iso: sds_vocabulary::date::iso(day),
        }),
        balance_as_at: as_at_balance.map(money_message),
    })
}

/// What the read audit trail calls a page of a fund's transfers.
const LIST_TRANSFERS: &str = "ledger.ListTransfers";

/// `ListTransfers`: a page of a fund's history goes out only with its `read` entry (one per
/// page, the fund's), written in the read's transaction; a caller who may not read a fund
/// that exists is told it is not recorded, after a `refused` entry (see
/// [`super::funds::audited_fund`]).
pub(super) async fn list(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::ListTransfersRequest,
) -> Result<proto::ListTransfersResponse, LedgerError> {
    let fund_id = convert::required_id("fund_id", &request.fund_id)?;
    let page_request = request.page.clone().unwrap_or_default();
    // Tokens point after a transfer's seq; the prefix keeps tokens of the offset paging
    // that came before from being read as a position.
    let fingerprint = format!("transfers-before-seq:{fund_id}");
    let page = paging::requested(
        page_request.page_size,
        &page_request.page_token,
        &fingerprint,
    )
    .map_err(|invalid| invalid.within("page"))?;
    let before_seq = match page.offset {
        0 => None,
        seq => Some(i64::try_from(seq).unwrap_or(i64::MAX)),
    };
    let mut transaction = pool.begin().await?;
    let (_, entry) =
        match audited_fund(&mut transaction, clock, principal, fund_id, LIST_TRANSFERS).await? {
            Ok(readable) => readable,
            Err(refused) => {
                transaction.commit().await?;
                return Err(refused);
            }
        };
    let total = store::count_transfers(&mut transaction, fund_id).await?;
    // One more than the page, to know whether another page follows.
    let mut rows = store::list_transfers(
        &mut transaction,
        fund_id,
        i64::from(page.size) + 1,
        before_seq,
    )
    .await?;
    // The page is one record, the fund's history: one entry, whatever it holds.
    read_audit::read(&mut transaction, clock, principal, &entry).await?;
    transaction.commit().await?;
    let more = rows.len() > usize::try_from(page.size).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(page.size).unwrap_or(usize::MAX));
    let next_page_token = match rows.last() {
        Some((seq, _)) if more => {
            paging::position_token(u64::try_from(*seq).unwrap_or_default(), &fingerprint)
        }
        _ => String::new(),
    };
    Ok(proto::ListTransfersResponse {
        transfers: rows
            .iter()
            .map(|(_, record)| transfer_message(record))
            .collect(),
        page: Some(proto::PageResponse {
            next_page_token,
            total_matches: total,
        }),
    })
}
