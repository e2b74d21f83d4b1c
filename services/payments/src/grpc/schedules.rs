//! `GetSchedule`: the live schedule with its recorded history in the shape `PreviewSchedule`
//! takes, so anyone may check the one against the other.

use sds_platform::StoreContext as _;
use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use sds_money::AccrualLine;
use sds_platform::{OrgKind, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::shown;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::history::History;
use crate::domain::live::{Paid, default_until, live_schedule, schedule_request};
use crate::domain::terms::{
    Basis, Frequency, HoldingModel, PayeeKind, PaymentTiming, ScheduleTerms,
};
use crate::error::PaymentsError;
use crate::schedules::payee_kind_message;
use crate::store::{self, ScheduleRecord};

use super::convert::{date_message, money_message};

/// The longest span a schedule is listed over, as for the preview.
const MAX_YEARS: u32 = 100;

pub async fn get(
    pool: &PgPool,
    today: NaiveDate,
    principal: &Principal,
    request: &proto::GetScheduleRequest,
) -> Result<proto::Schedule, PaymentsError> {
    let agreement_id = Uuid::parse_str(request.agreement_id.trim()).map_err(|_| {
        PaymentsError::InvalidInput(format!(
            "agreement_id: {} is not a UUID; expected the agreement's id",
            shown(&request.agreement_id)
        ))
    })?;
    let until = match request
        .until
        .as_ref()
        .map(|date| date.iso.as_str())
        .filter(|iso| !iso.is_empty())
    {
        None => None,
        Some(iso) => Some(parse_iso_date(iso).ok_or_else(|| {
            PaymentsError::InvalidInput(format!(
                "until: {} is not a date; expected YYYY-MM-DD, or empty for the default",
                shown(iso)
            ))
        })?),
    };
    let mut connection = pool.acquire().await.operation("database connection")?;
    let record = store::load_schedule(&mut connection, agreement_id)
        .await?
        .filter(|record| may_see(principal, &record.terms))
        .filter(|record| !hides_contribution(principal, record))
        .ok_or(PaymentsError::ScheduleNotFound(agreement_id))?;
    let until = until.unwrap_or_else(|| default_until(&record.history, today));
    if let Some(earliest) = record.history.earliest_start() {
        let latest = earliest.checked_add_months(Months::new(MAX_YEARS * 12));
        if latest.is_none_or(|latest| until > latest) {
            return Err(PaymentsError::InvalidInput(format!(
                "until: {until} is more than {MAX_YEARS} years after the schedule's first day {earliest}; list at most {MAX_YEARS} years at a time"
            )));
        }
    }
    let (paid, paid_by) = store::runs::paid_instalments(&mut connection, agreement_id).await?;
    let fund = store::posting::fund_of_schedule(&mut connection, agreement_id).await?;
    let mut message = schedule_message(&record, until, &paid, &paid_by)?;
    message.fund_id = fund.map(|fund| fund.to_string()).unwrap_or_default();
    Ok(message)
}

/// Staff of the schedule's authority, its provider, its holder and the person.
/// A provider that the schedule does not pay (a third party holds the fund) sees it only
/// while no contribution is recorded: the contribution is the outcome of the person's
/// financial assessment, and the schedule's lines and net amounts would show it.
fn hides_contribution(principal: &Principal, record: &store::ScheduleRecord) -> bool {
    principal.org_kind == OrgKind::Provider
        && record.terms.payee_kind != PayeeKind::Provider
        && !record.history.contributions.is_empty()
}

pub(crate) fn may_see(principal: &Principal, terms: &ScheduleTerms) -> bool {
    let org = || Uuid::parse_str(&principal.org_id).ok();
    match principal.org_kind {
        OrgKind::Authority => principal.may_act_for(&terms.authority),
        OrgKind::Provider => org() == Some(terms.provider_id),
        OrgKind::Holder => terms.holder_id.is_some() && org() == terms.holder_id,
        OrgKind::Person => {
            principal
                .person_id
                .as_deref()
                .and_then(|id| Uuid::parse_str(id).ok())
                == Some(terms.person_id)
        }
    }
}

fn schedule_message(
    record: &ScheduleRecord,
    until: NaiveDate,
    paid: &Paid,
    paid_by: &HashMap<NaiveDate, Uuid>,
) -> Result<proto::Schedule, PaymentsError> {
    let terms = &record.terms;
    let schedule = live_schedule(terms, &record.history, until, paid)
        .map_err(|error| PaymentsError::InvalidInput(format!("until: {error}")))?;
    let history_until =
        schedule_request(terms, &record.history, until).map_or(until, |request| request.until);
    Ok(proto::Schedule {
        agreement_id: terms.agreement_id.to_string(),
        authority: terms.authority.as_str().to_owned(),
        person_id: terms.person_id.to_string(),
        provider_id: terms.provider_id.to_string(),
        holding_model: match terms.holding_model {
            HoldingModel::ThirdParty => proto::FundHoldingModel::ThirdParty,
            HoldingModel::Provider => proto::FundHoldingModel::Provider,
            HoldingModel::Authority => proto::FundHoldingModel::Authority,
        } as i32,
        holder_id: terms.holder_id.map(|id| id.to_string()).unwrap_or_default(),
        payee_kind: payee_kind_message(terms.payee_kind) as i32,
        payee_id: terms.payee_id.to_string(),
        basis: match terms.basis {
            Basis::Scheduled => proto::PaymentBasis::Scheduled,
            Basis::Actuals => proto::PaymentBasis::Actuals,
        } as i32,
        flex_tolerance_percent: terms.flex_tolerance_percent.to_string(),
        history: Some(history_message(terms, &record.history, history_until)),
        instalments: schedule
            .instalments
            .iter()
            .map(|instalment| proto::ScheduleInstalment {
                period_start: Some(date_message(instalment.period.start)),
                period_end: Some(date_message(instalment.period.end)),
                due_date: Some(date_message(instalment.due_date)),
                base: Some(money_message(instalment.base)),
                adjustment: Some(money_message(instalment.adjustment)),
                amount: Some(money_message(instalment.amount)),
                paid_by_run: paid_by
                    .get(&instalment.period.start)
                    .map(Uuid::to_string)
                    .unwrap_or_default(),
            })
            .collect(),
        closing_settlement: Some(money_message(schedule.closing_settlement)),
        last_day: record
            .history
            .last_day_known_on(NaiveDate::MAX)
            .map(date_message),
        revision: record.revision,
        fund_id: String::new(),
    })
}

/// The recorded history as `PreviewSchedule` takes it.
pub fn history_message(
    terms: &ScheduleTerms,
    history: &History,
    until: NaiveDate,
) -> proto::PreviewScheduleRequest {
    proto::PreviewScheduleRequest {
        frequency: match terms.frequency {
            Frequency::FourWeekly => proto::PaymentFrequency::FourWeekly,
            Frequency::Quarterly => proto::PaymentFrequency::Quarterly,
            Frequency::Monthly => proto::PaymentFrequency::Monthly,
        } as i32,
        timing: match terms.timing {
            PaymentTiming::Advance => proto::ScheduleTiming::Advance,
            PaymentTiming::Arrears => proto::ScheduleTiming::Arrears,
        } as i32,
        anchor_date: terms.anchor_date.map(date_message),
        payment_lag_days: i64::from(terms.payment_lag_days),
        until: Some(date_message(until)),
        versions: history
            .plan_versions()
            .into_iter()
            .map(|version| proto::ScheduleVersion {
                recorded_on: Some(date_message(version.recorded_on)),
                lines: version
                    .lines
                    .iter()
                    .map(|line| line_message(line, terms.basis == Basis::Actuals))
                    .collect(),
            })
            .collect(),
        actuals: history
            .actuals
            .iter()
            .map(|actual| proto::ReportedActual {
                period_start: Some(date_message(actual.period_start)),
                reported_on: Some(date_message(actual.reported_on)),
                amount: Some(money_message(actual.amount)),
            })
            .collect(),
    }
}

/// A line as the preview takes it; flexible only where payment follows reported delivery.
fn line_message(line: &AccrualLine, on_actuals: bool) -> proto::ScheduleLine {
    proto::ScheduleLine {
        weekly_amount: Some(money_message(line.weekly_amount())),
        start: Some(date_message(line.start())),
        end: line.end().map(date_message),
        flexible: on_actuals && line.is_flexible(),
        contribution: line.is_contribution(),
    }
}
