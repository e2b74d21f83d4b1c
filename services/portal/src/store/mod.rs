//! SQL. Notifications here; the portal's copies of the directory's providers and of
//! agreements' parties in [`providers`] and [`agreements`]. Rows are checked again on read.

pub mod agreements;
pub mod providers;

use chrono::{DateTime, Utc};
use sds_platform::{StoreContext as _, StoreError};
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::recipients::Deliveries;
use crate::domain::{Cursor, Notice, Subscriber};

/// The PostgreSQL channel a commit of notifications is announced on; the payload is the
/// subscriber's [`Subscriber::key`].
pub const CHANNEL: &str = "portal_notification";

/// The fact notifications are made from: the event's id, authority and time.
#[derive(Debug, Clone)]
pub struct Origin {
    pub event_id: Uuid,
    pub authority: AuthorityId,
    pub occurred_at: DateTime<Utc>,
}

/// A notification as kept for its subscriber.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub seq: u64,
    pub authority: AuthorityId,
    pub occurred_at: DateTime<Utc>,
    pub notice: Notice,
}

/// The advisory lock every transaction that numbers notifications takes first, and holds
/// until it commits. A consumer applies the events already waiting in one transaction, so
/// one transaction may number notifications for several subscribers, one event after
/// another, in no order it can choose; two consumers (schedules and remittances, say)
/// locking two providers' rows in opposite orders then deadlock, and PostgreSQL breaks each
/// deadlock only after its `deadlock_timeout` (a second), while the event it aborted waits
/// for its retry. Taken first, this lock makes numbering transactions queue instead: each
/// holds it from its first notice to its commit, which the subscriber's row lock already
/// made them do for any one subscriber.
const NUMBERING_LOCK: i64 = 0x0070_6f72_7461_6c01;

/// Takes [`NUMBERING_LOCK`] for the caller's transaction (again is free).
async fn queue_for_numbering(connection: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(NUMBERING_LOCK)
        .execute(&mut *connection)
        .await
        .operation("queue to number notifications")?;
    Ok(())
}

/// Numbers and keeps one notice per subscriber in `deliveries`, in one statement, and
/// announces each subscriber on [`CHANNEL`] (PostgreSQL delivers the announcement only when
/// the caller's transaction commits). Each subscriber's row is locked until then, which is
/// what keeps its numbers in commit order, and so is [`NUMBERING_LOCK`], which keeps the
/// transactions that number from deadlocking one another.
pub async fn deliver(
    connection: &mut PgConnection,
    origin: &Origin,
    deliveries: &Deliveries,
) -> Result<(), StoreError> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let mut kinds = Vec::with_capacity(deliveries.len());
    let mut ids = Vec::with_capacity(deliveries.len());
    let mut notice_kinds = Vec::with_capacity(deliveries.len());
    let mut bodies = Vec::with_capacity(deliveries.len());
    for (subscriber, notice) in deliveries.iter() {
        kinds.push(subscriber.kind.name());
        ids.push(subscriber.id);
        notice_kinds.push(notice.kind().name());
        // A notice is plain data; failing to write it as JSON would be a bug, not bad input.
        let body = serde_json::to_string(notice).map_err(|error| StoreError {
            operation: "write notice as JSON",
            source: sqlx::Error::Encode(Box::new(error)),
        })?;
        bodies.push(body);
    }
    queue_for_numbering(&mut *connection).await?;
    sqlx::query(
        "WITH recipient AS ( \
             SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::text[]) \
                 WITH ORDINALITY AS r(kind, org_id, notice_kind, body, position) \
         ), numbered AS ( \
             INSERT INTO subscriber (kind, org_id, last_seq) \
             SELECT kind, org_id, 1 FROM recipient ORDER BY position \
             ON CONFLICT (kind, org_id) DO UPDATE SET last_seq = subscriber.last_seq + 1 \
             RETURNING kind, org_id, last_seq \
         ), stored AS ( \
             INSERT INTO notification \
                 (subscriber_kind, subscriber_id, seq, kind, authority, occurred_at, event_id, body) \
             SELECT n.kind, n.org_id, n.last_seq, r.notice_kind, $5, $6, $7, r.body::jsonb \
             FROM numbered n JOIN recipient r ON r.kind = n.kind AND r.org_id = n.org_id \
             RETURNING subscriber_kind, subscriber_id \
         ) \
         SELECT pg_notify($8, subscriber_kind || ':' || subscriber_id::text) FROM stored",
    )
    .bind(&kinds)
    .bind(&ids)
    .bind(&notice_kinds)
    .bind(&bodies)
    .bind(origin.authority.as_str())
    .bind(origin.occurred_at)
    .bind(origin.event_id)
    .bind(CHANNEL)
    .execute(&mut *connection)
    .await
    .operation("keep notifications")?;
    Ok(())
}

/// Which of a subscriber's notifications exist: numbered up to `latest`, and kept after
/// `pruned_through` (both 0 before the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeptRange {
    pub latest: u64,
    pub pruned_through: u64,
}

/// The subscriber's latest committed notification and how far its notifications are pruned.
pub async fn kept_range(
    connection: &mut PgConnection,
    subscriber: Subscriber,
) -> Result<KeptRange, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT last_seq, pruned_through FROM subscriber WHERE kind = $1 AND org_id = $2",
    )
    .bind(subscriber.kind.name())
    .bind(subscriber.id)
    .fetch_optional(&mut *connection)
    .await
    .operation("read latest notification number")?;
    let number = |value: i64| u64::try_from(value).unwrap_or(0);
    Ok(row
        .map(|(latest, pruned_through)| KeptRange {
            latest: number(latest),
            pruned_through: number(pruned_through),
        })
        .unwrap_or_default())
}

