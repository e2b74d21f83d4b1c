//! A payment run: every instalment of an authority's schedules due by the run's date and not
//! yet paid, posted to the ledger once.
//!
//! The run goes through its phases in order, each safe to repeat. The first three are done
//! chunk by chunk of schedules ([`chunks`]), on whichever replicas of the service take the
//! chunks from the work queue ([`queue`]):
//! 1. planning ([`planning`]): page by page of schedules, the instalments due are worked out
//!    by the schedule rule ([`crate::domain::due`]) and recorded against the run; a payee
//!    without bank details is held back, its instalments left due;
//! 2. funds ([`funds`]): the ledger funds the run pays into for the first time are opened
//!    (under ids derived from person and holder) and linked;
//! 3. posting: page by page of instalments, their transfers (ids derived from the
//!    instalment) go to the ledger's bulk posting, then the instalments are marked posted;
//! 4. contributions ([`crate::collection`]): each period's contribution due by the run's
//!    date is recorded and posted in the person's fund, with receipts not yet posted, and
//!    arrears beyond the authority's allowance are raised;
//! 5. exporting ([`crate::exports::run_files`]): a remittance per payee, made once, then
//!    the journal, the Bacs file and the pain.001 file from what was posted;
//! 6. completing: the run's figures are recorded and `payment.run.completed` and each
//!    `remittance.issued` published, in one transaction.
//!
//! What must stay true: a run stopped at any point (the process killed, the ledger or the
//! database gone) and started again ends with each instalment paid exactly once: the
//! instalment rows say what the run chose, the transfer ids make posting idempotent, and
//! `posted` is only set after the ledger has answered.

use sds_platform::StoreContext as _;
use std::path::Path;

use chrono::NaiveDate;
use sds_events::{NewEvent, OutboxBell};
use sds_platform::metrics::PaymentRunGauges;
use sds_proto::v1 as proto;
use sds_vocabulary::AuthorityId;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::domain::bank_days::bacs_days;
use crate::error::PaymentsError;
use crate::exports::run_files;
use crate::grpc::convert::{date_message, money_message};
use crate::ledger::Ledger;
use crate::store;
use crate::store::remittances;
use crate::store::runs::{self, RunBank, RunStatus, Started};

pub mod chunks;
mod funds;
mod planning;
mod posting;
pub mod queue;
mod range;

pub use chunks::Sharing;
pub use range::ScheduleRange;

use funds::open_funds;
use posting::post;

/// Schedules worked out per page while planning.
const PLAN_PAGE: i64 = 2_000;

/// The namespace of the ids payments derives (funds, transfers).
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x0192_f0c1_7a6e_7e57_9b1d_5ca1_e5d0_0001);

/// Who asked for a run, and for what.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub authority: AuthorityId,
    pub run_date: NaiveDate,
    /// The caller's organisation id, kept with the run.
    pub requested_by: String,
    /// The day the run is asked for: bank files are dated no sooner than it allows.
    pub today: NaiveDate,
}

/// Where a run reports its progress: to whoever asked for it (a caller that went away
/// stops nothing), and, for the run as a whole, to the process's metrics
/// (`sds_payment_run_done` and `sds_payment_run_total`, whose series go when the run ends).
#[derive(Debug)]
pub struct Progress {
    caller: mpsc::Sender<proto::RunProgress>,
    gauges: Option<PaymentRunGauges>,
}

impl Progress {
    /// The progress of a run of `authority`, told to `caller` and shown in the metrics
    /// until it is dropped.
    fn of_run(caller: mpsc::Sender<proto::RunProgress>, authority: &AuthorityId) -> Progress {
        Progress {
            caller,
            gauges: Some(PaymentRunGauges::new(authority.as_str())),
        }
    }

    /// Progress nobody follows: a chunk's own, of which the coordinator reports the run's.
    pub(crate) fn unfollowed() -> Progress {
        Progress {
            caller: mpsc::channel(1).0,
            gauges: None,
        }
    }
}

/// The `phase` label of a run's progress gauges.
fn phase_label(phase: proto::RunPhase) -> &'static str {
    match phase {
        proto::RunPhase::Planning => "planning",
        proto::RunPhase::Funds => "funds",
        proto::RunPhase::Posting => "posting",
        proto::RunPhase::Exporting => "exporting",
        proto::RunPhase::Completed => "completed",
        proto::RunPhase::Unspecified => "unspecified",
    }
}

