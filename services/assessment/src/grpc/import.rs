//! ImportCaseRecords: the case system's export, one row per plan line, the rows of one case
//! reference being that person's current approved plan.
//!
//! What must stay true: the import records what the case system decided and judges nothing
//! again against a policy (so it works for an authority that has set none); a person with
//! any bad row is rejected whole, nothing of them written, every bad row reported with its
//! line; importing the same rows again writes, audits and publishes nothing; a changed
//! person or plan becomes a new version, the plan approved "as imported" (as the panel,
//! the most senior approving role, on the import day) and published as `plan.approved`
//! (first) or `plan.varied` (later) through the outbox in the same transaction.
//! Eligibility is read and checked but not stored: an assessment row needs the policy's
//! threshold, which an authority importing its case system may not have set.

use std::collections::{BTreeMap, HashMap};

use sds_events::NewEvent;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::{AuthorityId, Invalid, NamedEnum as _};
use tracing::info;
use uuid::Uuid;

use crate::domain::AuthorityPolicy;
use crate::domain::access;
use crate::domain::option::ProviderRef;
use crate::domain::plan::{NewLine, PlanState};
use crate::error::AssessmentError;
use crate::providers::{self, KnownProviders};
use crate::store::{self, PersonRecord, Recorded, StoredVersion};

use super::AssessmentApi;
use super::case_rows::{GoodRow, disagreements, read_row, rejection};
use super::convert;
use super::imported_plan::{imported_version, same_lines};
use super::plan_wire::{self, PlanContext};

/// The most rows one request may carry.
pub const MAX_ROWS_PER_REQUEST: usize = 5000;

/// What happened to one person.
enum Outcome {
    Imported,
    Updated,
    Unchanged,
}

