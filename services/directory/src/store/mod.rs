//! The directory's SQL. Small functions over an open connection or transaction, so the
//! caller decides what commits together; every multi-row write is one statement (UNNEST).
//! Row types stay in [`rows`]; what leaves this module is domain types.

mod grades;
mod import;
pub mod open_data;
pub mod package_offers;
pub mod package_requests;
mod registration;
mod rows;
mod search;

use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use std::collections::HashMap;

use anyhow::Context as _;
use sds_platform::error::is_unique_violation;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{
    AuthorityId, CareInspectorateNumber, ChangeName, Check, FrameworkMembership, Grade,
    ProviderChange, ProviderDetails, ProviderId, ProviderRecord,
};
use crate::error::DirectoryError;

pub use grades::{grade_history, withdraw_grades};
pub use import::{ImportOutcome, import_services, latest_grade_dates};
pub use registration::claim_request_id;
pub use search::search;

use rows::{CheckRow, FeeColumns, FrameworkRow, GradeRow, ProviderRow, capacity_column};

/// Constraint names the store tells apart when PostgreSQL refuses a duplicate.
const PROVIDER_PRIMARY_KEY: &str = "provider_pkey";
const CARE_INSPECTORATE_NUMBER_KEY: &str = "provider_care_inspectorate_number_key";

/// Inserts a new provider at version 1, with its first history entry. `stewards` are the
/// authorities that registered it on its behalf (see `access::ensure_may_update`).
pub async fn insert_provider(
    connection: &mut PgConnection,
    id: ProviderId,
    details: &ProviderDetails,
    stewards: &[AuthorityId],
    actor: &str,
) -> Result<(), DirectoryError> {
    let stewards: Vec<&str> = stewards.iter().map(AuthorityId::as_str).collect();
    let fee = FeeColumns::of(details.management_fee.as_ref());
    sqlx::query(
        "INSERT INTO provider (id, name, kind, care_inspectorate_number, service_types, localities, \
             capacity, holds_isfs, fee_kind, fee_flat_weekly, fee_percentage, \
             fee_admin_hours_per_week, fee_admin_hourly_rate, contact_email, contact_phone, \
             stewards, version, registered_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $17, 1, $16, $16)",
    )
    .bind(id.as_uuid())
    .bind(&details.name)
    .bind(details.kind.name())
    .bind(details.care_inspectorate_number.as_ref().map(|number| number.as_str()))
    .bind(&details.service_types)
    .bind(&details.localities)
    .bind(capacity_column(details.capacity)?)
    .bind(details.holds_isfs)
    .bind(fee.kind)
    .bind(fee.flat_weekly)
    .bind(fee.percentage)
    .bind(fee.admin_hours_per_week)
    .bind(fee.admin_hourly_rate)
    .bind(&details.contact_email)
    .bind(&details.contact_phone)
    .bind(actor)
    .bind(&stewards)
    .execute(&mut *connection)
    .await
    .map_err(|error| duplicate_or(error, id, details.care_inspectorate_number.as_ref()))?;

    sqlx::query(
        "INSERT INTO provider_change (provider_id, version, change, changed_by) VALUES ($1, 1, $2, $3)",
    )
    .bind(id.as_uuid())
    .bind(ChangeName::Registered.name())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("record provider registration")?;
    Ok(())
}

/// Names the duplicate PostgreSQL refused, if it was one the caller can act on.
fn duplicate_or(
    error: sqlx::Error,
    id: ProviderId,
    number: Option<&CareInspectorateNumber>,
) -> DirectoryError {
    if is_unique_violation(&error) {
        let constraint = match &error {
            sqlx::Error::Database(database) => database.constraint().map(str::to_owned),
            _ => None,
        };
        match (constraint.as_deref(), number) {
            (Some(PROVIDER_PRIMARY_KEY), _) => return DirectoryError::AlreadyRegistered(id),
            (Some(CARE_INSPECTORATE_NUMBER_KEY), Some(number)) => {
                return DirectoryError::CareInspectorateNumberTaken(number.clone());
            }
            _ => {}
        }
    }
    DirectoryError::Database(error)
}

/// Locks a provider for the rest of the transaction and returns its version, so that a
/// change and its version number cannot interleave with another change.
pub async fn lock_provider(
    connection: &mut PgConnection,
    id: ProviderId,
) -> Result<Option<u64>, DirectoryError> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM provider WHERE id = $1 FOR UPDATE")
            .bind(id.as_uuid())
            .fetch_optional(&mut *connection)
            .await
            .operation("lock provider")?;
    version
        .map(|version| {
            u64::try_from(version).map_err(|error| DirectoryError::Internal(error.into()))
        })
        .transpose()
}

