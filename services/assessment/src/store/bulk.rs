//! Set-based writes for the case-system import: the people a batch brings for the first
//! time, their audit entries, their first (approved) plan versions and lines, each table
//! written by one `INSERT ... SELECT FROM UNNEST` for the whole batch instead of a round
//! trip per person (QUALITY.md P4).
//!
//! What must stay true: these write exactly the rows the one-person path writes for the
//! same person (the same columns, the same audit actions), inside the caller's transaction;
//! a person another writer recorded meanwhile is not overwritten but reported back, so the
//! caller takes the one-person path for them.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::StoredVersion;
use super::plans::LineColumns;
use crate::domain::plan::PlanState;
use crate::domain::record::PersonDetails;
use crate::error::AssessmentError;

/// Inserts people not yet recorded, each with the id given. Returns the ids actually
/// inserted: a case reference recorded by someone else since the caller looked is left as
/// it is, and its id is missing from the answer.
pub async fn insert_new_people(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    people: &[(Uuid, &PersonDetails)],
    actor: &str,
) -> Result<HashSet<Uuid>, AssessmentError> {
    if people.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
    let references: Vec<&str> = people
        .iter()
        .map(|(_, details)| details.case_reference.as_str())
        .collect();
    let names: Vec<&str> = people
        .iter()
        .map(|(_, details)| details.display_name.as_str())
        .collect();
    let births: Vec<NaiveDate> = people
        .iter()
        .map(|(_, details)| details.date_of_birth)
        .collect();
    let localities: Vec<&str> = people
        .iter()
        .map(|(_, details)| details.locality.as_str())
        .collect();
    // A text[] per person cannot be unnested from a ragged array; group names never hold a
    // comma, so each person's groups travel as one comma-joined text.
    let groups: Vec<String> = people
        .iter()
        .map(|(_, details)| {
            details
                .client_groups
                .iter()
                .map(|group| group.name())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO person (id, authority, case_reference, display_name, date_of_birth, \
             locality, client_groups, version, recorded_by, updated_by) \
         SELECT id, $7, reference, name, born, locality, string_to_array(groups, ','), 1, $8, $8 \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[]) \
              AS given(id, reference, name, born, locality, groups) \
         ON CONFLICT (authority, case_reference) DO NOTHING \
         RETURNING id",
    )
    .bind(&ids)
    .bind(&references)
    .bind(&names)
    .bind(&births)
    .bind(&localities)
    .bind(&groups)
    .bind(authority.as_str())
    .bind(actor)
    .fetch_all(&mut *connection)
    .await
    .operation("insert imported people")?;
    Ok(inserted.into_iter().collect())
}

/// Appends one audit entry per (person, action), in the order given.
pub async fn audit_people(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    entries: &[(Uuid, &str)],
    actor: &str,
) -> Result<(), AssessmentError> {
    if entries.is_empty() {
        return Ok(());
    }
    let people: Vec<Uuid> = entries.iter().map(|(person, _)| *person).collect();
    let actions: Vec<&str> = entries.iter().map(|(_, action)| *action).collect();
    sqlx::query(
        "INSERT INTO person_audit (person_id, authority, actor, action) \
         SELECT person, $3, $4, action \
         FROM UNNEST($1::uuid[], $2::text[]) WITH ORDINALITY AS given(person, action, ordinal) \
         ORDER BY ordinal",
    )
    .bind(&people)
    .bind(&actions)
    .bind(authority.as_str())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("audit imported people")?;
    Ok(())
}

