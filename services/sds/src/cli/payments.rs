//! `sds payments ...`: payment schedules from the command line. The preview's JSON
//! contract is in [`preview`]; a live schedule is read from the server.

use sds_payments::preview;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_proto::v1::{self as proto, Date};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use std::path::PathBuf;

mod actuals;
mod contributions;

use super::output::{OutputFormat, Table};
use super::{Bearer, ClientArgs, connect, status_error};

#[derive(Debug, clap::Subcommand)]
pub enum PaymentsCommand {
    /// Prints the payment schedule of a plan history as JSON (see DOMAIN.md, "Money rules").
    Preview {
        /// The input JSON file, or - for standard input.
        #[arg(long)]
        input: PathBuf,
    },
    /// An agreement's live schedule: its instalments as a table, or `--json` for the
    /// schedule with its history in the preview's shape.
    Schedule {
        #[command(flatten)]
        client: ClientArgs,
        agreement_id: String,
        /// List periods through the one containing this day (YYYY-MM-DD); by default
        /// through the last day of support, or a year from today.
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        output: OutputFormat,
    },
    /// Pays every instalment of the authority's schedules due on or before `--date` and not
    /// yet paid (finance staff), showing progress; the last line printed is JSON:
    /// `{"run_id": "...", "instalments": N, "payees": N, "total": "0.00", "files": [...]}`.
    /// Running the same date again pays nothing twice; a stopped run is finished by running
    /// its date again.
    Run {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        authority: String,
        /// Pay what is due on or before this day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
    /// The authority's payment settings as JSON; with `--anchor-date`, sets them first
    /// (finance staff): the four-weekly anchor, and the journal's codes when all three are
    /// given (left out, the journal's code columns are empty).
    Settings {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        authority: String,
        /// The first day of one of the authority's four-weekly periods, YYYY-MM-DD.
        #[arg(long)]
        anchor_date: Option<String>,
        /// The code each instalment paid is debited to in the run's journal.
        #[arg(long, requires_all = ["bank_account", "cost_centre", "anchor_date"])]
        expense_account: Option<String>,
        /// The code each instalment paid is credited to.
        #[arg(long, requires_all = ["expense_account", "cost_centre", "anchor_date"])]
        bank_account: Option<String>,
        #[arg(long, requires_all = ["expense_account", "bank_account", "anchor_date"])]
        cost_centre: Option<String>,
        /// The account runs pay from: all five `--paying-*`/`--service-user-number` flags
        /// together (left out, the account already set stays).
        #[command(flatten)]
        paying: PayingArgs,
        /// Periods of unpaid contribution allowed before `contribution.arrears` tells the
        /// authority (1 to 13; left out, what is set stays).
        #[arg(long, requires = "anchor_date")]
        contribution_arrears_periods: Option<u32>,
    },
    /// A payee's bank account with the authority as JSON (finance staff); with
    /// `--sort-code`, `--account-number` and `--account-name`, enters it first (checked by
    /// Vocalink's modulus rules when the operator supplied the table). A change is a new
    /// version; earlier ones are kept.
    PayeeAccount {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        authority: String,
        /// The provider's or holder's id.
        #[arg(long)]
        payee: String,
        #[arg(long, requires_all = ["account_number", "account_name"])]
        sort_code: Option<String>,
        #[arg(long, requires_all = ["sort_code", "account_name"])]
        account_number: Option<String>,
        #[arg(long, requires_all = ["sort_code", "account_number"])]
        account_name: Option<String>,
    },
    /// Reports delivery for agreements paid on actuals from a CSV with the columns
    /// `agreement_id,period_start,plan_line,amount` (the provider, or the authority's
    /// finance staff): rows of one agreement and period are one report; rejected rows go to
    /// stderr as `line N: rejected: reason`; the last line is JSON
    /// `{"reports": N, "rows": N, "rejected_rows": N, "variance_persistent": N}`.
    Actuals {
        #[command(flatten)]
        client: ClientArgs,
        /// The CSV: UTF-8, a header row, one row per plan line and period.
        file: PathBuf,
    },
    /// The person's contribution on an agreement as JSON: every version, the periods
    /// fallen due, the receipts and the arrears; `contribution set` and `contribution
    /// receipt` change it.
    Contribution {
        #[command(subcommand)]
        command: contributions::ContributionCommand,
    },
    /// A remittance as JSON: what one run paid one payee, item by item (the payee's staff
    /// and the authority's).
    Remittance {
        #[command(flatten)]
        client: ClientArgs,
        /// The remittance number, as on the payee's bank statement (R000000123).
        number: String,
    },
}

/// The authority's paying account, for `sds payments settings`.
#[derive(Debug, clap::Args)]
pub struct PayingArgs {
    /// The authority's name as payees' banks show it.
    #[arg(long, requires_all = ["paying_sort_code", "paying_account_number", "paying_account_name", "service_user_number", "anchor_date"])]
    paying_name: Option<String>,
    #[arg(long, requires = "paying_name")]
    paying_sort_code: Option<String>,
    #[arg(long, requires = "paying_name")]
    paying_account_number: Option<String>,
    #[arg(long, requires = "paying_name")]
    paying_account_name: Option<String>,
    /// The six-digit Bacs service user number the authority's bank issued.
    #[arg(long, requires = "paying_name")]
    service_user_number: Option<String>,
}

impl PayingArgs {
    fn message(self) -> Option<proto::PayingAccount> {
        Some(proto::PayingAccount {
            name: self.paying_name?,
            account: Some(proto::BankAccount {
                sort_code: self.paying_sort_code?,
                account_number: self.paying_account_number?,
                account_name: self.paying_account_name?,
            }),
            service_user_number: self.service_user_number?,
        })
    }
}

type Client = PaymentsServiceClient<InterceptedService<Channel, Bearer>>;

async fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let bearer = Bearer::from_args(args)?;
    Ok(PaymentsServiceClient::with_interceptor(
        connect(&args.server).await?,
        bearer,
    ))
}

