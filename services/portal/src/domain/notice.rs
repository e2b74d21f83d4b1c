//! What a notification says, one type per kind. Each carries ids, dates and amounts only:
//! never a name, a date of birth, bank details or free text about the person, so what is
//! kept here and streamed out can hold no personal data beyond the opaque ids the services
//! already share. A request's needs summary is the exception that proves the rule: the
//! directory refuses one that looks like personal data before publishing it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

sds_vocabulary::wire_enum! {
    /// The kind of a notification, as stored and as sent.
    pub enum NoticeKind("notification kind") => sds_proto::v1::NotificationKind {
        PackageRequested = "package_requested",
        PackageAnswered = "package_answered",
        OfferAccepted = "offer_accepted",
        RequestClosed = "request_closed",
        PlanVaried = "plan_varied",
        AgreementVaried = "agreement_varied",
        AgreementEnded = "agreement_ended",
        ScheduleChanged = "schedule_changed",
        RemittanceIssued = "remittance_issued",
    }
}

sds_vocabulary::wire_enum! {
    /// A provider's answer to a package request.
    pub enum Answer("package response kind") => sds_proto::v1::PackageResponseKind {
        Offer = "offer",
        Decline = "decline",
    }
}

sds_vocabulary::wire_enum! {
    /// Why a schedule changed.
    pub enum ScheduleChange("schedule change kind") => sds_proto::v1::ScheduleChangeKind {
        Created = "created",
        Varied = "varied",
        Ended = "ended",
        Contribution = "contribution",
    }
}

/// One notification's content. Stored as JSON tagged by its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    PackageRequested(PackageRequested),
    PackageAnswered(PackageAnswered),
    OfferAccepted(OfferAccepted),
    RequestClosed(RequestClosed),
    PlanVaried(PlanVaried),
    AgreementVaried(AgreementVaried),
    AgreementEnded(AgreementEnded),
    ScheduleChanged(ScheduleChanged),
    RemittanceIssued(RemittanceIssued),
}

impl Notice {
    pub fn kind(&self) -> NoticeKind {
        match self {
            Notice::PackageRequested(_) => NoticeKind::PackageRequested,
            Notice::PackageAnswered(_) => NoticeKind::PackageAnswered,
            Notice::OfferAccepted(_) => NoticeKind::OfferAccepted,
            Notice::RequestClosed(_) => NoticeKind::RequestClosed,
            Notice::PlanVaried(_) => NoticeKind::PlanVaried,
            Notice::AgreementVaried(_) => NoticeKind::AgreementVaried,
            Notice::AgreementEnded(_) => NoticeKind::AgreementEnded,
            Notice::ScheduleChanged(_) => NoticeKind::ScheduleChanged,
            Notice::RemittanceIssued(_) => NoticeKind::RemittanceIssued,
        }
    }
}

/// A package request, anonymised as the directory published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRequested {
    pub request_id: Uuid,
    pub needs_summary: String,
    pub service_types: Vec<String>,
    pub locality: String,
    pub amount: RequestedAmount,
    pub start_date: NaiveDate,
    pub closing_date: NaiveDate,
}

/// What a request asks for: hours a week, or a weekly budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestedAmount {
    HoursPerWeek(Decimal),
    WeeklyBudget(Money),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageAnswered {
    pub request_id: Uuid,
    pub offer_id: Uuid,
    pub answer: Answer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferAccepted {
    pub request_id: Uuid,
    pub offer_id: Uuid,
    pub person_id: Uuid,
    pub plan_id: Uuid,
    pub line_number: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestClosed {
    pub request_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanVaried {
    pub person_id: Uuid,
    pub version: u32,
    pub previous_version: u32,
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
    pub ends_plan: bool,
    /// Only the subscriber's own lines.
    pub lines: Vec<VariedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariedLine {
    pub number: u32,
    /// Exact to 4 decimal places, as the plan states it.
    pub weekly: Decimal,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementVaried {
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    pub version: u32,
    pub previous_version: u32,
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementEnded {
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    pub version: u32,
    pub last_day: NaiveDate,
    pub recorded_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleChanged {
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    pub change: ScheduleChange,
    pub agreement_version: u32,
    pub effective_from: NaiveDate,
    pub recorded_on: NaiveDate,
    pub weekly_before: Money,
    pub weekly_after: Money,
    pub adjustment: Money,
    /// The next instalment, when one is left.
    pub next: Option<Instalment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instalment {
    pub due_on: NaiveDate,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemittanceIssued {
    pub number: String,
    pub run_id: Uuid,
    pub run_date: NaiveDate,
    pub items: u64,
    pub total: Money,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_vocabulary::NamedEnum as _;
    use sds_vocabulary::named_enum::assert_names_follow_the_wire;

    #[test]
    fn every_kind_is_named_as_the_wire_names_it() {
        assert_names_follow_the_wire::<NoticeKind>();
        assert_names_follow_the_wire::<Answer>();
        assert_names_follow_the_wire::<ScheduleChange>();
    }

    #[test]
    fn a_notice_is_stored_as_json_tagged_with_its_kind_and_money_keeps_its_pence() {
        let notice = Notice::ScheduleChanged(ScheduleChanged {
            agreement_id: Uuid::nil(),
            person_id: Uuid::nil(),
            change: ScheduleChange::Varied,
            agreement_version: 2,
            effective_from: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            recorded_on: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            weekly_before: Money::parse("210.00").unwrap(),
            weekly_after: Money::parse("280.10").unwrap(),
            adjustment: Money::parse("280.40").unwrap(),
            next: Some(Instalment {
                due_on: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
                amount: Money::parse("1400.80").unwrap(),
            }),
        });
        let json = serde_json::to_value(&notice).unwrap();
        assert_eq!(json["kind"], notice.kind().name());
        assert_eq!(json["weekly_after"], "280.10");
        assert_eq!(json["next"]["due_on"], "2026-12-07");
        assert_eq!(serde_json::from_value::<Notice>(json).unwrap(), notice);
    }
}
