//! `sds ledger ...`: open a fund, read it with its accounts, record a transfer, read a
//! balance (now, or as at the end of a day) and a statement; corrections, pending
//! transfers, closing and the list of transfers are in [`super::ledger_corrections`], a
//! payment run from a file in [`super::ledger_bulk`].
//!
//! Amounts and dates are sent as given; whether they are sound (an amount above zero with
//! at most two decimal places, an account of the same fund) is the server's to say, in its
//! own `InvalidArgument` naming the field.

use sds_ledger::domain::{AccountKind, Category, HoldingModel};
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::{self as proto, Date, Money};
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use super::enum_arg::EnumArg;
use super::output::{OutputFormat, Table, print_json};
use super::{Bearer, ClientArgs, connect, status_error};

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Opens a person's fund with a holder, with its accounts (authority staff).
    #[command(name = "open-fund")]
    OpenFund(OpenFundArgs),
    /// A fund and its accounts' balances: a table, or `--json`.
    #[command(name = "get-fund")]
    GetFund {
        #[command(flatten)]
        client: ClientArgs,
        fund_id: String,
        #[command(flatten)]
        output: OutputFormat,
    },
    /// Records one transfer between two accounts of a fund (finance staff).
    Transfer(TransferArgs),
    /// Posts a payment run's transfers from a CSV file, in chunks each all or nothing
    /// (finance staff); sending the file again records each transfer once.
    #[command(name = "post-bulk")]
    PostBulk(super::ledger_bulk::PostBulkArgs),
    /// Corrects a posted transfer with a new one the other way round (finance staff).
    Reverse(super::ledger_corrections::ReverseArgs),
    /// Settles a pending transfer: its reserved amount moves.
    PostPending(super::ledger_corrections::PendingArgs),
    /// Releases a pending transfer: its reserved amount is freed.
    VoidPending(super::ledger_corrections::PendingArgs),
    /// Closes a fund (zero balance, or `--destination` receives what is left).
    CloseFund(super::ledger_corrections::CloseArgs),
    /// The fund's transfers, newest first: a table, or `--json`.
    Transfers(super::ledger_corrections::TransfersArgs),
    /// A fund's statement for a period in plain words, or `--json` for the figures.
    Statement {
        #[command(flatten)]
        client: ClientArgs,
        fund_id: String,
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// The last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// Print the Statement as JSON instead of its text.
        #[arg(long)]
        json: bool,
    },
    /// An account's balance now, and with `--as-at` at the end of that day.
    Balance {
        #[command(flatten)]
        client: ClientArgs,
        account_id: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        as_at: Option<String>,
    },
    /// Checks every invariant of the books, reading the ledger's schema with
    /// SDS_DATABASE_URL (no server, no token); the last line is JSON, and the exit status
    /// is non-zero on any violation.
    Audit,
}

#[derive(Debug, clap::Args)]
pub struct OpenFundArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The fund's id; a new one when not given. Give it to retry an open safely.
    #[arg(long)]
    fund_id: Option<String>,
    #[arg(long)]
    authority: String,
    #[arg(long)]
    person: String,
    #[arg(long, value_parser = EnumArg::<HoldingModel>::new())]
    holding_model: HoldingModel,
    /// The provider or third party holding the fund (not for an authority-held fund).
    #[arg(long)]
    holder: Option<String>,
    #[arg(long)]
    weekly_budget: String,
    /// How far below zero the balance may go (0.00 when not given).
    #[arg(long)]
    overdraft_limit: Option<String>,
    /// A payee the fund pays; repeat for each.
    #[arg(long = "payee")]
    payees: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct TransferArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The transfer's id (its idempotency key); a new one when not given. Give it to
    /// retry safely.
    #[arg(long)]
    id: Option<String>,
    /// The account money leaves.
    #[arg(long)]
    debit: String,
    /// The account money enters.
    #[arg(long)]
    credit: String,
    #[arg(long)]
    amount: String,
    #[arg(long, value_parser = EnumArg::<Category>::new())]
    category: Category,
    #[arg(long, default_value = "")]
    reference: String,
    #[arg(long, default_value = "")]
    note: String,
    /// Reserve the amount until it is posted or voided.
    #[arg(long)]
    pending: bool,
}

type Client = LedgerServiceClient<InterceptedService<Channel, Bearer>>;

pub(super) async fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let bearer = Bearer::from_args(args)?;
    Ok(LedgerServiceClient::with_interceptor(
        connect(&args.server).await?,
        bearer,
    ))
}

