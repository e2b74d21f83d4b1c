//! The posting phase of a run: page by page of the run's instalments in key order, their
//! transfers (ids derived from the instalment) go to the ledger's bulk posting, then the
//! instalments are marked posted.
//!
//! Pages are read after the last key read, each costing what it holds however large the
//! run (or the chunk of it, a range of schedules). A run taken up again after a crash starts again from the first key and finds only
//! what is still unposted, and a transfer id is recorded once however often it is sent.

use chrono::NaiveDate;
use sds_proto::v1 as proto;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Progress, ScheduleRange, report, transfer_id};
use crate::error::PaymentsError;
use crate::grpc::convert::money_message;
use crate::ledger::Ledger;
use crate::store::posting::{self, ToPost};
use crate::store::runs::RunRecord;

/// Instalments posted per bulk call.
const POST_PAGE: i64 = 20_000;

/// Posts the run's instalments of the schedules in `range`, a page at a time.
pub(super) async fn post(
    pool: &PgPool,
    ledger: &Ledger,
    run: &RunRecord,
    range: ScheduleRange,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let total = posting::count_unposted(pool, run.run_id, range).await?;
    let mut done = 0;
    let mut after = match range.before_first() {
        Some(before) => (before, NaiveDate::MAX),
        None => crate::store::BEFORE_EVERY_INSTALMENT,
    };
    loop {
        let page = posting::to_post(pool, run.run_id, after, range.last, POST_PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = (last.agreement_id, last.period_start);
        post_page(pool, ledger, run, &page).await?;
        done += u64::try_from(page.len()).unwrap_or_default();
        report(
            progress,
            run.run_id,
            proto::RunPhase::Posting,
            done,
            total.max(done),
        )
        .await;
    }
    // An instalment whose fund could not be linked is never read for posting; the run is
    // not complete while one is left.
    let left = posting::count_unposted(pool, run.run_id, range).await?;
    if left > 0 {
        return Err(PaymentsError::Internal(anyhow::anyhow!(
            "{left} instalments of run {} have no linked fund to post to",
            run.run_id
        )));
    }
    Ok(())
}

/// Sends one page's transfers to the ledger's bulk posting, then marks its instalments
/// posted (only once the ledger has answered).
async fn post_page(
    pool: &PgPool,
    ledger: &Ledger,
    run: &RunRecord,
    page: &[ToPost],
) -> Result<(), PaymentsError> {
    let transfers: Vec<proto::NewTransfer> = page.iter().flat_map(transfers_of).collect();
    ledger.post_bulk(&run.authority, transfers).await?;
    let keys: Vec<(Uuid, NaiveDate)> = page
        .iter()
        .map(|instalment| (instalment.agreement_id, instalment.period_start))
        .collect();
    posting::mark_posted(pool, &keys).await
}

/// The transfers that pay one instalment: the authority into the fund and, for an
/// authority-held fund, on from the fund to the provider.
fn transfers_of(instalment: &ToPost) -> Vec<proto::NewTransfer> {
    let reference = format!(
        "instalment {} to {}",
        instalment.period_start, instalment.period_end
    );
    let amount = Some(money_message(instalment.amount));
    let mut transfers = vec![proto::NewTransfer {
        id: transfer_id(instalment.agreement_id, instalment.period_start, "funding").to_string(),
        debit_account_id: instalment.funding_account_id.to_string(),
        credit_account_id: instalment.balance_account_id.to_string(),
        amount: amount.clone(),
        category: proto::TransferCategory::Funding as i32,
        reference: reference.clone(),
        note: String::new(),
        pending: false,
    }];
    if let Some(payable) = instalment.payable_account_id {
        transfers.push(proto::NewTransfer {
            id: transfer_id(instalment.agreement_id, instalment.period_start, "payment")
                .to_string(),
            debit_account_id: instalment.balance_account_id.to_string(),
            credit_account_id: payable.to_string(),
            amount,
            category: proto::TransferCategory::SupportPayment as i32,
            reference,
            note: String::new(),
            pending: false,
        });
    }
    transfers
}
