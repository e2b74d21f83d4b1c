//! Kept notifications as `sds.v1.Notification` messages. Protobuf types start here.

use chrono::{NaiveDate, SecondsFormat};
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_proto::v1::notification::Body;
use sds_vocabulary::named_enum::WireEnum as _;

use crate::domain::Notice;
use crate::domain::notice::RequestedAmount;
use crate::store::Kept;

pub fn notification_message(kept: Kept) -> proto::Notification {
    proto::Notification {
        seq: kept.seq,
        kind: kept.notice.kind().wire_number(),
        occurred_at: kept
            .occurred_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        authority: kept.authority.as_str().to_owned(),
        body: Some(body(kept.notice)),
    }
}

fn date(day: NaiveDate) -> Option<proto::Date> {
    Some(proto::Date {
        iso: sds_vocabulary::date::iso(day),
    })
}

fn money(amount: Money) -> Option<proto::Money> {
    Some(proto::Money {
        amount: amount.to_string(),
    })
}

fn body(notice: Notice) -> Body {
    match notice {
        Notice::PackageRequested(requested) => {
            let amount = match requested.amount {
                RequestedAmount::HoursPerWeek(hours) => {
                    proto::package_request_content::Amount::HoursPerWeek(hours.to_string())
                }
                RequestedAmount::WeeklyBudget(budget) => {
                    proto::package_request_content::Amount::WeeklyBudget(proto::Money {
                        amount: budget.to_string(),
                    })
                }
            };
            Body::PackageRequested(proto::PackageRequestedNotice {
                request_id: requested.request_id.to_string(),
                content: Some(proto::PackageRequestContent {
                    needs_summary: requested.needs_summary,
                    service_types: requested.service_types,
                    locality: requested.locality,
                    amount: Some(amount),
                    start_date: date(requested.start_date),
                    closing_date: date(requested.closing_date),
                }),
            })
        }
        Notice::PackageAnswered(answered) => Body::PackageAnswered(proto::PackageAnsweredNotice {
            request_id: answered.request_id.to_string(),
            offer_id: answered.offer_id.to_string(),
            kind: answered.answer.wire_number(),
        }),
        Notice::OfferAccepted(accepted) => Body::OfferAccepted(proto::OfferAcceptedNotice {
            request_id: accepted.request_id.to_string(),
            offer_id: accepted.offer_id.to_string(),
            person_id: accepted.person_id.to_string(),
            plan_id: accepted.plan_id.to_string(),
            line_number: accepted.line_number,
        }),
        Notice::RequestClosed(closed) => Body::RequestClosed(proto::RequestClosedNotice {
            request_id: closed.request_id.to_string(),
        }),
        Notice::PlanVaried(varied) => Body::PlanVaried(proto::PlanVariedNotice {
            person_id: varied.person_id.to_string(),
            version: varied.version,
            previous_version: varied.previous_version,
            effective_from: date(varied.effective_from),
            recorded_on: date(varied.recorded_on),
            ends_plan: varied.ends_plan,
            lines: varied
                .lines
                .into_iter()
                .map(|line| proto::PlanVariedLine {
                    number: line.number,
                    weekly: line.weekly.to_string(),
                    start: date(line.start),
                    end: line.end.and_then(date),
                })
                .collect(),
        }),
        Notice::AgreementVaried(varied) => Body::AgreementVaried(proto::AgreementVariedNotice {
            agreement_id: varied.agreement_id.to_string(),
            person_id: varied.person_id.to_string(),
            version: varied.version,
            previous_version: varied.previous_version,
            effective_from: date(varied.effective_from),
            recorded_on: date(varied.recorded_on),
        }),
        Notice::AgreementEnded(ended) => Body::AgreementEnded(proto::AgreementEndedNotice {
            agreement_id: ended.agreement_id.to_string(),
            person_id: ended.person_id.to_string(),
            version: ended.version,
            last_day: date(ended.last_day),
            recorded_on: date(ended.recorded_on),
        }),
        Notice::ScheduleChanged(changed) => Body::ScheduleChanged(proto::ScheduleChangedNotice {
            agreement_id: changed.agreement_id.to_string(),
            person_id: changed.person_id.to_string(),
            change: changed.change.wire_number(),
            agreement_version: changed.agreement_version,
            effective_from: date(changed.effective_from),
            recorded_on: date(changed.recorded_on),
            weekly_before: money(changed.weekly_before),
            weekly_after: money(changed.weekly_after),
            adjustment: money(changed.adjustment),
            next_due_date: changed.next.and_then(|next| date(next.due_on)),
            next_amount: changed.next.and_then(|next| money(next.amount)),
        }),
        Notice::RemittanceIssued(issued) => Body::RemittanceIssued(proto::RemittanceIssuedNotice {
            number: issued.number,
            run_id: issued.run_id.to_string(),
            run_date: date(issued.run_date),
            items: issued.items,
            total: money(issued.total),
        }),
    }
}
