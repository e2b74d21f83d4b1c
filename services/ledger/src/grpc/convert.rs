//! The validating conversions between `sds.v1` ledger messages and domain types. Every
//! refusal names the field by its path in the request (`transfers[2].amount`) and says what
//! is accepted; money is read with `Money` and kept as whole pence.

use sds_money::Money;
use sds_proto::v1 as proto;
use sds_vocabulary::date::{date, iso};
use sds_vocabulary::id::id;
use sds_vocabulary::named_enum::WireEnum as _;
use sds_vocabulary::text::optional_text;
use sds_vocabulary::{AuthorityId, Invalid, shown};
use uuid::Uuid;

use crate::domain::fund::{FundDraft, new_fund};
use crate::domain::transfer::{TransferDraft, transfer_content};
use crate::domain::{
    AccountState, Category, Fund, HoldingModel, NewFund, TransferContent, TransferRecord,
};

/// References are short (an instalment, an invoice number); notes say a little more.
const MAX_REFERENCE_CHARS: usize = 200;
const MAX_NOTE_CHARS: usize = 1000;

/// An amount in pence from `Money` on the wire; empty is `None`.
fn optional_pence(field: &str, raw: Option<&proto::Money>) -> Result<Option<i64>, Invalid> {
    let Some(raw) = raw
        .map(|money| money.amount.trim())
        .filter(|amount| !amount.is_empty())
    else {
        return Ok(None);
    };
    let amount =
        Money::parse(raw).map_err(|error| Invalid::new(field, format!("is not valid: {error}")))?;
    if amount.is_negative() {
        return Err(Invalid::new(
            field,
            format!("is {}; it must be 0.00 or more", shown(raw)),
        ));
    }
    Ok(Some(amount.pence()))
}

fn pence(field: &str, raw: Option<&proto::Money>) -> Result<i64, Invalid> {
    optional_pence(field, raw)?
        .ok_or_else(|| Invalid::new(field, "is missing; give an amount such as \"12.60\""))
}

pub fn optional_id(field: &str, raw: &str) -> Result<Option<Uuid>, Invalid> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        id(field, raw).map(Some)
    }
}

pub fn required_id(field: &str, raw: &str) -> Result<Uuid, Invalid> {
    optional_id(field, raw)?.ok_or_else(|| Invalid::new(field, "is missing; give the id, a UUID"))
}

/// Why the nil UUID is refused as the id of something recorded, and as someone's id.
const NIL_NEW_ID: &str =
    "is the nil UUID, which names nothing; give a new UUID for each (a UUIDv7, for example)";
const NIL_SOMEONE: &str =
    "is the nil UUID, which names nobody; give the id of the person or organisation";

/// The id a caller gives something it records (a transfer, a fund): also its idempotency
/// key, so the nil UUID, which every client that forgot to set one would share, is refused.
pub fn new_id(field: &str, raw: &str) -> Result<Uuid, Invalid> {
    refuse_nil(field, required_id(field, raw)?, NIL_NEW_ID)
}

/// As [`new_id`], when the id may be left out.
pub fn optional_new_id(field: &str, raw: &str) -> Result<Option<Uuid>, Invalid> {
    optional_id(field, raw)?
        .map(|id| refuse_nil(field, id, NIL_NEW_ID))
        .transpose()
}

/// The id of someone the fund names (the person, the holder, a payee): the nil UUID names
/// nobody, and stored it would read as "no payee" (`store::insert_fund`).
pub fn someone_id(field: &str, raw: &str) -> Result<Uuid, Invalid> {
    refuse_nil(field, required_id(field, raw)?, NIL_SOMEONE)
}

/// As [`someone_id`], when the id may be left out.
pub fn optional_someone_id(field: &str, raw: &str) -> Result<Option<Uuid>, Invalid> {
    optional_id(field, raw)?
        .map(|id| refuse_nil(field, id, NIL_SOMEONE))
        .transpose()
}

fn refuse_nil(field: &str, id: Uuid, refusal: &str) -> Result<Uuid, Invalid> {
    if id.is_nil() {
        return Err(Invalid::new(field, refusal));
    }
    Ok(id)
}

pub fn text(field: &str, raw: &str, max: usize) -> Result<String, Invalid> {
    Ok(optional_text(field, raw, max)?.unwrap_or_default())
}

pub fn note(field: &str, raw: &str) -> Result<String, Invalid> {
    text(field, raw, MAX_NOTE_CHARS)
}

pub fn optional_date(
    field: &str,
    raw: Option<&proto::Date>,
) -> Result<Option<chrono::NaiveDate>, Invalid> {
    match raw
        .map(|value| value.iso.trim())
        .filter(|iso| !iso.is_empty())
    {
        Some(iso) => date(field, iso).map(Some),
        None => Ok(None),
    }
}

