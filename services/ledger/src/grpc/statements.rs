//! `GetStatement`: a fund's statement for a period, read by whoever may read the fund.
//!
//! What must stay true: a statement goes out only with its `read` entry in the read audit
//! trail (`sds_platform::read_audit`), written in the read's transaction; a caller who may
//! not read a fund that exists is told it is not recorded, and a `refused` entry (NOT_FOUND)
//! under the fund's authority is committed first; an unknown fund or a bad argument writes
//! nothing.

use chrono::Days;
use sds_platform::read_audit;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::Invalid;
use sds_vocabulary::named_enum::WireEnum as _;
use sqlx::PgPool;

use super::convert::{self, money_message};
use super::funds::audited_fund;
use crate::domain::AccountKind;
use crate::domain::statement::{Budget, StatementLine, statement, statement_text};
use crate::error::LedgerError;
use crate::store;

/// What the read audit trail calls a statement's read.
const GET_STATEMENT: &str = "ledger.GetStatement";

/// The longest period one statement covers, in days (both ends counted): three years.
const MAX_PERIOD_DAYS: u64 = 3 * 365 + 1;

fn line_message(line: &StatementLine) -> proto::StatementLine {
    proto::StatementLine {
        counterpart: line.counterpart.wire_number(),
        payee_id: line
            .payee
            .map(|payee| payee.to_string())
            .unwrap_or_default(),
        category: line.category.wire_number(),
        amount: Some(money_message(line.amount)),
    }
}

pub(super) async fn get(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::GetStatementRequest,
) -> Result<proto::Statement, LedgerError> {
    let fund_id = convert::required_id("fund_id", &request.fund_id)?;
    let from = convert::optional_date("from", request.from.as_ref())?
        .ok_or_else(|| Invalid::new("from", "is missing; give the period's first day"))?;
    let to = convert::optional_date("to", request.to.as_ref())?
        .ok_or_else(|| Invalid::new("to", "is missing; give the period's last day"))?;
    if to < from {
        return Err(Invalid::new("to", format!("{to} is before from, {from}")).into());
    }
    // Both days count: the period's days are `to - from + 1`.
    if from
        .checked_add_days(Days::new(MAX_PERIOD_DAYS - 1))
        .is_some_and(|last| to > last)
    {
        return Err(Invalid::new(
            "to",
            format!("makes a period of more than {MAX_PERIOD_DAYS} days; ask for shorter ones"),
        )
        .into());
    }
    let mut transaction = pool.begin().await?;
    let ((fund, accounts), entry) =
        match audited_fund(&mut transaction, clock, principal, fund_id, GET_STATEMENT).await? {
            Ok(readable) => readable,
            Err(refused) => {
                transaction.commit().await?;
                return Err(refused);
            }
        };
    let connection: &mut sqlx::PgConnection = &mut transaction;
    let balance = accounts
        .iter()
        .find(|(account, _)| account.kind == AccountKind::FundBalance)
        .map(|(account, _)| account.id)
        .ok_or_else(|| anyhow::anyhow!("fund {fund_id} has no balance account"))?;
    let opening = store::balance_before(connection, balance, from).await?;
    let movements = store::movements(connection, balance, from, to).await?;
    let budget = Budget {
        weekly: fund.weekly_budget,
        opened_on: fund.opened_on,
        closed_on: fund.closed_on,
    };
    let contribution = match accounts
        .iter()
        .find(|(account, _)| account.kind == AccountKind::ContributionDue)
    {
        Some((account, _)) => store::contribution(connection, account.id, from, to).await?,
        None => None,
    };
    let statement = statement(from, to, budget, opening, &movements, contribution);
    read_audit::read(connection, clock, principal, &entry).await?;
    transaction.commit().await?;
    let date = |day: chrono::NaiveDate| proto::Date {
        iso: sds_vocabulary::date::iso(day),
    };
    Ok(proto::Statement {
        fund_id: fund_id.to_string(),
        from: Some(date(from)),
        to: Some(date(to)),
        opening_balance: Some(money_message(statement.opening)),
        closing_balance: Some(money_message(statement.closing)),
        money_in: statement.money_in.iter().map(line_message).collect(),
        money_out: statement.money_out.iter().map(line_message).collect(),
        total_in: Some(money_message(statement.total_in)),
        total_out: Some(money_message(statement.total_out)),
        planned: Some(money_message(statement.planned)),
        planned_days: u32::try_from(statement.planned_days).unwrap_or_default(),
        text: statement_text(&statement, fund.authority.as_str()),
        contribution: statement
            .contribution
            .map(|contribution| proto::StatementContribution {
                due: Some(money_message(contribution.due)),
                paid: Some(money_message(contribution.paid)),
                outstanding: Some(money_message(contribution.outstanding)),
            }),
    })
}