pub async fn run(command: PaymentsCommand) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::Schedule {
            client: args,
            agreement_id,
            until,
            output,
        } => {
            let schedule = client(&args)
                .await?
                .get_schedule(proto::GetScheduleRequest {
                    agreement_id,
                    until: until.map(|iso| Date { iso }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            output.print_list(&schedule, schedule_table)
        }
        PaymentsCommand::Run {
            client: args,
            authority,
            date,
        } => run_payments(&args, authority, date).await,
        PaymentsCommand::Settings {
            client: args,
            authority,
            anchor_date,
            expense_account,
            bank_account,
            cost_centre,
            paying,
            contribution_arrears_periods,
        } => {
            let mut client = client(&args).await?;
            let journal_codes = match (expense_account, bank_account, cost_centre) {
                (Some(expense_account), Some(bank_account), Some(cost_centre)) => {
                    Some(proto::JournalCodes {
                        expense_account,
                        bank_account,
                        cost_centre,
                    })
                }
                _ => None,
            };
            let settings = match anchor_date {
                Some(iso) => client
                    .set_payment_settings(proto::SetPaymentSettingsRequest {
                        authority,
                        anchor_date: Some(Date { iso }),
                        journal_codes,
                        paying_account: paying.message(),
                        contribution_arrears_periods: contribution_arrears_periods
                            .unwrap_or_default(),
                    })
                    .await
                    .map_err(status_error)?,
                None => client
                    .get_payment_settings(proto::GetPaymentSettingsRequest { authority })
                    .await
                    .map_err(status_error)?,
            }
            .into_inner();
            super::output::print_json(&settings)
        }
        PaymentsCommand::PayeeAccount {
            client: args,
            authority,
            payee,
            sort_code,
            account_number,
            account_name,
        } => {
            let mut client = client(&args).await?;
            let account = match (sort_code, account_number, account_name) {
                (Some(sort_code), Some(account_number), Some(account_name)) => client
                    .set_payee_bank_account(proto::SetPayeeBankAccountRequest {
                        authority,
                        payee_id: payee,
                        account: Some(proto::BankAccount {
                            sort_code,
                            account_number,
                            account_name,
                        }),
                    })
                    .await
                    .map_err(status_error)?,
                _ => client
                    .get_payee_bank_account(proto::GetPayeeBankAccountRequest {
                        authority,
                        payee_id: payee,
                    })
                    .await
                    .map_err(status_error)?,
            }
            .into_inner();
            super::output::print_json(&account)
        }
        PaymentsCommand::Actuals { client: args, file } => actuals::import(&args, &file).await,
        PaymentsCommand::Contribution { command } => contributions::run(command).await,
        PaymentsCommand::Remittance {
            client: args,
            number,
        } => {
            let remittance = client(&args)
                .await?
                .get_remittance(proto::GetRemittanceRequest { number })
                .await
                .map_err(status_error)?
                .into_inner();
            super::output::print_json(&remittance)
        }
        PaymentsCommand::Preview { input } => {
            let text = if input.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&input)
                    .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", input.display()))?
            };
            let schedule = preview::preview_json(&text)
                .map_err(|error| anyhow::anyhow!("InvalidArgument: {error}"))?;
            println!("{schedule}");
            Ok(())
        }
    }
}