/// Inserts approved versions that no one has stored yet (a person's first, as imported),
/// with their lines.
pub async fn insert_approved_versions(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    versions: &[(Uuid, &StoredVersion)],
    actor: &str,
) -> Result<(), AssessmentError> {
    if versions.is_empty() {
        return Ok(());
    }
    let mut people = Vec::with_capacity(versions.len());
    let mut numbers = Vec::with_capacity(versions.len());
    let mut effective = Vec::with_capacity(versions.len());
    let mut recorded = Vec::with_capacity(versions.len());
    let mut approved_on = Vec::with_capacity(versions.len());
    let mut approved_as = Vec::with_capacity(versions.len());
    let mut approved_weekly: Vec<Decimal> = Vec::with_capacity(versions.len());
    let mut review_due: Vec<Option<NaiveDate>> = Vec::with_capacity(versions.len());
    let mut previous: Vec<Option<i32>> = Vec::with_capacity(versions.len());
    let mut lines = LineArrays::default();
    for (person, stored) in versions {
        let PlanState::Approved(approval) = stored.plan.state() else {
            return Err(AssessmentError::Internal(anyhow::anyhow!(
                "an imported version of {person} is not approved"
            )));
        };
        let number = i32::try_from(stored.plan.version()).map_err(anyhow::Error::new)?;
        people.push(*person);
        numbers.push(number);
        effective.push(stored.plan.effective_from());
        recorded.push(stored.plan.recorded_on());
        approved_on.push(approval.approved_on);
        approved_as.push(approval.approved_as.name());
        approved_weekly.push(approval.weekly_cost.as_decimal());
        review_due.push(stored.review_due);
        previous.push(
            stored
                .previous_version
                .map(i32::try_from)
                .transpose()
                .map_err(anyhow::Error::new)?,
        );
        for line in stored.plan.lines() {
            lines.push(*person, number, LineColumns::of(line)?);
        }
    }
    sqlx::query(
        "INSERT INTO plan_version (person_id, version, authority, effective_from, recorded_on, \
             status, approved_on, approved_as, approved_weekly, review_due, previous_version, \
             recorded_by, updated_by) \
         SELECT person, version, $10, effective_from, recorded_on, 'approved', approved_on, \
             approved_as, approved_weekly, review_due, previous, $11, $11 \
         FROM UNNEST($1::uuid[], $2::int[], $3::date[], $4::date[], $5::date[], $6::text[], \
                     $7::numeric[], $8::date[], $9::int[]) \
              AS given(person, version, effective_from, recorded_on, approved_on, approved_as, \
                       approved_weekly, review_due, previous)",
    )
    .bind(&people)
    .bind(&numbers)
    .bind(&effective)
    .bind(&recorded)
    .bind(&approved_on)
    .bind(&approved_as)
    .bind(&approved_weekly)
    .bind(&review_due)
    .bind(&previous)
    .bind(authority.as_str())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("insert imported plan versions")?;
    sqlx::query(
        "INSERT INTO plan_line (person_id, version, number, support_type, amount_kind, amount, \
             hours_per_week, hourly_rate, weekly, arrangement, provider, holding_model, holder, \
             start_date, end_date) \
         SELECT * FROM UNNEST($1::uuid[], $2::int[], $3::int[], $4::text[], $5::text[], \
             $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[], $10::text[], \
             $11::text[], $12::text[], $13::text[], $14::date[], $15::date[])",
    )
    .bind(&lines.people)
    .bind(&lines.versions)
    .bind(&lines.numbers)
    .bind(&lines.support_types)
    .bind(&lines.amount_kinds)
    .bind(&lines.amounts)
    .bind(&lines.hours)
    .bind(&lines.rates)
    .bind(&lines.weekly)
    .bind(&lines.arrangements)
    .bind(&lines.providers)
    .bind(&lines.holding_models)
    .bind(&lines.holders)
    .bind(&lines.starts)
    .bind(&lines.ends)
    .execute(&mut *connection)
    .await
    .operation("insert imported plan lines")?;
    Ok(())
}

/// Plan lines as one array per column, for one UNNEST.
#[derive(Default)]
struct LineArrays {
    people: Vec<Uuid>,
    versions: Vec<i32>,
    numbers: Vec<i32>,
    support_types: Vec<&'static str>,
    amount_kinds: Vec<&'static str>,
    amounts: Vec<Option<Decimal>>,
    hours: Vec<Option<Decimal>>,
    rates: Vec<Option<Decimal>>,
    weekly: Vec<Decimal>,
    arrangements: Vec<&'static str>,
    providers: Vec<Option<String>>,
    holding_models: Vec<Option<&'static str>>,
    holders: Vec<Option<String>>,
    starts: Vec<NaiveDate>,
    ends: Vec<Option<NaiveDate>>,
}

impl LineArrays {
    fn push(&mut self, person: Uuid, version: i32, line: LineColumns) {
        self.people.push(person);
        self.versions.push(version);
        self.numbers.push(line.number);
        self.support_types.push(line.support_type);
        self.amount_kinds.push(line.amount_kind);
        self.amounts.push(line.amount);
        self.hours.push(line.hours_per_week);
        self.rates.push(line.hourly_rate);
        self.weekly.push(line.weekly);
        self.arrangements.push(line.arrangement);
        self.providers.push(line.provider);
        self.holding_models.push(line.holding_model);
        self.holders.push(line.holder);
        self.starts.push(line.start_date);
        self.ends.push(line.end_date);
    }
}
