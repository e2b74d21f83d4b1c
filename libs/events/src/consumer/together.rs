//! Events that are already waiting when one arrives are applied together: their inbox rows
//! and every handler's writes in one transaction, one commit, then the acks. Under load this
//! replaces a transaction and a commit per event (the round trips and the WAL flush that
//! made each consumer a queue of its own) with one per group.
//!
//! What must stay true, as for an event applied alone:
//!
//! - each event takes effect once: its inbox row commits with the handlers' writes, and an
//!   event already in the inbox, or twice in the group, is acknowledged without its handler
//!   running again;
//! - nothing is acknowledged before the commit;
//! - one event that fails neither holds back nor undoes the others, and its retries and its
//!   dead letter follow the rules of a lone event: the group is rolled back, the failed
//!   event is settled with the failure its handler gave (its handler is not run again on
//!   this delivery), and the rest are applied together again;
//! - if the transaction itself fails (the database away, the commit refused), each event is
//!   applied on its own;
//! - events that are not for this handler, or that cannot be read, never join a group: they
//!   are settled on their own, as before.
//!
//! Handlers see one transaction in which several events, of one aggregate or of many, are
//! applied in turn (each sees the writes of the ones before), and the row locks of the first
//! are held while the last is applied. Two transactions that lock the same rows in opposite
//! orders (two replicas' groups, or two consumers of one service writing the same rows, as
//! the portal's consumers would its subscribers' counters if they did not first queue on one
//! advisory lock, see `sds_portal::store::deliver`) may deadlock: PostgreSQL aborts one
//! after its `deadlock_timeout`, and the member whose statement was aborted is settled as a
//! transient failure (redelivered after its retry delay) while the rest are applied again.
//! Nothing is lost or applied twice; the cost is that member's delay, which is why a group
//! only ever takes what is already waiting.

use std::collections::HashSet;

use async_nats::jetstream;
use async_nats::jetstream::AckKind;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgPool;
use tracing::{Instrument as _, debug};
use uuid::Uuid;

use super::{
    ConsumerConfig, Decoded, EventHandler, NotApplied, acknowledge, decode, event_span,
    handle_message, settle,
};

/// An event of the group, read, with its delivery count and its span.
struct Member {
    message: jetstream::Message,
    decoded: Decoded,
    delivered: i64,
    span: tracing::Span,
}

/// Why a group was not applied.
enum GroupFailure {
    /// The handler of the member at this index failed; the others are untouched.
    Member(usize, NotApplied),
    /// The transaction failed around the handlers.
    Transaction(anyhow::Error),
}

/// Applies `group` (events in the order received): together where it can, else each alone.
pub(super) async fn handle_group<H: EventHandler>(
    pool: &PgPool,
    config: &ConsumerConfig,
    handler: &H,
    group: Vec<jetstream::Message>,
) {
    if group.len() < 2 {
        for message in group {
            handle_message(pool, config, handler, message).await;
        }
        return;
    }
    let mut members = Vec::with_capacity(group.len());
    for message in group {
        let read = message.info().ok().and_then(|info| {
            match decode(&config.durable_name, message.payload.as_ref(), H::HANDLES) {
                Ok(Some(decoded)) => Some((decoded, info.delivered)),
                Ok(None) | Err(_) => None,
            }
        });
        match read {
            Some((decoded, delivered)) => {
                let span = event_span(config, &message, &decoded.received, delivered);
                members.push(Member {
                    message,
                    decoded,
                    delivered,
                    span,
                });
            }
            // Not this handler's, or unreadable: settled alone, by the usual rules.
            None => handle_message(pool, config, handler, message).await,
        }
    }
    while !members.is_empty() {
        match apply_together(pool, config, handler, &members).await {
            Ok(()) => {
                for member in &members {
                    acknowledge(&member.message, AckKind::Ack, config).await;
                }
                return;
            }
            Err(GroupFailure::Member(index, failure)) => {
                let failed = members.remove(index);
                let received = &failed.decoded.received;
                settle(
                    pool,
                    config,
                    &failed.message,
                    (received.event_id, received.event_type),
                    failed.delivered,
                    Err(failure),
                )
                .instrument(failed.span.clone())
                .await;
            }
            Err(GroupFailure::Transaction(cause)) => {
                debug!(consumer = %config.durable_name, events = members.len(), error = %format!("{cause:#}"), "a group of events could not be applied together; applying each alone");
                for member in members {
                    handle_message(pool, config, handler, member.message).await;
                }
                return;
            }
        }
    }
}

/// The inbox rows and the handlers of every new member, in one transaction. Any failure
/// rolls all of it back.
async fn apply_together<H: EventHandler>(
    pool: &PgPool,
    config: &ConsumerConfig,
    handler: &H,
    members: &[Member],
) -> Result<(), GroupFailure> {
    let failed = |error: sqlx::Error| GroupFailure::Transaction(error.into());
    let ids: Vec<Uuid> = members
        .iter()
        .map(|member| member.decoded.received.event_id)
        .collect();
    let types: Vec<&str> = members
        .iter()
        .map(|member| member.decoded.received.event_type.name())
        .collect();
    let mut transaction = pool.begin().await.map_err(failed)?;
    // A concurrent delivery of one of these events waits here on the other's uncommitted
    // row, then sees the conflict once it commits. A second copy within the group is
    // skipped by the same clause.
    let new: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO inbox (consumer, event_id, event_type) \
         SELECT $1, event_id, event_type FROM UNNEST($2::uuid[], $3::text[]) AS e(event_id, event_type) \
         ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind(&config.durable_name)
    .bind(&ids)
    .bind(&types)
    .fetch_all(&mut *transaction)
    .await
    .map_err(failed)?;
    let mut new: HashSet<Uuid> = new.into_iter().collect();
    for (index, member) in members.iter().enumerate() {
        let Decoded { received, body } = &member.decoded;
        // Applied before, or a second copy in this group.
        if !new.remove(&received.event_id) {
            continue;
        }
        let handled = handler
            .handle(&mut transaction, received, body.clone())
            .instrument(member.span.clone())
            .await;
        if let Err(handler_error) = handled {
            // Rolling back is what matters; if even that fails the connection is discarded
            // and PostgreSQL rolls back on its own.
            drop(transaction.rollback().await);
            return Err(GroupFailure::Member(index, handler_error.into()));
        }
    }
    transaction.commit().await.map_err(failed)?;
    Ok(())
}
