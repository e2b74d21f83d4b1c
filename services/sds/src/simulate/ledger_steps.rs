//! What happens in a person's fund between payment runs, as its users do it: the holder
//! pays the provider for support given (a draw), the person's family tops the fund up, the
//! holder makes a one-off purchase, and finance staff recover a surplus above four weeks of
//! budget (the threshold at which the ledger publishes `fund.surplus`) back to the
//! authority. Drawn per fund from a stream of its own (`fund-ledger`).
//!
//! What must stay true: at most one movement of a fund a day, each worked out from the
//! fund's balance as the day's steps find it (the runs of earlier days, nothing of the same
//! day), so the amounts are the same on every run of the seed; a fund not funded yet has
//! nothing moved; every movement is made with the token of whoever makes it (the holder, or
//! finance staff) and comes before the fund's agreement or plan ends.

use std::collections::BTreeSet;

use anyhow::Context as _;
use chrono::NaiveDate;
use sds::flow::{Platform, bearer};
use sds_money::Money;
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use uuid::Uuid;

use super::act::Signed;
use super::rng::Rng;
use super::workload::{FundPlan, Held, plus};

/// One movement of a fund on day `on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Movement {
    pub on: NaiveDate,
    pub kind: MovementKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    /// The holder pays the provider `percent` of what the fund has available.
    Draw { percent: u64 },
    /// The person's family pays `pence` into the fund.
    TopUp { pence: i64 },
    /// The holder buys something once for `percent` of what is available.
    OneOff { percent: u64 },
    /// Finance staff recover what is available above four weeks of budget.
    Clawback,
}

/// Weeks of budget above which a fund's balance is a surplus (the ledger's default
/// `SDS_LEDGER_SURPLUS_WEEKS`).
const SURPLUS_WEEKS: i64 = 4;

/// The fund's movements from its acceptance to the day before `stop` (its end, or the day
/// after the run): draws about every four weeks for four funds in five (the fifth builds a
/// surplus), a top-up for one in ten, a one-off purchase for one in seven, a surplus
/// review for one in four.
pub fn draw(seed: u64, index: usize, fund: &FundPlan, stop: NaiveDate) -> Vec<Movement> {
    let mut rng = Rng::stream(seed, "fund-ledger", index as u64);
    let mut movements: Vec<Movement> = Vec::new();
    if rng.chance(80) {
        let mut on = plus(fund.accepted_on, rng.between(14, 40));
        while on < stop {
            let percent = rng.between(50, 100);
            movements.push(Movement {
                on,
                kind: MovementKind::Draw { percent },
            });
            on = plus(on, rng.between(21, 35));
        }
    }
    let top_up = rng.chance(10).then(|| Movement {
        on: plus(fund.accepted_on, rng.between(5, 60)),
        kind: MovementKind::TopUp {
            pence: i64::try_from(rng.between(25, 150)).unwrap_or(50) * 100,
        },
    });
    let one_off = rng.chance(15).then(|| Movement {
        on: plus(fund.accepted_on, rng.between(10, 80)),
        kind: MovementKind::OneOff {
            percent: rng.between(10, 40),
        },
    });
    let review = rng.chance(25).then(|| Movement {
        on: plus(fund.accepted_on, rng.between(60, 150)),
        kind: MovementKind::Clawback,
    });
    // One a day at most: a later one on a day already taken waits a day.
    let mut taken: BTreeSet<NaiveDate> = movements.iter().map(|movement| movement.on).collect();
    for mut movement in [top_up, one_off, review].into_iter().flatten() {
        while taken.contains(&movement.on) {
            movement.on = plus(movement.on, 1);
        }
        if movement.on < stop {
            taken.insert(movement.on);
            movements.push(movement);
        }
    }
    movements.sort_by_key(|movement| movement.on);
    movements
}

fn pence_of(money: Option<&proto::Money>) -> i64 {
    money
        .and_then(|money| Money::parse(&money.amount).ok())
        .map_or(0, Money::pence)
}

fn money(pence: i64) -> Option<proto::Money> {
    Some(proto::Money {
        amount: Money::from_pence(pence)
            .map(|money| money.to_string())
            .unwrap_or_default(),
    })
}

