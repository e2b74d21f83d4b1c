//! `SetPaymentSettings` and `GetPaymentSettings`: the authority's four-weekly anchor, set by
//! its finance staff and read by any of its staff.

use chrono::NaiveDate;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::{AuthorityId, shown};
use sqlx::PgPool;

use crate::error::PaymentsError;
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
    if !(is_staff_of(principal, &authority) && principal.has_role(Role::Finance)) {
        return Err(PaymentsError::NotAllowed(format!(
            "payment settings of {authority} are set by its finance staff"
        )));
    }
    let mut connection = pool.acquire().await.map_err(anyhow::Error::new)?;
    store::set_anchor_date(&mut connection, &authority, anchor_date).await?;
    tracing::info!(%authority, %anchor_date, "payment settings set");
    Ok(message(&authority, anchor_date, true))
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
    Ok(
        match store::anchor_date(&mut connection, &authority).await? {
            Some(anchor_date) => message(&authority, anchor_date, true),
            None => message(&authority, DEFAULT_ANCHOR, false),
        },
    )
}

fn message(authority: &AuthorityId, anchor_date: NaiveDate, set: bool) -> proto::PaymentSettings {
    proto::PaymentSettings {
        authority: authority.as_str().to_owned(),
        anchor_date: Some(date_message(anchor_date)),
        set,
    }
}
