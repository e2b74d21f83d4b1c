//! The events the portal consumes, each through the inbox (`sds_events::EventHandler`), so
//! that every event takes effect exactly once: its notifications are numbered and kept in
//! the same transaction as its inbox row. One durable consumer per aggregate, because a
//! consumer has one subject filter and a filter across aggregates would be every event.
//!
//! Reading an event that cannot be read is a permanent refusal naming the event type and
//! the field, never the value: a value could hold personal data, and refusals are logged.

pub mod agreements;
pub mod directory;
pub mod packages;
pub mod payments;
pub mod plans;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_events::{HandlerError, Received};
use sds_money::Money;
use sds_platform::StoreError;
use sds_proto::v1 as proto;
use uuid::Uuid;

use crate::domain::Subscriber;
use crate::store::Origin;

/// A database failure: worth trying again.
fn transient(error: StoreError) -> HandlerError {
    HandlerError::Transient(error.into())
}

/// Why an event can never be applied, naming its type and the field at fault.
fn unreadable(event: &Received, field: &str, what: &str) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{} {field} is {what}", event.event_type))
}

/// The event a body of the wrong type reached (a wiring mistake, kept apart from the rest).
fn unexpected(event: &Received) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!(
        "{} reached a handler that does not handle it",
        event.event_type
    ))
}

fn origin(event: &Received) -> Origin {
    // Every producer stamps its events; an envelope without a time is dated when handled.
    let occurred_at = event
        .occurred_at
        .as_ref()
        .and_then(|at| DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?))
        .unwrap_or_else(Utc::now);
    Origin {
        event_id: event.event_id,
        authority: event.authority.clone(),
        occurred_at,
    }
}

fn id(event: &Received, field: &str, raw: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(raw).map_err(|_| unreadable(event, field, "not a UUID"))
}

/// An id that may be left empty.
fn optional_id(event: &Received, field: &str, raw: &str) -> Result<Option<Uuid>, HandlerError> {
    if raw.is_empty() {
        return Ok(None);
    }
    id(event, field, raw).map(Some)
}

fn date(
    event: &Received,
    field: &str,
    raw: Option<&proto::Date>,
) -> Result<NaiveDate, HandlerError> {
    optional_date(event, field, raw)?.ok_or_else(|| unreadable(event, field, "missing"))
}

fn optional_date(
    event: &Received,
    field: &str,
    raw: Option<&proto::Date>,
) -> Result<Option<NaiveDate>, HandlerError> {
    match raw.map(|date| date.iso.as_str()) {
        None | Some("") => Ok(None),
        Some(iso) => sds_vocabulary::date::date(field, iso)
            .map(Some)
            .map_err(|_| unreadable(event, field, "not a date")),
    }
}

fn money(event: &Received, field: &str, raw: Option<&proto::Money>) -> Result<Money, HandlerError> {
    let raw = raw.ok_or_else(|| unreadable(event, field, "missing"))?;
    Money::parse(&raw.amount).map_err(|_| unreadable(event, field, "not an amount of money"))
}

fn decimal(event: &Received, field: &str, raw: &str, places: u32) -> Result<Decimal, HandlerError> {
    sds_vocabulary::decimal::decimal(field, raw, places)
        .map_err(|_| unreadable(event, field, "not a plain decimal"))
}

/// The subscriber a payee names: a provider or a third-party holder.
fn payee(event: &Received, kind: i32, raw_id: &str) -> Result<Subscriber, HandlerError> {
    let id = id(event, "payee_id", raw_id)?;
    match proto::PayeeKind::try_from(kind) {
        Ok(proto::PayeeKind::Provider) => Ok(Subscriber::provider(id)),
        Ok(proto::PayeeKind::Holder) => Ok(Subscriber::holder(id)),
        _ => Err(unreadable(
            event,
            "payee_kind",
            "neither provider nor holder",
        )),
    }
}
