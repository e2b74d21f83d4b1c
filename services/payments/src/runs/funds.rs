//! The funds phase of a run: the ledger funds the run pays into for the first time are
//! opened under ids derived from person and holder (so a run that died after opening one
//! opens the same again), given a payable account per provider when the authority holds
//! them, and linked.

use sds_platform::StoreContext as _;
use sds_proto::v1 as proto;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::live::weekly_on;
use crate::domain::terms::HoldingModel;
use crate::error::PaymentsError;
use crate::grpc::convert::money_message;
use crate::ledger::Ledger;
use crate::store;
use crate::store::posting::{self, FundLink};
use crate::store::runs::RunRecord;

use super::{Progress, ScheduleRange, fund_id, report};

/// Opens and links the funds the run's schedules in `range` pay into for the first time.
/// A fund two chunks need is opened by whichever gets there first; the other finds it open
/// (its id is derived), so the second open changes nothing.
pub(super) async fn open_funds(
    pool: &PgPool,
    ledger: &Ledger,
    run: &RunRecord,
    range: ScheduleRange,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let needed = posting::funds_needed(pool, run.run_id, &run.authority, range).await?;
    let total = u64::try_from(needed.len()).unwrap_or_default();
    let mut done = 0;
    for fund in needed {
        let record = {
            let mut connection = pool.acquire().await.operation("database connection")?;
            store::load_schedule(&mut connection, fund.agreement_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("schedule {} vanished", fund.agreement_id))?
        };
        let today = run.run_date;
        // The budget the fund is meant to receive: the person's contribution is part of it.
        let budget_lines: Vec<_> = record
            .history
            .lines_known_on(today)
            .into_iter()
            .filter(|line| !line.is_contribution())
            .collect();
        let weekly_budget = weekly_on(&budget_lines, today);
        let authority_held = fund.holding_model == HoldingModel::Authority;
        let opened = match fund.linked_fund {
            // Linked already: only a payable account for this payee is missing.
            Some(linked) => ledger.get_fund(&run.authority, linked).await?,
            None => {
                ledger
                    .open_fund(
                        &run.authority,
                        proto::OpenFundRequest {
                            fund_id: fund_id(&run.authority, fund.person_id, &fund.holder_key)
                                .to_string(),
                            authority: run.authority.as_str().to_owned(),
                            person_id: fund.person_id.to_string(),
                            holding_model: match fund.holding_model {
                                HoldingModel::ThirdParty => proto::FundHoldingModel::ThirdParty,
                                HoldingModel::Provider => proto::FundHoldingModel::Provider,
                                HoldingModel::Authority => proto::FundHoldingModel::Authority,
                            } as i32,
                            holder_id: fund.holder_key.clone(),
                            weekly_budget: Some(money_message(weekly_budget)),
                            overdraft_limit: None,
                            // Payees are added one by one below, so the open is the same
                            // whichever payee a run meets first.
                            payee_ids: Vec::new(),
                        },
                    )
                    .await?
            }
        };
        let fund_uuid = Uuid::parse_str(&opened.id).map_err(anyhow::Error::new)?;
        let opened = if authority_held && payable_of(&opened, fund.payee_id).is_none() {
            ledger
                .add_payee(&run.authority, fund_uuid, fund.payee_id)
                .await?
        } else {
            opened
        };
        let account = |kind: proto::LedgerAccountKind| {
            opened
                .accounts
                .iter()
                .find(|account| account.kind == kind as i32)
                .and_then(|account| Uuid::parse_str(&account.id).ok())
                .ok_or_else(|| {
                    anyhow::anyhow!("fund {fund_uuid} has no {} account", kind.as_str_name())
                })
        };
        let payable = if authority_held {
            Some((
                fund.payee_id,
                payable_of(&opened, fund.payee_id)
                    .ok_or_else(|| anyhow::anyhow!("fund {fund_uuid} pays no {}", fund.payee_id))?,
            ))
        } else {
            None
        };
        let link = FundLink {
            person_id: fund.person_id,
            holder_key: fund.holder_key.clone(),
            fund_id: fund_uuid,
            funding_account_id: account(proto::LedgerAccountKind::AuthorityFunding)?,
            balance_account_id: account(proto::LedgerAccountKind::FundBalance)?,
            payable,
        };
        posting::link_fund(pool, &run.authority, &link).await?;
        done += 1;
        report(progress, run.run_id, proto::RunPhase::Funds, done, total).await;
    }
    Ok(())
}

fn payable_of(fund: &proto::Fund, payee: Uuid) -> Option<Uuid> {
    fund.accounts
        .iter()
        .find(|account| {
            account.kind == proto::LedgerAccountKind::Payable as i32
                && account.payee_id == payee.to_string()
        })
        .and_then(|account| Uuid::parse_str(&account.id).ok())
}
