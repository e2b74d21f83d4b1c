//! People, keyed on the case system's reference within an authority, and the append-only
//! audit of every change to and read of a person's record.

use chrono::{DateTime, NaiveDate, Utc};
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::person::{ClientGroup, ClientGroups};
use crate::domain::record::{CaseReference, PersonDetails};
use crate::error::AssessmentError;

/// A person as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub id: Uuid,
    pub authority: AuthorityId,
    pub details: PersonDetails,
    pub version: u64,
    pub recorded_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What recording a person did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Changed,
    Unchanged,
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: Uuid,
    authority: String,
    case_reference: String,
    display_name: String,
    date_of_birth: NaiveDate,
    locality: String,
    client_groups: Vec<String>,
    version: i64,
    recorded_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl PersonRow {
    fn into_record(self) -> anyhow::Result<PersonRecord> {
        let id = self.id;
        let bad = |what: &str| anyhow::anyhow!("stored person {id} has a malformed {what}");
        let mut client_groups = ClientGroups::new();
        for name in &self.client_groups {
            client_groups.insert(ClientGroup::from_name(name).ok_or_else(|| bad("client group"))?);
        }
        Ok(PersonRecord {
            id,
            authority: AuthorityId::parse("authority", &self.authority)
                .map_err(|_| bad("authority"))?,
            details: PersonDetails {
                case_reference: CaseReference::parse("case_reference", &self.case_reference)
                    .map_err(|_| bad("case reference"))?,
                display_name: self.display_name,
                date_of_birth: self.date_of_birth,
                locality: self.locality,
                client_groups,
            },
            version: u64::try_from(self.version).map_err(|_| bad("version"))?,
            recorded_at: self.recorded_at,
            updated_at: self.updated_at,
        })
    }
}

/// The columns a [`PersonRow`] reads, as a literal for `concat!` (sqlx takes only static SQL).
macro_rules! person_columns {
    () => {
        "id, authority, case_reference, display_name, date_of_birth, locality, client_groups, \
         version, recorded_at, updated_at"
    };
}

/// Records a person, or changes the one with the same case reference in the authority; a
/// request that would change nothing writes nothing.
pub async fn record_person(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    details: &PersonDetails,
    actor: &str,
) -> Result<(PersonRecord, Recorded), AssessmentError> {
    let groups: Vec<&str> = details
        .client_groups
        .iter()
        .map(|group| group.name())
        .collect();
    let proposed = Uuid::now_v7();
    let written: Option<PersonRow> = sqlx::query_as(concat!(
        "INSERT INTO person (id, authority, case_reference, display_name, date_of_birth, \
             locality, client_groups, version, recorded_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) \
         ON CONFLICT (authority, case_reference) DO UPDATE SET \
             display_name = excluded.display_name, date_of_birth = excluded.date_of_birth, \
             locality = excluded.locality, client_groups = excluded.client_groups, \
             version = person.version + 1, updated_at = now(), updated_by = excluded.updated_by \
         WHERE (person.display_name, person.date_of_birth, person.locality, person.client_groups) \
               IS DISTINCT FROM \
               (excluded.display_name, excluded.date_of_birth, excluded.locality, excluded.client_groups) \
         RETURNING ",
        person_columns!()
    ))
    .bind(proposed)
    .bind(authority.as_str())
    .bind(details.case_reference.as_str())
    .bind(&details.display_name)
    .bind(details.date_of_birth)
    .bind(&details.locality)
    .bind(&groups)
    .bind(actor)
    .fetch_optional(&mut *connection)
    .await
    .operation("record person")?;
    match written {
        Some(row) => {
            let outcome = if row.id == proposed {
                Recorded::New
            } else {
                Recorded::Changed
            };
            Ok((row.into_record()?, outcome))
        }
        None => {
            let row: PersonRow = sqlx::query_as(concat!(
                "SELECT ",
                person_columns!(),
                " FROM person WHERE authority = $1 AND case_reference = $2"
            ))
            .bind(authority.as_str())
            .bind(details.case_reference.as_str())
            .fetch_one(&mut *connection)
            .await
            .operation("read unchanged person")?;
            Ok((row.into_record()?, Recorded::Unchanged))
        }
    }
}

pub async fn load_person(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<PersonRecord>, AssessmentError> {
    let row: Option<PersonRow> = sqlx::query_as(concat!(
        "SELECT ",
        person_columns!(),
        " FROM person WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await
    .operation("load person")?;
    Ok(row.map(PersonRow::into_record).transpose()?)
}

/// Appends to the person's audit trail: who did what to or with their record.
pub async fn audit(
    connection: &mut PgConnection,
    person: &PersonRecord,
    actor: &str,
    action: &str,
) -> Result<(), AssessmentError> {
    sqlx::query(
        "INSERT INTO person_audit (person_id, authority, actor, action) VALUES ($1, $2, $3, $4)",
    )
    .bind(person.id)
    .bind(person.authority.as_str())
    .bind(actor)
    .bind(action)
    .execute(&mut *connection)
    .await
    .operation("audit person record")?;
    Ok(())
}

/// The authority's people with these case references, read in one query: what the
/// case-system import compares a whole batch with before it writes anything.
pub async fn people_by_case_reference(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    case_references: &[String],
) -> Result<Vec<PersonRecord>, AssessmentError> {
    let rows: Vec<PersonRow> = sqlx::query_as(concat!(
        "SELECT ",
        person_columns!(),
        " FROM person WHERE authority = $1 AND case_reference = ANY($2)"
    ))
    .bind(authority.as_str())
    .bind(case_references)
    .fetch_all(&mut *connection)
    .await
    .operation("select people by case reference")?;
    Ok(rows
        .into_iter()
        .map(PersonRow::into_record)
        .collect::<anyhow::Result<_>>()?)
}

/// The id, case reference and name of each of the authority's people among `ids`.
pub async fn people_references(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String, String)>, AssessmentError> {
    Ok(sqlx::query_as(
        "SELECT id, case_reference, display_name FROM person \
         WHERE authority = $1 AND id = ANY($2)",
    )
    .bind(authority.as_str())
    .bind(ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select people references")?)
}
