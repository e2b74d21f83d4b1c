//! Changes to an approved plan: variations (lines added, changed, ended, or the whole plan
//! ended, from an effective date within the backdating window) and the person's choice of
//! provider on an option 2 line. A variation is a new draft version that goes through
//! submission and approval like the first plan; a choice changes no amount, so it becomes
//! a new approved version carrying the approval it follows from, and is published at once.

use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;
use tracing::info;

use crate::domain::access;
use crate::domain::option::ProviderRef;
use crate::domain::plan::PlanState;
use crate::domain::{
    Invalid, LineChange, SupportType, Variation, VariationDates, vary_under_policy,
};
use crate::error::AssessmentError;
use crate::providers::{self, KnownProviders};
use crate::store::StoredVersion;

use super::AssessmentApi;
use super::choice::{self, Choice};
use super::convert;
use super::plan_wire::{self, named_within};

/// Most changes in one variation.
const MAX_CHANGES: usize = 100;

impl AssessmentApi {
    pub(super) async fn vary_plan_version(
        &self,
        principal: &Principal,
        request: proto::VaryPlanRequest,
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
        let latest = versions.last().ok_or(AssessmentError::NoPlan(person.id))?;
        let base = match latest.plan.state() {
            PlanState::Approved(_) => latest,
            PlanState::Rejected { .. } if latest.previous_version.is_some() => versions
                .iter()
                .rev()
                .find(|stored| stored.plan.status().name() == "approved")
                .ok_or(AssessmentError::NoPlan(person.id))?,
            state => {
                return Err(AssessmentError::PlanInState {
                    version: latest.plan.version(),
                    status: state.status().name().to_owned(),
                    what: match state {
                        PlanState::Rejected { .. } => "the plan was never approved; draft it again",
                        _ => {
                            "submit and approve or reject the open version before varying the plan"
                        }
                    },
                });
            }
        };
        if base.plan.version() != request.version {
            return Err(AssessmentError::NotLatest {
                version: request.version,
                latest: base.plan.version(),
            });
        }
        let variation = variation(request.changes, request.end_plan, &person.authority)?;
        let variation = resolve_providers(&mut transaction, variation).await?;
        let policies = self.policies(&mut transaction, &person).await?;
        let varied = vary_under_policy(
            &base.plan,
            &policies,
            VariationDates {
                effective_from,
                recorded_on: today,
                latest_version: latest.plan.version(),
            },
            &variation,
        )?;
        let stored = StoredVersion {
            plan: varied,
            review_due: None,
            previous_version: Some(base.plan.version()),
            ends_plan: request.end_plan,
        };
        let message = self
            .record_version(
                &mut transaction,
                principal,
                &person,
                &stored,
                "plan.variation_drafted",
            )
            .await?;
        transaction.commit().await?;
        info!(person_id = %person.id, version = stored.plan.version(), ends_plan = stored.ends_plan, "plan variation drafted");
        Ok(message)
    }

    pub(super) async fn choose_provider(
        &self,
        principal: &Principal,
        request: proto::RecordProviderChoiceRequest,
    ) -> Result<proto::Plan, AssessmentError> {
        let person_id = convert::id("person_id", &request.person_id)?;
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
        let latest = versions.last().ok_or(AssessmentError::NoPlan(person.id))?;
        if !matches!(latest.plan.state(), PlanState::Approved(_)) {
            return Err(AssessmentError::PlanInState {
                version: latest.plan.version(),
                status: latest.plan.status().name().to_owned(),
                what: "a choice of provider is recorded on the approved plan; finish the open version first",
            });
        }
        if latest.plan.version() != request.version {
            return Err(AssessmentError::NotLatest {
                version: request.version,
                latest: latest.plan.version(),
            });
        }
        let named = ProviderRef::parse("provider", &request.provider)?;
        let holder = plan_wire::holder(
            &proto::PersonDirected {
                provider: request.provider.clone(),
                holding_model: request.holding_model,
                holder: request.holder.clone(),
            },
            &person.authority,
        )
        .map_err(strip_person_directed)?
        .ok_or_else(|| {
            Invalid::new(
                "holding_model",
                "is unspecified; say who holds the fund: third_party, provider or authority",
            )
        })?;
        let recorded = choice::record_choice(
            &mut transaction,
            &principal.org_id,
            &person,
            latest,
            today,
            &Choice {
                line_number: request.line_number,
                provider: named,
                holder,
            },
        )
        .await?;
        if recorded.changed {
            transaction.commit().await?;
        } else {
            transaction.rollback().await?;
        }
        Ok(recorded.plan)
    }
}

