//! Consumer `portal-agreements`: agreement.signed and agreement.varied teach the portal who
//! is party to an agreement; agreement.varied and agreement.ended tell its provider, its
//! holder (for a fund a third party holds) and its payee. agreement.ended names only the
//! payee, so the other parties come from what the earlier events taught.

use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_proto::v1 as proto;
use sds_proto::v1::event::Body;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{date, id, optional_id, origin, payee, transient, unexpected, unreadable};
use crate::domain::notice::{AgreementEnded, AgreementVaried};
use crate::domain::recipients::{self, Deliveries};
use crate::domain::{Notice, Subscriber};
use crate::store;
use crate::store::agreements::{self, Parties};

#[derive(Debug, Clone, Default)]
pub struct AgreementHandler;

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
        let deliveries = match body {
            Body::AgreementSigned(signed) => {
                let agreement = signed
                    .agreement
                    .ok_or_else(|| unreadable(event, "agreement", "missing"))?;
                learn_parties(transaction, event, &agreement).await?;
                Deliveries::new()
            }
            Body::AgreementVaried(varied) => {
                let agreement = varied
                    .agreement
                    .ok_or_else(|| unreadable(event, "agreement", "missing"))?;
                let (agreement_id, parties) = learn_parties(transaction, event, &agreement).await?;
                let notice = Notice::AgreementVaried(AgreementVaried {
                    agreement_id,
                    person_id: id(event, "agreement.person_id", &agreement.person_id)?,
                    version: agreement.version,
                    previous_version: varied.previous_version,
                    effective_from: date(
                        event,
                        "agreement.effective_from",
                        agreement.effective_from.as_ref(),
                    )?,
                    recorded_on: date(
                        event,
                        "agreement.recorded_on",
                        agreement.recorded_on.as_ref(),
                    )?,
                });
                let paid = payee(event, agreement.payee_kind, &agreement.payee_id)?;
                told(Some(parties), paid, &notice)
            }
            Body::AgreementEnded(ended) => {
                let agreement_id = id(event, "agreement_id", &ended.agreement_id)?;
                let parties = agreements::of(transaction, agreement_id)
                    .await
                    .map_err(transient)?;
                let notice = Notice::AgreementEnded(AgreementEnded {
                    agreement_id,
                    person_id: id(event, "person_id", &ended.person_id)?,
                    version: ended.version,
                    last_day: date(event, "last_day", ended.last_day.as_ref())?,
                    recorded_on: date(event, "recorded_on", ended.recorded_on.as_ref())?,
                });
                let paid = payee(event, ended.payee_kind, &ended.payee_id)?;
                told(parties, paid, &notice)
            }
            _ => return Err(unexpected(event)),
        };
        store::deliver(transaction, &origin(event), &deliveries)
            .await
            .map_err(transient)?;
        Ok(())
    }
}

/// Keeps the agreement's parties as this version states them.
async fn learn_parties(
    transaction: &mut PgConnection,
    event: &Received,
    agreement: &proto::Agreement,
) -> Result<(Uuid, Parties), HandlerError> {
    let agreement_id = id(event, "agreement.id", &agreement.id)?;
    let parties = Parties {
        provider: id(event, "agreement.provider_id", &agreement.provider_id)?,
        holder: optional_id(event, "agreement.holder_id", &agreement.holder_id)?,
    };
    agreements::remember(transaction, agreement_id, agreement.version, parties)
        .await
        .map_err(transient)?;
    Ok((agreement_id, parties))
}

fn told(parties: Option<Parties>, paid: Subscriber, notice: &Notice) -> Deliveries {
    let mut deliveries = Deliveries::new();
    deliveries.tell_all(
        recipients::of_agreement(
            parties.map(|parties| parties.provider),
            parties.and_then(|parties| parties.holder),
            Some(paid),
        ),
        notice,
    );
    deliveries
}
