//! The agreements and agreement events the tests publish as contracts would, and a way to
//! read instalments back as text.

#![allow(dead_code)]

use sds_proto::v1::{self as proto, Event};
use uuid::Uuid;

use crate::support::{AGREEMENT, AUTHORITY, HOLDER, PERSON, PROVIDER, date, money};

/// An agreement line of `weekly` a week from `start`.
pub fn line(plan_line: u32, weekly: &str, start: &str, end: Option<&str>) -> proto::AgreementLine {
    proto::AgreementLine {
        plan_line,
        support_type: "personal_care".to_owned(),
        weekly: Some(money(weekly)),
        start: Some(date(start)),
        end: end.map(date),
        hours_per_week: String::new(),
    }
}

/// Terms: the frequency, advance (lag `None`) or arrears with a lag, from `start`.
pub fn terms(
    frequency: proto::PaymentFrequency,
    arrears_lag: Option<u32>,
    start: &str,
) -> proto::AgreementTerms {
    proto::AgreementTerms {
        frequency: frequency as i32,
        timing: Some(proto::PaymentTiming {
            timing: Some(match arrears_lag {
                None => proto::payment_timing::Timing::Advance(proto::InAdvance {}),
                Some(lag_days) => {
                    proto::payment_timing::Timing::Arrears(proto::InArrears { lag_days })
                }
            }),
        }),
        basis: proto::PaymentBasis::Scheduled as i32,
        flex_tolerance_percent: "10".to_owned(),
        fee: None,
        notice_days: 28,
        review_on: None,
        start: Some(date(start)),
        end: None,
    }
}

/// Version `version` of the test agreement: provider-held, paying the provider.
pub fn agreement(
    version: u32,
    effective_from: &str,
    recorded_on: &str,
    terms: proto::AgreementTerms,
    lines: Vec<proto::AgreementLine>,
) -> proto::Agreement {
    proto::Agreement {
        id: AGREEMENT.to_owned(),
        authority: AUTHORITY.to_owned(),
        person_id: PERSON.to_owned(),
        provider_id: PROVIDER.to_owned(),
        holding_model: proto::FundHoldingModel::Provider as i32,
        holder_id: String::new(),
        status: proto::AgreementStatus::Active as i32,
        version,
        effective_from: Some(date(effective_from)),
        recorded_on: Some(date(recorded_on)),
        lines,
        terms: Some(terms),
        payee_kind: proto::PayeeKind::Provider as i32,
        payee_id: PROVIDER.to_owned(),
        ..proto::Agreement::default()
    }
}

/// The same agreement held by a third party, paying the holder.
pub fn held_by_third_party(mut agreement: proto::Agreement) -> proto::Agreement {
    agreement.holding_model = proto::FundHoldingModel::ThirdParty as i32;
    agreement.holder_id = HOLDER.to_owned();
    agreement.payee_kind = proto::PayeeKind::Holder as i32;
    agreement.payee_id = HOLDER.to_owned();
    agreement
}

/// The envelope the relay would publish for `body`, with a fresh event id.
pub fn event(body: proto::event::Body) -> Event {
    let (event_type, aggregate_id, version, authority) = match &body {
        proto::event::Body::AgreementSigned(signed) => {
            let agreement = signed.agreement.as_ref().expect("an agreement");
            (
                "agreement.signed",
                agreement.id.clone(),
                agreement.version,
                agreement.authority.clone(),
            )
        }
        proto::event::Body::AgreementVaried(varied) => {
            let agreement = varied.agreement.as_ref().expect("an agreement");
            (
                "agreement.varied",
                agreement.id.clone(),
                agreement.version,
                agreement.authority.clone(),
            )
        }
        proto::event::Body::AgreementEnded(ended) => (
            "agreement.ended",
            ended.agreement_id.clone(),
            ended.version,
            ended.authority.clone(),
        ),
        other => panic!("not an agreement event: {other:?}"),
    };
    Event {
        event_id: Uuid::now_v7().to_string(),
        event_type: event_type.into(),
        authority,
        aggregate_type: "agreement".into(),
        aggregate_id,
        aggregate_version: u64::from(version),
        body: Some(body),
        ..Event::default()
    }
}

pub fn signed(agreement: proto::Agreement) -> Event {
    event(proto::event::Body::AgreementSigned(
        proto::AgreementSigned {
            agreement: Some(agreement),
        },
    ))
}

pub fn varied(agreement: proto::Agreement) -> Event {
    let previous_version = agreement.version - 1;
    event(proto::event::Body::AgreementVaried(
        proto::AgreementVaried {
            agreement: Some(agreement),
            previous_version,
        },
    ))
}

pub fn ended(version: u32, last_day: &str, recorded_on: &str) -> Event {
    event(proto::event::Body::AgreementEnded(proto::AgreementEnded {
        agreement_id: AGREEMENT.to_owned(),
        authority: AUTHORITY.to_owned(),
        person_id: PERSON.to_owned(),
        version,
        last_day: Some(date(last_day)),
        recorded_on: Some(date(recorded_on)),
        cause: proto::AgreementEndCause::Notice as i32,
        payee_kind: proto::PayeeKind::Provider as i32,
        payee_id: PROVIDER.to_owned(),
    }))
}

/// (due date, adjustment, amount) of each instalment, as text.
pub fn instalments(instalments: &[proto::ScheduleInstalment]) -> Vec<String> {
    instalments
        .iter()
        .map(|instalment| {
            format!(
                "{} {} {}",
                instalment
                    .due_date
                    .as_ref()
                    .map_or("", |date| date.iso.as_str()),
                instalment
                    .adjustment
                    .as_ref()
                    .map_or("", |money| money.amount.as_str()),
                instalment
                    .amount
                    .as_ref()
                    .map_or("", |money| money.amount.as_str()),
            )
        })
        .collect()
}