impl AssessmentApi {
    pub(super) async fn import_case_records(
        &self,
        principal: &Principal,
        request: proto::ImportCaseRecordsRequest,
    ) -> Result<proto::ImportCaseRecordsResponse, AssessmentError> {
        let authority = convert::authority("authority", &request.authority)?;
        access::ensure_may_import_case_records(principal, &authority)?;
        if request.rows.len() > MAX_ROWS_PER_REQUEST {
            return Err(Invalid::new(
                "rows",
                format!(
                    "has {} rows; send at most {MAX_ROWS_PER_REQUEST} per request, all the rows of one case_reference in the same request",
                    request.rows.len()
                ),
            )
            .into());
        }
        let today = self.today();
        let mut rejected: Vec<proto::CaseRecordRejection> = Vec::new();
        // Grouped by case reference, in the order the file gives them.
        let mut people: BTreeMap<String, (Vec<GoodRow>, bool)> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for raw in request.rows {
            let line = raw.source_line;
            let key = raw.case_reference.trim().to_owned();
            let entry = people.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                (Vec::new(), false)
            });
            match read_row(&raw, &authority, today) {
                Ok(row) => entry.0.push(row),
                Err(invalid) => {
                    entry.1 = true;
                    rejected.push(rejection(line, invalid.to_string()));
                }
            }
        }
        let (policies, known_providers) = {
            let mut connection = self.pool.acquire().await?;
            let policies: Vec<AuthorityPolicy> = store::policies_of(&mut connection, &authority)
                .await?
                .into_iter()
                .map(|record| record.policy)
                .collect();
            let named: Vec<ProviderRef> = people
                .values()
                .flat_map(|(rows, _)| rows.iter())
                .filter_map(|row| providers::named_provider(&row.plan_line.arrangement).cloned())
                .collect();
            (policies, KnownProviders::of(&mut connection, &named).await?)
        };
        // Every provider named by its directory id from here on; a row naming one the
        // directory has not published rejects its person like any bad cell.
        for (rows, bad) in people.values_mut() {
            for row in rows.iter_mut() {
                match known_providers
                    .arrangement_named_at("provider", row.plan_line.arrangement.clone())
                {
                    Ok(resolved) => row.plan_line.arrangement = resolved,
                    Err(invalid) => {
                        *bad = true;
                        rejected.push(rejection(row.line, invalid.to_string()));
                    }
                }
            }
        }
        let mut tally = Tally {
            rejected,
            ..Tally::default()
        };
        let mut transaction = self.pool.begin().await?;
        // Read in two queries what the batch's good people already are, so a person whose
        // details and plan are as imported (most of them, in a daily import) costs no
        // further round trip; anyone changed is read again, locked, one by one.
        let good: Vec<String> = people
            .iter()
            .filter(|(_, (_, bad))| !bad)
            .map(|(key, _)| key.clone())
            .collect();
        let known: HashMap<String, PersonRecord> =
            store::people_by_case_reference(&mut transaction, &authority, &good)
                .await?
                .into_iter()
                .map(|person| (person.details.case_reference.as_str().to_owned(), person))
                .collect();
        let ids: Vec<Uuid> = known.values().map(|person| person.id).collect();
        let known_lines = store::latest_approved_lines(&mut transaction, &ids, &authority).await?;
        let mut fresh: Vec<Vec<GoodRow>> = Vec::new();
        for key in order {
            let Some((rows, bad)) = people.remove(&key) else {
                continue;
            };
            if bad {
                tally.people_rejected += 1;
                continue;
            }
            if rows.len() > plan_wire::MAX_LINES {
                tally.count(Err(rejection(
                    rows[0].line,
                    format!(
                        "case_reference {key} has {} rows; a plan has at most {} lines",
                        rows.len(),
                        plan_wire::MAX_LINES
                    ),
                )));
                continue;
            }
            let disagreeing = disagreements(&rows);
            if !disagreeing.is_empty() {
                tally.people_rejected += 1;
                tally.rejected.extend(disagreeing);
                continue;
            }
            let Some(person) = known.get(&key) else {
                fresh.push(rows);
                continue;
            };
            let imported: Vec<NewLine> = rows.iter().map(|row| row.plan_line.clone()).collect();
            if person.details == rows[0].details
                && known_lines
                    .get(&person.id)
                    .is_some_and(|lines| same_lines(lines, &imported))
            {
                tally.unchanged += 1;
                continue;
            }
            tally.count(
                self.import_one(&mut transaction, principal, &authority, &rows, &policies)
                    .await?,
            );
        }
        // The people no one has recorded yet, most of a first import: each table is written
        // once for all of them. Anyone another writer recorded meanwhile takes the
        // one-person path, like a known person.
        let raced = self
            .import_new_people(
                &mut transaction,
                principal,
                &authority,
                fresh,
                &policies,
                &mut tally,
            )
            .await?;
        for rows in raced {
            tally.count(
                self.import_one(&mut transaction, principal, &authority, &rows, &policies)
                    .await?,
            );
        }
        transaction.commit().await?;
        let Tally {
            imported,
            updated,
            unchanged,
            people_rejected,
            mut rejected,
        } = tally;
        rejected.sort_by_key(|rejection| rejection.line);
        info!(%authority, imported, updated, unchanged, rejected = people_rejected, "case records imported");
        Ok(proto::ImportCaseRecordsResponse {
            people_imported: imported,
            people_updated: updated,
            people_unchanged: unchanged,
            people_rejected,
            rejected,
        })
    }

    /// One person through the one-person path, in a savepoint of its own, so a person
    /// refused after their record was read (an open draft, a cost out of range) leaves
    /// nothing behind.
    async fn import_one(
        &self,
        transaction: &mut sqlx::PgConnection,
        principal: &Principal,
        authority: &AuthorityId,
        rows: &[GoodRow],
        policies: &[AuthorityPolicy],
    ) -> Result<Result<Outcome, proto::CaseRecordRejection>, AssessmentError> {
        let mut person_transaction = sqlx::Acquire::begin(&mut *transaction).await?;
        let outcome = self
            .import_person(
                &mut person_transaction,
                principal,
                authority,
                rows,
                policies,
            )
            .await?;
        match outcome {
            Ok(_) => person_transaction.commit().await?,
            Err(_) => person_transaction.rollback().await?,
        }
        Ok(outcome)
    }

    /// People not recorded before: their approved first versions made in memory, then
    /// people, audit entries, versions, lines and events written set-based. Returns the
    /// rows of anyone recorded by another writer since the batch was read.
    async fn import_new_people(
        &self,
        connection: &mut sqlx::PgConnection,
        principal: &Principal,
        authority: &AuthorityId,
        fresh: Vec<Vec<GoodRow>>,
        policies: &[AuthorityPolicy],
        tally: &mut Tally,
    ) -> Result<Vec<Vec<GoodRow>>, AssessmentError> {
        let today = self.today();
        let mut planned: Vec<(Uuid, Vec<GoodRow>, StoredVersion)> = Vec::with_capacity(fresh.len());
        for rows in fresh {
            let imported: Vec<NewLine> = rows.iter().map(|row| row.plan_line.clone()).collect();
            match imported_version(imported, &[], None, today, policies)? {
                Ok(stored) => planned.push((Uuid::now_v7(), rows, stored)),
                Err(reason) => tally.count(Err(rejection(rows[0].line, reason))),
            }
        }
        let details: Vec<(Uuid, &crate::domain::record::PersonDetails)> = planned
            .iter()
            .map(|(id, rows, _)| (*id, &rows[0].details))
            .collect();
        let inserted =
            store::insert_new_people(connection, authority, &details, &principal.org_id).await?;
        let (written, raced): (Vec<_>, Vec<_>) = planned
            .into_iter()
            .partition(|(id, _, _)| inserted.contains(id));
        let audit: Vec<(Uuid, &str)> = written
            .iter()
            .flat_map(|(id, _, _)| [(*id, "person.imported"), (*id, "plan.imported")])
            .collect();
        store::audit_people(connection, authority, &audit, &principal.org_id).await?;
        let versions: Vec<(Uuid, &StoredVersion)> = written
            .iter()
            .map(|(id, _, stored)| (*id, stored))
            .collect();
        store::insert_approved_versions(connection, authority, &versions, &principal.org_id)
            .await?;
        let events: Vec<NewEvent> = written
            .iter()
            .map(|(id, _, stored)| {
                let message = plan_wire::plan_message(
                    &stored.plan,
                    &PlanContext {
                        person_id: *id,
                        authority: authority.clone(),
                        // Someone recorded just now has no indicative budget yet.
                        budget: None,
                        review_due: stored.review_due,
                        previous_version: None,
                        ends_plan: false,
                    },
                );
                NewEvent::new(
                    authority.clone(),
                    id.to_string(),
                    u64::from(stored.plan.version()),
                    super::plans::approval_event(stored, message),
                )
            })
            .collect();
        sds_events::enqueue_all(connection, events)
            .await
            .map_err(|error| {
                AssessmentError::Internal(
                    anyhow::Error::new(error).context("write imported plans' events to the outbox"),
                )
            })?;
        for _ in &written {
            tally.count(Ok(Outcome::Imported));
        }
        Ok(raced.into_iter().map(|(_, rows, _)| rows).collect())
    }

    /// One person's rows, all good: the outcome, or the refusal (on their first line) of a
    /// person whose plan cannot take an imported version.
    async fn import_person(
        &self,
        connection: &mut sqlx::PgConnection,
        principal: &Principal,
        authority: &AuthorityId,
        rows: &[GoodRow],
        policies: &[AuthorityPolicy],
    ) -> Result<Result<Outcome, proto::CaseRecordRejection>, AssessmentError> {
        let first_line = rows[0].line;
        let today = self.today();
        let (person, recorded) =
            store::record_person(connection, authority, &rows[0].details, &principal.org_id)
                .await?;
        store::lock_plan(connection, person.id).await?;
        let versions = store::plan_versions(connection, person.id, authority).await?;
        if let Some(open) = versions.last().filter(|stored| {
            matches!(
                stored.plan.state(),
                PlanState::Draft | PlanState::Submitted { .. }
            )
        }) {
            return Ok(Err(rejection(
                first_line,
                format!(
                    "case_reference {} has plan version {} {} on the platform; approve or reject it before importing",
                    person.details.case_reference,
                    open.plan.version(),
                    open.plan.status().name()
                ),
            )));
        }
        let approved = versions
            .iter()
            .rev()
            .find(|stored| matches!(stored.plan.state(), PlanState::Approved(_)));
        let imported: Vec<NewLine> = rows.iter().map(|row| row.plan_line.clone()).collect();
        let plan_changed = match approved {
            Some(latest) => !same_lines(latest.plan.lines(), &imported),
            None => true,
        };
        if plan_changed {
            let stored = match imported_version(imported, &versions, approved, today, policies)? {
                Ok(stored) => stored,
                Err(reason) => return Ok(Err(rejection(first_line, reason))),
            };
            self.audit_person(connection, principal, &person, recorded)
                .await?;
            let message = self
                .record_version(connection, principal, &person, &stored, "plan.imported")
                .await?;
            sds_events::enqueue(
                connection,
                NewEvent::new(
                    person.authority.clone(),
                    person.id.to_string(),
                    u64::from(stored.plan.version()),
                    super::plans::approval_event(&stored, message),
                ),
            )
            .await
            .map_err(|error| {
                AssessmentError::Internal(
                    anyhow::Error::new(error)
                        .context("write an imported plan's event to the outbox"),
                )
            })?;
        } else if recorded != Recorded::Unchanged {
            self.audit_person(connection, principal, &person, recorded)
                .await?;
        }
        // An unchanged person is not audited: nothing of their record changed, and nothing
        // of it was shown to the caller, so importing the same file twice writes nothing.
        Ok(Ok(match (recorded, plan_changed) {
            (Recorded::New, _) => Outcome::Imported,
            (Recorded::Changed, _) | (_, true) => Outcome::Updated,
            (Recorded::Unchanged, false) => Outcome::Unchanged,
        }))
    }

    async fn audit_person(
        &self,
        connection: &mut sqlx::PgConnection,
        principal: &Principal,
        person: &PersonRecord,
        recorded: Recorded,
    ) -> Result<(), AssessmentError> {
        let action = match recorded {
            Recorded::New => "person.imported",
            Recorded::Changed => "person.updated",
            Recorded::Unchanged => return Ok(()),
        };
        store::audit(connection, person, &principal.org_id, action).await
    }
}

/// What one request did, person by person.
#[derive(Default)]
struct Tally {
    imported: u64,
    updated: u64,
    unchanged: u64,
    people_rejected: u64,
    rejected: Vec<proto::CaseRecordRejection>,
}

impl Tally {
    fn count(&mut self, outcome: Result<Outcome, proto::CaseRecordRejection>) {
        match outcome {
            Ok(Outcome::Imported) => self.imported += 1,
            Ok(Outcome::Updated) => self.updated += 1,
            Ok(Outcome::Unchanged) => self.unchanged += 1,
            Err(refusal) => {
                self.people_rejected += 1;
                self.rejected.push(refusal);
            }
        }
    }
}
