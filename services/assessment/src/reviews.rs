//! Reviews: when an approved plan's review date arrives, `review.due` is published once;
//! when payments reports persistent variance (`variance.persistent`), a review is suggested
//! with the reason. Both keep to the outbox and inbox: an announcement commits with its
//! event, and a suggestion with the consumed event's inbox row, so neither happens twice.

use std::time::Duration;

use chrono::NaiveDate;
use sds_events::{EventHandler, EventType, HandlerError, NewEvent, Received};
use sds_platform::{Clock, StoreContext as _};
use sds_proto::v1 as proto;
use sds_proto::v1::event::Body;
use sds_runtime::{CancellationToken, Context};
use sds_vocabulary::AuthorityId;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::AssessmentError;

/// How often the due reviews are looked for. Review dates are days, so a minute is soon
/// enough and costs one indexed query.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Publishes `review.due` for every latest approved version whose review date is on or
/// before `today` and not yet announced. Returns how many were announced.
pub async fn announce_due_reviews(
    pool: &PgPool,
    today: NaiveDate,
) -> Result<usize, AssessmentError> {
    let mut transaction = pool.begin().await?;
    // Only a person's latest approved version counts: an earlier one's review was
    // overtaken by the variation that followed it.
    let due: Vec<(Uuid, i32, String, NaiveDate)> = sqlx::query_as(
        "UPDATE plan_version pv SET review_announced_at = now() \
         WHERE pv.status = 'approved' AND pv.review_announced_at IS NULL AND pv.review_due <= $1 \
           AND pv.version = (SELECT max(version) FROM plan_version latest \
                             WHERE latest.person_id = pv.person_id AND latest.status = 'approved') \
         RETURNING pv.person_id, pv.version, pv.authority, pv.review_due",
    )
    .bind(today)
    .fetch_all(&mut *transaction)
    .await
    .operation("mark due reviews announced")?;
    let mut events = Vec::with_capacity(due.len());
    for (person_id, version, authority, review_due) in &due {
        let authority = AuthorityId::parse("authority", authority)
            .map_err(|invalid| anyhow::anyhow!("stored plan of {person_id}: {invalid}"))?;
        let version = u32::try_from(*version).map_err(anyhow::Error::new)?;
        events.push(NewEvent::new(
            authority,
            person_id.to_string(),
            u64::from(version),
            Body::ReviewDue(proto::ReviewDue {
                person_id: person_id.to_string(),
                plan_version: version,
                review_due: Some(proto::Date {
                    iso: sds_vocabulary::date::iso(*review_due),
                }),
            }),
        ));
    }
    sds_events::enqueue_all(&mut transaction, events)
        .await
        .map_err(|error| {
            AssessmentError::Internal(
                anyhow::Error::new(error).context("write review.due to the outbox"),
            )
        })?;
    transaction.commit().await?;
    Ok(due.len())
}

/// The background task: looks for due reviews at start and then every [`CHECK_EVERY`].
pub async fn run_review_announcer(
    context: Context,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let clock: Clock = context.clock.clone();
    loop {
        match announce_due_reviews(&context.pool, clock.today()).await {
            Ok(0) => {}
            Ok(announced) => tracing::info!(announced, "reviews due announced"),
            // The database may be away; the next round tries again.
            Err(error) => tracing::warn!(error = %error, "could not announce due reviews"),
        }
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            () = tokio::time::sleep(CHECK_EVERY) => {}
        }
    }
}

/// Marks a review as suggested when payments reports persistent variance.
#[derive(Debug, Clone, Default)]
pub struct VarianceHandler;

impl EventHandler for VarianceHandler {
    const HANDLES: &'static [EventType] = &[EventType::VariancePersistent];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let Body::VariancePersistent(variance) = body else {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "variance handler given {}",
                event.event_type
            )));
        };
        let person_id = Uuid::parse_str(&variance.person_id).map_err(|_| {
            HandlerError::Permanent(anyhow::anyhow!(
                "variance.persistent names person {:?}, which is not an id",
                variance.person_id
            ))
        })?;
        let reason = sds_vocabulary::text::required_text("reason", &variance.reason, 2000)
            .map_err(|invalid| {
                HandlerError::Permanent(anyhow::anyhow!("variance.persistent: {invalid}"))
            })?;
        let person: Option<(String,)> =
            sqlx::query_as("SELECT authority FROM person WHERE id = $1")
                .bind(person_id)
                .fetch_optional(&mut *transaction)
                .await?;
        match person {
            Some((authority,)) if authority == event.authority.as_str() => {}
            _ => {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "variance.persistent of {} names person {person_id}, who is not theirs",
                    event.authority
                )));
            }
        }
        let suggested = sqlx::query(
            "INSERT INTO review_suggestion (person_id, reason, event_id) VALUES ($1, $2, $3) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(person_id)
        .bind(&reason)
        .bind(event.event_id)
        .execute(&mut *transaction)
        .await?;
        if suggested.rows_affected() == 1 {
            sqlx::query(
                "INSERT INTO person_audit (person_id, authority, actor, action) \
                 VALUES ($1, $2, 'payments', 'review.suggested')",
            )
            .bind(person_id)
            .bind(event.authority.as_str())
            .execute(&mut *transaction)
            .await?;
        }
        Ok(())
    }
}
