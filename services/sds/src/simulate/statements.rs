//! `statements_reconcile_with_the_ledger`: the person's statement, as the ledger serves it
//! to staff (GetStatement over the whole life of the fund to today), agrees with the
//! ledger's own records of the same fund: its balance account's sums and its posted
//! entries, read from the ledger's tables.
//!
//! What must stay true: only the funds that moved today are asked for (a fund whose
//! transfers did not change says today what it said yesterday), every fund on the last
//! day; the funds to ask for and their ledger side are found with one set-based query each,
//! whatever the number of funds; the statements are asked for several at once.

use anyhow::Context as _;
use chrono::NaiveDate;
use futures::StreamExt as _;
use sds::flow::bearer;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

use super::checks::Violation;

const CHECK: &str = "statements_reconcile_with_the_ledger";

/// What the statement of one fund said, in pence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Said {
    pub opening: i64,
    pub closing: i64,
    pub total_in: i64,
    pub total_out: i64,
    pub lines_in: i64,
    pub lines_out: i64,
}

/// What the ledger's tables hold of the same fund, in pence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// The balance account's credits less debits posted.
    pub balance: i64,
    /// The sum of the balance account's posted entries up to the statement's last day.
    pub entries: i64,
}

/// One fund's statement beside its ledger records.
#[derive(Debug, Clone)]
pub struct FundStatement {
    pub fund_id: Uuid,
    pub said: Said,
    pub held: Held,
}

/// The first fund whose statement disagrees with the ledger, or with itself.
pub fn statements_reconcile_with_the_ledger(funds: &[FundStatement]) -> Option<Violation> {
    for fund in funds {
        let (said, held, id) = (&fund.said, fund.held, fund.fund_id);
        let wrong = if said.opening != 0 {
            Some(format!(
                "opens at {} pence on the day the fund opened",
                said.opening
            ))
        } else if said.closing != held.balance {
            Some(format!(
                "closes at {} pence but the ledger's balance is {} pence",
                said.closing, held.balance
            ))
        } else if said.closing != held.entries {
            Some(format!(
                "closes at {} pence but the ledger's entries add up to {} pence",
                said.closing, held.entries
            ))
        } else if said.total_in - said.total_out != said.closing - said.opening {
            Some(format!(
                "says {} pence in and {} out, but it opens at {} and closes at {}",
                said.total_in, said.total_out, said.opening, said.closing
            ))
        } else if said.lines_in != said.total_in || said.lines_out != said.total_out {
            Some(format!(
                "lists {} pence in and {} out, but its totals are {} and {}",
                said.lines_in, said.lines_out, said.total_in, said.total_out
            ))
        } else {
            None
        };
        if let Some(wrong) = wrong {
            return Some(Violation {
                check: CHECK,
                detail: format!("the statement of fund {id} {wrong}"),
            });
        }
    }
    None
}

fn pence(money: Option<&proto::Money>) -> anyhow::Result<i64> {
    let text = money.map(|money| money.amount.as_str()).unwrap_or("0.00");
    Ok(Money::parse(text)
        .map_err(|error| anyhow::anyhow!("{text:?}: {error}"))?
        .pence())
}

fn said(statement: &proto::Statement) -> anyhow::Result<Said> {
    let sum = |lines: &[proto::StatementLine]| -> anyhow::Result<i64> {
        lines.iter().map(|line| pence(line.amount.as_ref())).sum()
    };
    Ok(Said {
        opening: pence(statement.opening_balance.as_ref())?,
        closing: pence(statement.closing_balance.as_ref())?,
        total_in: pence(statement.total_in.as_ref())?,
        total_out: pence(statement.total_out.as_ref())?,
        lines_in: sum(&statement.money_in)?,
        lines_out: sum(&statement.money_out)?,
    })
}

