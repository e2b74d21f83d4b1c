//! Collecting the person's contribution in their fund: each period's contribution falls due
//! (found by payment runs, on the schedule's own calendar), what the person paid is recorded
//! as receipts, both are posted into the fund's books in the ledger, and arrears beyond the
//! authority's allowance raise `contribution.arrears` once per crossing.
//!
//! In the fund, a period falling due moves its amount from the `contribution` account to
//! `contribution_due` (what the person owes); a receipt moves money from `contribution_due`
//! into the fund's balance. The balance of `contribution_due` is therefore what is
//! outstanding, as at any day, which is what the person's statement shows.
//!
//! What must stay true: every due period and every receipt is recorded here first and posted
//! under an id derived from it, so posting again (after a crash, a lost answer or a retry)
//! records nothing twice; `posted` is set only after the ledger answered; arrears are raised
//! once until they fall back within the allowance.

use chrono::NaiveDate;
use sds_events::{NewEvent, OutboxBell};
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_proto::v1 as proto;
use sds_vocabulary::AuthorityId;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::contributions::{arrears, newly_due};
use crate::domain::terms::{HoldingModel, ScheduleTerms};
use crate::error::PaymentsError;
use crate::grpc::convert::{date_message, money_message};
use crate::ledger::Ledger;
use crate::store;
use crate::store::collection::{self as stored, Receipt};

/// The namespace of the transfer ids of contributions.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x0192_f0c1_7a6e_7e57_9b1d_5ca1_e5d0_0002);

/// The transfer id of a period falling due.
pub fn due_transfer_id(agreement_id: Uuid, period_start: NaiveDate) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("contribution-due/{agreement_id}/{period_start}").as_bytes(),
    )
}

/// The transfer id of a receipt.
pub fn receipt_transfer_id(receipt_id: Uuid) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("contribution-receipt/{receipt_id}").as_bytes(),
    )
}

/// The accounts of the person's fund that contributions move between.
#[derive(Debug, Clone, Copy)]
struct FundAccounts {
    balance: Uuid,
    contribution: Uuid,
    due: Uuid,
}

/// The fund's accounts, once a run has opened and linked the fund; `None` before.
async fn fund_accounts(
    pool: &PgPool,
    ledger: &Ledger,
    authority: &AuthorityId,
    agreement_id: Uuid,
) -> Result<Option<FundAccounts>, PaymentsError> {
    let fund_id = {
        let mut connection = pool.acquire().await.operation("database connection")?;
        store::posting::fund_of_schedule(&mut connection, agreement_id).await?
    };
    let Some(fund_id) = fund_id else {
        return Ok(None);
    };
    let fund = ledger.get_fund(authority, fund_id).await?;
    if fund.status == proto::FundStatus::Closed as i32 {
        // Nothing more moves in a closed fund; what is owed stays on record here.
        tracing::warn!(%authority, agreement = %agreement_id, fund = %fund_id, "contribution not collected: the person's fund is closed");
        return Ok(None);
    }
    let account = |kind: proto::LedgerAccountKind| {
        fund.accounts
            .iter()
            .find(|account| account.kind == kind as i32)
            .and_then(|account| Uuid::parse_str(&account.id).ok())
            .ok_or_else(|| {
                PaymentsError::Internal(anyhow::anyhow!(
                    "fund {fund_id} has no {} account",
                    kind.as_str_name()
                ))
            })
    };
    Ok(Some(FundAccounts {
        balance: account(proto::LedgerAccountKind::FundBalance)?,
        contribution: account(proto::LedgerAccountKind::Contribution)?,
        due: account(proto::LedgerAccountKind::ContributionDue)?,
    }))
}

/// What a run does for every schedule of its authority with a contribution: records the
/// periods newly due by the run's date, posts what is unposted, and reviews arrears. A
/// schedule whose contribution cannot be collected now (its fund closed, the ledger
/// refusing) is logged and left for the next run: it never stops the run paying everyone.
pub async fn collect_for_run(
    pool: &PgPool,
    ledger: &Ledger,
    outbox: &OutboxBell,
    authority: &AuthorityId,
    run_id: Uuid,
    run_date: NaiveDate,
) -> Result<(), PaymentsError> {
    for agreement_id in stored::schedules_with_contributions(pool, authority).await? {
        let collected = collect(
            pool,
            ledger,
            outbox,
            authority,
            agreement_id,
            Some((run_id, run_date)),
            run_date,
        )
        .await;
        if let Err(error) = collected {
            tracing::warn!(%authority, agreement = %agreement_id, %error, "contribution left for the next run");
        }
    }
    Ok(())
}

