//! Consumers `portal-schedules` and `portal-remittances`: what payments tells a payee.
//!
//! A schedule change goes to the payee only: when a third party holds the fund, what the
//! schedule pays can reveal the person's contribution (their financial assessment), which
//! payments itself hides from a provider it does not pay.

use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_proto::v1::event::Body;
use sds_vocabulary::named_enum::WireEnum as _;
use sqlx::PgConnection;

use super::{date, id, money, optional_date, origin, payee, transient, unexpected, unreadable};
use crate::domain::Notice;
use crate::domain::notice::{Instalment, RemittanceIssued, ScheduleChange, ScheduleChanged};
use crate::domain::recipients::Deliveries;
use crate::store;

#[derive(Debug, Clone, Default)]
pub struct ScheduleHandler;

impl EventHandler for ScheduleHandler {
    const HANDLES: &'static [EventType] = &[EventType::ScheduleChanged];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let Body::ScheduleChanged(changed) = body else {
            return Err(unexpected(event));
        };
        let next_due = optional_date(event, "next_due_date", changed.next_due_date.as_ref())?;
        let next = match next_due {
            Some(due_on) => Some(Instalment {
                due_on,
                amount: money(event, "next_amount", changed.next_amount.as_ref())?,
            }),
            None => None,
        };
        let notice = Notice::ScheduleChanged(ScheduleChanged {
            agreement_id: id(event, "agreement_id", &changed.agreement_id)?,
            person_id: id(event, "person_id", &changed.person_id)?,
            change: ScheduleChange::from_wire("change", changed.change)
                .map_err(|_| unreadable(event, "change", "not a known change"))?,
            agreement_version: changed.agreement_version,
            effective_from: date(event, "effective_from", changed.effective_from.as_ref())?,
            recorded_on: date(event, "recorded_on", changed.recorded_on.as_ref())?,
            weekly_before: money(event, "weekly_before", changed.weekly_before.as_ref())?,
            weekly_after: money(event, "weekly_after", changed.weekly_after.as_ref())?,
            adjustment: money(event, "adjustment", changed.adjustment.as_ref())?,
            next,
        });
        let mut deliveries = Deliveries::new();
        deliveries.tell(payee(event, changed.payee_kind, &changed.payee_id)?, notice);
        store::deliver(transaction, &origin(event), &deliveries)
            .await
            .map_err(transient)?;
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct RemittanceHandler;

impl EventHandler for RemittanceHandler {
    const HANDLES: &'static [EventType] = &[EventType::RemittanceIssued];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let Body::RemittanceIssued(issued) = body else {
            return Err(unexpected(event));
        };
        if issued.number.is_empty() {
            return Err(unreadable(event, "number", "missing"));
        }
        let notice = Notice::RemittanceIssued(RemittanceIssued {
            number: issued.number,
            run_id: id(event, "run_id", &issued.run_id)?,
            run_date: date(event, "run_date", issued.run_date.as_ref())?,
            items: issued.items,
            total: money(event, "total", issued.total.as_ref())?,
        });
        let mut deliveries = Deliveries::new();
        deliveries.tell(payee(event, issued.payee_kind, &issued.payee_id)?, notice);
        store::deliver(transaction, &origin(event), &deliveries)
            .await
            .map_err(transient)?;
        Ok(())
    }
}
