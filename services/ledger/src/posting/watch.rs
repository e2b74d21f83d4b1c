//! Telling the thresholds a transaction's movements crossed: for each fund whose balance
//! account it changed, the balance when the account was locked against the balance it is
//! written with; the events are recorded in the same transaction, so each crossing is told
//! exactly once (`fund.surplus`, `fund.low_balance`).

use sds_events::NewEvent;
use sds_proto::v1 as proto;
use sds_vocabulary::date::iso;
use uuid::Uuid;

use super::{Actor, Locked};
use crate::domain::{AccountKind, AccountState, Crossing};
use crate::grpc::convert::money_message;

pub(super) fn crossing_events(
    actor: &Actor<'_>,
    batch_id: Uuid,
    locked: &Locked,
    written: &[AccountState],
) -> Vec<NewEvent> {
    let mut events = Vec::new();
    for after in written
        .iter()
        .filter(|state| state.kind == AccountKind::FundBalance)
    {
        let Some(before) = locked.accounts.get(&after.id) else {
            continue;
        };
        let fund = &before.fund;
        for crossing in
            actor
                .watch
                .crossings(fund.weekly_budget, before.state.balance(), after.balance())
        {
            let (weeks, threshold) = match crossing {
                Crossing::Surplus { threshold } => (actor.watch.surplus_weeks, threshold),
                Crossing::LowBalance { threshold } => (actor.watch.low_balance_weeks, threshold),
            };
            let fund_id = fund.id.to_string();
            let person_id = fund.person_id.to_string();
            let balance = Some(money_message(after.balance()));
            let weekly_budget = Some(money_message(fund.weekly_budget));
            let threshold = Some(money_message(threshold));
            let on = Some(proto::Date {
                iso: iso(actor.today),
            });
            let body = match crossing {
                Crossing::Surplus { .. } => proto::event::Body::FundSurplus(proto::FundSurplus {
                    fund_id,
                    person_id,
                    balance,
                    weekly_budget,
                    weeks,
                    threshold,
                    batch_id: batch_id.to_string(),
                    on,
                }),
                Crossing::LowBalance { .. } => {
                    proto::event::Body::FundLowBalance(proto::FundLowBalance {
                        fund_id,
                        person_id,
                        balance,
                        weekly_budget,
                        weeks,
                        threshold,
                        batch_id: batch_id.to_string(),
                        on,
                    })
                }
            };
            events.push(NewEvent::new(
                fund.authority.clone(),
                fund.id.to_string(),
                1,
                body,
            ));
        }
    }
    events
}
