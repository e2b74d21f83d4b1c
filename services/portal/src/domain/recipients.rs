//! Who is told what about each fact. Decided here, from the fact and what the portal knows,
//! never from anything a subscriber asks for: a subscriber only ever reads its own inbox.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::notice::{Notice, OfferAccepted, RequestClosed, VariedLine};
use super::subscriber::Subscriber;

/// Notices for one fact, at most one per subscriber, in subscriber order (the order their
/// rows are locked in, so that two facts never wait on each other in opposite orders).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deliveries(BTreeMap<Subscriber, Notice>);

impl Deliveries {
    pub fn new() -> Deliveries {
        Deliveries::default()
    }

    /// Tells `subscriber` `notice`, unless it is already told something about this fact
    /// (the first notice stands).
    pub fn tell(&mut self, subscriber: Subscriber, notice: Notice) {
        self.0.entry(subscriber).or_insert(notice);
    }

    /// Tells every subscriber in `subscribers` the same notice.
    pub fn tell_all(&mut self, subscribers: impl IntoIterator<Item = Subscriber>, notice: &Notice) {
        for subscriber in subscribers {
            self.tell(subscriber, notice.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Subscriber, &Notice)> {
        self.0.iter()
    }
}

/// The chosen provider learns its offer was accepted (and for whom), and so does the third
/// party the person chose to hold the fund, if any; every other provider named in
/// `closed_for` learns only that the request is closed.
pub fn of_acceptance(
    accepted: OfferAccepted,
    chosen: Uuid,
    holder: Option<Uuid>,
    closed_for: &[Uuid],
) -> Deliveries {
    let request_id = accepted.request_id;
    let mut deliveries = Deliveries::new();
    if let Some(holder) = holder {
        deliveries.tell(
            Subscriber::holder(holder),
            Notice::OfferAccepted(accepted.clone()),
        );
    }
    deliveries.tell(
        Subscriber::provider(chosen),
        Notice::OfferAccepted(accepted),
    );
    for provider in closed_for.iter().copied().filter(|id| *id != chosen) {
        deliveries.tell(
            Subscriber::provider(provider),
            Notice::RequestClosed(RequestClosed { request_id }),
        );
    }
    deliveries
}

/// A plan line with who it names, as a varied plan states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedLine {
    pub line: VariedLine,
    pub provider: Option<Uuid>,
    pub holder: Option<Uuid>,
}

/// Each provider and holder named on a line still running when a variation takes effect
/// on `effective_from` (a line the variation ends closes the day before, so it counts), with
/// those lines. A line over before then is history the subscriber was told about already.
pub fn of_plan_lines(
    lines: &[NamedLine],
    effective_from: NaiveDate,
) -> BTreeMap<Subscriber, Vec<VariedLine>> {
    let day_before = effective_from
        .checked_sub_days(Days::new(1))
        .unwrap_or(effective_from);
    let mut by_subscriber: BTreeMap<Subscriber, Vec<VariedLine>> = BTreeMap::new();
    for named in lines {
        if named.line.end.is_some_and(|end| end < day_before) {
            continue;
        }
        let parties = [
            named.provider.map(Subscriber::provider),
            named.holder.map(Subscriber::holder),
        ];
        for subscriber in parties.into_iter().flatten() {
            by_subscriber
                .entry(subscriber)
                .or_default()
                .push(named.line.clone());
        }
    }
    by_subscriber
}

/// The parties to an agreement that hear of its changes: its provider, its holder (for a
/// fund a third party holds) and whoever it pays, each once.
pub fn of_agreement(
    provider: Option<Uuid>,
    holder: Option<Uuid>,
    payee: Option<Subscriber>,
) -> Vec<Subscriber> {
    let mut parties: Vec<Subscriber> = [
        provider.map(Subscriber::provider),
        holder.map(Subscriber::holder),
        payee,
    ]
    .into_iter()
    .flatten()
    .collect();
    parties.sort();
    parties.dedup();
    parties
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notice::NoticeKind;
    use rust_decimal::Decimal;

    fn id(last: u8) -> Uuid {
        Uuid::from_bytes([0, 0, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, last])
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn line(
        number: u32,
        end: Option<&str>,
        provider: Option<Uuid>,
        holder: Option<Uuid>,
    ) -> NamedLine {
        NamedLine {
            line: VariedLine {
                number,
                weekly: Decimal::new(2100000, 4),
                start: day("2026-04-01"),
                end: end.map(day),
            },
            provider,
            holder,
        }
    }

    #[test]
    fn the_chosen_provider_is_told_of_its_acceptance_and_the_others_only_that_the_request_closed() {
        let accepted = OfferAccepted {
            request_id: id(1),
            offer_id: id(2),
            person_id: id(3),
            plan_id: id(4),
            line_number: 2,
        };
        // The chosen provider listed among the closed too (a producer's slip) is told once.
        let deliveries = of_acceptance(
            accepted,
            id(10),
            Some(id(20)),
            &[id(11), id(10), id(12), id(11)],
        );
        let told: Vec<(Subscriber, NoticeKind)> = deliveries
            .iter()
            .map(|(subscriber, notice)| (*subscriber, notice.kind()))
            .collect();
        assert_eq!(
            told,
            [
                (Subscriber::provider(id(10)), NoticeKind::OfferAccepted),
                (Subscriber::provider(id(11)), NoticeKind::RequestClosed),
                (Subscriber::provider(id(12)), NoticeKind::RequestClosed),
                (Subscriber::holder(id(20)), NoticeKind::OfferAccepted),
            ]
        );
    }

    #[test]
    fn a_plan_variation_tells_each_party_of_its_own_running_lines_only() {
        let lines = [
            line(1, Some("2026-06-30"), Some(id(10)), None),
            line(2, Some("2026-11-17"), Some(id(10)), Some(id(20))),
            line(3, None, Some(id(11)), None),
            line(4, None, None, None),
        ];
        let told = of_plan_lines(&lines, day("2026-11-18"));
        let numbers = |subscriber: Subscriber| -> Vec<u32> {
            told[&subscriber].iter().map(|line| line.number).collect()
        };
        assert_eq!(told.len(), 3);
        assert_eq!(numbers(Subscriber::provider(id(10))), [2]);
        assert_eq!(numbers(Subscriber::holder(id(20))), [2]);
        assert_eq!(numbers(Subscriber::provider(id(11))), [3]);
    }

    #[test]
    fn an_agreement_change_reaches_its_provider_holder_and_payee_once_each() {
        let parties = of_agreement(Some(id(10)), Some(id(20)), Some(Subscriber::holder(id(20))));
        assert_eq!(
            parties,
            [Subscriber::provider(id(10)), Subscriber::holder(id(20))]
        );
        assert_eq!(of_agreement(None, None, None), []);
    }
}
