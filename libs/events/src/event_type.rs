//! Every event type the platform publishes, named once. The type of an event follows from
//! its body (the `oneof` of `sds.v1.Event`), so an event whose type contradicts its body
//! cannot be built; adding a body to the proto fails to compile until it is named here.

use sds_proto::v1::event::Body;

sds_vocabulary::named_enum! {
    /// A dotted event type, `<aggregate>.<event>` in the past tense.
    pub enum EventType("event type") {
        ProviderRegistered = "provider.registered",
        ProviderUpdated = "provider.updated",
        PlanApproved = "plan.approved",
        PlanVaried = "plan.varied",
        PlanEnded = "plan.ended",
        PlanProviderChosen = "plan.provider_chosen",
        ReviewDue = "review.due",
        VariancePersistent = "variance.persistent",
        AgreementSigned = "agreement.signed",
        AgreementVaried = "agreement.varied",
        AgreementEnded = "agreement.ended",
        RateUplifted = "rate.uplifted",
        LedgerPosted = "ledger.posted",
        FundSurplus = "fund.surplus",
        FundLowBalance = "fund.low_balance",
        ScheduleChanged = "schedule.changed",
        PaymentRunCompleted = "payment.run.completed",
        RemittanceIssued = "remittance.issued",
        ContributionArrears = "contribution.arrears",
        PackageRequested = "package.requested",
        PackageOffered = "package.offered",
        PackageAccepted = "package.accepted",
        PackageWithdrawn = "package.withdrawn",
    }
}

impl EventType {
    /// The type of an event carrying `body`.
    pub fn of(body: &Body) -> EventType {
        match body {
            Body::ProviderRegistered(_) => EventType::ProviderRegistered,
            Body::ProviderUpdated(_) => EventType::ProviderUpdated,
            Body::PlanApproved(_) => EventType::PlanApproved,
            Body::PlanVaried(_) => EventType::PlanVaried,
            Body::PlanEnded(_) => EventType::PlanEnded,
            Body::PlanProviderChosen(_) => EventType::PlanProviderChosen,
            Body::ReviewDue(_) => EventType::ReviewDue,
            Body::VariancePersistent(_) => EventType::VariancePersistent,
            Body::AgreementSigned(_) => EventType::AgreementSigned,
            Body::AgreementVaried(_) => EventType::AgreementVaried,
            Body::AgreementEnded(_) => EventType::AgreementEnded,
            Body::RateUplifted(_) => EventType::RateUplifted,
            Body::LedgerPosted(_) => EventType::LedgerPosted,
            Body::FundSurplus(_) => EventType::FundSurplus,
            Body::FundLowBalance(_) => EventType::FundLowBalance,
            Body::ScheduleChanged(_) => EventType::ScheduleChanged,
            Body::PaymentRunCompleted(_) => EventType::PaymentRunCompleted,
            Body::RemittanceIssued(_) => EventType::RemittanceIssued,
            Body::ContributionArrears(_) => EventType::ContributionArrears,
            Body::PackageRequested(_) => EventType::PackageRequested,
            Body::PackageOffered(_) => EventType::PackageOffered,
            Body::PackageAccepted(_) => EventType::PackageAccepted,
            Body::PackageWithdrawn(_) => EventType::PackageWithdrawn,
        }
    }

    /// The aggregate the event is about: `provider` for `provider.updated`.
    pub fn aggregate_type(self) -> &'static str {
        let name = sds_vocabulary::NamedEnum::name(self);
        name.split_once('.')
            .map_or(name, |(aggregate, _event)| aggregate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_vocabulary::NamedEnum;

    #[test]
    fn every_event_type_names_its_aggregate_and_a_past_tense_event() {
        for event_type in EventType::ALL {
            let (aggregate, event) = event_type.name().split_once('.').expect("dotted");
            assert_eq!(event_type.aggregate_type(), aggregate);
            assert!(!event.is_empty());
        }
    }
}