/// Reports progress without waiting: a caller that reads slowly (or not at all) misses
/// some reports rather than holding the run up. The metrics always show the latest.
pub(crate) async fn report(
    progress: &Progress,
    run_id: Uuid,
    phase: proto::RunPhase,
    done: u64,
    total: u64,
) {
    if let Some(gauges) = &progress.gauges {
        gauges.show(phase_label(phase), done, total);
    }
    let _ = progress.caller.try_send(proto::RunProgress {
        run_id: run_id.to_string(),
        phase: phase as i32,
        done,
        total,
        completed: None,
    });
}

/// Runs (or finishes) the authority's run for the date, shared out among the service's
/// replicas as `sharing` says, telling `progress` how far it is; returns its summary.
pub async fn run(
    pool: &PgPool,
    ledger: &Ledger,
    outbox: &OutboxBell,
    exports: &Path,
    sharing: &Sharing,
    request: &RunRequest,
    progress: &mpsc::Sender<proto::RunProgress>,
) -> Result<proto::PaymentRunSummary, PaymentsError> {
    // One run of an authority at a time, in every process: a session lock held on a
    // connection of its own for the whole run, released when the connection closes, also
    // when this task dies with it.
    let mut lock = pool
        .acquire()
        .await
        .operation("database connection")?
        .detach();
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('payments-run:' || $1))")
            .bind(request.authority.as_str())
            .fetch_one(&mut lock)
            .await
            .operation("take the run lock")?;
    if !locked {
        return Err(PaymentsError::RunInProgress(request.authority.clone()));
    }
    // Shown in the metrics from here (the run's lock is held) until the run ends.
    let progress = Progress::of_run(progress.clone(), &request.authority);
    // The lock is only as good as the session holding it: if that session ends (an idle
    // timeout, a pooler, a network cut), another replica may take the lock and the run, so
    // this one stops at once. Stopping mid-way is what a crash does, which every phase is
    // made to survive.
    let outcome = tokio::select! {
        outcome = run_locked(pool, ledger, outbox, exports, sharing, request, &progress) => outcome,
        lost = lock_lost(&mut lock) => Err(lost),
    };
    drop(progress);
    // Released here, before the answer goes out, so that the caller's next run finds it
    // free (a closing session lets go of it only a moment later).
    let _ = sqlx::query("SELECT pg_advisory_unlock(hashtext('payments-run:' || $1))")
        .bind(request.authority.as_str())
        .execute(&mut lock)
        .await;
    let _ = sqlx::Connection::close(lock).await;
    outcome
}

/// How often the session holding a run's lock is checked while the run goes on.
const LOCK_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Returns once the session holding the run's lock has ended, with the error that showed
/// it; never while the session lives.
async fn lock_lost(lock: &mut sqlx::PgConnection) -> PaymentsError {
    loop {
        tokio::time::sleep(LOCK_CHECK_EVERY).await;
        if let Err(error) = sqlx::query("SELECT 1").execute(&mut *lock).await {
            tracing::warn!(%error, "the session holding the payment run's lock has ended; the run stops here, and asking again finishes it");
            return PaymentsError::Store(sds_platform::StoreError {
                operation: "hold the run lock",
                source: error,
            });
        }
    }
}

