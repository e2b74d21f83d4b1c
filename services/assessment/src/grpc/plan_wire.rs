//! Plans and budgets across the wire: validated lines in, plan versions and budgets out.
//! Field paths in refusals are those of the request (`lines[1].amount.weekly`).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_vocabulary::date::{date, iso};
use sds_vocabulary::decimal::decimal;
use sds_vocabulary::named_enum::WireEnum;
use sds_vocabulary::{AuthorityId, NamedEnum, shown};
use uuid::Uuid;

use crate::domain::amount::{GivenAmount, LineAmount};
use crate::domain::option::{
    Arrangement, FundHolder, FundHoldingModel, PersonsChoice, ProviderRef,
};
use crate::domain::plan::{NewLine, PlanState, PlanVersion};
use crate::domain::{BudgetLine, IndicativeBudget, Invalid, LineSpan, SupportType};

/// Most lines in one plan version.
pub const MAX_LINES: usize = 100;

fn date_field(field: &str, raw: Option<&proto::Date>) -> Result<NaiveDate, Invalid> {
    date(
        field,
        raw.map(|value| value.iso.as_str()).unwrap_or_default(),
    )
}

fn optional_date(field: &str, raw: Option<&proto::Date>) -> Result<Option<NaiveDate>, Invalid> {
    match raw {
        Some(given) if !given.iso.trim().is_empty() => date(field, &given.iso).map(Some),
        _ => Ok(None),
    }
}

/// An amount above zero with at most 2 decimal places.
pub fn positive_money(field: &str, raw: Option<&proto::Money>) -> Result<Money, Invalid> {
    let raw = raw
        .map(|money| money.amount.as_str())
        .filter(|amount| !amount.trim().is_empty())
        .ok_or_else(|| Invalid::new(field, "is missing; give an amount such as \"210.00\""))?;
    let amount = Money::parse(raw.trim())
        .map_err(|error| Invalid::new(field, format!("is not valid: {error}")))?;
    if amount.is_negative() || amount.is_zero() {
        return Err(Invalid::new(
            field,
            format!("is {}; it must be above 0.00", shown(raw)),
        ));
    }
    Ok(amount)
}

fn hours(field: &str, raw: &str) -> Result<Decimal, Invalid> {
    let hours = decimal(field, raw, 2)?;
    if hours.is_zero() {
        return Err(Invalid::new(
            field,
            "is 0; give the hours a week, such as 7.5",
        ));
    }
    Ok(hours)
}

pub(super) fn line_amount(raw: Option<proto::LineAmount>) -> Result<LineAmount, Invalid> {
    let given = match raw.and_then(|amount| amount.amount) {
        Some(proto::line_amount::Amount::Weekly(weekly)) => GivenAmount::Weekly {
            per_week: positive_money("weekly", Some(&weekly))?,
        },
        Some(proto::line_amount::Amount::Annual(annual)) => GivenAmount::Annual {
            per_year: positive_money("annual", Some(&annual))?,
        },
        Some(proto::line_amount::Amount::HoursAtRate(at_rate)) => GivenAmount::HoursAtRate {
            hours_per_week: hours("hours_at_rate.hours_per_week", &at_rate.hours_per_week)?,
            hourly_rate: positive_money("hours_at_rate.hourly_rate", at_rate.hourly_rate.as_ref())?,
        },
        None => {
            return Err(Invalid::new(
                "",
                "is missing; give weekly, annual or hours_at_rate",
            ));
        }
    };
    LineAmount::new(given).map_err(|invalid| match invalid.field() {
        "per_week" => Invalid::new("weekly", invalid.problem().to_owned()),
        "per_year" => Invalid::new("annual", invalid.problem().to_owned()),
        other => Invalid::new(
            format!("hours_at_rate.{other}"),
            invalid.problem().to_owned(),
        ),
    })
}

fn provider(field: &str, raw: &str) -> Result<Option<ProviderRef>, Invalid> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        ProviderRef::parse(field, raw).map(Some)
    }
}

pub(super) fn arrangement(
    raw: Option<proto::Arrangement>,
    authority: &AuthorityId,
) -> Result<Arrangement, Invalid> {
    match raw.and_then(|arrangement| arrangement.arrangement) {
        Some(proto::arrangement::Arrangement::DirectPayment(_)) => Ok(Arrangement::DirectPayment),
        Some(proto::arrangement::Arrangement::AuthorityArranged(arranged)) => {
            Ok(Arrangement::AuthorityArranged {
                provider: provider("authority_arranged.provider", &arranged.provider)?,
            })
        }
        Some(proto::arrangement::Arrangement::PersonDirected(directed)) => {
            let holder = holder(&directed, authority)?;
            Ok(Arrangement::PersonDirected(PersonsChoice {
                provider: provider("person_directed.provider", &directed.provider)?,
                holder,
            }))
        }
        None => Err(Invalid::new(
            "",
            "is missing; give direct_payment (option 1), person_directed (option 2: the person chooses the provider) or authority_arranged (option 3)",
        )),
    }
}