/// Makes `movement` of the fund of `signed`; returns whether anything moved.
pub async fn make(
    platform: &Platform,
    fund: &FundPlan,
    signed: &Signed,
    movement: &Movement,
) -> anyhow::Result<bool> {
    let finance = platform.staff(&[Role::Finance]);
    let schedule = PaymentsServiceClient::new(platform.payments.clone())
        .get_schedule(bearer(
            &finance,
            proto::GetScheduleRequest {
                agreement_id: signed.agreement.id.clone(),
                until: None,
            },
        ))
        .await
        .context("read the schedule for its fund")?
        .into_inner();
    if schedule.fund_id.is_empty() {
        return Ok(false);
    }
    let mut ledger = LedgerServiceClient::new(platform.ledger.clone());
    let held = ledger
        .get_fund(bearer(
            &finance,
            proto::GetFundRequest {
                fund_id: schedule.fund_id.clone(),
            },
        ))
        .await;
    // Not opened yet: the first run opens it.
    let Ok(held) = held else {
        return Ok(false);
    };
    let held = held.into_inner();
    if held.status != proto::FundStatus::Open as i32 {
        return Ok(false);
    }
    let account = |kind: proto::LedgerAccountKind, payee: &str| {
        held.accounts
            .iter()
            .find(|account| account.kind == kind as i32 && account.payee_id == payee)
    };
    let balance = account(proto::LedgerAccountKind::FundBalance, "").context("a balance")?;
    let available = pence_of(balance.available.as_ref());
    // Who pays out of the fund: its holder, or the authority's finance staff for a fund
    // the authority holds.
    let holder = match fund.held {
        Held::Provider => platform.provider(&signed.provider_id),
        Held::ThirdParty => platform.holder(signed.holder_id.as_deref().unwrap_or_default()),
        Held::Authority => finance.clone(),
    };
    use proto::LedgerAccountKind as Kind;
    use proto::TransferCategory as Category;
    let (token, debit, credit, category, amount) = match movement.kind {
        MovementKind::Draw { percent } => {
            let with_payee = ledger
                .add_payee(bearer(
                    &holder,
                    proto::AddPayeeRequest {
                        fund_id: held.id.clone(),
                        payee_id: signed.provider_id.clone(),
                    },
                ))
                .await
                .context("the provider made a payee of the fund")?
                .into_inner();
            let payable = with_payee
                .accounts
                .iter()
                .find(|account| {
                    account.kind == Kind::Payable as i32 && account.payee_id == signed.provider_id
                })
                .map(|account| account.id.clone())
                .context("the provider's payable account")?;
            let amount = available * i64::try_from(percent).unwrap_or(0) / 100;
            (
                holder,
                balance.id.clone(),
                payable,
                Category::SupportPayment,
                amount,
            )
        }
        MovementKind::TopUp { pence } => {
            let top_up = account(Kind::TopUp, "").context("a top-up account")?;
            (
                finance,
                top_up.id.clone(),
                balance.id.clone(),
                Category::TopUp,
                pence,
            )
        }
        MovementKind::OneOff { percent } => {
            let bought = account(Kind::OneOffPurchase, "").context("a purchase account")?;
            let amount = available * i64::try_from(percent).unwrap_or(0) / 100;
            (
                holder,
                balance.id.clone(),
                bought.id.clone(),
                Category::OneOffPurchase,
                amount,
            )
        }
        MovementKind::Clawback => {
            let recovery = account(Kind::Recovery, "").context("a recovery account")?;
            let weekly = pence_of(held.weekly_budget.as_ref());
            let amount = available - SURPLUS_WEEKS * weekly;
            (
                finance,
                balance.id.clone(),
                recovery.id.clone(),
                Category::Recovery,
                amount,
            )
        }
    };
    if amount <= 0 {
        return Ok(false);
    }
    ledger
        .create_transfers(bearer(
            &token,
            proto::CreateTransfersRequest {
                transfers: vec![proto::NewTransfer {
                    id: Uuid::now_v7().to_string(),
                    debit_account_id: debit,
                    credit_account_id: credit,
                    amount: money(amount),
                    category: category as i32,
                    reference: format!("{:?} of {}", movement.kind, movement.on),
                    note: String::new(),
                    pending: false,
                }],
            },
        ))
        .await
        .with_context(|| format!("{}: {:?}", fund.case_reference(), movement.kind))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::workload::Workload;
    use super::*;

    #[test]
    fn movements_come_one_a_day_after_the_acceptance_and_every_kind_is_drawn() {
        let start = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
        let workload = Workload::draw(7, 500, 120, 4, start);
        let mut kinds = BTreeSet::new();
        for fund in &workload.funds {
            let days: BTreeSet<NaiveDate> =
                fund.ledger.iter().map(|movement| movement.on).collect();
            assert_eq!(days.len(), fund.ledger.len());
            for movement in &fund.ledger {
                assert!(movement.on > fund.accepted_on);
                kinds.insert(match movement.kind {
                    MovementKind::Draw { .. } => "draw",
                    MovementKind::TopUp { .. } => "top-up",
                    MovementKind::OneOff { .. } => "one-off",
                    MovementKind::Clawback => "clawback",
                });
            }
        }
        assert_eq!(kinds.len(), 4);
    }
}