fn schedule_table(schedule: &proto::Schedule) -> Table {
    let iso = |date: &Option<Date>| {
        date.as_ref()
            .map(|date| date.iso.clone())
            .unwrap_or_default()
    };
    let amount = |money: &Option<proto::Money>| {
        money
            .as_ref()
            .map(|money| money.amount.clone())
            .unwrap_or_default()
    };
    let mut table = Table::new(&["PERIOD", "DUE", "BASE", "ADJUSTMENT", "AMOUNT"]);
    for instalment in &schedule.instalments {
        table.push_row(vec![
            format!(
                "{}..{}",
                iso(&instalment.period_start),
                iso(&instalment.period_end)
            ),
            iso(&instalment.due_date),
            amount(&instalment.base),
            amount(&instalment.adjustment),
            amount(&instalment.amount),
        ]);
    }
    let payee = match proto::PayeeKind::try_from(schedule.payee_kind) {
        Ok(proto::PayeeKind::Holder) => "the holder",
        _ => "the provider",
    };
    table.push_footer(format!(
        "agreement {} pays {payee} {}; revision {}",
        schedule.agreement_id, schedule.payee_id, schedule.revision
    ));
    let closing = amount(&schedule.closing_settlement);
    if let Some(last_day) = schedule.last_day.as_ref() {
        table.push_footer(format!(
            "support ends {}; closing settlement {closing} (negative: owed back)",
            last_day.iso
        ));
    }
    table
}

async fn run_payments(args: &ClientArgs, authority: String, date: String) -> anyhow::Result<()> {
    let mut stream = client(args)
        .await?
        .run_payments(proto::RunPaymentsRequest {
            authority,
            run_date: Some(Date { iso: date }),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    // indicatif draws nothing when stderr is not a terminal.
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut completed = None;
    while let Some(progress) = stream.message().await.map_err(status_error)? {
        let phase = match proto::RunPhase::try_from(progress.phase) {
            Ok(proto::RunPhase::Planning) => "choosing instalments (schedules)",
            Ok(proto::RunPhase::Funds) => "opening funds",
            Ok(proto::RunPhase::Posting) => "posting to the ledger (instalments)",
            Ok(proto::RunPhase::Exporting) => "writing the finance files (instalments)",
            _ => "completing",
        };
        bar.set_message(phase);
        bar.set_length(progress.total);
        bar.set_position(progress.done);
        if progress.completed.is_some() {
            completed = progress.completed;
        }
    }
    bar.finish_and_clear();
    let summary = completed.ok_or_else(|| {
        anyhow::anyhow!(
            "Unavailable: the run's progress ended before it completed; run the same date again to finish it"
        )
    })?;
    if summary.resumed {
        eprintln!(
            "finished run {} that an earlier call had started",
            summary.run_id
        );
    }
    for held in &summary.held {
        eprintln!(
            "held: payee {} has no bank account with the authority; {} instalments ({}) stay due until its finance staff enter one (sds payments payee-account)",
            held.payee_id,
            held.instalments,
            held.total
                .as_ref()
                .map(|money| money.amount.as_str())
                .unwrap_or("0.00"),
        );
    }
    let line = serde_json::json!({
        "run_id": summary.run_id,
        "instalments": summary.instalments,
        "payees": summary.payees,
        "total": summary.total.map(|money| money.amount).unwrap_or_else(|| "0.00".to_owned()),
        "files": summary.files,
    });
    println!("{line}");
    Ok(())
}
