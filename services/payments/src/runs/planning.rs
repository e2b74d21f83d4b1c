//! The planning phase of a run: page by page of the authority's schedules, the instalments
//! due by the run's date are worked out by the schedule rule and recorded against the run
//! (an instalment once, by the first run that chooses it); those of payees without bank
//! details are recorded as held instead, and stay due.

use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_proto::v1 as proto;
use sqlx::PgPool;

use crate::domain::due::due_instalments;
use crate::error::PaymentsError;
use crate::store;
use crate::store::remittances::{self, Held};
use crate::store::runs::{self, RunRecord};

use super::{PLAN_PAGE, Progress, ScheduleRange, report};

/// Chooses the instalments due of the schedules in `range`, a page of schedules at a time.
pub(super) async fn plan(
    pool: &PgPool,
    run: &RunRecord,
    range: ScheduleRange,
    progress: &Progress,
) -> Result<(), PaymentsError> {
    let total = if range == ScheduleRange::ALL {
        runs::count_schedules(pool, &run.authority).await?
    } else {
        0
    };
    // Money goes only to accounts on record: a payee without one is held back, its
    // instalments left due for a run after its finance staff enter its details.
    let with_accounts = {
        let mut connection = pool.acquire().await.operation("database connection")?;
        store::bank::payees_with_accounts(&mut connection, &run.authority).await?
    };
    let mut done = 0;
    let mut after = range.before_first();
    loop {
        let mut ids = runs::schedule_page(pool, &run.authority, after, PLAN_PAGE).await?;
        ids.retain(|id| *id <= range.last);
        let Some(last) = ids.last() else {
            break;
        };
        after = Some(*last);
        let mut transaction = pool.begin().await.operation("database connection")?;
        let records = store::load_schedules(&mut transaction, &ids).await?;
        let paid = runs::paid_amounts(&mut transaction, &ids).await?;
        let nothing_paid = crate::domain::live::Paid::new();
        let mut chosen = Vec::new();
        let mut held = Vec::new();
        for record in &records {
            let agreement_id = record.terms.agreement_id;
            match due_instalments(
                &record.terms,
                &record.history,
                run.run_date,
                paid.get(&agreement_id).unwrap_or(&nothing_paid),
            ) {
                Ok(due) if !with_accounts.contains(&record.terms.payee_id) => {
                    let owed: Vec<Money> = due
                        .iter()
                        .map(|instalment| instalment.amount)
                        .filter(|amount| !amount.is_zero())
                        .collect();
                    if let Some(total) = owed
                        .iter()
                        .try_fold(Money::zero(), |sum, amount| sum.checked_add(*amount))
                        .filter(|total| !total.is_zero())
                    {
                        held.push(Held {
                            agreement_id,
                            payee_id: record.terms.payee_id,
                            instalments: u64::try_from(owed.len()).unwrap_or_default(),
                            total,
                        });
                    }
                }
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
        let paying: std::collections::HashSet<uuid::Uuid> = chosen
            .iter()
            .map(|(agreement_id, _)| *agreement_id)
            .collect();
        let mut payees: Vec<uuid::Uuid> = records
            .iter()
            .filter(|record| paying.contains(&record.terms.agreement_id))
            .map(|record| record.terms.payee_id)
            .collect();
        payees.sort();
        payees.dedup();
        remittances::pin_payees(&mut transaction, run.run_id, &run.authority, &payees).await?;
        remittances::record_held(&mut transaction, run.run_id, &ids, &held).await?;
        transaction
            .commit()
            .await
            .operation("database connection")?;
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
