//! The invariants checked after every simulated day, each a named check of its own: the
//! first that fails stops the run, naming the check and what was wrong. The ledger's and
//! the schedules' are here; the others each have a file of their own: [`super::statements`],
//! [`super::uptake`], [`super::subscribers`] and [`super::logs`].
//!
//! What must stay true: a check only reads (the database directly, or the services' APIs
//! as finance staff), so checking never changes the books it checks; and each check can
//! fail: it compares two records that are kept apart (instalments and the ledger; what was
//! paid and the schedule rule's own preview; balances and their limits).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use sqlx::PgPool;

use super::schedules::ScheduleBooks;

/// What a failing check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub check: &'static str,
    pub detail: String,
}

fn violation(check: &'static str, detail: String) -> Option<Violation> {
    Some(Violation { check, detail })
}

fn pence(amount: Decimal) -> Option<i64> {
    (amount * Decimal::ONE_HUNDRED).to_i64()
}

/// `sds_ledger::audit::run`: every transfer balanced, every account's sums equal to its
/// entries, the hash chain unbroken, no account past its limit.
///
/// The chain is walked on from `walk`, where the previous day's audit left it, and `walk`
/// moved on; with `whole` (the last day) from its start, so a rewritten old link is found
/// by the end of the run at the latest.
pub async fn the_ledger_audit_is_clean(
    ledger: &PgPool,
    walk: &mut sds_ledger::audit::ChainWalk,
    whole: bool,
) -> anyhow::Result<Option<Violation>> {
    let from = if whole {
        sds_ledger::audit::ChainWalk::default()
    } else {
        walk.clone()
    };
    let (report, walked) = sds_ledger::audit::run_from(ledger, from).await?;
    *walk = walked;
    Ok(report.violations.first().and_then(|first| {
        violation(
            "the_ledger_audit_is_clean",
            format!(
                "{} violations, the first {}: {}",
                report.violations.len(),
                first.kind,
                first.detail
            ),
        )
    }))
}

/// No fund's balance (posted, less what is pending out of it) is below minus its
/// overdraft limit. The audit looks at this too; this check says it in the fund's terms.
pub async fn no_fund_balance_is_below_its_limit(
    observer: &PgPool,
) -> anyhow::Result<Option<Violation>> {
    let below: Option<(String, i64, i64)> = sqlx::query_as(
        "SELECT f.id::text, a.credits_posted - a.debits_posted - a.debits_pending, \
                f.overdraft_limit_pence \
         FROM ledger.account a JOIN ledger.fund f ON f.id = a.fund_id \
         WHERE a.kind = 'fund_balance' \
           AND a.credits_posted - a.debits_posted - a.debits_pending < -f.overdraft_limit_pence \
         ORDER BY 1 LIMIT 1",
    )
    .fetch_optional(observer)
    .await?;
    Ok(below.and_then(|(fund, balance, limit)| {
        violation(
            "no_fund_balance_is_below_its_limit",
            format!("fund {fund} holds {balance} pence, below its limit of -{limit} pence"),
        )
    }))
}

/// Every instalment of each schedule that fell due by its authority's last run and is
/// above 0.00 was paid by one run, posted, and made its one ledger transfer of the same
/// amount; nothing was paid before it fell due.
pub fn every_due_instalment_is_paid_exactly_once(books: &[ScheduleBooks]) -> Option<Violation> {
    const CHECK: &str = "every_due_instalment_is_paid_exactly_once";
    for schedule in books {
        let agreement = schedule.agreement_id;
        for due in schedule
            .preview
            .iter()
            .filter(|instalment| instalment.due_date <= schedule.last_run)
            .filter(|instalment| instalment.amount.pence() > 0)
        {
            let start = due.period_start;
            let Some(paid) = schedule.paid.get(&start) else {
                return violation(
                    CHECK,
                    format!(
                        "agreement {agreement}: the instalment for the period from {start}, \
                         due {}, {}, was not paid by the run of {}",
                        due.due_date, due.amount, schedule.last_run
                    ),
                );
            };
            if !paid.posted {
                return violation(
                    CHECK,
                    format!("agreement {agreement}: the instalment from {start} is not posted"),
                );
            }
        }
        for (start, paid) in &schedule.paid {
            if paid.due_date > schedule.last_run {
                return violation(
                    CHECK,
                    format!(
                        "agreement {agreement}: the instalment from {start} was paid before \
                         it fell due on {}",
                        paid.due_date
                    ),
                );
            }
            let expected = pence(paid.amount).filter(|pence| *pence > 0);
            if paid.posted && paid.transferred_pence != expected {
                return violation(
                    CHECK,
                    format!(
                        "agreement {agreement}: the instalment from {start} of {} made a \
                         ledger transfer of {:?} pence",
                        paid.amount, paid.transferred_pence
                    ),
                );
            }
        }
    }
    None
}

