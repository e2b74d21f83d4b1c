//! What the directory publishes: `provider.registered` when a provider joins the directory
//! and `provider.updated` after any later change, each carrying the whole provider as it is
//! after the change, under the authority `national` (the directory belongs to every
//! authority). Events are written to the outbox in the transaction of the change.

use chrono::NaiveDate;
use sds_events::NewEvent;
use sds_proto::v1::{ProviderRegistered, ProviderUpdated, event::Body};
use sds_vocabulary::AuthorityId;
use sds_vocabulary::named_enum::WireEnum as _;
use sqlx::PgConnection;

use uuid::Uuid;

use crate::domain::{ChangeName, ProviderRecord};
use crate::error::DirectoryError;
use crate::grpc::convert::provider_message;
use crate::store::package_offers::StoredAnswer;
use crate::store::package_requests::StoredRequest;

/// `provider.registered` for a provider just added.
pub fn registered(record: &ProviderRecord, today: NaiveDate) -> NewEvent {
    NewEvent::new(
        AuthorityId::national(),
        record.id.to_string(),
        record.version,
        Body::ProviderRegistered(ProviderRegistered {
            provider: Some(provider_message(record, today)),
        }),
    )
}

/// `provider.updated` for a provider just changed, naming what kind of change it was.
pub fn updated(record: &ProviderRecord, change: ChangeName, today: NaiveDate) -> NewEvent {
    NewEvent::new(
        AuthorityId::national(),
        record.id.to_string(),
        record.version,
        Body::ProviderUpdated(ProviderUpdated {
            provider: Some(provider_message(record, today)),
            change: change.wire_number(),
        }),
    )
}

/// `package.requested` for a request just published: its anonymised content only, under the
/// authority that published it.
pub fn package_requested(
    authority: &AuthorityId,
    request_id: uuid::Uuid,
    content: sds_proto::v1::PackageRequestContent,
) -> NewEvent {
    NewEvent::new(
        authority.clone(),
        request_id.to_string(),
        1,
        Body::PackageRequested(sds_proto::v1::PackageRequested {
            request_id: request_id.to_string(),
            content: Some(content),
        }),
    )
}

/// `package.offered` for an answer just given or changed, at the request's new version.
pub fn package_offered(
    authority: &AuthorityId,
    request_version: u64,
    answer: &StoredAnswer,
) -> NewEvent {
    NewEvent::new(
        authority.clone(),
        answer.request_id.to_string(),
        request_version,
        Body::PackageOffered(sds_proto::v1::PackageOffered {
            request_id: answer.request_id.to_string(),
            offer_id: answer.id.to_string(),
            provider_id: answer.provider_id.to_string(),
            kind: answer.answer.kind().wire_number(),
        }),
    )
}

/// `package.accepted` for a request just accepted: who it is for (assessment records the
/// choice on the plan line, and the chosen provider may now see it) and the providers whose
/// answers were not chosen, who are told the request is closed.
pub fn package_accepted(request: &StoredRequest, closed_for: &[Uuid]) -> Option<NewEvent> {
    let accepted = request.accepted.as_ref()?;
    Some(NewEvent::new(
        request.authority.clone(),
        request.id.to_string(),
        request.version,
        Body::PackageAccepted(sds_proto::v1::PackageAccepted {
            request_id: request.id.to_string(),
            offer_id: accepted.offer_id.to_string(),
            provider_id: accepted.provider_id.to_string(),
            person_id: request.line.person_id.to_string(),
            plan_id: request.line.plan_id.to_string(),
            line_number: request.line.line_number,
            closed_for: closed_for.iter().map(Uuid::to_string).collect(),
            holding_model: accepted.holding_model.wire_number(),
            holder: accepted.holder.clone().unwrap_or_default(),
        }),
    ))
}

/// `package.withdrawn` for a request the authority just withdrew, at its new version: its
/// anonymised content (so the portal can tell the providers it was shown to) and the
/// providers that had answered.
pub fn package_withdrawn(
    request: &StoredRequest,
    content: sds_proto::v1::PackageRequestContent,
    answered: &[Uuid],
) -> NewEvent {
    NewEvent::new(
        request.authority.clone(),
        request.id.to_string(),
        request.version,
        Body::PackageWithdrawn(sds_proto::v1::PackageWithdrawn {
            request_id: request.id.to_string(),
            content: Some(content),
            closed_for: answered.iter().map(Uuid::to_string).collect(),
        }),
    )
}

/// Writes one event to the outbox in the caller's transaction.
pub async fn publish(connection: &mut PgConnection, event: NewEvent) -> Result<(), DirectoryError> {
    sds_events::enqueue(connection, event).await?;
    Ok(())
}

/// Writes many events to the outbox with one statement, in the caller's transaction.
pub async fn publish_all(
    connection: &mut PgConnection,
    events: Vec<NewEvent>,
) -> Result<(), DirectoryError> {
    sds_events::enqueue_all(connection, events).await?;
    Ok(())
}