/// Writes one change to a locked provider. The version is moved on separately by
/// [`record_new_version`], in the same transaction.
pub async fn apply_change(
    connection: &mut PgConnection,
    id: ProviderId,
    change: &ProviderChange,
    actor: &str,
) -> Result<(), DirectoryError> {
    match change {
        ProviderChange::Details(details) => replace_details(connection, id, details).await,
        ProviderChange::Check(check) => record_check(connection, id, check, actor).await,
        ProviderChange::Grades(grades) => record_grades(connection, id, grades, actor).await,
        ProviderChange::FrameworkStatus(membership) => {
            set_framework_status(connection, id, membership, actor).await
        }
        ProviderChange::CareInspectorateNumber(number) => {
            set_care_inspectorate_number(connection, id, number.as_ref()).await
        }
    }
}

/// Replaces the details a provider maintains. The Care Inspectorate number is not one of
/// them: it is left as it is whatever `details` carries (the handler has already refused
/// a request that would change it; see `access::ensure_keeps_care_inspectorate_number`).
async fn replace_details(
    connection: &mut PgConnection,
    id: ProviderId,
    details: &ProviderDetails,
) -> Result<(), DirectoryError> {
    let fee = FeeColumns::of(details.management_fee.as_ref());
    sqlx::query(
        "UPDATE provider SET name = $2, kind = $3, \
             service_types = $4, localities = $5, capacity = $6, holds_isfs = $7, \
             fee_kind = $8, fee_flat_weekly = $9, fee_percentage = $10, \
             fee_admin_hours_per_week = $11, fee_admin_hourly_rate = $12, \
             contact_email = $13, contact_phone = $14 \
         WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(&details.name)
    .bind(details.kind.name())
    .bind(&details.service_types)
    .bind(&details.localities)
    .bind(capacity_column(details.capacity)?)
    .bind(details.holds_isfs)
    .bind(fee.kind)
    .bind(fee.flat_weekly)
    .bind(fee.percentage)
    .bind(fee.admin_hours_per_week)
    .bind(fee.admin_hourly_rate)
    .bind(&details.contact_email)
    .bind(&details.contact_phone)
    .execute(&mut *connection)
    .await
    .operation("replace provider details")?;
    Ok(())
}

/// A check replaces the provider's previous check of the same kind.
async fn record_check(
    connection: &mut PgConnection,
    id: ProviderId,
    check: &Check,
    actor: &str,
) -> Result<(), DirectoryError> {
    sqlx::query(
        "INSERT INTO provider_check (provider_id, kind, reference, checked_on, expires_on, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (provider_id, kind) DO UPDATE SET reference = excluded.reference, \
             checked_on = excluded.checked_on, expires_on = excluded.expires_on, \
             recorded_at = now(), recorded_by = excluded.recorded_by",
    )
    .bind(id.as_uuid())
    .bind(check.kind().name())
    .bind(check.reference())
    .bind(check.checked_on())
    .bind(check.expires_on())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("upsert provider check")?;
    Ok(())
}

/// Adds an inspection's grades to the history; the same key question and date again
/// corrects the grade recorded for it, and brings it back if it had been withdrawn (the
/// import, by contrast, never does: see `import::import_grades`).
async fn record_grades(
    connection: &mut PgConnection,
    id: ProviderId,
    grades: &[Grade],
    actor: &str,
) -> Result<(), DirectoryError> {
    let key_questions: Vec<&str> = grades
        .iter()
        .map(|grade| grade.key_question.name())
        .collect();
    let values: Vec<i16> = grades
        .iter()
        .map(|grade| i16::from(grade.grade.get()))
        .collect();
    let inspected_on: Vec<_> = grades.iter().map(|grade| grade.inspected_on).collect();
    sqlx::query(
        "INSERT INTO grade (provider_id, key_question, grade, inspected_on, recorded_by) \
         SELECT $1, key_question, grade, inspected_on, $5 \
         FROM UNNEST($2::text[], $3::smallint[], $4::date[]) AS incoming(key_question, grade, inspected_on) \
         ON CONFLICT (provider_id, key_question, inspected_on) DO UPDATE SET grade = excluded.grade, \
             recorded_at = now(), recorded_by = excluded.recorded_by, \
             withdrawn_at = NULL, withdrawn_by = NULL, withdrawn_reason = NULL",
    )
    .bind(id.as_uuid())
    .bind(key_questions)
    .bind(values)
    .bind(inspected_on)
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("insert grades")?;
    Ok(())
}

async fn set_framework_status(
    connection: &mut PgConnection,
    id: ProviderId,
    membership: &FrameworkMembership,
    actor: &str,
) -> Result<(), DirectoryError> {
    sqlx::query(
        "INSERT INTO framework_membership (provider_id, authority, status, set_by) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (provider_id, authority) DO UPDATE SET status = excluded.status, \
             set_at = now(), set_by = excluded.set_by",
    )
    .bind(id.as_uuid())
    .bind(membership.authority.as_str())
    .bind(membership.status.name())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("upsert framework membership")?;
    Ok(())
}

/// Attaches, corrects or (with `None`) clears a provider's service number. A number
/// another provider holds is refused by the unique constraint, named for the caller.
/// What the import said about the old number (inactive, combined with another) belongs to
/// that service, not to the provider: a new or cleared number starts active and combined
/// with none until the next import says more.
async fn set_care_inspectorate_number(
    connection: &mut PgConnection,
    id: ProviderId,
    number: Option<&CareInspectorateNumber>,
) -> Result<(), DirectoryError> {
    sqlx::query(
        "UPDATE provider SET care_inspectorate_number = $2, \
             care_service_status = CASE WHEN care_inspectorate_number IS DISTINCT FROM $2 \
                 THEN 'active' ELSE care_service_status END, \
             combined_service_number = CASE WHEN care_inspectorate_number IS DISTINCT FROM $2 \
                 THEN NULL ELSE combined_service_number END \
         WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(number.map(CareInspectorateNumber::as_str))
    .execute(&mut *connection)
    .await
    .map_err(|error| duplicate_or(error, id, number))?;
    Ok(())
}

/// Moves a changed provider to its next version, keeps its minimum grade, and records who
/// made the change. Returns the new version.
pub async fn record_new_version(
    connection: &mut PgConnection,
    id: ProviderId,
    change: ChangeName,
    actor: &str,
) -> Result<u64, DirectoryError> {
    let version: i64 = sqlx::query_scalar(
        "WITH changed AS ( \
             UPDATE provider SET version = version + 1, updated_at = now(), updated_by = $2, \
                 min_grade = (SELECT min(grade) FROM current_grade WHERE provider_id = $1) \
             WHERE id = $1 \
             RETURNING id, version) \
         INSERT INTO provider_change (provider_id, version, change, changed_by) \
         SELECT id, version, $3, $2 FROM changed \
         RETURNING version",
    )
    .bind(id.as_uuid())
    .bind(actor)
    .bind(change.name())
    .fetch_one(&mut *connection)
    .await
    .operation("record provider version")?;
    u64::try_from(version).map_err(|error| DirectoryError::Internal(error.into()))
}

/// Who keeps a provider's record, and the number only commissioning staff set: what an
/// update is checked against before it opens a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKeeping {
    pub name: String,
    pub care_inspectorate_number: Option<CareInspectorateNumber>,
    pub stewards: Vec<AuthorityId>,
}

/// How a provider's record is kept now; `None` when the provider is not in the directory.
pub async fn record_keeping_of(
    connection: &mut PgConnection,
    id: ProviderId,
) -> Result<Option<RecordKeeping>, DirectoryError> {
    let row: Option<(String, Option<String>, Vec<String>)> = sqlx::query_as(
        "SELECT name, care_inspectorate_number, stewards FROM provider WHERE id = $1",
    )
    .bind(id.as_uuid())
    .fetch_optional(&mut *connection)
    .await
    .operation("read how a provider's record is kept")?;
    let Some((name, number, stewards)) = row else {
        return Ok(None);
    };
    let care_inspectorate_number = number
        .map(|number| CareInspectorateNumber::parse("care_inspectorate_number", &number))
        .transpose()
        .with_context(|| format!("stored provider {id} has a malformed service number"))?;
    let stewards = stewards
        .iter()
        .map(|authority| AuthorityId::parse("stewards", authority))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("stored provider {id} has a malformed steward"))?;
    Ok(Some(RecordKeeping {
        name,
        care_inspectorate_number,
        stewards,
    }))
}

