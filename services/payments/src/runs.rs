//! A payment run: every instalment of an authority's schedules due by the run's date and not
//! yet paid, posted to the ledger once.
//!
//! The run goes through its phases in order, each safe to repeat:
//! 1. planning: page by page of schedules, the instalments due are worked out by the
//!    schedule rule ([`crate::domain::due`]) and recorded against the run (an instalment is
//!    recorded once, by the first run that chooses it);
//! 2. funds: the ledger funds the run pays into for the first time are opened (under ids
//!    derived from person and holder) and linked;
//! 3. posting: page by page of instalments, their transfers (ids derived from the
//!    instalment) go to the ledger's bulk posting, then the instalments are marked posted;
//! 4. completing: the run's figures are recorded and `payment.run.completed` published, in
//!    one transaction.
//!
//! What must stay true: a run stopped at any point (the process killed, the ledger or the
//! database gone) and started again ends with each instalment paid exactly once: the
//! instalment rows say what the run chose, the transfer ids make posting idempotent, and
//! `posted` is only set after the ledger has answered.

use std::io::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use sds_events::{NewEvent, OutboxBell};
use sds_proto::v1 as proto;
use sds_vocabulary::AuthorityId;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::domain::due::due_instalments;
use crate::domain::live::weekly_on;
use crate::domain::terms::HoldingModel;
use crate::error::PaymentsError;
use crate::exports::journal;
use crate::exports::{PendingFile, run_folder};
use crate::grpc::convert::{date_message, money_message};
use crate::ledger::Ledger;
use crate::store;
use crate::store::posting::{self, FundLink, ToPost};
use crate::store::runs::{self, RunRecord, RunStatus, Started};

/// Schedules worked out per page while planning.
const PLAN_PAGE: i64 = 2_000;
/// Instalments posted per bulk call.
const POST_PAGE: i64 = 20_000;

/// The namespace of the ids payments derives (funds, transfers).
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x0192_f0c1_7a6e_7e57_9b1d_5ca1_e5d0_0001);

/// Who asked for a run, and for what.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub authority: AuthorityId,
    pub run_date: NaiveDate,
    /// The caller's organisation id, kept with the run.
    pub requested_by: String,
}

/// Where the run reports its progress; a caller that went away stops nothing.
pub type Progress = mpsc::Sender<proto::RunProgress>;

/// Reports progress without waiting: a caller that reads slowly (or not at all) misses
/// some reports rather than holding the run up.
async fn report(progress: &Progress, run_id: Uuid, phase: proto::RunPhase, done: u64, total: u64) {
    let _ = progress.try_send(proto::RunProgress {
        run_id: run_id.to_string(),
        phase: phase as i32,
        done,
        total,
        completed: None,
    });
}

/// Runs (or finishes) the authority's run for the date; returns its summary.
pub async fn run(
    pool: &PgPool,
    ledger: &Ledger,
    outbox: &OutboxBell,
    exports: &Path,
    request: &RunRequest,
    progress: &Progress,
) -> Result<proto::PaymentRunSummary, PaymentsError> {
    // One run of an authority at a time, in every process: a session lock held on a
    // connection of its own for the whole run, released when the connection closes, also
    // when this task dies with it.
    let mut lock = pool.acquire().await.map_err(anyhow::Error::new)?.detach();
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('payments-run:' || $1))")
            .bind(request.authority.as_str())
            .fetch_one(&mut lock)
            .await
            .map_err(anyhow::Error::new)?;
    if !locked {
        return Err(PaymentsError::RunInProgress(request.authority.clone()));
    }
    let outcome = run_locked(pool, ledger, outbox, exports, request, progress).await;
    // Released here, before the answer goes out, so that the caller's next run finds it
    // free (a closing session lets go of it only a moment later).
    let _ = sqlx::query("SELECT pg_advisory_unlock(hashtext('payments-run:' || $1))")
        .bind(request.authority.as_str())
        .execute(&mut lock)
        .await;
    let _ = sqlx::Connection::close(lock).await;
    outcome
}