/// Subscribers whose old notifications one pruning statement removes, at most.
const PRUNE_SUBSCRIBERS_AT_ONCE: i64 = 500;

/// Removes the notifications recorded before `cutoff`, each subscriber's oldest first: for
/// every subscriber with one, all its notifications up to the latest so recorded (numbers
/// follow commit order and recording times nearly do, so at most a few recorded just after
/// the cutoff go with them), and remembers how far in `pruned_through`. In statements of a
/// few hundred subscribers each; returns how many notifications were removed.
pub async fn prune_notifications(
    pool: &sqlx::PgPool,
    cutoff: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut removed = 0;
    loop {
        // Behind the numbering transactions, so pruning a subscriber's rows never deadlocks
        // with a transaction numbering several.
        let mut transaction = pool.begin().await.operation("begin pruning")?;
        queue_for_numbering(&mut transaction).await?;
        let (subscribers, notifications): (i64, i64) = sqlx::query_as(
            "WITH old AS ( \
                 SELECT subscriber_kind, subscriber_id, max(seq) AS through \
                 FROM notification WHERE recorded_at < $1 \
                 GROUP BY subscriber_kind, subscriber_id \
                 ORDER BY subscriber_kind, subscriber_id LIMIT $2 \
             ), marked AS ( \
                 UPDATE subscriber s SET pruned_through = GREATEST(s.pruned_through, old.through) \
                 FROM old WHERE s.kind = old.subscriber_kind AND s.org_id = old.subscriber_id \
                 RETURNING s.kind, s.org_id, s.pruned_through \
             ), gone AS ( \
                 DELETE FROM notification n USING marked m \
                 WHERE n.subscriber_kind = m.kind AND n.subscriber_id = m.org_id \
                   AND n.seq <= m.pruned_through \
                 RETURNING 1 \
             ) \
             SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM gone)",
        )
        .bind(cutoff)
        .bind(PRUNE_SUBSCRIBERS_AT_ONCE)
        .fetch_one(&mut *transaction)
        .await
        .operation("prune old notifications")?;
        transaction.commit().await.operation("commit pruning")?;
        removed += u64::try_from(notifications).unwrap_or(0);
        if subscribers < PRUNE_SUBSCRIBERS_AT_ONCE {
            return Ok(removed);
        }
    }
}

type Row = (i64, String, String, DateTime<Utc>, serde_json::Value);

/// Up to `limit` of the subscriber's notifications after `cursor`, oldest first.
pub async fn kept_after(
    connection: &mut PgConnection,
    subscriber: Subscriber,
    cursor: Cursor,
    limit: u32,
) -> Result<Vec<Kept>, StoreError> {
    let after = i64::try_from(cursor.seq()).unwrap_or(i64::MAX);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, kind, authority, occurred_at, body FROM notification \
         WHERE subscriber_kind = $1 AND subscriber_id = $2 AND seq > $3 \
         ORDER BY seq LIMIT $4",
    )
    .bind(subscriber.kind.name())
    .bind(subscriber.id)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&mut *connection)
    .await
    .operation("read notifications")?;
    rows.into_iter().map(kept).collect()
}

/// The subscriber's latest `limit` notifications, newest first: what a dashboard shows.
pub async fn latest_kept(
    connection: &mut PgConnection,
    subscriber: Subscriber,
    limit: u32,
) -> Result<Vec<Kept>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, kind, authority, occurred_at, body FROM notification \
         WHERE subscriber_kind = $1 AND subscriber_id = $2 \
         ORDER BY seq DESC LIMIT $3",
    )
    .bind(subscriber.kind.name())
    .bind(subscriber.id)
    .bind(i64::from(limit))
    .fetch_all(&mut *connection)
    .await
    .operation("read latest notifications")?;
    rows.into_iter().map(kept).collect()
}

/// The subscriber's latest `limit` notifications of `kind`, newest first: the dashboard's
/// remittances. Walks the subscriber's primary key backwards, so it reads no other
/// subscriber's rows.
pub async fn latest_kept_of_kind(
    connection: &mut PgConnection,
    subscriber: Subscriber,
    kind: crate::domain::NoticeKind,
    limit: u32,
) -> Result<Vec<Kept>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, kind, authority, occurred_at, body FROM notification \
         WHERE subscriber_kind = $1 AND subscriber_id = $2 AND kind = $3 \
         ORDER BY seq DESC LIMIT $4",
    )
    .bind(subscriber.kind.name())
    .bind(subscriber.id)
    .bind(kind.name())
    .bind(i64::from(limit))
    .fetch_all(&mut *connection)
    .await
    .operation("read latest notifications of a kind")?;
    rows.into_iter().map(kept).collect()
}

fn kept((seq, kind, authority, occurred_at, body): Row) -> Result<Kept, StoreError> {
    let corrupt = |what: String| StoreError {
        operation: "read notification",
        source: sqlx::Error::Decode(what.into()),
    };
    let notice: Notice = serde_json::from_value(body).map_err(|error| {
        corrupt(format!(
            "notification {seq} holds an unreadable notice: {error}"
        ))
    })?;
    if notice.kind().name() != kind {
        return Err(corrupt(format!(
            "notification {seq} says {kind} but holds a {}",
            notice.kind()
        )));
    }
    let authority = AuthorityId::parse("authority", &authority)
        .map_err(|invalid| corrupt(format!("notification {seq}: {invalid}")))?;
    Ok(Kept {
        seq: u64::try_from(seq).map_err(|_| corrupt(format!("notification number {seq}")))?,
        authority,
        occurred_at,
        notice,
    })
}