/// The request names the holder's fields at the top level, not under `person_directed`.
fn strip_person_directed(invalid: Invalid) -> Invalid {
    match invalid.field().strip_prefix("person_directed.") {
        Some(field) => Invalid::new(field.to_owned(), invalid.problem().to_owned()),
        None => invalid,
    }
}

fn variation(
    changes: Vec<proto::LineChange>,
    end_plan: bool,
    authority: &sds_vocabulary::AuthorityId,
) -> Result<Variation, Invalid> {
    if end_plan {
        if !changes.is_empty() {
            return Err(Invalid::new(
                "changes",
                "are given with end_plan; end the plan, or change its lines, not both",
            ));
        }
        return Ok(Variation::EndPlan);
    }
    if changes.is_empty() {
        return Err(Invalid::new(
            "changes",
            "is empty; give the lines added, changed or ended, or end_plan",
        ));
    }
    if changes.len() > MAX_CHANGES {
        return Err(Invalid::new(
            "changes",
            format!(
                "has {} changes; at most {MAX_CHANGES} at once",
                changes.len()
            ),
        ));
    }
    changes
        .into_iter()
        .enumerate()
        .map(|(index, change)| {
            let field = format!("changes[{index}]");
            match change.kind {
                Some(proto::line_change::Kind::Add(line)) => {
                    plan_wire::new_line(&format!("{field}.add"), line, authority)
                        .map(LineChange::Add)
                }
                Some(proto::line_change::Kind::End(number)) => Ok(LineChange::End { number }),
                Some(proto::line_change::Kind::Change(update)) => {
                    let within = |invalid: Invalid| invalid.within(&format!("{field}.change"));
                    let support_type = match update.support_type {
                        0 => None,
                        raw => Some(SupportType::from_wire("support_type", raw).map_err(within)?),
                    };
                    let amount = match update.amount {
                        None => None,
                        Some(amount) => Some(
                            plan_wire::line_amount(Some(amount))
                                .map_err(|invalid| within(named_within("amount", invalid)))?,
                        ),
                    };
                    let arrangement = match update.arrangement {
                        None => None,
                        Some(arrangement) => Some(
                            plan_wire::arrangement(Some(arrangement), authority)
                                .map_err(|invalid| within(named_within("arrangement", invalid)))?,
                        ),
                    };
                    Ok(LineChange::Change {
                        number: update.number,
                        support_type,
                        amount,
                        arrangement,
                    })
                }
                None => Err(Invalid::new(field, "is empty; give add, change or end")),
            }
        })
        .collect::<Result<Vec<_>, Invalid>>()
        .map(Variation::Lines)
}

/// The variation with every provider it names resolved to its directory id.
async fn resolve_providers(
    connection: &mut sqlx::PgConnection,
    variation: Variation,
) -> Result<Variation, AssessmentError> {
    let Variation::Lines(changes) = variation else {
        return Ok(variation);
    };
    let known = KnownProviders::of(
        connection,
        changes.iter().filter_map(|change| match change {
            LineChange::Add(line) => providers::named_provider(&line.arrangement),
            LineChange::Change {
                arrangement: Some(arrangement),
                ..
            } => providers::named_provider(arrangement),
            _ => None,
        }),
    )
    .await?;
    let changes = changes
        .into_iter()
        .enumerate()
        .map(|(index, change)| {
            Ok(match change {
                LineChange::Add(mut line) => {
                    line.arrangement = known.arrangement(
                        &format!("changes[{index}].add.arrangement"),
                        line.arrangement,
                    )?;
                    LineChange::Add(line)
                }
                LineChange::Change {
                    number,
                    support_type,
                    amount,
                    arrangement,
                } => LineChange::Change {
                    number,
                    support_type,
                    amount,
                    arrangement: arrangement
                        .map(|arrangement| {
                            known.arrangement(
                                &format!("changes[{index}].change.arrangement"),
                                arrangement,
                            )
                        })
                        .transpose()?,
                },
                end @ LineChange::End { .. } => end,
            })
        })
        .collect::<Result<Vec<_>, Invalid>>()?;
    Ok(Variation::Lines(changes))
}