async fn run_locked(
    pool: &PgPool,
    ledger: &Ledger,
    outbox: &OutboxBell,
    exports: &Path,
    request: &RunRequest,
    progress: &Progress,
) -> Result<proto::PaymentRunSummary, PaymentsError> {
    let (run, resumed) = match runs::start_run(
        pool,
        &request.authority,
        request.run_date,
        &request.requested_by,
    )
    .await?
    {
        Started::New(run) => (run, false),
        Started::Resumed(run) => (run, true),
        Started::OtherUnfinished(run) => {
            return Err(PaymentsError::RunUnfinished {
                run_id: run.run_id,
                run_date: run.run_date,
            });
        }
    };
    tracing::info!(authority = %run.authority, run = %run.run_id, run_date = %run.run_date, resumed, "payment run");
    if run.status == RunStatus::Planning {
        plan(pool, &run, progress).await?;
        runs::set_status(pool, run.run_id, RunStatus::Posting).await?;
    }
    open_funds(pool, ledger, &run, progress).await?;
    post(pool, ledger, &run, progress).await?;
    let files = export(pool, exports, &run, progress).await?;
    let mut transaction = pool.begin().await.map_err(anyhow::Error::new)?;
    let (totals, files, completed_now) =
        runs::complete_run(&mut transaction, run.run_id, &files).await?;
    if completed_now {
        sds_events::enqueue(
            &mut transaction,
            NewEvent::new(
                run.authority.clone(),
                run.run_id.to_string(),
                1,
                proto::event::Body::PaymentRunCompleted(proto::PaymentRunCompleted {
                    run_id: run.run_id.to_string(),
                    run_date: Some(date_message(run.run_date)),
                    instalments: totals.instalments,
                    payees: totals.payees,
                    total: Some(money_message(totals.total)),
                }),
            ),
        )
        .await
        .map_err(anyhow::Error::new)?;
    }
    transaction.commit().await.map_err(anyhow::Error::new)?;
    outbox.ring();
    tracing::info!(
        authority = %run.authority,
        run = %run.run_id,
        instalments = totals.instalments,
        payees = totals.payees,
        "payment run completed"
    );
    Ok(proto::PaymentRunSummary {
        run_id: run.run_id.to_string(),
        authority: run.authority.as_str().to_owned(),
        run_date: Some(date_message(run.run_date)),
        instalments: totals.instalments,
        payees: totals.payees,
        total: Some(money_message(totals.total)),
        files,
        resumed,
    })
}

/// Chooses the instalments due, a page of schedules at a time.
async fn plan(pool: &PgPool, run: &RunRecord, progress: &Progress) -> Result<(), PaymentsError> {
    let total = runs::count_schedules(pool, &run.authority).await?;
    let mut done = 0;
    let mut after = None;
    loop {
        let ids = runs::schedule_page(pool, &run.authority, after, PLAN_PAGE).await?;
        let Some(last) = ids.last() else {
            break;
        };
        after = Some(*last);
        let mut transaction = pool.begin().await.map_err(anyhow::Error::new)?;
        let records = store::load_schedules(&mut transaction, &ids).await?;
        let paid = runs::paid_amounts(&mut transaction, &ids).await?;
        let nothing_paid = crate::domain::live::Paid::new();
        let mut chosen = Vec::new();
        for record in &records {
            let agreement_id = record.terms.agreement_id;
            match due_instalments(
                &record.terms,
                &record.history,
                run.run_date,
                paid.get(&agreement_id).unwrap_or(&nothing_paid),
            ) {
                Ok(due) => {
                    chosen.extend(due.into_iter().map(|instalment| (agreement_id, instalment)))
                }
                // Only amounts beyond what the platform holds get here; the schedule is left
                // for staff to look at rather than stopping everyone's payments.
                Err(error) => {
                    tracing::warn!(agreement = %agreement_id, %error, "schedule not worked out")
                }
            }
        }
        runs::choose_instalments(&mut transaction, run.run_id, &chosen).await?;
        transaction.commit().await.map_err(anyhow::Error::new)?;
        done += u64::try_from(ids.len()).unwrap_or_default();
        report(
            progress,
            run.run_id,
            proto::RunPhase::Planning,
            done,
            total.max(done),
        )
        .await;
    }
    Ok(())
}

