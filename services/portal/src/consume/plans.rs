//! Consumer `portal-plans`: plan.varied, to each provider and holder named on a line still
//! running when the variation takes effect, with its own lines only (never another
//! provider's, nor the plan's budget or reasons).

use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_proto::v1 as proto;
use sds_proto::v1::event::Body;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    date, decimal, id, optional_date, optional_id, origin, transient, unexpected, unreadable,
};
use crate::domain::Notice;
use crate::domain::notice::{PlanVaried, VariedLine};
use crate::domain::recipients::{self, Deliveries, NamedLine};
use crate::store;

#[derive(Debug, Clone, Default)]
pub struct PlanHandler;

impl EventHandler for PlanHandler {
    const HANDLES: &'static [EventType] = &[EventType::PlanVaried];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let Body::PlanVaried(varied) = body else {
            return Err(unexpected(event));
        };
        let plan = varied
            .plan
            .ok_or_else(|| unreadable(event, "plan", "missing"))?;
        let effective_from = date(event, "plan.effective_from", plan.effective_from.as_ref())?;
        let mut lines = Vec::with_capacity(plan.lines.len());
        for (index, line) in plan.lines.iter().enumerate() {
            lines.push(named_line(event, &format!("plan.lines[{index}]"), line)?);
        }
        let person_id = id(event, "plan.person_id", &plan.person_id)?;
        let recorded_on = date(event, "plan.recorded_on", plan.recorded_on.as_ref())?;
        let mut deliveries = Deliveries::new();
        for (subscriber, own_lines) in recipients::of_plan_lines(&lines, effective_from) {
            deliveries.tell(
                subscriber,
                Notice::PlanVaried(PlanVaried {
                    person_id,
                    version: plan.version,
                    previous_version: plan.previous_version,
                    effective_from,
                    recorded_on,
                    ends_plan: plan.ends_plan,
                    lines: own_lines,
                }),
            );
        }
        store::deliver(transaction, &origin(event), &deliveries)
            .await
            .map_err(transient)?;
        Ok(())
    }
}

fn named_line(
    event: &Received,
    field: &str,
    line: &proto::PlanLine,
) -> Result<NamedLine, HandlerError> {
    let (provider, holder) = match line
        .arrangement
        .as_ref()
        .and_then(|arrangement| arrangement.arrangement.as_ref())
    {
        Some(proto::arrangement::Arrangement::PersonDirected(chosen)) => (
            directory_id(&chosen.provider),
            optional_id(
                event,
                &format!("{field}.person_directed.holder"),
                &chosen.holder,
            )?,
        ),
        Some(proto::arrangement::Arrangement::AuthorityArranged(arranged)) => {
            (directory_id(&arranged.provider), None)
        }
        Some(proto::arrangement::Arrangement::DirectPayment(_)) | None => (None, None),
    };
    Ok(NamedLine {
        line: VariedLine {
            number: line.number,
            weekly: decimal(event, &format!("{field}.weekly"), &line.weekly, 4)?,
            start: date(event, &format!("{field}.start"), line.start.as_ref())?,
            end: optional_date(event, &format!("{field}.end"), line.end.as_ref())?,
        },
        provider,
        holder,
    })
}

/// Assessment stores a line's provider by its directory id (it resolves a Care Inspectorate
/// number on the way in); anything else names no subscriber.
fn directory_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}
