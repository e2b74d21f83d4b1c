//! The provider drawing its charges from the fund it holds (the provider-held model): the
//! council pays the fund, and the provider records in the ledger what it draws for the
//! support it gave, as its dashboard does, so the person's statement says how the money was
//! spent.

use anyhow::Context as _;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use uuid::Uuid;

use super::{Calendar, Platform, bearer};

fn money(amount: &str) -> anyhow::Result<Money> {
    Money::parse(amount).with_context(|| format!("{amount:?} is an amount"))
}

/// The flow's draw: after the second run, the provider draws for the support it gave up to
/// then, `first_run` (what the first run paid) and `adjustment` (what the backdated
/// variation added to it). Returns the fund's id.
pub(super) async fn draw_for_support_given(
    platform: &Platform,
    calendar: &Calendar,
    person_id: &str,
    provider_id: &str,
    first_run: &str,
    adjustment: &str,
) -> anyhow::Result<String> {
    let fund_id = sds_payments::runs::fund_id(
        &platform.authority,
        Uuid::parse_str(person_id).context("the person's id")?,
        provider_id,
    )
    .to_string();
    let delivered = money(first_run)?
        .checked_add(money(adjustment)?)
        .context("the charges add up")?;
    let last_day = calendar
        .second_run()
        .pred_opt()
        .unwrap_or(calendar.second_run());
    draw_charges(
        platform,
        provider_id,
        &fund_id,
        Uuid::now_v7(),
        delivered,
        &format!("support to {last_day}"),
    )
    .await?;
    Ok(fund_id)
}

/// Records that `provider_id` drew `amount` from `fund_id` for `what_for`, as the provider
/// itself, under transfer id `id` (sent again, it records nothing more).
pub async fn draw_charges(
    platform: &Platform,
    provider_id: &str,
    fund_id: &str,
    id: Uuid,
    amount: Money,
    what_for: &str,
) -> anyhow::Result<()> {
    let token = platform.provider(provider_id);
    let mut ledger = LedgerServiceClient::new(platform.ledger.clone());
    let fund = ledger
        .add_payee(bearer(
            &token,
            proto::AddPayeeRequest {
                fund_id: fund_id.to_owned(),
                payee_id: provider_id.to_owned(),
            },
        ))
        .await
        .context("the provider adds itself as a payee of the fund it holds")?
        .into_inner();
    let account = |kind: proto::LedgerAccountKind, payee: &str| {
        fund.accounts
            .iter()
            .find(|account| account.kind == kind as i32 && account.payee_id == payee)
            .map(|account| account.id.clone())
            .with_context(|| format!("the fund has a {kind:?} account"))
    };
    ledger
        .create_transfers(bearer(
            &token,
            proto::CreateTransfersRequest {
                transfers: vec![proto::NewTransfer {
                    id: id.to_string(),
                    debit_account_id: account(proto::LedgerAccountKind::FundBalance, "")?,
                    credit_account_id: account(proto::LedgerAccountKind::Payable, provider_id)?,
                    amount: Some(proto::Money {
                        amount: amount.to_string(),
                    }),
                    category: proto::TransferCategory::SupportPayment as i32,
                    reference: what_for.to_owned(),
                    note: String::new(),
                    pending: false,
                }],
            },
        ))
        .await
        .context("the provider records its draw")?;
    Ok(())
}