pub(super) fn holder(
    directed: &proto::PersonDirected,
    authority: &AuthorityId,
) -> Result<Option<FundHolder>, Invalid> {
    let named = directed.holder.trim();
    if directed.holding_model == 0 {
        if !named.is_empty() {
            return Err(Invalid::new(
                "person_directed.holding_model",
                "is unspecified but a holder is named; give the holding model too (third_party)",
            ));
        }
        return Ok(None);
    }
    let model =
        FundHoldingModel::from_wire("person_directed.holding_model", directed.holding_model)?;
    match model {
        FundHoldingModel::ThirdParty => {
            let holder = Uuid::parse_str(named).map_err(|_| {
                Invalid::new(
                    "person_directed.holder",
                    format!(
                        "{} is not a holder; a third-party holder is named by its organisation id (a UUID)",
                        shown(named)
                    ),
                )
            })?;
            Ok(Some(FundHolder::ThirdParty { holder }))
        }
        FundHoldingModel::Provider | FundHoldingModel::Authority if !named.is_empty() => {
            Err(Invalid::new(
                "person_directed.holder",
                format!(
                    "is given, but a {}-held fund's holder follows from the model; leave it empty",
                    model.name().replace('_', "-")
                ),
            ))
        }
        FundHoldingModel::Provider => Ok(Some(FundHolder::Provider)),
        FundHoldingModel::Authority => Ok(Some(FundHolder::Authority {
            authority: authority.clone(),
        })),
    }
}

pub fn new_lines(
    raw: Vec<proto::NewPlanLine>,
    authority: &AuthorityId,
) -> Result<Vec<NewLine>, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::new(
            "lines",
            "is empty; a plan needs at least one line",
        ));
    }
    if raw.len() > MAX_LINES {
        return Err(Invalid::new(
            "lines",
            format!("has {} lines; a plan has at most {MAX_LINES}", raw.len()),
        ));
    }
    raw.into_iter()
        .enumerate()
        .map(|(index, line)| new_line(&format!("lines[{index}]"), line, authority))
        .collect()
}

/// One new line; refusals are placed under `field` (`lines[2]`, `changes[0].add`).
pub fn new_line(
    field: &str,
    line: proto::NewPlanLine,
    authority: &AuthorityId,
) -> Result<NewLine, Invalid> {
    let within = |invalid: Invalid| {
        if invalid.field().is_empty() {
            Invalid::new(field.to_owned(), invalid.problem().to_owned())
        } else {
            invalid.within(field)
        }
    };
    let support_type = SupportType::from_wire("support_type", line.support_type).map_err(within)?;
    let amount =
        line_amount(line.amount).map_err(|invalid| within(named_within("amount", invalid)))?;
    let arrangement = arrangement(line.arrangement, authority)
        .map_err(|invalid| within(named_within("arrangement", invalid)))?;
    let start = date_field("start", line.start.as_ref()).map_err(within)?;
    let end = optional_date("end", line.end.as_ref()).map_err(within)?;
    let span = LineSpan::new(start, end).map_err(within)?;
    Ok(NewLine {
        support_type,
        amount,
        arrangement,
        span,
    })
}

/// Places a refusal of a part inside the part's field; an empty field is the part itself.
pub(super) fn named_within(part: &str, invalid: Invalid) -> Invalid {
    if invalid.field().is_empty() {
        Invalid::new(part, invalid.problem().to_owned())
    } else {
        invalid.within(part)
    }
}

// ---- responses -----------------------------------------------------------------------

fn date_message(on: NaiveDate) -> proto::Date {
    proto::Date { iso: iso(on) }
}

fn money_message(amount: Money) -> proto::Money {
    proto::Money {
        amount: amount.to_string(),
    }
}

fn provider_text(provider: &ProviderRef) -> String {
    match provider {
        ProviderRef::Directory(id) => id.to_string(),
        ProviderRef::CareInspectorate(number) => number.to_string(),
    }
}

