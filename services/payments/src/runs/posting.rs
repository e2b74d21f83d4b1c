//! The posting phase of a run: page by page of the run's instalments in key order, their
//! transfers (ids derived from the instalment) go to the ledger's bulk posting, then the
//! instalments are marked posted.
//!
//! Pages are read after the last key read, each costing what it holds however large the
//! run. A run taken up again after a crash starts again from the first key and finds only
//! what is still unposted, and a transfer id is recorded once however often it is sent.

use chrono::NaiveDate;
use sds_proto::v1 as proto;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Progress, report, transfer_id};
use crate::error::PaymentsError;
use crate::grpc::convert::money_message;
use crate::ledger::Ledger;
use crate::store::posting::{self, ToPost};
use crate::store::runs::RunRecord;

/// Instalments posted per bulk call.
const POST_PAGE: i64 = 20_000;

/// Posts the run's instalments, a page at a time.
pub(super) async fn post(
    pool: &PgPool,
    ledger: &Ledger,
    run: &RunRecord,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let total = posting::count_unposted(pool, run.run_id).await?;
    let mut done = 0;
    let mut after = crate::store::BEFORE_EVERY_INSTALMENT;
    loop {
        let page = posting::to_post(pool, run.run_id, after, POST_PAGE).await?;
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
    let left = posting::count_unposted(pool, run.run_id).await?;
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

/// Planning pages committed between two looks for a page to post while planning goes on.
const PAGES_BETWEEN_LOOKS: u64 = 8;

/// Posts whole pages of what planning has committed while it goes on, so that the ledger
/// records them while the rest is planned. Stops when planning is over (`committed`'s
/// sender dropped); [`post`] then posts whatever is left, from the first key.
///
/// Never fails the run: this only starts early what [`post`] does anyway. Instalments it
/// cannot post yet (a fund the funds phase has still to open or give a payee) are skipped
/// and left to [`post`]; anything that goes wrong stops it, and [`post`] meets the same
/// thing and says so. What it posted is marked posted, so [`post`] passes over it; what the
/// ledger recorded but was not marked (a crash between) is answered as a retry there.
pub(super) async fn post_while_planning(
    pool: &PgPool,
    ledger: &Ledger,
    run: &RunRecord,
    mut committed: tokio::sync::watch::Receiver<u64>,
) {
    let mut after = crate::store::BEFORE_EVERY_INSTALMENT;
    let mut looked_at = 0;
    let mut between = PAGES_BETWEEN_LOOKS;
    loop {
        // Wait until planning has committed a few pages more than at the last look.
        loop {
            let pages = *committed.borrow_and_update();
            if pages >= looked_at + between {
                looked_at = pages;
                break;
            }
            if committed.changed().await.is_err() {
                return;
            }
        }
        loop {
            let page = match posting::to_post(pool, run.run_id, after, POST_PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::debug!(%error, "posting while planning stops; posting will see to it");
                    return;
                }
            };
            // Only whole pages: the rest is posted once more is planned, or by `post`. A
            // short page may be one whose funds are still to be opened (a first run): look
            // less often, rather than read the same instalments again and again.
            if page.len() < usize::try_from(POST_PAGE / 2).unwrap_or(usize::MAX) {
                between = between.saturating_mul(2);
                break;
            }
            let Some(last) = page.last() else {
                break;
            };
            let next_after = (last.agreement_id, last.period_start);
            if let Err(error) = post_page(pool, ledger, run, &page).await {
                tracing::debug!(%error, "posting while planning stops; posting will see to it");
                return;
            }
            after = next_after;
        }
    }
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
