//! `SetPaymentSettings` and `GetPaymentSettings`: the authority's four-weekly anchor, set by
//! its finance staff and read by any of its staff.

use chrono::NaiveDate;
use sds_platform::StoreContext as _;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::{AuthorityId, shown};
use sqlx::PgPool;

use crate::domain::bank_account;
use crate::error::PaymentsError;
use crate::exports::journal::LedgerCodes;
use crate::schedules::DEFAULT_ANCHOR;
use crate::store;

use super::bank::{account_message, bank_details, is_finance_of};
use super::convert::date_message;
use crate::store::bank::PayingAccount;

fn authority(raw: &str) -> Result<AuthorityId, PaymentsError> {
    AuthorityId::parse("authority", raw)
        .map_err(|invalid| PaymentsError::InvalidInput(invalid.to_string()))
}

fn is_staff_of(principal: &Principal, authority: &AuthorityId) -> bool {
    principal.org_kind == OrgKind::Authority && principal.may_act_for(authority)
}

pub async fn set(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::SetPaymentSettingsRequest,
) -> Result<proto::PaymentSettings, PaymentsError> {
    let authority = authority(&request.authority)?;
    let anchor_text = request
        .anchor_date
        .as_ref()
        .map(|date| date.iso.as_str())
        .filter(|iso| !iso.is_empty())
        .ok_or_else(|| {
            PaymentsError::InvalidInput(
                "anchor_date: missing; give the first day of one of the authority's four-weekly periods as YYYY-MM-DD".to_owned(),
            )
        })?;
    let anchor_date = parse_iso_date(anchor_text).ok_or_else(|| {
        PaymentsError::InvalidInput(format!(
            "anchor_date: {} is not a date; expected YYYY-MM-DD",
            shown(anchor_text)
        ))
    })?;
    let codes = request
        .journal_codes
        .as_ref()
        .map(journal_codes)
        .transpose()?;
    let paying = request
        .paying_account
        .as_ref()
        .map(paying_account)
        .transpose()?;
    let allowance = match request.contribution_arrears_periods {
        0 => None,
        periods @ 1..=13 => Some(periods),
        periods => {
            return Err(PaymentsError::InvalidInput(format!(
                "contribution_arrears_periods: {periods} is not allowed; accepted: 1 to 13 periods, or 0 to keep what is set"
            )));
        }
    };
    if !(is_staff_of(principal, &authority) && principal.has_role(Role::Finance)) {
        return Err(PaymentsError::NotAllowed(format!(
            "payment settings of {authority} are set by its finance staff"
        )));
    }
    let mut transaction = pool.begin().await.operation("database connection")?;
    store::set_settings(&mut transaction, &authority, anchor_date, codes.as_ref()).await?;
    if let Some(paying) = &paying {
        store::bank::set_paying_account(&mut transaction, &authority, paying, &principal.org_id)
            .await?;
    }
    if let Some(periods) = allowance {
        store::set_arrears_allowance(&mut transaction, &authority, periods).await?;
    }
    let codes = store::journal_codes(&mut transaction, &authority).await?;
    let paying = store::bank::paying_account(&mut transaction, &authority).await?;
    let allowance = store::collection::arrears_allowance(&mut transaction, &authority).await?;
    transaction
        .commit()
        .await
        .operation("database connection")?;
    tracing::info!(%authority, %anchor_date, "payment settings set");
    Ok(message(
        &authority,
        anchor_date,
        true,
        codes.as_ref(),
        paying.as_ref(),
        allowance,
    ))
}

/// The paying account: a bank account, the name payees' banks show, and the Bacs service
/// user number.
fn paying_account(paying: &proto::PayingAccount) -> Result<PayingAccount, PaymentsError> {
    let name = bank_account::account_name("paying_account.name", &paying.name)
        .map_err(PaymentsError::InvalidInput)?;
    let account = bank_details("paying_account.account", paying.account.as_ref())?;
    let sun = paying.service_user_number.trim();
    if sun.len() != 6 || !sun.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PaymentsError::InvalidInput(format!(
            "paying_account.service_user_number: {} is not a Bacs service user number; expected the six digits the authority's bank issued",
            shown(&paying.service_user_number)
        )));
    }
    Ok(PayingAccount {
        name,
        account,
        service_user_number: sun.to_owned(),
    })
}

/// A journal code: 1 to 20 letters, digits and . _ / -.
fn code(field: &str, raw: &str) -> Result<String, PaymentsError> {
    let text = raw.trim();
    let allowed = |character: char| character.is_ascii_alphanumeric() || "._/-".contains(character);
    if text.is_empty() || text.chars().count() > 20 || !text.chars().all(allowed) {
        return Err(PaymentsError::InvalidInput(format!(
            "journal_codes.{field}: {} is not a code; use 1 to 20 letters, digits and . _ / -",
            shown(raw)
        )));
    }
    Ok(text.to_owned())
}

fn journal_codes(codes: &proto::JournalCodes) -> Result<LedgerCodes, PaymentsError> {
    Ok(LedgerCodes {
        expense: code("expense_account", &codes.expense_account)?,
        bank: code("bank_account", &codes.bank_account)?,
        cost_centre: code("cost_centre", &codes.cost_centre)?,
    })
}

pub async fn get(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::GetPaymentSettingsRequest,
) -> Result<proto::PaymentSettings, PaymentsError> {
    let authority = authority(&request.authority)?;
    if !is_staff_of(principal, &authority) {
        return Err(PaymentsError::NotAllowed(format!(
            "payment settings of {authority} are read by its staff"
        )));
    }
    let mut connection = pool.acquire().await.operation("database connection")?;
    let codes = store::journal_codes(&mut connection, &authority).await?;
    let allowance = store::collection::arrears_allowance(&mut connection, &authority).await?;
    // Bank details are for finance staff only.
    let paying = if is_finance_of(principal, &authority) {
        store::bank::paying_account(&mut connection, &authority).await?
    } else {
        None
    };
    Ok(
        match store::anchor_date(&mut connection, &authority).await? {
            Some(anchor_date) => message(
                &authority,
                anchor_date,
                true,
                codes.as_ref(),
                paying.as_ref(),
                allowance,
            ),
            None => message(&authority, DEFAULT_ANCHOR, false, None, None, allowance),
        },
    )
}

fn message(
    authority: &AuthorityId,
    anchor_date: NaiveDate,
    set: bool,
    codes: Option<&LedgerCodes>,
    paying: Option<&PayingAccount>,
    contribution_arrears_periods: u32,
) -> proto::PaymentSettings {
    proto::PaymentSettings {
        authority: authority.as_str().to_owned(),
        anchor_date: Some(date_message(anchor_date)),
        set,
        journal_codes: codes.map(|codes| proto::JournalCodes {
            expense_account: codes.expense.clone(),
            bank_account: codes.bank.clone(),
            cost_centre: codes.cost_centre.clone(),
        }),
        paying_account: paying.map(|paying| proto::PayingAccount {
            name: paying.name.clone(),
            account: Some(account_message(&paying.account)),
            service_user_number: paying.service_user_number.clone(),
        }),
        contribution_arrears_periods,
    }
}