fn arrangement_message(arrangement: &Arrangement) -> proto::Arrangement {
    use proto::arrangement::Arrangement as Wire;
    let wire = match arrangement {
        Arrangement::DirectPayment => Wire::DirectPayment(proto::DirectPayment {}),
        Arrangement::AuthorityArranged { provider } => {
            Wire::AuthorityArranged(proto::AuthorityArranged {
                provider: provider.as_ref().map(provider_text).unwrap_or_default(),
            })
        }
        Arrangement::PersonDirected(choice) => Wire::PersonDirected(proto::PersonDirected {
            provider: choice
                .provider
                .as_ref()
                .map(provider_text)
                .unwrap_or_default(),
            holding_model: choice
                .holder
                .as_ref()
                .map_or(0, |holder| holder.model().wire_number()),
            holder: match &choice.holder {
                Some(FundHolder::ThirdParty { holder }) => holder.to_string(),
                _ => String::new(),
            },
        }),
    };
    proto::Arrangement {
        arrangement: Some(wire),
    }
}

fn amount_message(amount: &LineAmount) -> proto::LineAmount {
    use proto::line_amount::Amount;
    let wire = match amount.given() {
        GivenAmount::Weekly { per_week } => Amount::Weekly(money_message(per_week)),
        GivenAmount::Annual { per_year } => Amount::Annual(money_message(per_year)),
        GivenAmount::HoursAtRate {
            hours_per_week,
            hourly_rate,
        } => Amount::HoursAtRate(proto::HoursAtRate {
            hours_per_week: hours_per_week.normalize().to_string(),
            hourly_rate: Some(money_message(hourly_rate)),
        }),
    };
    proto::LineAmount { amount: Some(wire) }
}

/// What a plan message says beyond the version itself.
pub struct PlanContext {
    pub person_id: Uuid,
    pub authority: AuthorityId,
    pub budget: Option<Money>,
    pub review_due: Option<NaiveDate>,
    pub previous_version: Option<u32>,
    pub ends_plan: bool,
}

pub fn plan_message(plan: &PlanVersion, context: &PlanContext) -> proto::Plan {
    let effective_from = plan.effective_from();
    let weekly_cost = plan.peak_weekly_cost_from(effective_from).ok();
    let over_budget_by = match (weekly_cost, context.budget) {
        (Some(cost), Some(budget)) if cost > budget => cost.checked_sub(budget),
        _ => None,
    };
    let mut message = proto::Plan {
        person_id: context.person_id.to_string(),
        authority: context.authority.to_string(),
        version: plan.version(),
        status: plan.status().wire_number(),
        effective_from: Some(date_message(effective_from)),
        recorded_on: Some(date_message(plan.recorded_on())),
        lines: plan
            .lines()
            .iter()
            .map(|line| proto::PlanLine {
                number: line.number,
                support_type: line.support_type.wire_number(),
                amount: Some(amount_message(&line.amount)),
                weekly: line.amount.weekly().to_string(),
                arrangement: Some(arrangement_message(&line.arrangement)),
                option: u32::from(line.option().number()),
                pending: line
                    .arrangement
                    .ready_for_agreement()
                    .err()
                    .map(|pending| pending.to_string())
                    .unwrap_or_default(),
                start: Some(date_message(line.span.start())),
                end: line.span.end().map(date_message),
            })
            .collect(),
        option: plan
            .option_on(effective_from)
            .map_or(0, |option| u32::from(option.number())),
        weekly_cost: weekly_cost.map(money_message),
        budget: context.budget.map(money_message),
        over_budget_by: over_budget_by.map(money_message),
        over_budget_reason: plan.over_budget_reason().unwrap_or_default().to_owned(),
        review_due: context.review_due.map(date_message),
        previous_version: context.previous_version.unwrap_or(0),
        ends_plan: context.ends_plan,
        ..proto::Plan::default()
    };
    match plan.state() {
        PlanState::Draft => {}
        PlanState::Submitted { submitted_on } => {
            message.submitted_on = Some(date_message(*submitted_on));
        }
        PlanState::Approved(approval) => {
            message.approved_on = Some(date_message(approval.approved_on));
            message.approved_as = approval.approved_as.name().to_owned();
        }
        PlanState::Rejected {
            rejected_on,
            reason,
        } => {
            message.rejected_on = Some(date_message(*rejected_on));
            message.rejection_reason = reason.clone();
        }
    }
    message
}

pub fn budget_message(
    person_id: Uuid,
    budget: &IndicativeBudget,
    set_on: NaiveDate,
    recorded_at: String,
    recorded_by: String,
) -> proto::IndicativeBudget {
    proto::IndicativeBudget {
        person_id: person_id.to_string(),
        method: budget.method.wire_number(),
        weekly: Some(money_message(budget.weekly)),
        breakdown: budget
            .breakdown
            .iter()
            .map(|line: &BudgetLine| proto::BudgetLine {
                description: line.description.clone(),
                points: line.points,
                amount: line.amount.map(money_message),
            })
            .collect(),
        set_on: Some(date_message(set_on)),
        recorded_at,
        recorded_by,
    }
}
