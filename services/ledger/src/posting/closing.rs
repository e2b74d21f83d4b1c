//! Closing a fund: with nothing pending, and either a zero balance or a named destination
//! that receives what is left (or makes good an overdrawn balance) in the same transaction:
//! one of the fund's own accounts, or the same person's other fund with the authority, and
//! moved by finance staff.

use sds_vocabulary::Invalid;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Actor, Recording, lock, write_batch};
use crate::domain::access::{ensure_may_manage, ensure_may_post, may_read};
use crate::domain::{AccountKind, Category, Fund, Movement, TransferContent};
use crate::error::LedgerError;
use crate::store;

/// What closing asks for besides the fund.
#[derive(Debug, Clone)]
pub struct Closing {
    pub fund_id: Uuid,
    pub destination: Option<Uuid>,
    pub transfer_id: Option<Uuid>,
    pub note: String,
}

/// Closes the fund; a closed fund is returned as it is.
pub async fn close(
    connection: &mut PgConnection,
    actor: &Actor<'_>,
    closing: &Closing,
) -> Result<Fund, LedgerError> {
    let fund_id = closing.fund_id;
    let (fund, accounts) = store::load_fund_for_update(connection, fund_id)
        .await?
        .filter(|(fund, accounts)| {
            let payees: Vec<Uuid> = accounts.iter().filter_map(|(_, payee)| *payee).collect();
            may_read(actor.principal, fund, &payees)
        })
        .ok_or(LedgerError::FundNotFound(fund_id))?;
    ensure_may_manage(actor.principal, &fund.authority)?;
    if fund.closed_on.is_some() {
        return Ok(fund);
    }
    let mut ids: Vec<Uuid> = accounts.iter().map(|(account, _)| account.id).collect();
    ids.extend(closing.destination);
    let mut locked = lock(connection, &ids).await?;
    if locked
        .accounts
        .values()
        .filter(|account| account.fund.id == fund_id)
        .any(|account| account.state.debits_pending > 0 || account.state.credits_pending > 0)
    {
        return Err(LedgerError::PendingOutstanding(fund_id));
    }
    let balance_account = locked
        .accounts
        .values()
        .find(|account| {
            account.fund.id == fund_id && account.state.kind == AccountKind::FundBalance
        })
        .map(|account| account.state)
        .ok_or_else(|| anyhow::anyhow!("fund {fund_id} has no balance account"))?;
    let balance = balance_account.balance();
    if balance != 0 {
        let (Some(destination), Some(transfer_id)) = (closing.destination, closing.transfer_id)
        else {
            return Err(LedgerError::BalanceLeft {
                fund: fund_id,
                balance: sds_money::Money::from_pence(balance)
                    .map_or_else(|_| balance.to_string(), |money| money.to_string()),
            });
        };
        let target = locked
            .accounts
            .get(&destination)
            .filter(|account| may_read(actor.principal, &account.fund, &[]))
            .ok_or(LedgerError::AccountNotFound {
                field: "destination_account_id".into(),
                id: destination,
            })?;
        if destination == balance_account.id {
            return Err(Invalid::new(
                "destination_account_id",
                "is the fund's own balance account; name the account that receives what is left",
            )
            .into());
        }
        // What is left stays the person's, with the authority: it goes to one of the fund's
        // own accounts (its recovery account, say) or to the same person's other fund with
        // the same authority, never to someone else's.
        if target.fund.id != fund_id
            && (target.fund.person_id != fund.person_id || target.fund.authority != fund.authority)
        {
            return Err(Invalid::new(
                "destination_account_id",
                "is an account of another person's fund; what is left goes to one of this fund's own accounts (such as its recovery account) or to the same person's other fund with this authority",
            )
            .into());
        }
        // Moving money is finance's, as every other movement is.
        ensure_may_post(actor.principal, &fund.authority)?;
        if !store::load_transfers(connection, &[transfer_id])
            .await?
            .is_empty()
        {
            return Err(LedgerError::TransferIdUsed(transfer_id));
        }
        let target_fund = target.fund.id;
        // What is left leaves the fund; an overdrawn balance is made good from the destination.
        let (debit, credit, debit_fund, credit_fund) = if balance > 0 {
            (balance_account.id, destination, fund_id, target_fund)
        } else {
            (destination, balance_account.id, target_fund, fund_id)
        };
        let content = TransferContent {
            id: transfer_id,
            debit,
            credit,
            amount: balance.abs(),
            category: Category::Closure,
            reference: format!("closing fund {fund_id}"),
            note: closing.note.clone(),
            pending: false,
            reverses: None,
        };
        locked
            .book
            .apply(debit, credit, content.amount, Movement::Post)
            .map_err(|refused| LedgerError::Refused {
                at: "closing transfer".into(),
                refused,
            })?;
        let recording = Recording {
            content,
            fund_id: debit_fund,
            credit_fund_id: credit_fund,
            authority: fund.authority.clone(),
        };
        write_batch(connection, actor, &[recording], &locked).await?;
    }
    store::close_fund(connection, fund_id, actor.today, actor.by()).await?;
    Ok(Fund {
        closed_on: Some(actor.today),
        ..fund
    })
}
