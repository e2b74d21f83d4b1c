//! `GetRemittance`: what one run paid one payee, instalment by instalment. The payee's own
//! staff and the authority's staff may read it; to anyone else it does not exist.

use sds_platform::StoreContext as _;
use sds_platform::{OrgKind, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::shown;
use sqlx::PgPool;

use uuid::Uuid;

use crate::error::PaymentsError;
use crate::people::People;
use crate::runs::payee_kind_message;
use crate::store::remittances::{self, RemittanceRecord};

use super::convert::{date_message, money_message};

fn number(raw: &str) -> Result<String, PaymentsError> {
    let text = raw.trim().to_ascii_uppercase();
    let well_formed = (6..=18).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if well_formed {
        Ok(text)
    } else if text.is_empty() {
        Err(PaymentsError::InvalidInput(
            "number: missing; give the remittance number, such as R000000123".to_owned(),
        ))
    } else {
        Err(PaymentsError::InvalidInput(format!(
            "number: {} is not a remittance number; expected one such as R000000123",
            shown(raw)
        )))
    }
}

/// Whether the caller may read the remittance: its payee, or staff of its authority.
fn may_read(principal: &Principal, remittance: &RemittanceRecord) -> bool {
    let staff =
        principal.org_kind == OrgKind::Authority && principal.may_act_for(&remittance.authority);
    let payee_kind = match remittance.payee_kind.as_str() {
        "holder" => OrgKind::Holder,
        _ => OrgKind::Provider,
    };
    let payee =
        principal.org_kind == payee_kind && principal.org_id == remittance.payee_id.to_string();
    staff || payee
}

pub async fn get(
    pool: &PgPool,
    people: &People,
    principal: &Principal,
    request: &proto::GetRemittanceRequest,
) -> Result<proto::Remittance, PaymentsError> {
    let number = number(&request.number)?;
    let mut connection = pool.acquire().await.operation("database connection")?;
    let remittance = remittances::by_number(&mut connection, &number)
        .await?
        .filter(|remittance| may_read(principal, remittance))
        .ok_or_else(|| PaymentsError::RemittanceNotFound(number.clone()))?;
    let lines = remittances::lines(&mut connection, &remittance).await?;
    drop(connection);
    let mut ids: Vec<Uuid> = lines.iter().map(|line| line.person_id).collect();
    ids.sort();
    ids.dedup();
    let references = people
        .references(&remittance.authority, &ids, &principal.org_id)
        .await?;
    Ok(proto::Remittance {
        number: remittance.number.clone(),
        run_id: remittance.run_id.to_string(),
        authority: remittance.authority.as_str().to_owned(),
        run_date: Some(date_message(remittance.run_date)),
        payee_kind: payee_kind_message(&remittance.payee_kind) as i32,
        payee_id: remittance.payee_id.to_string(),
        total: Some(money_message(remittance.total)),
        items: lines
            .iter()
            .map(|line| proto::RemittanceItem {
                person_id: line.person_id.to_string(),
                case_reference: references
                    .get(&line.person_id)
                    .map(|person| person.case_reference.clone())
                    .unwrap_or_default(),
                // The name only to the provider the person chose; a holder sees the case
                // reference alone.
                person_name: references
                    .get(&line.person_id)
                    .filter(|_| line.chosen_provider)
                    .map(|person| person.name.clone())
                    .unwrap_or_default(),
                agreement_id: line.agreement_id.to_string(),
                period_start: Some(date_message(line.period_start)),
                period_end: Some(date_message(line.period_end)),
                base: Some(money_message(line.base)),
                adjustment: Some(money_message(line.adjustment)),
                amount: Some(money_message(line.amount)),
            })
            .collect(),
    })
}