async fn run_locked(
    pool: &PgPool,
    ledger: &Ledger,
    outbox: &OutboxBell,
    exports: &Path,
    sharing: &Sharing,
    request: &RunRequest,
    progress: &Progress,
) -> Result<proto::PaymentRunSummary, PaymentsError> {
    // Checked before the run is recorded: a run that cannot pay anyone is not started.
    let paying = {
        let mut connection = pool.acquire().await.operation("database connection")?;
        store::bank::paying_account(&mut connection, &request.authority).await?
    }
    .ok_or_else(|| {
        PaymentsError::Unconfigured(format!(
            "{} has no paying account; its finance staff set one (paying_account in SetPaymentSettings) before payments can run",
            request.authority
        ))
    })?;
    let (processing_date, credit_date) = bacs_days(request.run_date, request.today);
    let bank = RunBank {
        paying,
        processing_date,
        credit_date,
    };
    let (run, resumed) = match runs::start_run(
        pool,
        &request.authority,
        request.run_date,
        &request.requested_by,
        &bank,
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
        chunks::plan_and_post_in_chunks(pool, ledger, sharing, &run, progress).await?;
        runs::set_status(pool, run.run_id, RunStatus::Posting).await?;
    }
    // Every chunk posted its own; this finds what is left only in a run planned before
    // runs were shared out in chunks.
    open_funds(pool, ledger, &run, ScheduleRange::ALL, progress).await?;
    post(pool, ledger, &run, ScheduleRange::ALL, progress).await?;
    crate::collection::collect_for_run(
        pool,
        ledger,
        outbox,
        &run.authority,
        run.run_id,
        run.run_date,
    )
    .await?;
    // A run started before runs kept their bank details pays from today's.
    let bank = run.bank.clone().unwrap_or(bank);
    let files = run_files::write(pool, exports, &run, &bank, progress).await?;
    let remittances = remittances::of_run(pool, run.run_id).await?;
    let mut transaction = pool.begin().await.operation("database connection")?;
    let (totals, files, completed_now) =
        runs::complete_run(&mut transaction, run.run_id, &files).await?;
    if completed_now {
        // One statement for every payee's remittance and the run itself.
        let mut events: Vec<NewEvent> = remittances
            .iter()
            .map(|remittance| {
                NewEvent::new(
                    run.authority.clone(),
                    remittance.number.clone(),
                    1,
                    proto::event::Body::RemittanceIssued(proto::RemittanceIssued {
                        number: remittance.number.clone(),
                        run_id: run.run_id.to_string(),
                        run_date: Some(date_message(run.run_date)),
                        payee_kind: payee_kind_message(&remittance.payee_kind) as i32,
                        payee_id: remittance.payee_id.to_string(),
                        items: remittance.items,
                        total: Some(money_message(remittance.total)),
                    }),
                )
            })
            .collect();
        events.push(NewEvent::new(
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
        ));
        sds_events::enqueue_all(&mut transaction, events)
            .await
            .map_err(anyhow::Error::new)?;
    }
    transaction
        .commit()
        .await
        .operation("database connection")?;
    outbox.ring();
    tracing::info!(
        authority = %run.authority,
        run = %run.run_id,
        instalments = totals.instalments,
        payees = totals.payees,
        "payment run completed"
    );
    let held = remittances::held_by_payee(pool, run.run_id)
        .await?
        .into_iter()
        .map(|(payee_id, instalments, total)| proto::HeldPayee {
            payee_id: payee_id.to_string(),
            instalments,
            total: Some(money_message(total)),
        })
        .collect();
    Ok(proto::PaymentRunSummary {
        run_id: run.run_id.to_string(),
        authority: run.authority.as_str().to_owned(),
        run_date: Some(date_message(run.run_date)),
        instalments: totals.instalments,
        payees: totals.payees,
        total: Some(money_message(totals.total)),
        files,
        resumed,
        held,
    })
}

pub(crate) fn payee_kind_message(kind: &str) -> proto::PayeeKind {
    match kind {
        "holder" => proto::PayeeKind::Holder,
        _ => proto::PayeeKind::Provider,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use sds_platform::metrics::{Metrics, MetricsExport};

    fn shown(metrics: &Metrics, authority: &str) -> Vec<String> {
        metrics
            .prometheus_text()
            .expect("text")
            .lines()
            .filter(|line| line.contains(&format!("authority=\"{authority}\"")))
            .map(|line| line.replace(&format!("authority=\"{authority}\""), "A"))
            .collect()
    }

    #[tokio::test]
    async fn a_runs_progress_is_shown_in_the_metrics_until_it_ends_and_a_chunks_never() {
        let metrics = Metrics::start(
            &MetricsExport {
                prometheus: true,
                otlp_endpoint: None,
            },
            "sds",
        );
        let authority = AuthorityId::parse("authority", "progress-test-shire").expect("valid");
        let (caller, mut told) = mpsc::channel(8);
        let progress = Progress::of_run(caller, &authority);
        let run_id = Uuid::now_v7();

        report(&progress, run_id, proto::RunPhase::Planning, 3, 10).await;
        report(&progress, run_id, proto::RunPhase::Posting, 4, 20).await;
        report(
            &Progress::unfollowed(),
            run_id,
            proto::RunPhase::Funds,
            1,
            1,
        )
        .await;

        let mut lines = shown(&metrics, "progress-test-shire");
        lines.sort();
        assert_eq!(
            lines,
            [
                "sds_payment_run_done{A,phase=\"posting\"} 4",
                "sds_payment_run_total{A,phase=\"posting\"} 20"
            ]
        );
        assert_eq!(told.recv().await.expect("told").done, 3);
        drop(progress);
        assert_eq!(shown(&metrics, "progress-test-shire"), Vec::<String>::new());
    }
}
