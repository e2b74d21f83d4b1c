//! A service's read audit trail as tests look at it: its rows straight from the table, and
//! the check that the table keeps every row (see `sds_platform::read_audit`).

use sqlx::PgPool;

/// One row of a service's `read_audit`, without its position and time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReadAuditRow {
    pub authority: String,
    pub actor: String,
    pub actor_kind: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub what: String,
    pub record_id: String,
    pub outcome: String,
    pub refusal_code: Option<String>,
}

impl ReadAuditRow {
    /// A `read` of `record_id` (`what`) about `subject_kind` `subject_id` of `authority`, by
    /// `actor` of `actor_kind`.
    pub fn read(
        authority: &str,
        (actor, actor_kind): (&str, &str),
        (subject_kind, subject_id): (&str, &str),
        what: &str,
        record_id: &str,
    ) -> ReadAuditRow {
        ReadAuditRow {
            authority: authority.to_owned(),
            actor: actor.to_owned(),
            actor_kind: actor_kind.to_owned(),
            subject_kind: subject_kind.to_owned(),
            subject_id: subject_id.to_owned(),
            what: what.to_owned(),
            record_id: record_id.to_owned(),
            outcome: "read".to_owned(),
            refusal_code: None,
        }
    }

    /// The same call refused with `code` (`PERMISSION_DENIED`, `NOT_FOUND`).
    pub fn refused(self, code: &str) -> ReadAuditRow {
        ReadAuditRow {
            outcome: "refused".to_owned(),
            refusal_code: Some(code.to_owned()),
            ..self
        }
    }
}

/// Every row of the trail in the schema `pool` works in, oldest first.
pub async fn read_audit_rows(pool: &PgPool) -> Vec<ReadAuditRow> {
    sqlx::query_as(
        "SELECT authority, actor, actor_kind, subject_kind, subject_id::text AS subject_id, \
             what, record_id, outcome, refusal_code \
         FROM read_audit ORDER BY position",
    )
    .fetch_all(pool)
    .await
    .expect("read the read audit trail")
}

/// Asserts that the trail in `pool`'s schema, which must hold a row, refuses to have any row
/// changed or removed, by UPDATE, DELETE or TRUNCATE, and still holds every row after.
pub async fn assert_read_audit_is_append_only(pool: &PgPool) {
    let before = read_audit_rows(pool).await;
    assert!(!before.is_empty(), "the trail needs a row to try to change");
    for statement in [
        "UPDATE read_audit SET actor = 'someone-else'",
        "UPDATE read_audit SET outcome = 'refused', refusal_code = 'NOT_FOUND'",
        "DELETE FROM read_audit",
        "TRUNCATE read_audit",
    ] {
        let refused = sqlx::query(statement)
            .execute(pool)
            .await
            .expect_err(statement);
        assert!(
            refused.to_string().contains("read_audit is append-only"),
            "{statement}: {refused}"
        );
    }
    assert_eq!(read_audit_rows(pool).await, before);
}