fn money(amount: &str) -> Option<Money> {
    Some(Money {
        amount: amount.trim().to_owned(),
    })
}

pub async fn run(command: LedgerCommand) -> anyhow::Result<()> {
    match command {
        LedgerCommand::OpenFund(args) => {
            let request = proto::OpenFundRequest {
                fund_id: args.fund_id.unwrap_or_else(|| Uuid::now_v7().to_string()),
                authority: args.authority,
                person_id: args.person,
                holding_model: args.holding_model.wire_number(),
                holder_id: args.holder.unwrap_or_default(),
                weekly_budget: money(&args.weekly_budget),
                overdraft_limit: args.overdraft_limit.as_deref().and_then(money),
                payee_ids: args.payees,
            };
            let fund = client(&args.client)
                .await?
                .open_fund(request)
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&fund)
        }
        LedgerCommand::GetFund {
            client: args,
            fund_id,
            output,
        } => {
            let fund = client(&args)
                .await?
                .get_fund(proto::GetFundRequest { fund_id })
                .await
                .map_err(status_error)?
                .into_inner();
            output.print_list(&fund, fund_table)
        }
        LedgerCommand::Transfer(args) => {
            let transfer = proto::NewTransfer {
                id: args.id.unwrap_or_else(|| Uuid::now_v7().to_string()),
                debit_account_id: args.debit,
                credit_account_id: args.credit,
                amount: money(&args.amount),
                category: args.category.wire_number(),
                reference: args.reference,
                note: args.note,
                pending: args.pending,
            };
            let mut recorded = client(&args.client)
                .await?
                .create_transfers(proto::CreateTransfersRequest {
                    transfers: vec![transfer],
                })
                .await
                .map_err(status_error)?
                .into_inner();
            let transfer = recorded
                .transfers
                .pop()
                .ok_or_else(|| anyhow::anyhow!("the server recorded no transfer"))?;
            print_json(&transfer)
        }
        LedgerCommand::PostBulk(args) => super::ledger_bulk::post_bulk(args).await,
        LedgerCommand::Reverse(args) => super::ledger_corrections::reverse(args).await,
        LedgerCommand::PostPending(args) => super::ledger_corrections::resolve(args, true).await,
        LedgerCommand::VoidPending(args) => super::ledger_corrections::resolve(args, false).await,
        LedgerCommand::CloseFund(args) => super::ledger_corrections::close(args).await,
        LedgerCommand::Transfers(args) => super::ledger_corrections::transfers(args).await,
        LedgerCommand::Statement {
            client: args,
            fund_id,
            from,
            to,
            json,
        } => {
            let statement = client(&args)
                .await?
                .get_statement(proto::GetStatementRequest {
                    fund_id,
                    from: Some(Date { iso: from }),
                    to: Some(Date { iso: to }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            if json {
                print_json(&statement)
            } else {
                print!("{}", statement.text);
                Ok(())
            }
        }
        LedgerCommand::Balance {
            client: args,
            account_id,
            as_at,
        } => {
            let balance = client(&args)
                .await?
                .get_balance(proto::GetBalanceRequest {
                    account_id,
                    as_at: as_at.map(|iso| Date { iso }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&balance)
        }
        LedgerCommand::Audit => super::ledger_audit::run().await,
    }
}

/// One row per account: its kind and payee, balance, what pending transfers reserve, and
/// what is available; the fund's details below.
fn fund_table(fund: &proto::Fund) -> Table {
    let mut table = Table::new(&[
        "kind",
        "payee",
        "balance",
        "pending out",
        "pending in",
        "available",
        "account",
    ]);
    let amount = |money: &Option<Money>| {
        money
            .as_ref()
            .map(|money| money.amount.clone())
            .unwrap_or_default()
    };
    for account in &fund.accounts {
        let kind = AccountKind::from_wire("kind", account.kind)
            .map_or_else(|_| account.kind.to_string(), |kind| kind.cli_name());
        table.push_row(vec![
            kind,
            account.payee_id.clone(),
            amount(&account.balance),
            amount(&account.pending_debits),
            amount(&account.pending_credits),
            amount(&account.available),
            account.id.clone(),
        ]);
    }
    let status = if fund.status == proto::FundStatus::Closed as i32 {
        "closed"
    } else {
        "open"
    };
    table.push_footer(format!(
        "fund {} of person {} ({}), {status}; {} a week, overdraft limit {}",
        fund.id,
        fund.person_id,
        fund.authority,
        amount(&fund.weekly_budget),
        amount(&fund.overdraft_limit)
    ));
    table
}