/// The id of the fund of a person with a holder, the same whenever it is asked for.
pub fn fund_id(authority: &AuthorityId, person_id: Uuid, holder_key: &str) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("fund/{}/{person_id}/{holder_key}", authority.as_str()).as_bytes(),
    )
}

/// The id of one transfer of an instalment (`leg` is `funding` or `payment`).
pub fn transfer_id(agreement_id: Uuid, period_start: NaiveDate, leg: &str) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("instalment/{agreement_id}/{period_start}/{leg}").as_bytes(),
    )
}

/// Opens and links the funds the run pays into for the first time.
async fn open_funds(
    pool: &PgPool,
    ledger: &Ledger,
    run: &RunRecord,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let needed = posting::funds_needed(pool, run.run_id, &run.authority).await?;
    let total = u64::try_from(needed.len()).unwrap_or_default();
    let mut done = 0;
    for fund in needed {
        let record = {
            let mut connection = pool.acquire().await.map_err(anyhow::Error::new)?;
            store::load_schedule(&mut connection, fund.agreement_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("schedule {} vanished", fund.agreement_id))?
        };
        let today = run.run_date;
        let weekly_budget = weekly_on(&record.history.lines_known_on(today), today);
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

/// Posts the run's instalments, a page at a time.
async fn post(
    pool: &PgPool,
    ledger: &Ledger,
    run: &RunRecord,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let total = posting::count_unposted(pool, run.run_id).await?;
    let mut done = 0;
    loop {
        // Each page is marked posted before the next is read, so the next page starts
        // again from the first unposted instalment.
        let page = posting::to_post(pool, run.run_id, POST_PAGE).await?;
        if page.is_empty() {
            break;
        }
        let transfers: Vec<proto::NewTransfer> = page.iter().flat_map(transfers_of).collect();
        ledger.post_bulk(&run.authority, transfers).await?;
        let keys: Vec<(Uuid, NaiveDate)> = page
            .iter()
            .map(|instalment| (instalment.agreement_id, instalment.period_start))
            .collect();
        posting::mark_posted(pool, &keys).await?;
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

/// Writes the run's finance files from what it paid; returns their paths. Written again in
/// full when a run is finished again, with the same content.
async fn export(
    pool: &PgPool,
    exports: &Path,
    run: &RunRecord,
    progress: &Progress,
) -> Result<Vec<String>, PaymentsError> {
    let codes = {
        let mut connection = pool.acquire().await.map_err(anyhow::Error::new)?;
        store::journal_codes(&mut connection, &run.authority).await?
    }
    .unwrap_or_default();
    let folder = run_folder(exports, &run.authority, run.run_date, run.run_id);
    let write_error = |error: std::io::Error| {
        PaymentsError::Internal(anyhow::anyhow!(
            "write the journal of run {} under {}: {error}",
            run.run_id,
            folder.display()
        ))
    };
    let mut journal = PendingFile::create(&folder, "journal.csv").map_err(write_error)?;
    writeln!(journal.writer(), "{}", journal::HEADER).map_err(write_error)?;
    let mut line = 0;
    let mut written = 0;
    let mut after = None;
    loop {
        let items = runs::paid_items(pool, run.run_id, after, POST_PAGE).await?;
        let Some(last) = items.last() else {
            break;
        };
        after = Some((last.agreement_id, last.period_start));
        line = journal::write_lines(
            journal.writer(),
            run.run_id,
            run.run_date,
            &codes,
            &items,
            line,
        )
        .map_err(write_error)?;
        written += u64::try_from(items.len()).unwrap_or_default();
        report(
            progress,
            run.run_id,
            proto::RunPhase::Exporting,
            written,
            written,
        )
        .await;
    }
    let path = journal.finish().map_err(write_error)?;
    Ok(vec![path.display().to_string()])
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
