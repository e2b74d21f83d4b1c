//! The set-based write of a Care Inspectorate batch: a handful of statements whatever the
//! number of rows (upsert providers, upsert grades, move versions, record history), so a
//! batch of a thousand services costs about what one costs.

use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::import::CareInspectorateService;
use crate::domain::{CareInspectorateNumber, ChangeName, ProviderId, ProviderKind};
use crate::error::DirectoryError;

use super::rows::capacity_column;

/// Joins the entries of a list into one text for an UNNEST parameter, since PostgreSQL
/// arrays of arrays must be rectangular. Validated text never holds control characters,
/// so the unit separator cannot occur inside an entry.
const LIST_SEPARATOR: char = '\u{1f}';

/// Which providers an import registered, which it changed, and how many it found as they were.
#[derive(Debug, Default)]
pub struct ImportOutcome {
    pub registered: Vec<ProviderId>,
    pub updated: Vec<ProviderId>,
    pub unchanged: u64,
}

/// Registers the services not yet in the directory and updates the Care Inspectorate's
/// fields of those that are (status and combined partner among them), keyed on the service number. Each service number must occur
/// once in `services` (see `domain::import::first_row_of_each_service`). A provider whose
/// fields and grades are already as imported is left exactly as it was: no new version,
/// no event.
pub async fn import_services(
    connection: &mut PgConnection,
    services: &[CareInspectorateService],
    actor: &str,
) -> Result<ImportOutcome, DirectoryError> {
    if services.is_empty() {
        return Ok(ImportOutcome::default());
    }
    // In service-number order, so that two imports touching the same services lock their
    // rows in the same order and cannot deadlock.
    let mut services: Vec<&CareInspectorateService> = services.iter().collect();
    services.sort_by(|left, right| left.number.cmp(&right.number));
    let proposed_ids: Vec<Uuid> = services
        .iter()
        .map(|_| ProviderId::generate().as_uuid())
        .collect();
    let numbers: Vec<&str> = services
        .iter()
        .map(|service| service.number.as_str())
        .collect();
    let names: Vec<&str> = services
        .iter()
        .map(|service| service.name.as_str())
        .collect();
    let joined = |list: &[String]| list.join(&LIST_SEPARATOR.to_string());
    let service_types: Vec<String> = services
        .iter()
        .map(|service| joined(&service.service_types))
        .collect();
    let localities: Vec<String> = services
        .iter()
        .map(|service| joined(&service.localities))
        .collect();
    let statuses: Vec<&str> = services
        .iter()
        .map(|service| service.status.name())
        .collect();
    let partners: Vec<Option<&str>> = services
        .iter()
        .map(|service| {
            service
                .combined_with
                .as_ref()
                .map(CareInspectorateNumber::as_str)
        })
        .collect();
    let mut capacities: Vec<Option<i32>> = Vec::with_capacity(services.len());
    for service in &services {
        capacities.push(capacity_column(service.capacity)?);
    }

    // A conflicting row whose Care Inspectorate fields are unchanged is not updated and not
    // returned; a returned row carrying our proposed id is one we inserted.
    let touched: Vec<(Uuid, String)> = sqlx::query_as(
        "INSERT INTO provider (id, name, kind, care_inspectorate_number, service_types, localities, \
             capacity, care_service_status, combined_service_number, holds_isfs, version, \
             registered_by, updated_by) \
         SELECT incoming.id, incoming.name, $7, incoming.number, \
                string_to_array(incoming.service_types, chr(31)), \
                string_to_array(incoming.localities, chr(31)), \
                incoming.capacity, incoming.status, incoming.partner, false, 1, $8, $8 \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], \
                     $9::text[], $10::text[]) \
              AS incoming(id, number, name, service_types, localities, capacity, status, partner) \
         ON CONFLICT (care_inspectorate_number) DO UPDATE SET name = excluded.name, \
             service_types = excluded.service_types, localities = excluded.localities, \
             capacity = excluded.capacity, care_service_status = excluded.care_service_status, \
             combined_service_number = excluded.combined_service_number \
         WHERE (provider.name, provider.service_types, provider.localities, provider.capacity, \
                provider.care_service_status, provider.combined_service_number) \
               IS DISTINCT FROM \
               (excluded.name, excluded.service_types, excluded.localities, excluded.capacity, \
                excluded.care_service_status, excluded.combined_service_number) \
         RETURNING id, care_inspectorate_number",
    )
    .bind(&proposed_ids)
    .bind(&numbers)
    .bind(&names)
    .bind(&service_types)
    .bind(&localities)
    .bind(&capacities)
    .bind(ProviderKind::RegisteredCareService.name())
    .bind(actor)
    .bind(&statuses)
    .bind(&partners)
    .fetch_all(&mut *connection)
    .await
    .operation("upsert imported services")?;

    let proposed_id_of: HashMap<&str, Uuid> = numbers
        .iter()
        .copied()
        .zip(proposed_ids.iter().copied())
        .collect();
    let mut registered: HashSet<Uuid> = HashSet::new();
    let mut changed: HashSet<Uuid> = HashSet::new();
    for (id, number) in touched {
        if proposed_id_of.get(number.as_str()) == Some(&id) {
            registered.insert(id);
        } else {
            changed.insert(id);
        }
    }

    let regraded = import_grades(connection, &services, actor).await?;
    changed.extend(regraded.into_iter().filter(|id| !registered.contains(id)));

    let registered: Vec<Uuid> = registered.into_iter().collect();
    let changed: Vec<Uuid> = changed.into_iter().collect();
    let all_touched: Vec<Uuid> = registered.iter().chain(&changed).copied().collect();

    // New providers stay at version 1; changed ones move on by one. Both get their
    // minimum grade from the grades just written.
    let versions: Vec<(Uuid, i64)> = sqlx::query_as(
        "UPDATE provider SET \
             version = CASE WHEN id = ANY($2) THEN version ELSE version + 1 END, \
             updated_at = now(), updated_by = $3, \
             min_grade = (SELECT min(grade) FROM current_grade WHERE provider_id = provider.id) \
         WHERE id = ANY($1) \
         RETURNING id, version",
    )
    .bind(&all_touched)
    .bind(&registered)
    .bind(actor)
    .fetch_all(&mut *connection)
    .await
    .operation("move imported providers to their next version")?;

    let registered_set: HashSet<Uuid> = registered.iter().copied().collect();
    let history_ids: Vec<Uuid> = versions.iter().map(|(id, _)| *id).collect();
    let history_versions: Vec<i64> = versions.iter().map(|(_, version)| *version).collect();
    let history_changes: Vec<&str> = versions
        .iter()
        .map(|(id, _)| {
            if registered_set.contains(id) {
                ChangeName::Registered.name()
            } else {
                ChangeName::Import.name()
            }
        })
        .collect();
    sqlx::query(
        "INSERT INTO provider_change (provider_id, version, change, changed_by) \
         SELECT id, version, change, $4 \
         FROM UNNEST($1::uuid[], $2::bigint[], $3::text[]) AS history(id, version, change)",
    )
    .bind(&history_ids)
    .bind(&history_versions)
    .bind(&history_changes)
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("record imported provider changes")?;

    let unchanged = services.len() - all_touched.len();
    Ok(ImportOutcome {
        registered: registered.into_iter().map(ProviderId::from_uuid).collect(),
        updated: changed.into_iter().map(ProviderId::from_uuid).collect(),
        unchanged: u64::try_from(unchanged).unwrap_or(u64::MAX),
    })
}

