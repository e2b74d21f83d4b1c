//! `SetPaymentSettings` and `GetPaymentSettings`: the authority's four-weekly anchor, set by
//! its finance staff and read by any of its staff.

use chrono::NaiveDate;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::{AuthorityId, shown};
use sqlx::PgPool;

use crate::error::PaymentsError;
use crate::exports::journal::LedgerCodes;
use crate::schedules::DEFAULT_ANCHOR;
use crate::store;

use super::convert::date_message;

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
    if !(is_staff_of(principal, &authority) && principal.has_role(Role::Finance)) {
        return Err(PaymentsError::NotAllowed(format!(
            "payment settings of {authority} are set by its finance staff"
        )));
    }
    let mut connection = pool.acquire().await.map_err(anyhow::Error::new)?;
    store::set_settings(&mut connection, &authority, anchor_date, codes.as_ref()).await?;
    tracing::info!(%authority, %anchor_date, "payment settings set");
    Ok(message(&authority, anchor_date, true, codes.as_ref()))
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
    let mut connection = pool.acquire().await.map_err(anyhow::Error::new)?;
    let codes = store::journal_codes(&mut connection, &authority).await?;
    Ok(
        match store::anchor_date(&mut connection, &authority).await? {
            Some(anchor_date) => message(&authority, anchor_date, true, codes.as_ref()),
            None => message(&authority, DEFAULT_ANCHOR, false, None),
        },
    )
}

fn message(
    authority: &AuthorityId,
    anchor_date: NaiveDate,
    set: bool,
    codes: Option<&LedgerCodes>,
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
    }
}
