//! The consumer `payments-agreements`: makes a schedule from each signed agreement and
//! records every later agreed version and every end, then publishes `schedule.changed`
//! saying what the change did.
//!
//! Plan variations and rate uplifts reach payments this way too: contracts turns each into
//! an agreed version of the agreements they move (`agreement.varied`, with the version's
//! effective date and the day it was recorded), so following the agreement's versions
//! follows both, once.
//!
//! What must stay true: each version and each end is stored once and never changed, so a
//! replayed event (the inbox already drops one it has seen) or another event about a
//! version already held changes nothing and publishes nothing; the schedule's calendar is
//! fixed when it is made; payments learns of agreements only from these events.

use chrono::NaiveDate;
use sds_events::{EventHandler, EventType, HandlerError, NewEvent, Received};
use sds_proto::v1 as proto;
use sds_proto::v1::event::Body;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::history::{Ending, History};
use crate::domain::live::{ChangeSummary, change_summary};
use crate::domain::terms::PayeeKind;
use crate::error::PaymentsError;
use crate::grpc::convert::{date_message, money_message};
use crate::store;

/// The four-weekly anchor of an authority whose finance staff have set none: Monday 6 April
/// 2026, the first Monday of the 2026/27 financial year.
pub const DEFAULT_ANCHOR: NaiveDate = match NaiveDate::from_ymd_opt(2026, 4, 6) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// Follows agreements into schedules (consumer `payments-agreements`).
#[derive(Debug, Clone, Default)]
pub struct AgreementHandler;

fn permanent(event: &Received, problem: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{}: {problem}", event.event_type))
}

fn transient(error: PaymentsError) -> HandlerError {
    HandlerError::Transient(anyhow::Error::new(error))
}

impl EventHandler for AgreementHandler {
    const HANDLES: &'static [EventType] = &[
        EventType::AgreementSigned,
        EventType::AgreementVaried,
        EventType::AgreementEnded,
    ];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        match body {
            Body::AgreementSigned(proto::AgreementSigned { agreement })
            | Body::AgreementVaried(proto::AgreementVaried { agreement, .. }) => {
                let agreement =
                    agreement.ok_or_else(|| permanent(event, "carries no agreement"))?;
                follow_version(transaction, event, &agreement).await
            }
            Body::AgreementEnded(ended) => follow_end(transaction, event, &ended).await,
            _ => Ok(()),
        }
    }
}

async fn follow_version(
    transaction: &mut PgConnection,
    event: &Received,
    agreement: &proto::Agreement,
) -> Result<(), HandlerError> {
    if agreement.authority != event.authority.as_str() {
        return Err(permanent(
            event,
            "carries an agreement of another authority",
        ));
    }
    let agreement_id = uuid(&agreement.id).map_err(|problem| permanent(event, problem))?;
    let version = agreed_version(agreement).map_err(|problem| permanent(event, problem))?;
    let created = if store::lock_schedule(transaction, agreement_id)
        .await
        .map_err(transient)?
    {
        false
    } else {
        let anchor = store::anchor_date(transaction, &event.authority)
            .await
            .map_err(transient)?;
        let terms = schedule_terms(agreement, &event.authority, anchor)
            .map_err(|problem| permanent(event, problem))?;
        let created = store::create_schedule(transaction, &terms)
            .await
            .map_err(transient)?;
        store::lock_schedule(transaction, agreement_id)
            .await
            .map_err(transient)?;
        created
    };
    let before = load(transaction, agreement_id).await?;
    let new = store::record_version(
        transaction,
        agreement_id,
        &version,
        &event.event_type.to_string(),
    )
    .await
    .map_err(transient)?;
    if !new {
        tracing::info!(authority = %event.authority, agreement = %agreement_id, version = version.version, "agreement version already held");
        return Ok(());
    }
    let change = if created {
        proto::ScheduleChangeKind::Created
    } else {
        proto::ScheduleChangeKind::Varied
    };
    // What the store now holds, without reading it back: the version just recorded
    // joins the ones before, in version order as the store reads them.
    let mut after = before.history.clone();
    let (number, effective_from, recorded_on) =
        (version.version, version.effective_from, version.recorded_on);
    after.versions.push(version);
    after.versions.sort_by_key(|held| held.version);
    let made = ChangeMade {
        kind: change,
        agreement_version: number,
        effective_from,
        recorded_on,
    };
    publish_change(transaction, event, agreement_id, before, after, made).await
}

async fn follow_end(
    transaction: &mut PgConnection,
    event: &Received,
    ended: &proto::AgreementEnded,
) -> Result<(), HandlerError> {
    if ended.authority != event.authority.as_str() {
        return Err(permanent(event, "ends an agreement of another authority"));
    }
    let agreement_id = uuid(&ended.agreement_id).map_err(|problem| permanent(event, problem))?;
    let ending = Ending {
        last_day: required_day("last_day", ended.last_day.as_ref())
            .map_err(|problem| permanent(event, problem))?,
        recorded_on: required_day("recorded_on", ended.recorded_on.as_ref())
            .map_err(|problem| permanent(event, problem))?,
    };
    let cause = match proto::AgreementEndCause::try_from(ended.cause) {
        Ok(proto::AgreementEndCause::Notice) => "notice",
        Ok(proto::AgreementEndCause::PlanEnded) => "plan_ended",
        _ => {
            return Err(permanent(
                event,
                format!("unknown end cause {}", ended.cause),
            ));
        }
    };
    let exists = store::lock_schedule(transaction, agreement_id)
        .await
        .map_err(transient)?;
    let before = if exists {
        Some(load(transaction, agreement_id).await?)
    } else {
        None
    };
    let new = store::record_ending(transaction, agreement_id, &ending, cause)
        .await
        .map_err(transient)?;
    // An end that overtook its agreement's signing is kept and applies once the schedule is
    // made; there is nothing to recompute yet.
    let Some(before) = before.filter(|_| new) else {
        return Ok(());
    };
    // The end just recorded joins the ones before, in the store's order.
    let mut after = before.history.clone();
    after.endings.push(ending);
    after
        .endings
        .sort_by_key(|held| (held.recorded_on, held.last_day));
    let made = ChangeMade {
        kind: proto::ScheduleChangeKind::Ended,
        agreement_version: ended.version,
        effective_from: ending.last_day.succ_opt().unwrap_or(ending.last_day),
        recorded_on: ending.recorded_on,
    };
    publish_change(transaction, event, agreement_id, before, after, made).await
}