/// The number of a registered care service, other than `except`, whose name reads the same
/// as `name` (case and runs of spaces aside; see `domain::impersonation`).
pub async fn registered_service_named(
    connection: &mut PgConnection,
    name: &str,
    except: ProviderId,
) -> Result<Option<CareInspectorateNumber>, DirectoryError> {
    let number: Option<String> = sqlx::query_scalar(
        "SELECT care_inspectorate_number FROM provider \
         WHERE care_inspectorate_number IS NOT NULL AND name_key(name) = name_key($1) AND id <> $2 \
         ORDER BY care_inspectorate_number LIMIT 1",
    )
    .bind(name)
    .bind(except.as_uuid())
    .fetch_optional(&mut *connection)
    .await
    .operation("look for a registered service of the same name")?;
    Ok(number
        .map(|number| CareInspectorateNumber::parse("care_inspectorate_number", &number))
        .transpose()
        .context("stored provider has a malformed service number")?)
}

pub async fn load_provider(
    connection: &mut PgConnection,
    id: ProviderId,
) -> Result<Option<ProviderRecord>, DirectoryError> {
    Ok(load_providers(connection, &[id]).await?.into_iter().next())
}

/// Loads providers with their current grades, checks and frameworks, in the order of
/// `ids`; ids not in the directory are left out. Four queries whatever the number of ids.
pub async fn load_providers(
    connection: &mut PgConnection,
    ids: &[ProviderId],
) -> Result<Vec<ProviderRecord>, DirectoryError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let uuids: Vec<Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    let providers: Vec<ProviderRow> = sqlx::query_as(
        "SELECT id, name, kind, care_inspectorate_number, service_types, localities, capacity, \
             holds_isfs, fee_kind, fee_flat_weekly, fee_percentage, fee_admin_hours_per_week, \
             fee_admin_hourly_rate, contact_email, contact_phone, stewards, care_service_status, \
             combined_service_number, version, registered_at, updated_at \
         FROM provider WHERE id = ANY($1)",
    )
    .bind(&uuids)
    .fetch_all(&mut *connection)
    .await
    .operation("select providers")?;
    let grades: Vec<GradeRow> = sqlx::query_as(
        "SELECT provider_id, key_question, grade, inspected_on FROM current_grade \
         WHERE provider_id = ANY($1)",
    )
    .bind(&uuids)
    .fetch_all(&mut *connection)
    .await
    .operation("select current grades")?;
    let checks: Vec<CheckRow> = sqlx::query_as(
        "SELECT provider_id, kind, reference, checked_on, expires_on FROM provider_check \
         WHERE provider_id = ANY($1)",
    )
    .bind(&uuids)
    .fetch_all(&mut *connection)
    .await
    .operation("select provider checks")?;
    let frameworks: Vec<FrameworkRow> = sqlx::query_as(
        "SELECT provider_id, authority, status FROM framework_membership \
         WHERE provider_id = ANY($1) ORDER BY authority",
    )
    .bind(&uuids)
    .fetch_all(&mut *connection)
    .await
    .operation("select framework memberships")?;

    let mut grades_of = group_by_provider(grades, |row| (row.provider_id, row.into_grade()))?;
    let mut checks_of = group_by_provider(checks, |row| (row.provider_id, row.into_check()))?;
    let mut frameworks_of =
        group_by_provider(frameworks, |row| (row.provider_id, row.into_membership()))?;
    let mut records: HashMap<Uuid, ProviderRecord> = HashMap::with_capacity(providers.len());
    for row in providers {
        let id = row.id;
        let mut grades = grades_of.remove(&id).unwrap_or_default();
        grades.sort_by_key(|grade| grade.key_question);
        let mut checks = checks_of.remove(&id).unwrap_or_default();
        checks.sort_by_key(Check::kind);
        let frameworks = frameworks_of.remove(&id).unwrap_or_default();
        records.insert(id, row.into_record(grades, checks, frameworks)?);
    }
    Ok(uuids.iter().filter_map(|id| records.remove(id)).collect())
}

/// Converts child rows and groups them by the provider they belong to, keeping row order.
fn group_by_provider<Row, Item, E>(
    rows: Vec<Row>,
    convert: impl Fn(Row) -> (Uuid, Result<Item, E>),
) -> Result<HashMap<Uuid, Vec<Item>>, E> {
    let mut grouped: HashMap<Uuid, Vec<Item>> = HashMap::new();
    for row in rows {
        let (provider_id, item) = convert(row);
        grouped.entry(provider_id).or_default().push(item?);
    }
    Ok(grouped)
}