/// The statements of the funds that moved `today` (a transfer made or a pending one
/// resolved today, or a fund of `people`), or of every fund when `all`, beside their ledger
/// records; each asked for as the finance staff of its authority (`finance`).
pub async fn load(
    observer: &PgPool,
    ledger: &LedgerServiceClient<Channel>,
    finance: &(dyn Fn(&str) -> String + Sync),
    people: &[Uuid],
    today: NaiveDate,
    all: bool,
    parallel: usize,
) -> anyhow::Result<Vec<FundStatement>> {
    let rows: Vec<(Uuid, String, NaiveDate, i64, i64)> = sqlx::query_as(
        "WITH moved AS ( \
             SELECT fund_id AS id FROM ledger.transfer WHERE created_on = $1 \
             UNION SELECT credit_fund_id FROM ledger.transfer WHERE created_on = $1 \
             UNION SELECT t.fund_id FROM ledger.pending_resolution r \
                   JOIN ledger.transfer t ON t.id = r.transfer_id WHERE r.resolved_on = $1 \
             UNION SELECT id FROM ledger.fund WHERE $2 OR person_id = ANY($3)) \
         SELECT f.id, f.authority, f.opened_on, a.credits_posted - a.debits_posted, \
                coalesce((SELECT sum(e.amount_pence) FROM ledger.entry e \
                          WHERE e.account_id = a.id AND e.posted_on <= $1), 0)::bigint \
         FROM moved m JOIN ledger.fund f ON f.id = m.id \
         JOIN ledger.account a ON a.fund_id = f.id AND a.kind = 'fund_balance' \
         ORDER BY f.id",
    )
    .bind(today)
    .bind(all)
    .bind(people)
    .fetch_all(observer)
    .await
    .context("read the ledger side of the funds that moved")?;
    let asked = futures::stream::iter(rows)
        .map(|(fund_id, authority, opened_on, balance, entries)| {
            let mut ledger = ledger.clone();
            let token = finance(&authority);
            async move {
                let statement = ledger
                    .get_statement(bearer(
                        &token,
                        proto::GetStatementRequest {
                            fund_id: fund_id.to_string(),
                            from: Some(proto::Date {
                                iso: opened_on.to_string(),
                            }),
                            to: Some(proto::Date {
                                iso: today.to_string(),
                            }),
                        },
                    ))
                    .await
                    .with_context(|| format!("the statement of fund {fund_id}"))?
                    .into_inner();
                Ok::<_, anyhow::Error>(FundStatement {
                    fund_id,
                    said: said(&statement)?,
                    held: Held { balance, entries },
                })
            }
        })
        .buffer_unordered(parallel.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut funds = asked.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    funds.sort_by_key(|fund| fund.fund_id);
    Ok(funds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fund(said: Said, balance: i64, entries: i64) -> Vec<FundStatement> {
        vec![FundStatement {
            fund_id: Uuid::nil(),
            said,
            held: Held { balance, entries },
        }]
    }

    fn agreeing() -> Said {
        Said {
            opening: 0,
            closing: 60_000,
            total_in: 84_000,
            total_out: 24_000,
            lines_in: 84_000,
            lines_out: 24_000,
        }
    }

    #[test]
    fn a_statement_that_agrees_with_the_ledger_passes() {
        assert_eq!(
            statements_reconcile_with_the_ledger(&fund(agreeing(), 60_000, 60_000)),
            None
        );
    }

    #[test]
    fn a_closing_balance_other_than_the_ledgers_is_a_violation() {
        let found = statements_reconcile_with_the_ledger(&fund(agreeing(), 60_001, 60_001));
        assert!(found.is_some_and(|found| found.detail.contains("60001")));
        let found = statements_reconcile_with_the_ledger(&fund(agreeing(), 60_000, 59_999));
        assert!(found.is_some_and(|found| found.detail.contains("entries")));
    }

    #[test]
    fn totals_that_do_not_add_up_are_a_violation() {
        let lines_short = Said {
            lines_out: 23_999,
            ..agreeing()
        };
        assert!(statements_reconcile_with_the_ledger(&fund(lines_short, 60_000, 60_000)).is_some());
        let totals_off = Said {
            total_in: 84_001,
            lines_in: 84_001,
            ..agreeing()
        };
        assert!(statements_reconcile_with_the_ledger(&fund(totals_off, 60_000, 60_000)).is_some());
        let opening = Said {
            opening: 1,
            ..agreeing()
        };
        assert!(statements_reconcile_with_the_ledger(&fund(opening, 60_000, 60_000)).is_some());
    }
}
