//! Indicative budgets and support plans: the handlers' work. Each change locks the
//! person's plan, reads every version, lets the domain decide, writes the result and (on
//! approval) its `plan.approved` event, all in one transaction, with the person's audit
//! trail.

use chrono::SecondsFormat;
use sds_events::NewEvent;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use tracing::info;
use uuid::Uuid;

use crate::domain::access;
use crate::domain::budget::{budget_from_hours, budget_from_ras, budget_set_by_hand};
use crate::domain::plan::{NewLine, PlanState, PlanVersion};
use crate::domain::{
    AuthorityPolicy, HoursItem, Invalid, RasAnswer, decide_plan_approval, policy_in_effect,
    review_due_on,
};
use crate::error::AssessmentError;
use crate::store::{self, PersonRecord, StoredVersion};

use super::AssessmentApi;
use super::convert;
use super::plan_wire::{self, PlanContext, positive_money};

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

    pub(super) async fn set_budget(
        &self,
        principal: &Principal,
        request: proto::SetIndicativeBudgetRequest,
    ) -> Result<proto::IndicativeBudget, AssessmentError> {
        let person_id = convert::id("person_id", &request.person_id)?;
        let set_on = match request
            .set_on
            .as_ref()
            .filter(|on| !on.iso.trim().is_empty())
        {
            Some(on) => sds_vocabulary::date::date("set_on", &on.iso)?,
            None => self.today(),
        };
        let mut transaction = self.pool.begin().await?;
        let person = self
            .person_for(
                &mut transaction,
                principal,
                person_id,
                access::ensure_may_assess,
            )
            .await?;
        let policies = self.policies(&mut transaction, &person).await?;
        let policy = policy_in_effect(&policies, set_on);
        let budget = match request.method {
            Some(proto::set_indicative_budget_request::Method::ResourceAllocation(answers)) => {
                let policy = policy.ok_or_else(|| AssessmentError::NoPolicy {
                    authority: person.authority.clone(),
                    on: set_on,
                })?;
                let ras = policy.ras.as_ref().ok_or_else(|| {
                    Invalid::new(
                        "resource_allocation",
                        format!(
                            "cannot be used: {} has no resource allocation system in its policy on {set_on}; work the budget out as hours_at_rates or set it by_hand",
                            person.authority
                        ),
                    )
                })?;
                let answers: Vec<RasAnswer> = answers
                    .answers
                    .into_iter()
                    .map(|answer| RasAnswer {
                        code: answer.code,
                        score: answer.score,
                    })
                    .collect();
                budget_from_ras(ras, &answers)
                    .map_err(|invalid| invalid.within("resource_allocation"))?
            }
            Some(proto::set_indicative_budget_request::Method::HoursAtRates(hours)) => {
                let standard = policy.and_then(|policy| policy.standard_hourly_rate);
                let mut items = Vec::with_capacity(hours.items.len());
                for (index, item) in hours.items.into_iter().enumerate() {
                    let field = format!("hours_at_rates.items[{index}]");
                    let hourly_rate = match item.hourly_rate.as_ref().filter(|rate| !rate.amount.trim().is_empty()) {
                        Some(rate) => positive_money(&format!("{field}.hourly_rate"), Some(rate))?,
                        None => standard.ok_or_else(|| {
                            Invalid::new(
                                format!("{field}.hourly_rate"),
                                "is missing and the policy has no standard hourly rate; give the rate",
                            )
                        })?,
                    };
                    items.push(HoursItem {
                        description: sds_vocabulary::text::required_text(
                            &format!("{field}.description"),
                            &item.description,
                            sds_vocabulary::text::MAX_TEXT_CHARS,
                        )?,
                        hours_per_week: sds_vocabulary::decimal::decimal(
                            &format!("{field}.hours_per_week"),
                            &item.hours_per_week,
                            2,
                        )?,
                        hourly_rate,
                    });
                }
                budget_from_hours(&items).map_err(|invalid| invalid.within("hours_at_rates"))?
            }
            Some(proto::set_indicative_budget_request::Method::ByHand(by_hand)) => {
                let weekly = positive_money("by_hand.weekly", by_hand.weekly.as_ref())?;
                budget_set_by_hand(weekly, &by_hand.reason)
                    .map_err(|invalid| invalid.within("by_hand"))?
            }
            None => {
                return Err(Invalid::new(
                    "method",
                    "is missing; give resource_allocation answers, hours_at_rates or by_hand",
                )
                .into());
            }
        };
        let recorded_at = store::insert_budget(
            &mut transaction,
            person.id,
            &budget,
            set_on,
            &principal.org_id,
        )
        .await?;
        store::audit(&mut transaction, &person, &principal.org_id, "budget.set").await?;
        transaction.commit().await?;
        info!(person_id = %person.id, method = budget.method.name(), "indicative budget set");
        Ok(plan_wire::budget_message(
            person.id,
            &budget,
            set_on,
            recorded_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            principal.org_id.clone(),
        ))
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

    pub(super) async fn get(
        &self,
        principal: &Principal,
        request: proto::GetPlanRequest,
    ) -> Result<proto::Plan, AssessmentError> {
        let person_id = convert::id("person_id", &request.person_id)?;
        let mut transaction = self.pool.begin().await?;
        let person = self
            .person_for(
                &mut transaction,
                principal,
                person_id,
                access::ensure_may_read,
            )
            .await?;
        let versions = store::plan_versions(&mut transaction, person.id, &person.authority).await?;
        let latest = versions.last().ok_or(AssessmentError::NoPlan(person.id))?;
        let stored = match request.version {
            0 => latest,
            wanted => versions
                .iter()
                .find(|stored| stored.plan.version() == wanted)
                .ok_or(AssessmentError::NoSuchVersion {
                    person: person.id,
                    version: wanted,
                    latest: latest.plan.version(),
                })?,
        };
        store::audit(&mut transaction, &person, &principal.org_id, "plan.read").await?;
        let message = self.plan_message(&mut transaction, &person, stored).await?;
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