/// Brings one agreement's contribution up to date: with `due_by` (a run and its date), the
/// periods newly due are found; once the person's fund is open they are recorded and
/// posted with any receipt not yet posted, and arrears are reviewed as at `today`. Returns
/// whether everything recorded is now in the fund.
pub async fn collect(
    pool: &PgPool,
    ledger: &Ledger,
    outbox: &OutboxBell,
    authority: &AuthorityId,
    agreement_id: Uuid,
    due_by: Option<(Uuid, NaiveDate)>,
    today: NaiveDate,
) -> Result<bool, PaymentsError> {
    let (record, dues, unposted_receipts) = {
        let mut connection = pool.acquire().await.operation("database connection")?;
        let record = store::load_schedule(&mut connection, agreement_id)
            .await?
            .ok_or(PaymentsError::ScheduleNotFound(agreement_id))?;
        let dues = stored::dues(&mut connection, agreement_id).await?;
        let receipts = stored::receipts(&mut connection, agreement_id).await?;
        (record, dues, receipts.iter().any(|receipt| !receipt.posted))
    };
    let new = due_by.map_or_else(Vec::new, |(_, run_date)| {
        newly_due(
            &record.terms,
            &record.history,
            run_date,
            &stored::due_pence(&dues),
        )
    });
    let unposted_dues = dues.iter().any(|due| !due.posted);
    if due_by.is_some() && new.is_empty() && !unposted_dues && !unposted_receipts {
        // Nothing fell due and nothing waits: the arrears cannot have changed either.
        return Ok(true);
    }
    let Some(accounts) = fund_accounts(pool, ledger, authority, agreement_id).await? else {
        // No fund yet (or closed): nothing falls due in it; a later run catches up.
        return Ok(false);
    };
    if let Some((run_id, run_date)) = due_by {
        let mut transaction = pool.begin().await.operation("database connection")?;
        if !store::lock_schedule(&mut transaction, agreement_id).await? {
            return Err(PaymentsError::ScheduleNotFound(agreement_id));
        }
        // Worked out again under the lock: a change recorded meanwhile is counted.
        let record = store::load_schedule(&mut transaction, agreement_id)
            .await?
            .ok_or(PaymentsError::ScheduleNotFound(agreement_id))?;
        let already = stored::due_pence(&stored::dues(&mut transaction, agreement_id).await?);
        let new = newly_due(&record.terms, &record.history, run_date, &already);
        stored::record_dues(&mut transaction, agreement_id, run_id, &new).await?;
        transaction
            .commit()
            .await
            .operation("commit contribution dues")?;
    }
    post_unposted(pool, ledger, authority, agreement_id, accounts).await?;
    review_arrears(pool, outbox, &record.terms, today).await?;
    Ok(true)
}

async fn post_unposted(
    pool: &PgPool,
    ledger: &Ledger,
    authority: &AuthorityId,
    agreement_id: Uuid,
    accounts: FundAccounts,
) -> Result<(), PaymentsError> {
    let (dues, receipts) = {
        let mut connection = pool.acquire().await.operation("database connection")?;
        (
            stored::dues(&mut connection, agreement_id).await?,
            stored::receipts(&mut connection, agreement_id).await?,
        )
    };
    let dues: Vec<_> = dues.into_iter().filter(|due| !due.posted).collect();
    let receipts: Vec<Receipt> = receipts
        .into_iter()
        .filter(|receipt| !receipt.posted)
        .collect();
    if dues.is_empty() && receipts.is_empty() {
        return Ok(());
    }
    let mut transfers = Vec::with_capacity(dues.len() + receipts.len());
    for due in &dues {
        // Owed is moved into `contribution_due`; a reduction moves back out of it.
        let (debit, credit) = if due.amount.is_negative() {
            (accounts.due, accounts.contribution)
        } else {
            (accounts.contribution, accounts.due)
        };
        transfers.push(proto::NewTransfer {
            id: due_transfer_id(agreement_id, due.period_start).to_string(),
            debit_account_id: debit.to_string(),
            credit_account_id: credit.to_string(),
            amount: Some(money_message(
                Money::from_pence(due.amount.pence().abs()).map_err(anyhow::Error::new)?,
            )),
            category: proto::TransferCategory::ContributionDue as i32,
            reference: format!(
                "contribution due {} to {}",
                due.period_start, due.period_end
            ),
            note: String::new(),
            pending: false,
        });
    }
    for receipt in &receipts {
        transfers.push(proto::NewTransfer {
            id: receipt_transfer_id(receipt.id).to_string(),
            debit_account_id: accounts.due.to_string(),
            credit_account_id: accounts.balance.to_string(),
            amount: Some(money_message(receipt.amount)),
            category: proto::TransferCategory::Contribution as i32,
            reference: format!("contribution received {}", receipt.received_on),
            note: String::new(),
            pending: false,
        });
    }
    ledger.post_bulk(authority, transfers).await?;
    let starts: Vec<NaiveDate> = dues.iter().map(|due| due.period_start).collect();
    stored::mark_dues_posted(pool, agreement_id, &starts).await?;
    let ids: Vec<Uuid> = receipts.iter().map(|receipt| receipt.id).collect();
    stored::mark_receipts_posted(pool, &ids).await?;
    Ok(())
}