/// The date of the latest grade the directory holds for each of `numbers` that it knows
/// and has graded: what dates the undated grades of a service combined with one of them.
pub async fn latest_grade_dates(
    connection: &mut PgConnection,
    numbers: &[CareInspectorateNumber],
) -> Result<HashMap<CareInspectorateNumber, NaiveDate>, DirectoryError> {
    if numbers.is_empty() {
        return Ok(HashMap::new());
    }
    let wanted: Vec<&str> = numbers.iter().map(CareInspectorateNumber::as_str).collect();
    let rows: Vec<(String, NaiveDate)> = sqlx::query_as(
        "SELECT p.care_inspectorate_number, max(g.inspected_on) \
         FROM provider p JOIN grade g ON g.provider_id = p.id \
         WHERE p.care_inspectorate_number = ANY($1) \
         GROUP BY p.care_inspectorate_number",
    )
    .bind(&wanted)
    .fetch_all(&mut *connection)
    .await
    .operation("read the latest grade dates of combined partners")?;
    let mut dates = HashMap::with_capacity(rows.len());
    for (number, date) in rows {
        let number = CareInspectorateNumber::parse("care_inspectorate_number", &number)
            .with_context(|| format!("stored service number {number:?} is malformed"))?;
        dates.insert(number, date);
    }
    Ok(dates)
}

/// Adds the batch's grades to the history of each service, correcting a grade recorded
/// for the same key question and date, unless commissioning staff withdrew it: a withdrawn
/// entry keeps the value its withdrawal was about, and only `RecordGrades` brings it back.
/// Returns the providers whose grades changed.
async fn import_grades(
    connection: &mut PgConnection,
    services: &[&CareInspectorateService],
    actor: &str,
) -> Result<HashSet<Uuid>, DirectoryError> {
    let mut numbers: Vec<&str> = Vec::new();
    let mut key_questions: Vec<&str> = Vec::new();
    let mut values: Vec<i16> = Vec::new();
    let mut inspected_on = Vec::new();
    for service in services {
        for grade in &service.grades {
            numbers.push(service.number.as_str());
            key_questions.push(grade.key_question.name());
            values.push(i16::from(grade.grade.get()));
            inspected_on.push(grade.inspected_on);
        }
    }
    if numbers.is_empty() {
        return Ok(HashSet::new());
    }
    let regraded: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO grade (provider_id, key_question, grade, inspected_on, recorded_by) \
         SELECT p.id, incoming.key_question, incoming.grade, incoming.inspected_on, $5 \
         FROM UNNEST($1::text[], $2::text[], $3::smallint[], $4::date[]) \
              AS incoming(number, key_question, grade, inspected_on) \
         JOIN provider p ON p.care_inspectorate_number = incoming.number \
         ON CONFLICT (provider_id, key_question, inspected_on) DO UPDATE SET \
             grade = excluded.grade, recorded_at = now(), recorded_by = excluded.recorded_by \
         WHERE grade.grade <> excluded.grade AND grade.withdrawn_at IS NULL \
         RETURNING provider_id",
    )
    .bind(&numbers)
    .bind(&key_questions)
    .bind(&values)
    .bind(&inspected_on)
    .bind(actor)
    .fetch_all(&mut *connection)
    .await
    .operation("insert imported grades")?;
    Ok(regraded.into_iter().collect())
}
