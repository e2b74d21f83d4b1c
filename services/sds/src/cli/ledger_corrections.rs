//! `sds ledger reverse|post-pending|void-pending|close-fund|transfers`: correcting a fund's
//! history (a reversing transfer pointing at the original), settling or releasing a pending
//! transfer, closing a fund, and listing its transfers. Each change prints the JSON the
//! server returned; `transfers` prints a table unless `--json`.

use sds_ledger::domain::{Category, TransferStatus};
use sds_proto::v1 as proto;
use uuid::Uuid;

use super::ClientArgs;
use super::ledger::client;
use super::output::{OutputFormat, Table, print_json};
use super::status_error;

#[derive(Debug, clap::Args)]
pub struct ReverseArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The posted transfer to reverse.
    transfer_id: String,
    /// The reversal's own id (its idempotency key); a new one when not given. Give it to
    /// retry safely.
    #[arg(long)]
    id: Option<String>,
    /// Why, kept with the reversal.
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Debug, clap::Args)]
pub struct PendingArgs {
    #[command(flatten)]
    client: ClientArgs,
    transfer_id: String,
}

#[derive(Debug, clap::Args)]
pub struct CloseArgs {
    #[command(flatten)]
    client: ClientArgs,
    fund_id: String,
    /// The account that receives what is left (required unless the balance is zero).
    #[arg(long, default_value = "")]
    destination: String,
    /// The closing transfer's id; a new one when not given.
    #[arg(long)]
    transfer_id: Option<String>,
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Debug, clap::Args)]
pub struct TransfersArgs {
    #[command(flatten)]
    client: ClientArgs,
    fund_id: String,
    #[arg(long, default_value_t = 25)]
    page_size: u32,
    #[arg(long, default_value = "")]
    page_token: String,
    #[command(flatten)]
    output: OutputFormat,
}

fn new_id(given: Option<String>) -> String {
    given.unwrap_or_else(|| Uuid::now_v7().to_string())
}

pub async fn reverse(args: ReverseArgs) -> anyhow::Result<()> {
    let reversal = client(&args.client)
        .await?
        .reverse_transfer(proto::ReverseTransferRequest {
            transfer_id: args.transfer_id,
            reversal_id: new_id(args.id),
            note: args.note,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    print_json(&reversal)
}

pub async fn resolve(args: PendingArgs, post: bool) -> anyhow::Result<()> {
    let mut connection = client(&args.client).await?;
    let request = proto::ResolvePendingRequest {
        transfer_id: args.transfer_id,
    };
    let resolved = if post {
        connection.post_pending(request).await
    } else {
        connection.void_pending(request).await
    }
    .map_err(status_error)?
    .into_inner();
    print_json(&resolved)
}

pub async fn close(args: CloseArgs) -> anyhow::Result<()> {
    let closed = client(&args.client)
        .await?
        .close_fund(proto::CloseFundRequest {
            fund_id: args.fund_id,
            destination_account_id: args.destination,
            transfer_id: new_id(args.transfer_id),
            note: args.note,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    print_json(&closed)
}

pub async fn transfers(args: TransfersArgs) -> anyhow::Result<()> {
    let listed = client(&args.client)
        .await?
        .list_transfers(proto::ListTransfersRequest {
            fund_id: args.fund_id,
            page: Some(proto::PageRequest {
                page_size: args.page_size,
                page_token: args.page_token,
            }),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    args.output.print_list(&listed, transfers_table)
}

fn named<E: sds_vocabulary::named_enum::WireEnum + sds_vocabulary::NamedEnum>(
    number: i32,
) -> String {
    E::from_wire("", number).map_or_else(
        |_| number.to_string(),
        |value| value.name().replace('_', "-"),
    )
}

/// One transfer a row, newest first, then how many there are.
fn transfers_table(response: &proto::ListTransfersResponse) -> Table {
    let mut table = Table::new(&[
        "day",
        "id",
        "amount",
        "category",
        "status",
        "reference",
        "reverses",
    ]);
    for transfer in &response.transfers {
        table.push_row(vec![
            transfer
                .created_on
                .as_ref()
                .map(|day| day.iso.clone())
                .unwrap_or_default(),
            transfer.id.clone(),
            transfer
                .amount
                .as_ref()
                .map(|amount| amount.amount.clone())
                .unwrap_or_default(),
            named::<Category>(transfer.category),
            named::<TransferStatus>(transfer.status),
            transfer.reference.clone(),
            transfer.reverses_id.clone(),
        ]);
    }
    let page = response.page.clone().unwrap_or_default();
    let mut footer = format!("{} transfers", page.total_matches);
    if !page.next_page_token.is_empty() {
        footer.push_str(&format!(
            "; next page: --page-token {}",
            page.next_page_token
        ));
    }
    table.push_footer(footer);
    table
}
