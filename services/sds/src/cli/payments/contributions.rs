//! `sds payments contribution`: the person's contribution on an agreement, as the
//! authority's financial assessment set it and as the fund's holder collects it.

use sds_proto::v1 as proto;

use super::super::ClientArgs;
use super::super::status_error;
use super::client;

#[derive(Debug, clap::Subcommand)]
pub enum ContributionCommand {
    /// Shows the contribution as JSON: versions, periods fallen due, receipts, arrears.
    Show {
        #[command(flatten)]
        client: ClientArgs,
        agreement_id: String,
    },
    /// Sets the weekly contribution from a day (the authority's finance staff): from then
    /// the schedule pays the budget net of it. `--weekly 0.00` ends it.
    Set {
        #[command(flatten)]
        client: ClientArgs,
        agreement_id: String,
        /// What the person pays a week, as the financial assessment decided.
        #[arg(long)]
        weekly: String,
        /// The first day it applies (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// The financial assessment's reference.
        #[arg(long)]
        assessment: String,
    },
    /// Records what the person paid (the fund's holder, or the authority's finance staff);
    /// the same `--receipt-id` again records nothing.
    Receipt {
        #[command(flatten)]
        client: ClientArgs,
        agreement_id: String,
        /// Your id for the receipt (a UUID): its idempotency key.
        #[arg(long)]
        receipt_id: String,
        #[arg(long)]
        amount: String,
        /// The day it was received (YYYY-MM-DD).
        #[arg(long)]
        received_on: String,
        /// As on the bank statement or receipt book.
        #[arg(long)]
        reference: String,
    },
}

pub async fn run(command: ContributionCommand) -> anyhow::Result<()> {
    match command {
        ContributionCommand::Show {
            client: args,
            agreement_id,
        } => {
            let contribution = client(&args)
                .await?
                .get_contribution(proto::GetContributionRequest { agreement_id })
                .await
                .map_err(status_error)?
                .into_inner();
            super::super::output::print_json(&contribution)
        }
        ContributionCommand::Set {
            client: args,
            agreement_id,
            weekly,
            from,
            assessment,
        } => {
            let contribution = client(&args)
                .await?
                .set_contribution(proto::SetContributionRequest {
                    agreement_id,
                    weekly_amount: Some(proto::Money { amount: weekly }),
                    effective_from: Some(proto::Date { iso: from }),
                    assessment_reference: assessment,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            super::super::output::print_json(&contribution)
        }
        ContributionCommand::Receipt {
            client: args,
            agreement_id,
            receipt_id,
            amount,
            received_on,
            reference,
        } => {
            let receipt = client(&args)
                .await?
                .record_contribution_receipt(proto::RecordContributionReceiptRequest {
                    receipt_id,
                    agreement_id,
                    amount: Some(proto::Money { amount }),
                    received_on: Some(proto::Date { iso: received_on }),
                    reference,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            super::super::output::print_json(&receipt)
        }
    }
}