pub fn open_fund(request: &proto::OpenFundRequest) -> Result<NewFund, Invalid> {
    let payees = request
        .payee_ids
        .iter()
        .enumerate()
        .map(|(index, raw)| someone_id(&format!("payee_ids[{index}]"), raw))
        .collect::<Result<Vec<_>, _>>()?;
    new_fund(FundDraft {
        id: new_id("fund_id", &request.fund_id)?,
        authority: AuthorityId::parse("authority", &request.authority)?,
        person_id: someone_id("person_id", &request.person_id)?,
        holding_model: HoldingModel::from_wire("holding_model", request.holding_model)?,
        holder_id: optional_someone_id("holder_id", &request.holder_id)?,
        weekly_budget: pence("weekly_budget", request.weekly_budget.as_ref())?,
        overdraft_limit: optional_pence("overdraft_limit", request.overdraft_limit.as_ref())?
            .unwrap_or(0),
        payees,
    })
}

fn new_transfer(raw: &proto::NewTransfer) -> Result<TransferContent, Invalid> {
    transfer_content(TransferDraft {
        id: new_id("id", &raw.id)?,
        debit: required_id("debit_account_id", &raw.debit_account_id)?,
        credit: required_id("credit_account_id", &raw.credit_account_id)?,
        amount: pence("amount", raw.amount.as_ref())?,
        category: Category::from_wire("category", raw.category)?,
        reference: text("reference", &raw.reference, MAX_REFERENCE_CHARS)?,
        note: note("note", &raw.note)?,
        pending: raw.pending,
    })
}

/// Every transfer of a batch, each refusal placed at `transfers[i]`.
pub fn new_transfers(raw: &[proto::NewTransfer]) -> Result<Vec<TransferContent>, Invalid> {
    raw.iter()
        .enumerate()
        .map(|(index, transfer)| {
            new_transfer(transfer).map_err(|invalid| invalid.within(&format!("transfers[{index}]")))
        })
        .collect()
}

// ---- domain types, as messages ------------------------------------------------------

pub fn money_message(pence: i64) -> proto::Money {
    proto::Money {
        // Sums outside what `Money` shows cannot be recorded (the book refuses them).
        amount: Money::from_pence(pence)
            .map_or_else(|_| format!("{pence}p"), |money| money.to_string()),
    }
}

fn date_message(day: chrono::NaiveDate) -> proto::Date {
    proto::Date { iso: iso(day) }
}

pub fn account_message(account: &AccountState, payee: Option<Uuid>) -> proto::LedgerAccount {
    proto::LedgerAccount {
        id: account.id.to_string(),
        kind: account.kind.wire_number(),
        payee_id: payee.map(|payee| payee.to_string()).unwrap_or_default(),
        balance: Some(money_message(account.balance())),
        pending_debits: Some(money_message(account.debits_pending)),
        pending_credits: Some(money_message(account.credits_pending)),
        available: Some(money_message(account.available())),
    }
}

pub fn fund_message(fund: &Fund, accounts: &[(AccountState, Option<Uuid>)]) -> proto::Fund {
    let mut accounts = accounts.to_vec();
    // The fund's balance first, then counterparts in the order of the kinds.
    accounts.sort_by_key(|(account, payee)| (account.kind, *payee));
    proto::Fund {
        id: fund.id.to_string(),
        authority: fund.authority.to_string(),
        person_id: fund.person_id.to_string(),
        holding_model: fund.holding_model.wire_number(),
        holder_id: fund.holder_id.clone(),
        weekly_budget: Some(money_message(fund.weekly_budget)),
        overdraft_limit: Some(money_message(fund.overdraft_limit)),
        status: fund.status().wire_number(),
        opened_on: Some(date_message(fund.opened_on)),
        closed_on: fund.closed_on.map(date_message),
        accounts: accounts
            .iter()
            .map(|(account, payee)| account_message(account, *payee))
            .collect(),
    }
}

pub fn transfer_message(record: &TransferRecord) -> proto::Transfer {
    let content = &record.content;
    proto::Transfer {
        id: content.id.to_string(),
        fund_id: record.fund_id.to_string(),
        debit_account_id: content.debit.to_string(),
        credit_account_id: content.credit.to_string(),
        amount: Some(money_message(content.amount)),
        category: content.category.wire_number(),
        reference: content.reference.clone(),
        note: content.note.clone(),
        pending: content.pending,
        status: record.status.wire_number(),
        reverses_id: content
            .reverses
            .map(|id| id.to_string())
            .unwrap_or_default(),
        created_on: Some(date_message(record.created_on)),
        authority: record.authority.to_string(),
    }
}