/// Raises `contribution.arrears` when the arrears pass the authority's allowance and none
/// are open; clears open arrears once they are back within it.
async fn review_arrears(
    pool: &PgPool,
    outbox: &OutboxBell,
    terms: &ScheduleTerms,
    as_at: NaiveDate,
) -> Result<(), PaymentsError> {
    // The terms never change once the schedule is made; the lock orders this review after
    // any receipt or run of the same schedule.
    let agreement_id = terms.agreement_id;
    let mut transaction = pool.begin().await.operation("database connection")?;
    if !store::lock_schedule(&mut transaction, agreement_id).await? {
        return Err(PaymentsError::ScheduleNotFound(agreement_id));
    }
    let dues = stored::dues(&mut transaction, agreement_id).await?;
    let received: i64 = stored::receipts(&mut transaction, agreement_id)
        .await?
        .iter()
        .map(|receipt| receipt.amount.pence())
        .sum();
    let owed: Vec<(NaiveDate, i64)> = dues
        .iter()
        .map(|due| (due.period_start, due.amount.pence()))
        .collect();
    let allowed = stored::arrears_allowance(&mut transaction, &terms.authority).await?;
    let behind = arrears(&owed, received).filter(|arrears| arrears.periods > allowed);
    let open = stored::arrears_open(&mut transaction, agreement_id).await?;
    match (behind, open) {
        (Some(behind), false) => {
            let outstanding = Money::from_pence(behind.outstanding).map_err(anyhow::Error::new)?;
            if stored::raise_arrears(
                &mut transaction,
                agreement_id,
                as_at,
                behind.periods,
                outstanding,
            )
            .await?
            {
                let collected_by = match terms.holding_model {
                    HoldingModel::Authority => String::new(),
                    HoldingModel::ThirdParty | HoldingModel::Provider => terms.payee_id.to_string(),
                };
                let sequence: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM contribution_arrears WHERE agreement_id = $1",
                )
                .bind(agreement_id)
                .fetch_one(&mut *transaction)
                .await
                .operation("count arrears")?;
                sds_events::enqueue(
                    &mut transaction,
                    NewEvent::new(
                        terms.authority.clone(),
                        agreement_id.to_string(),
                        u64::try_from(sequence).unwrap_or(1),
                        proto::event::Body::ContributionArrears(proto::ContributionArrears {
                            agreement_id: agreement_id.to_string(),
                            person_id: terms.person_id.to_string(),
                            collected_by,
                            periods: behind.periods,
                            since: Some(date_message(behind.since)),
                            outstanding: Some(money_message(outstanding)),
                            allowed_periods: allowed,
                            as_at: Some(date_message(as_at)),
                        }),
                    ),
                )
                .await
                .map_err(anyhow::Error::new)?;
                tracing::info!(authority = %terms.authority, agreement = %agreement_id, periods = behind.periods, "contribution in arrears");
            }
        }
        (None, true) => stored::clear_arrears(&mut transaction, agreement_id, as_at).await?,
        _ => {}
    }
    transaction.commit().await.operation("commit arrears")?;
    outbox.ring();
    Ok(())
}