async fn load(
    transaction: &mut PgConnection,
    agreement_id: Uuid,
) -> Result<store::ScheduleRecord, HandlerError> {
    store::load_schedule(transaction, agreement_id)
        .await
        .map_err(transient)?
        .ok_or_else(|| HandlerError::Transient(anyhow::anyhow!("schedule {agreement_id} vanished")))
}

/// Why a change could not be published: the rule refused the history (the change can never
/// be applied), or the store failed (it may be tried again).
#[derive(Debug)]
pub(crate) enum ChangeError {
    Rule(sds_money::ScheduleError),
    Store(PaymentsError),
}

impl From<PaymentsError> for ChangeError {
    fn from(error: PaymentsError) -> ChangeError {
        ChangeError::Store(error)
    }
}

fn handler_error(event: &Received, error: ChangeError) -> HandlerError {
    match error {
        ChangeError::Rule(error) => permanent(event, error),
        ChangeError::Store(error) => transient(error),
    }
}

async fn publish_change(
    transaction: &mut PgConnection,
    event: &Received,
    agreement_id: Uuid,
    before: store::ScheduleRecord,
    after: History,
    made: ChangeMade,
) -> Result<(), HandlerError> {
    publish_schedule_change(transaction, agreement_id, before, Some(after), made)
        .await
        .map_err(|error| handler_error(event, error))
}

/// A change just recorded on a schedule: what kind, from which agreement version, from
/// when, and the day it was recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChangeMade {
    pub kind: proto::ScheduleChangeKind,
    pub agreement_version: u32,
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
}

/// Publishes `schedule.changed` for a change just recorded in `transaction` (which holds
/// the schedule's lock): what a week costs before and after, the adjustment, and the next
/// instalment. Counts the change in the schedule's revision. `before` is the schedule as
/// loaded before the change; `after` its history with the change, or `None` to read it
/// back from the store.
pub(crate) async fn publish_schedule_change(
    transaction: &mut PgConnection,
    agreement_id: Uuid,
    before: store::ScheduleRecord,
    after: Option<History>,
    made: ChangeMade,
) -> Result<(), ChangeError> {
    let ChangeMade {
        kind: change,
        agreement_version,
        effective_from,
        recorded_on,
    } = made;
    let after = match after {
        Some(history) => history,
        None => {
            store::load_schedule(transaction, agreement_id)
                .await?
                .ok_or_else(|| {
                    PaymentsError::Internal(anyhow::anyhow!("schedule {agreement_id} vanished"))
                })?
                .history
        }
    };
    // The schedule's terms are fixed when it is made.
    let terms = &before.terms;
    let ChangeSummary {
        weekly_before,
        weekly_after,
        adjustment,
        next,
    } = change_summary(
        terms,
        &before.history,
        &after,
        effective_from,
        recorded_on,
        &store::runs::paid_amounts_of(transaction, agreement_id).await?,
    )
    .map_err(ChangeError::Rule)?;
    let revision = store::next_revision(transaction, agreement_id).await?;
    let body = Body::ScheduleChanged(proto::ScheduleChanged {
        agreement_id: agreement_id.to_string(),
        person_id: terms.person_id.to_string(),
        payee_kind: payee_kind_message(terms.payee_kind) as i32,
        payee_id: terms.payee_id.to_string(),
        change: change as i32,
        agreement_version,
        effective_from: Some(date_message(effective_from)),
        recorded_on: Some(date_message(recorded_on)),
        weekly_before: Some(money_message(weekly_before)),
        weekly_after: Some(money_message(weekly_after)),
        adjustment: Some(money_message(adjustment)),
        next_due_date: next.map(|(due, _)| date_message(due)),
        next_amount: next.map(|(_, amount)| money_message(amount)),
    });
    sds_events::enqueue(
        transaction,
        NewEvent::new(
            terms.authority.clone(),
            agreement_id.to_string(),
            u64::from(revision),
            body,
        ),
    )
    .await
    .map_err(|error| PaymentsError::Internal(anyhow::Error::new(error)))?;
    tracing::info!(
        authority = %terms.authority,
        agreement = %agreement_id,
        revision,
        change = change.as_str_name(),
        "schedule changed"
    );
    Ok(())
}

pub fn payee_kind_message(kind: PayeeKind) -> proto::PayeeKind {
    match kind {
        PayeeKind::Provider => proto::PayeeKind::Provider,
        PayeeKind::Holder => proto::PayeeKind::Holder,
    }
}

mod agreement;
use agreement::{agreed_version, required_day, schedule_terms, uuid};
