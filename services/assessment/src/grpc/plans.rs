//! Support plans: the handlers' work. Each change locks the person's plan, reads every
//! version, lets the domain decide, writes the result and (on approval) its event, all in
//! one transaction, with the person's audit trail.

use sds_events::NewEvent;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use tracing::info;
use uuid::Uuid;

use crate::domain::access;
use crate::domain::plan::{NewLine, PlanState, PlanVersion};
use crate::domain::{AuthorityPolicy, decide_plan_approval, policy_in_effect, review_due_on};
use crate::error::AssessmentError;
use crate::providers::{self, KnownProviders};
use crate::store::{self, PersonRecord, StoredVersion};

use super::AssessmentApi;
use super::convert;
use super::plan_wire::{self, PlanContext};

/// A plan version as callers and events see it, with the person's current budget.
pub(crate) async fn plan_message(
    connection: &mut PgConnection,
    person: &PersonRecord,
    stored: &StoredVersion,
) -> Result<proto::Plan, AssessmentError> {
    let budget = store::current_budget(connection, person.id).await?;
    Ok(plan_wire::plan_message(
        &stored.plan,
        &PlanContext {
            person_id: person.id,
            authority: person.authority.clone(),
            budget: budget.map(|record| record.budget.weekly),
            review_due: stored.review_due,
            previous_version: stored.previous_version,
            ends_plan: stored.ends_plan,
        },
    ))
}

impl AssessmentApi {
    pub(super) async fn policies(
        &self,
        connection: &mut PgConnection,
        person: &PersonRecord,
    ) -> Result<Vec<AuthorityPolicy>, AssessmentError> {
        Ok(store::policies_of(connection, &person.authority)
            .await?
            .into_iter()
            .map(|record| record.policy)
            .collect())
    }

    pub(super) async fn plan_message(
        &self,
        connection: &mut PgConnection,
        person: &PersonRecord,
        stored: &StoredVersion,
    ) -> Result<proto::Plan, AssessmentError> {
        plan_message(connection, person, stored).await
    }

    /// Writes a version, notes the action in the person's audit trail and returns the plan
    /// as the caller sees it: the common end of every plan change.
    pub(super) async fn record_version(
        &self,
        connection: &mut PgConnection,
        principal: &Principal,
        person: &PersonRecord,
        stored: &StoredVersion,
        action: &str,
    ) -> Result<proto::Plan, AssessmentError> {
        store::save_version(
            connection,
            person.id,
            &person.authority,
            stored,
            &principal.org_id,
        )
        .await?;
        store::audit(connection, person, &principal.org_id, action).await?;
        self.plan_message(connection, person, stored).await
    }

    /// The person (whom the caller may plan for), with their plan locked and read.
    pub(super) async fn locked_plan(
        &self,
        connection: &mut PgConnection,
        principal: &Principal,
        person_id: Uuid,
        rule: fn(&Principal, &sds_vocabulary::AuthorityId) -> Result<(), access::Denied>,
    ) -> Result<(PersonRecord, Vec<StoredVersion>), AssessmentError> {
        let person = self
            .person_for(connection, principal, person_id, rule)
            .await?;
        store::lock_plan(connection, person.id).await?;
        let versions = store::plan_versions(connection, person.id, &person.authority).await?;
        Ok((person, versions))
    }

    pub(super) async fn draft(
        &self,
        principal: &Principal,
        request: proto::DraftPlanRequest,
    ) -> Result<proto::Plan, AssessmentError> {
        let person_id = convert::id("person_id", &request.person_id)?;
        let effective_from = sds_vocabulary::date::date(
            "effective_from",
            request
                .effective_from
                .as_ref()
                .map(|on| on.iso.as_str())
                .unwrap_or_default(),
        )?;
        let today = self.today();
        let mut transaction = self.pool.begin().await?;
        let (person, versions) = self
            .locked_plan(
                &mut transaction,
                principal,
                person_id,
                access::ensure_may_assess,
            )
            .await?;
        let lines = plan_wire::new_lines(request.lines, &person.authority)?;
        let known = KnownProviders::of(
            &mut transaction,
            lines
                .iter()
                .filter_map(|line| providers::named_provider(&line.arrangement)),
        )
        .await?;
        let lines = known.lines("lines", lines)?;
        let drafted = match versions.last().map(|stored| &stored.plan) {
            None => PlanVersion::draft(effective_from, today, lines),
            Some(latest) => match latest.state() {
                PlanState::Draft => {
                    let replaced = latest.with_draft_lines(lines)?;
                    PlanVersion::restore(
                        replaced.version(),
                        effective_from,
                        today,
                        replaced.lines().to_vec(),
                        PlanState::Draft,
                        None,
                    )?
                }
                PlanState::Rejected { .. }
                    if !versions
                        .iter()
                        .any(|stored| stored.plan.status().name() == "approved") =>
                {
                    redraft(latest.version() + 1, effective_from, today, lines)?
                }
                state => {
                    return Err(AssessmentError::PlanInState {
                        version: latest.version(),
                        status: state.status().name().to_owned(),
                        what: match state {
                            PlanState::Submitted { .. } => "wait until it is approved or rejected",
                            _ => "change an approved plan with a variation",
                        },
                    });
                }
            },
        };
        let stored = StoredVersion {
            review_due: None,
            ..StoredVersion::new(drafted)
        };
        let message = self
            .record_version(
                &mut transaction,
                principal,
                &person,
                &stored,
                "plan.drafted",
            )
            .await?;
        transaction.commit().await?;
        Ok(message)
    }

