//! What the aggregate figures read: every person of an authority with an approved plan, as
//! the domain's [`SupportedPerson`], and the logs of who read the figures.
//!
//! What must stay true: a person's lines are those of the latest approved version of their
//! plan (the highest version number whose status is approved; drafts, submitted and
//! rejected versions, and older approved ones, never count); only the authority's own people
//! are read; the read is a fixed number of queries however many people there are; lines are
//! read back through `plans::line_of`, the same conversion a single plan uses, so a stored
//! line the domain refuses is an internal error here too.

use std::collections::HashMap;

use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::person::{ClientGroup, ClientGroups, SupportedPerson};
use crate::error::AssessmentError;

use super::plans::{LineRow, line_of};

/// A supported person with the id their audit trail is kept under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedRecord {
    pub person_id: Uuid,
    pub person: SupportedPerson,
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: Uuid,
    case_reference: String,
    locality: String,
    client_groups: Vec<String>,
    version: i32,
}

#[derive(sqlx::FromRow)]
struct PersonLineRow {
    person_id: Uuid,
    #[sqlx(flatten)]
    line: LineRow,
}

/// Every person of `authority` with an approved plan, with the lines of its latest approved
/// version, ordered by case reference.
pub async fn supported_people(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<Vec<SupportedRecord>, AssessmentError> {
    let people: Vec<PersonRow> = sqlx::query_as(
        "WITH latest AS ( \
             SELECT person_id, max(version) AS version FROM plan_version \
             WHERE authority = $1 AND status = 'approved' GROUP BY person_id) \
         SELECT person.id, person.case_reference, person.locality, person.client_groups, \
             latest.version \
         FROM latest JOIN person ON person.id = latest.person_id \
         WHERE person.authority = $1 \
         ORDER BY person.case_reference",
    )
    .bind(authority.as_str())
    .fetch_all(&mut *connection)
    .await
    .operation("select supported people")?;
    // The lines of exactly the versions just read: a plan approved in between (under READ
    // COMMITTED) cannot pair one version's person with another version's lines.
    let ids: Vec<Uuid> = people.iter().map(|person| person.id).collect();
    let versions: Vec<i32> = people.iter().map(|person| person.version).collect();
    let lines: Vec<PersonLineRow> = sqlx::query_as(
        "SELECT plan_line.person_id, plan_line.version, number, support_type, amount_kind, \
             amount, hours_per_week, hourly_rate, arrangement, provider, holding_model, holder, \
             start_date, end_date \
         FROM plan_line \
         JOIN unnest($1::uuid[], $2::integer[]) AS latest (person_id, version) \
             ON plan_line.person_id = latest.person_id AND plan_line.version = latest.version \
         ORDER BY plan_line.person_id, number",
    )
    .bind(&ids)
    .bind(&versions)
    .fetch_all(&mut *connection)
    .await
    .operation("select approved plan lines")?;
    let mut lines_of: HashMap<Uuid, Vec<crate::domain::PlanLine>> = HashMap::new();
    for row in &lines {
        let line = line_of(&row.line, authority)
            .map_err(|error| anyhow::anyhow!("stored plan line of {}: {error}", row.person_id))?;
        lines_of.entry(row.person_id).or_default().push(line);
    }
    let mut supported = Vec::with_capacity(people.len());
    for row in people {
        let mut client_groups = ClientGroups::new();
        for name in &row.client_groups {
            client_groups.insert(ClientGroup::from_name(name).ok_or_else(|| {
                anyhow::anyhow!("stored person {} has a malformed client group", row.id)
            })?);
        }
        supported.push(SupportedRecord {
            person_id: row.id,
            person: SupportedPerson {
                social_care_id: row.case_reference,
                locality: row.locality,
                client_groups,
                approved_lines: lines_of.remove(&row.id).unwrap_or_default(),
            },
        });
    }
    Ok(supported)
}

/// Logs a read of the authority's aggregate figures (`uptake.read`) or a return
/// (`phs.exported`): who, what for (`subject`: a date or period), and how many people.
pub async fn audit_report(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    actor: &str,
    action: &str,
    subject: &str,
    people: u64,
) -> Result<(), AssessmentError> {
    sqlx::query(
        "INSERT INTO report_audit (authority, actor, action, subject, people) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(authority.as_str())
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(i64::try_from(people).map_err(anyhow::Error::new)?)
    .execute(&mut *connection)
    .await
    .operation("log report")?;
    Ok(())
}

/// Writes `phs.exported` to the audit trail of each person in a return, in one statement.
pub async fn audit_exported(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    person_ids: &[Uuid],
    actor: &str,
) -> Result<(), AssessmentError> {
    sqlx::query(
        "INSERT INTO person_audit (person_id, authority, actor, action) \
         SELECT id, $2, $3, 'phs.exported' FROM unnest($1::uuid[]) AS exported (id)",
    )
    .bind(person_ids)
    .bind(authority.as_str())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("audit exported people")?;
    Ok(())
}
