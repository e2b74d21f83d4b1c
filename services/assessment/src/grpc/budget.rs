//! SetIndicativeBudget: the weekly budget the person is told up front, worked out from the
//! RAS of the policy in effect, from hours at rates (the policy's standard rate when none
//! is given), or set by hand with a reason; kept with who set it, and in the person's
//! audit trail.

use chrono::SecondsFormat;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::NamedEnum as _;
use tracing::info;

use crate::domain::access;
use crate::domain::budget::{budget_from_hours, budget_from_ras, budget_set_by_hand};
use crate::domain::{HoursItem, Invalid, RasAnswer, policy_in_effect};
use crate::error::AssessmentError;
use crate::store;

use super::AssessmentApi;
use super::convert;
use super::plan_wire::{self, positive_money};

impl AssessmentApi {
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
}