    /// The latest version, if it is the one the caller names.
    fn latest_named(
        versions: &[StoredVersion],
        person_id: Uuid,
        version: u32,
    ) -> Result<&StoredVersion, AssessmentError> {
        let latest = versions.last().ok_or(AssessmentError::NoPlan(person_id))?;
        if latest.plan.version() != version {
            return Err(AssessmentError::NotLatest {
                version,
                latest: latest.plan.version(),
            });
        }
        Ok(latest)
    }

    pub(super) async fn submit(
        &self,
        principal: &Principal,
        request: proto::SubmitPlanRequest,
    ) -> Result<proto::Plan, AssessmentError> {
        let person_id = convert::id("person_id", &request.person_id)?;
        let mut transaction = self.pool.begin().await?;
        let (person, versions) = self
            .locked_plan(
                &mut transaction,
                principal,
                person_id,
                access::ensure_may_assess,
            )
            .await?;
        let latest = Self::latest_named(&versions, person.id, request.version)?;
        let submitted = if latest.ends_plan {
            latest.plan.submit_end(self.today())?
        } else {
            let budget = store::current_budget(&mut transaction, person.id)
                .await?
                .ok_or(AssessmentError::NoBudget(person.id))?;
            let reason = Some(request.over_budget_reason.as_str())
                .filter(|reason| !reason.trim().is_empty());
            latest.plan.submit(self.today(), &budget.budget, reason)?
        };
        let stored = StoredVersion {
            plan: submitted,
            review_due: None,
            ..latest.clone()
        };
        let message = self
            .record_version(
                &mut transaction,
                principal,
                &person,
                &stored,
                "plan.submitted",
            )
            .await?;
        transaction.commit().await?;
        Ok(message)
    }

    pub(super) async fn approve(
        &self,
        principal: &Principal,
        request: proto::ApprovePlanRequest,
    ) -> Result<proto::Plan, AssessmentError> {
        let person_id = convert::id("person_id", &request.person_id)?;
        let today = self.today();
        let mut transaction = self.pool.begin().await?;
        let (person, versions) = self
            .locked_plan(
                &mut transaction,
                principal,
                person_id,
                access::ensure_may_read,
            )
            .await?;
        let latest = Self::latest_named(&versions, person.id, request.version)?;
        let policies = self.policies(&mut transaction, &person).await?;
        let granted = decide_plan_approval(
            &latest.plan,
            &policies,
            &principal.roles,
            person.details.date_of_birth,
        )?;
        let approved = latest.plan.approve(&granted, today)?;
        let review_due = policy_in_effect(&policies, approved.effective_from())
            .and_then(|policy| review_due_on(today, policy.review_interval));
        let stored = StoredVersion {
            plan: approved,
            review_due,
            ..latest.clone()
        };
        let message = self
            .record_version(
                &mut transaction,
                principal,
                &person,
                &stored,
                "plan.approved",
            )
            .await?;
        sds_events::enqueue(
            &mut transaction,
            NewEvent::new(
                person.authority.clone(),
                person.id.to_string(),
                u64::from(stored.plan.version()),
                approval_event(&stored, message.clone()),
            ),
        )
        .await
        .map_err(|error| {
            AssessmentError::Internal(
                anyhow::Error::new(error).context("write plan.approved to the outbox"),
            )
        })?;
        transaction.commit().await?;
        info!(person_id = %person.id, version = stored.plan.version(), approved_as = granted.approved_as().name(), "plan approved");
        Ok(message)
    }

    pub(super) async fn reject(
        &self,
        principal: &Principal,
        request: proto::RejectPlanRequest,
    ) -> Result<proto::Plan, AssessmentError> {
        let person_id = convert::id("person_id", &request.person_id)?;
        let mut transaction = self.pool.begin().await?;
        let (person, versions) = self
            .locked_plan(
                &mut transaction,
                principal,
                person_id,
                access::ensure_may_assess,
            )
            .await?;
        let latest = Self::latest_named(&versions, person.id, request.version)?;
        let rejected = latest.plan.reject(self.today(), &request.reason)?;
        let stored = StoredVersion {
            plan: rejected,
            review_due: None,
            ..latest.clone()
        };
        let message = self
            .record_version(
                &mut transaction,
                principal,
                &person,
                &stored,
                "plan.rejected",
            )
            .await?;
        transaction.commit().await?;
        Ok(message)
    }
}

/// A fresh draft after a rejected first plan: the next version number, lines from 1.
fn redraft(
    version: u32,
    effective_from: chrono::NaiveDate,
    today: chrono::NaiveDate,
    lines: Vec<NewLine>,
) -> Result<PlanVersion, AssessmentError> {
    let numbered = lines
        .into_iter()
        .zip(1..)
        .map(|(line, number)| line.numbered(number))
        .collect();
    PlanVersion::restore(
        version,
        effective_from,
        today,
        numbered,
        PlanState::Draft,
        None,
    )
    .map_err(|invalid| {
        AssessmentError::Internal(anyhow::anyhow!(
            "a fresh draft failed its own check: {invalid}"
        ))
    })
}

/// What an approval publishes: `plan.approved` for a first plan, `plan.ended` for a version
/// that ends it, `plan.varied` for any other variation.
pub(super) fn approval_event(stored: &StoredVersion, plan: proto::Plan) -> proto::event::Body {
    match (stored.previous_version, stored.ends_plan) {
        (None, _) => proto::event::Body::PlanApproved(proto::PlanApproved { plan: Some(plan) }),
        (Some(_), true) => proto::event::Body::PlanEnded(proto::PlanEnded { plan: Some(plan) }),
        (Some(_), false) => proto::event::Body::PlanVaried(proto::PlanVaried { plan: Some(plan) }),
    }
}
