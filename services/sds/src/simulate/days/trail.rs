//! What the run keeps to tell the history of a violation: each person's steps as they
//! were made, the day's faults, and which ids (people, agreements) belong to whom; and,
//! for the tests of the checks, a wrong balance planted in the books on a given day.
//!
//! What must stay true: the trail only records (it never changes what a step does), so a
//! run's books are the same whether it is ever read or not; the planted wrong balance is
//! made only when `--plant-wrong-balance-on-day` asks for it.

use std::collections::BTreeSet;

use anyhow::Context as _;
use chrono::NaiveDate;
use uuid::Uuid;

use super::super::checks::Violation;
use super::super::history;
use super::super::workload::FundPlan;
use super::{Simulation, Step};
use crate::simulate::act::Signed;

impl Simulation<'_> {
    /// The fund a step is of, and the step in words.
    fn described(&self, step: Step) -> (usize, String) {
        let fund = |index: usize| -> &FundPlan { &self.workload.funds[index] };
        match step {
            Step::Accept(index) => (
                index,
                format!(
                    "offer of provider {} accepted ({:?}), agreement signed by every party{}",
                    fund(index).provider + 1,
                    fund(index).held,
                    fund(index)
                        .terms
                        .fee
                        .map(|fee| format!(", its fee varied to {fee:?}"))
                        .unwrap_or_default()
                ),
            ),
            Step::Vary(index, number) => (
                index,
                format!("option 2 line varied: {:?}", fund(index).variations[number]),
            ),
            Step::End(index) => (index, format!("notice given: {:?}", fund(index).ending)),
            Step::Report(index, number) => (
                index,
                format!(
                    "provider reported delivery: {:?}",
                    fund(index)
                        .terms
                        .actuals
                        .as_ref()
                        .and_then(|actuals| actuals.get(number))
                ),
            ),
            Step::Move(index, number) => (
                index,
                format!("money moved: {:?}", fund(index).ledger[number]),
            ),
            Step::EndPlan(index) => (index, format!("plan ended: {:?}", fund(index).plan_end)),
        }
    }

    /// Records the day's steps and faults.
    pub(super) fn record_day(&mut self, today: NaiveDate, steps: &[Step], faults: &[String]) {
        for step in steps {
            let (index, what) = self.described(*step);
            self.trail.record(index, today, what);
        }
        for fault in faults {
            self.faults_seen.push((today, fault.clone()));
        }
    }

    /// Remembers whose ids a signed fund's are.
    pub(super) fn remember(&mut self, index: usize, signed: &Signed) {
        for id in [&signed.person_id, &signed.agreement.id] {
            if let Ok(id) = Uuid::parse_str(id) {
                self.known.insert(id, index);
            }
        }
    }

    /// The fund numbers `violation` names and their history (with the faults of its days)
    /// through `today`, as lines to print.
    pub(super) async fn history_of(
        &self,
        violation: &Violation,
    ) -> anyhow::Result<(Vec<usize>, Vec<String>)> {
        let people = history::people_named(&violation.detail, &self.known, &self.observer).await?;
        let numbers = people
            .iter()
            .map(|index| self.workload.funds[*index].number)
            .collect();
        let mut lines = self
            .trail
            .of(&people, |index| self.workload.funds[index].case_reference());
        if !people.is_empty() && !self.faults_seen.is_empty() {
            lines.push("  faults drawn for the run so far:".to_owned());
            for (day, fault) in &self.faults_seen {
                lines.push(format!("    {day}: {fault}"));
            }
        }
        Ok((numbers, lines))
    }

    /// For the tests of the checks: the balance account of the first fund (by fund number)
    /// the ledger holds, stored one penny richer than its entries, behind the ledger's back.
    pub(super) async fn plant_wrong_balance(&self) -> anyhow::Result<()> {
        let people: Vec<Uuid> = self
            .signed
            .values()
            .filter_map(|signed| Uuid::parse_str(&signed.person_id).ok())
            .collect();
        let held: Vec<Uuid> = sqlx::query_scalar(
            "SELECT f.person_id FROM ledger.fund f JOIN ledger.account a ON a.fund_id = f.id \
             WHERE a.kind = 'fund_balance' AND f.person_id = ANY($1)",
        )
        .bind(&people)
        .fetch_all(&self.observer)
        .await
        .context("find the funds the ledger holds")?;
        let first: BTreeSet<(usize, Uuid)> = held
            .iter()
            .filter_map(|person| {
                let index = self.known.get(person)?;
                Some((self.workload.funds[*index].number, *person))
            })
            .collect();
        let (_, person) = first
            .first()
            .context("the ledger holds no fund yet to plant a wrong balance in")?;
        sqlx::query(
            "UPDATE ledger.account SET credits_posted = credits_posted + 1, version = version + 1 \
             WHERE kind = 'fund_balance' \
               AND fund_id IN (SELECT id FROM ledger.fund WHERE person_id = $1)",
        )
        .bind(person)
        .execute(&self.observer)
        .await
        .context("plant a wrong balance")?;
        Ok(())
    }
}
