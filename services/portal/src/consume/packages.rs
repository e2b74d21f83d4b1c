//! Consumer `portal-packages`: package requests, answers and choices from the directory.
//!
//! - package.requested: every active provider whose localities include the request's
//!   locality and whose service types share one with it (both ignoring case), as the
//!   portal's copy of the directory has them when the event is handled;
//! - package.offered: the provider that answered, as a receipt;
//! - package.accepted: the chosen provider (who may now see who it is for), the third-party
//!   holder the person chose (who will hold the fund), and, told only that the request is
//!   closed, every provider in `closed_for`;
//! - package.withdrawn: told that the request is closed, the providers it matches (as for
//!   package.requested) and every provider that had answered (`closed_for`), once each.

use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_proto::v1 as proto;
use sds_proto::v1::event::Body;
use sds_vocabulary::named_enum::WireEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{date, decimal, id, money, origin, transient, unexpected, unreadable};
use crate::domain::notice::{
    Answer, OfferAccepted, PackageAnswered, PackageRequested, RequestClosed, RequestedAmount,
};
use crate::domain::recipients::{self, Deliveries};
use crate::domain::{Notice, Subscriber};
use crate::store::{self, providers};

#[derive(Debug, Clone, Default)]
pub struct PackageHandler;

impl EventHandler for PackageHandler {
    const HANDLES: &'static [EventType] = &[
        EventType::PackageRequested,
        EventType::PackageOffered,
        EventType::PackageAccepted,
        EventType::PackageWithdrawn,
    ];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let deliveries = match body {
            Body::PackageRequested(requested) => {
                let notice = requested_notice(event, requested)?;
                let matching =
                    providers::matching(transaction, &notice.locality, &notice.service_types)
                        .await
                        .map_err(transient)?;
                let mut deliveries = Deliveries::new();
                deliveries.tell_all(
                    matching.into_iter().map(Subscriber::provider),
                    &Notice::PackageRequested(notice),
                );
                deliveries
            }
            Body::PackageOffered(offered) => {
                let mut deliveries = Deliveries::new();
                deliveries.tell(
                    Subscriber::provider(id(event, "provider_id", &offered.provider_id)?),
                    Notice::PackageAnswered(PackageAnswered {
                        request_id: id(event, "request_id", &offered.request_id)?,
                        offer_id: id(event, "offer_id", &offered.offer_id)?,
                        answer: Answer::from_wire("kind", offered.kind)
                            .map_err(|_| unreadable(event, "kind", "neither offer nor decline"))?,
                    }),
                );
                deliveries
            }
            Body::PackageAccepted(accepted) => acceptance(event, &accepted)?,
            Body::PackageWithdrawn(withdrawn) => {
                let request_id = id(event, "request_id", &withdrawn.request_id)?;
                let content = withdrawn
                    .content
                    .ok_or_else(|| unreadable(event, "content", "missing"))?;
                let matching =
                    providers::matching(transaction, &content.locality, &content.service_types)
                        .await
                        .map_err(transient)?;
                let answered = closed_for(event, &withdrawn.closed_for)?;
                let mut deliveries = Deliveries::new();
                deliveries.tell_all(
                    matching
                        .into_iter()
                        .chain(answered)
                        .map(Subscriber::provider),
                    &Notice::RequestClosed(RequestClosed { request_id }),
                );
                deliveries
            }
            _ => return Err(unexpected(event)),
        };
        store::deliver(transaction, &origin(event), &deliveries)
            .await
            .map_err(transient)?;
        Ok(())
    }
}

fn requested_notice(
    event: &Received,
    requested: proto::PackageRequested,
) -> Result<PackageRequested, HandlerError> {
    let content = requested
        .content
        .ok_or_else(|| unreadable(event, "content", "missing"))?;
    let amount = match content.amount {
        Some(proto::package_request_content::Amount::HoursPerWeek(hours)) => {
            RequestedAmount::HoursPerWeek(decimal(event, "content.hours_per_week", &hours, 2)?)
        }
        Some(proto::package_request_content::Amount::WeeklyBudget(budget)) => {
            RequestedAmount::WeeklyBudget(money(event, "content.weekly_budget", Some(&budget))?)
        }
        None => return Err(unreadable(event, "content.amount", "missing")),
    };
    if content.locality.trim().is_empty() || content.service_types.is_empty() {
        return Err(unreadable(
            event,
            "content",
            "without a locality or service types",
        ));
    }
    Ok(PackageRequested {
        request_id: id(event, "request_id", &requested.request_id)?,
        needs_summary: content.needs_summary,
        service_types: content.service_types,
        locality: content.locality,
        amount,
        start_date: date(event, "content.start_date", content.start_date.as_ref())?,
        closing_date: date(event, "content.closing_date", content.closing_date.as_ref())?,
    })
}

/// The providers an event's `closed_for` names, each read as an id.
fn closed_for(event: &Received, providers: &[String]) -> Result<Vec<Uuid>, HandlerError> {
    providers
        .iter()
        .enumerate()
        .map(|(index, provider)| id(event, &format!("closed_for[{index}]"), provider))
        .collect()
}

fn acceptance(
    event: &Received,
    accepted: &proto::PackageAccepted,
) -> Result<Deliveries, HandlerError> {
    let chosen = id(event, "provider_id", &accepted.provider_id)?;
    // Only a third party holding the fund is a subscriber of its own; a provider-held fund
    // is the chosen provider's already.
    let holder = if accepted.holding_model == proto::FundHoldingModel::ThirdParty as i32 {
        Some(id(event, "holder", &accepted.holder)?)
    } else {
        None
    };
    let passed_over = closed_for(event, &accepted.closed_for)?;
    let notice = OfferAccepted {
        request_id: id(event, "request_id", &accepted.request_id)?,
        offer_id: id(event, "offer_id", &accepted.offer_id)?,
        person_id: id(event, "person_id", &accepted.person_id)?,
        plan_id: id(event, "plan_id", &accepted.plan_id)?,
        line_number: accepted.line_number,
    };
    Ok(recipients::of_acceptance(
        notice,
        chosen,
        holder,
        &passed_over,
    ))
}