/// What each schedule has paid for each period equals the amount `libs/money`'s preview
/// of the same recorded history gives that period (every instalment paid on its due date,
/// which is when the simulation runs payments).
pub fn what_each_schedule_paid_equals_its_preview(books: &[ScheduleBooks]) -> Option<Violation> {
    for schedule in books {
        for (start, paid) in &schedule.paid {
            let previewed = schedule
                .preview
                .iter()
                .find(|instalment| instalment.period_start == *start);
            let expected = previewed.map(|instalment| instalment.amount.pence());
            if pence(paid.amount) != expected {
                return violation(
                    "what_each_schedule_paid_equals_its_preview",
                    format!(
                        "agreement {}: the period from {start} was paid {} but the preview \
                         of the same history says {}",
                        schedule.agreement_id,
                        paid.amount,
                        previewed.map_or("nothing".to_owned(), |instalment| instalment
                            .amount
                            .to_string())
                    ),
                );
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;
    use sds_money::Money;
    use sds_payments::preview::PreviewInstalment;
    use uuid::Uuid;

    use super::super::schedules::Paid;
    use super::*;

    fn day(iso: &str) -> NaiveDate {
        iso.parse().unwrap_or_default()
    }

    fn instalment(start: &str, due: &str, amount: &str) -> PreviewInstalment {
        let amount = Money::parse(amount).unwrap_or(Money::zero());
        PreviewInstalment {
            period_start: day(start),
            period_end: day(start),
            due_date: day(due),
            base: amount,
            adjustment: Money::zero(),
            amount,
        }
    }

    fn paid(due: &str, amount: &str, transferred: Option<i64>) -> Paid {
        Paid {
            due_date: day(due),
            amount: amount.parse().unwrap_or_default(),
            posted: true,
            transferred_pence: transferred,
        }
    }

    fn books(paid: Vec<(&str, Paid)>) -> Vec<ScheduleBooks> {
        vec![ScheduleBooks {
            agreement_id: Uuid::nil(),
            last_run: day("2026-05-04"),
            paid: paid
                .into_iter()
                .map(|(start, paid)| (day(start), paid))
                .collect::<BTreeMap<_, _>>(),
            preview: vec![
                instalment("2026-04-06", "2026-04-06", "840.00"),
                instalment("2026-05-04", "2026-05-04", "910.50"),
                instalment("2026-06-01", "2026-06-01", "840.00"),
            ],
        }]
    }

    #[test]
    fn books_paid_as_the_preview_says_pass_both_schedule_checks() {
        let books = books(vec![
            ("2026-04-06", paid("2026-04-06", "840.00", Some(84_000))),
            ("2026-05-04", paid("2026-05-04", "910.50", Some(91_050))),
        ]);
        assert_eq!(every_due_instalment_is_paid_exactly_once(&books), None);
        assert_eq!(what_each_schedule_paid_equals_its_preview(&books), None);
    }

    #[test]
    fn an_instalment_due_and_unpaid_is_a_violation() {
        let books = books(vec![(
            "2026-04-06",
            paid("2026-04-06", "840.00", Some(84_000)),
        )]);
        let found = every_due_instalment_is_paid_exactly_once(&books);
        assert!(found.is_some_and(|found| found.detail.contains("2026-05-04")));
    }

    #[test]
    fn an_instalment_without_its_transfer_or_paid_early_is_a_violation() {
        let untransferred = books(vec![
            ("2026-04-06", paid("2026-04-06", "840.00", None)),
            ("2026-05-04", paid("2026-05-04", "910.50", Some(91_050))),
        ]);
        assert!(every_due_instalment_is_paid_exactly_once(&untransferred).is_some());
        let early = books(vec![
            ("2026-04-06", paid("2026-04-06", "840.00", Some(84_000))),
            ("2026-05-04", paid("2026-05-04", "910.50", Some(91_050))),
            ("2026-06-01", paid("2026-06-01", "840.00", Some(84_000))),
        ]);
        assert!(every_due_instalment_is_paid_exactly_once(&early).is_some());
    }

    #[test]
    fn a_penny_more_than_the_preview_is_a_violation() {
        let books = books(vec![
            ("2026-04-06", paid("2026-04-06", "840.00", Some(84_000))),
            ("2026-05-04", paid("2026-05-04", "910.51", Some(91_051))),
        ]);
        let found = what_each_schedule_paid_equals_its_preview(&books);
        assert!(found.is_some_and(|found| found.detail.contains("910.51")));
    }
}
