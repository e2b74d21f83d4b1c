//! `RecordContributionReceipt`, and the collection half of `GetContribution`: what fell due,
//! what the person paid, and how far behind they are.

use chrono::{Days, NaiveDate};
use sds_events::OutboxBell;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::{AuthorityId, shown};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::contributions::{is_collector, reference};
use crate::collection;
use crate::domain::contributions::arrears;
use crate::domain::terms::ScheduleTerms;
use crate::error::PaymentsError;
use crate::grpc::convert::{date_message, money_message};
use crate::grpc::schedules::may_see;
use crate::ledger::Ledger;
use crate::store;
use crate::store::collection::{self as stored, Receipt};

/// How far back a receipt may be dated.
const RECEIVED_WINDOW_DAYS: u64 = 366;

const AMOUNT: &str = "give what was received, above 0.00 and at most 100000.00";

fn uuid(field: &str, raw: &str, what: &str) -> Result<Uuid, String> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        if raw.trim().is_empty() {
            format!("{field}: missing; give {what} (a UUID)")
        } else {
            format!("{field}: {} is not a UUID", shown(raw))
        }
    })
}

/// The receipt asked for, checked, as it would be recorded by `recorded_by`.
fn receipt_of(
    request: &proto::RecordContributionReceiptRequest,
    today: NaiveDate,
    recorded_by: &str,
) -> Result<Receipt, String> {
    let id = uuid("receipt_id", &request.receipt_id, "your id for the receipt")?;
    if id.is_nil() {
        return Err(
            "receipt_id: the nil UUID is not an id of a receipt; give each receipt a UUID of its own"
                .to_owned(),
        );
    }
    let agreement_id = uuid("agreement_id", &request.agreement_id, "the agreement's id")?;
    let raw_amount = request
        .amount
        .as_ref()
        .map(|money| money.amount.trim())
        .unwrap_or_default();
    if raw_amount.is_empty() {
        return Err(format!("amount: missing; {AMOUNT}"));
    }
    let amount = Money::parse(raw_amount)
        .ok()
        .filter(|amount| amount.pence() > 0 && amount.pence() <= 10_000_000)
        .ok_or_else(|| format!("amount: {} is not allowed; {AMOUNT}", shown(raw_amount)))?;
    let raw_day = request
        .received_on
        .as_ref()
        .map(|date| date.iso.trim())
        .unwrap_or_default();
    if raw_day.is_empty() {
        return Err("received_on: missing; give the day it was received as YYYY-MM-DD".to_owned());
    }
    let received_on = parse_iso_date(raw_day).ok_or_else(|| {
        format!(
            "received_on: {} is not a date; expected YYYY-MM-DD",
            shown(raw_day)
        )
    })?;
    let earliest = today
        .checked_sub_days(Days::new(RECEIVED_WINDOW_DAYS))
        .unwrap_or(today);
    if received_on > today || received_on < earliest {
        return Err(format!(
            "received_on: {received_on} is not allowed; accepted: {earliest} to today ({today})"
        ));
    }
    let reference = reference(
        "reference",
        &request.reference,
        "the reference on the bank statement or receipt",
    )?;
    Ok(Receipt {
        id,
        agreement_id,
        amount,
        received_on,
        reference,
        recorded_by: recorded_by.to_owned(),
        recorded_at: chrono::Utc::now(),
        posted: false,
    })
}

/// Who records receipts: the authority's finance staff, and whoever holds the fund and so
/// collects the contribution (not anyone else the schedule is visible to).
fn may_record(principal: &Principal, terms: &ScheduleTerms) -> bool {
    let finance = principal.org_kind == OrgKind::Authority
        && principal.may_act_for(&terms.authority)
        && principal.has_role(Role::Finance);
    finance || is_collector(principal, terms)
}

pub fn receipt_message(receipt: &Receipt) -> proto::ContributionReceipt {
    proto::ContributionReceipt {
        receipt_id: receipt.id.to_string(),
        agreement_id: receipt.agreement_id.to_string(),
        amount: Some(money_message(receipt.amount)),
        received_on: Some(date_message(receipt.received_on)),
        reference: receipt.reference.clone(),
        recorded_by: receipt.recorded_by.clone(),
        recorded_at: receipt
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        posted: receipt.posted,
    }
}

fn same_content(held: &Receipt, asked: &Receipt) -> bool {
    held.agreement_id == asked.agreement_id
        && held.amount == asked.amount
        && held.received_on == asked.received_on
        && held.reference == asked.reference
}

pub async fn record(
    pool: &PgPool,
    ledger: &Ledger,
    outbox: &OutboxBell,
    principal: &Principal,
    today: NaiveDate,
    request: &proto::RecordContributionReceiptRequest,
) -> Result<proto::ContributionReceipt, PaymentsError> {
    let asked =
        receipt_of(request, today, &principal.org_id).map_err(PaymentsError::InvalidInput)?;
    let mut transaction = pool.begin().await.operation("database connection")?;
    if !store::lock_schedule(&mut transaction, asked.agreement_id).await? {
        return Err(PaymentsError::ScheduleNotFound(asked.agreement_id));
    }
    let record = store::load_schedule(&mut transaction, asked.agreement_id)
        .await?
        .filter(|record| may_see(principal, &record.terms))
        .ok_or(PaymentsError::ScheduleNotFound(asked.agreement_id))?;
    if !may_record(principal, &record.terms) {
        return Err(PaymentsError::NotAllowed(
            "contribution receipts are recorded by whoever holds the person's fund, or the authority's finance staff"
                .to_owned(),
        ));
    }
    if record.history.contributions.is_empty() {
        return Err(PaymentsError::Unconfigured(format!(
            "agreement {} has no contribution set; the authority's finance staff set it (SetContribution) before receipts are recorded",
            asked.agreement_id
        )));
    }
    if let Some(held) = stored::receipt(&mut transaction, asked.id).await? {
        if !same_content(&held, &asked) {
            return Err(PaymentsError::AlreadyRecorded(format!(
                "receipt_id: {} is already recorded with other content; give each receipt an id of its own",
                asked.id
            )));
        }
    } else if !stored::insert_receipt(&mut transaction, &asked).await? {
        // Taken meanwhile by a request for another agreement (this one's lock does not
        // cover it): the caller's id is already spent.
        return Err(PaymentsError::AlreadyRecorded(format!(
            "receipt_id: {} is already recorded with other content; give each receipt an id of its own",
            asked.id
        )));
    }
    transaction.commit().await.operation("commit receipt")?;
    let authority = record.terms.authority.clone();
    // Recorded: posting it into the fund now is a courtesy the next run would also do, so
    // whatever stops it leaves the receipt recorded and unposted, never an error that
    // would tempt the caller to record it again under another id.
    if let Err(error) = collection::collect(
        pool,
        ledger,
        outbox,
        &authority,
        asked.agreement_id,
        None,
        today,
    )
    .await
    {
        tracing::warn!(%authority, agreement = %asked.agreement_id, %error, "receipt recorded; the next run posts it");
    }
    let mut connection = pool.acquire().await.operation("database connection")?;
    let held = stored::receipt(&mut connection, asked.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("receipt {} vanished", asked.id))?;
    tracing::info!(%authority, agreement = %asked.agreement_id, posted = held.posted, "contribution receipt recorded");
    Ok(receipt_message(&held))
}

/// Fills in what fell due, what was paid and the arrears.
pub async fn add_collection(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    agreement_id: Uuid,
    contribution: &mut proto::Contribution,
) -> Result<(), PaymentsError> {
    let dues = stored::dues(connection, agreement_id).await?;
    let receipts = stored::receipts(connection, agreement_id).await?;
    let total_due: i64 = dues.iter().map(|due| due.amount.pence()).sum();
    let total_received: i64 = receipts.iter().map(|receipt| receipt.amount.pence()).sum();
    let owed: Vec<(NaiveDate, i64)> = dues
        .iter()
        .map(|due| (due.period_start, due.amount.pence()))
        .collect();
    let behind = arrears(&owed, total_received);
    let pounds = |pence: i64| {
        Money::from_pence(pence)
            .map(money_message)
            .map_err(anyhow::Error::new)
    };
    contribution.dues = dues
        .iter()
        .map(|due| proto::ContributionDue {
            period_start: Some(date_message(due.period_start)),
            period_end: Some(date_message(due.period_end)),
            due_date: Some(date_message(due.due_date)),
            amount: Some(money_message(due.amount)),
            posted: due.posted,
        })
        .collect();
    contribution.receipts = receipts.iter().map(receipt_message).collect();
    contribution.total_due = Some(pounds(total_due)?);
    contribution.total_received = Some(pounds(total_received)?);
    contribution.outstanding = Some(pounds(total_due - total_received)?);
    contribution.arrears_periods = behind.map_or(0, |behind| behind.periods);
    contribution.arrears_since = behind.map(|behind| date_message(behind.since));
    contribution.allowed_periods = stored::arrears_allowance(connection, authority).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        amount: &str,
        day: &str,
        reference: &str,
    ) -> proto::RecordContributionReceiptRequest {
        proto::RecordContributionReceiptRequest {
            receipt_id: "0192f0c1-0000-7000-8000-00000000e001".to_owned(),
            agreement_id: "0192f0c1-0000-7000-8000-0000000000d1".to_owned(),
            amount: Some(proto::Money {
                amount: amount.to_owned(),
            }),
            received_on: Some(proto::Date {
                iso: day.to_owned(),
            }),
            reference: reference.to_owned(),
        }
    }

    #[test]
    fn each_bad_field_of_a_receipt_is_named_with_what_is_accepted() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let cases = [
            (request("", "2026-11-01", "SO 118"), "amount: missing;"),
            (
                request("0.00", "2026-11-01", "SO 118"),
                "amount: \"0.00\" is not allowed; give what was received, above 0.00",
            ),
            (
                request("-3.00", "2026-11-01", "SO 118"),
                "amount: \"-3.00\" is not allowed;",
            ),
            (
                request("100000.01", "2026-11-01", "SO 118"),
                "amount: \"100000.01\" is not allowed;",
            ),
            (request("30.00", "", "SO 118"), "received_on: missing;"),
            (
                request("30.00", "yesterday", "SO 118"),
                "received_on: \"yesterday\" is not a date",
            ),
            (
                request("30.00", "2026-11-30", "SO 118"),
                "received_on: 2026-11-30 is not allowed; accepted: 2025-11-28 to today (2026-11-29)",
            ),
            (
                request("30.00", "2025-11-27", "SO 118"),
                "received_on: 2025-11-27 is not allowed;",
            ),
            (request("30.00", "2026-11-01", ""), "reference: missing;"),
            (
                request("30.00", "2026-11-01", "a\nb"),
                "reference: \"a\\nb\" is not allowed",
            ),
            (
                request("30.00", "2026-11-01", "SO\u{202e}118"),
                "reference: ",
            ),
        ];
        for (request, expected) in cases {
            let error = receipt_of(&request, today, "org").expect_err(expected);
            assert!(
                error.starts_with(expected),
                "{error:?} should start {expected:?}"
            );
        }
        let mut no_id = request("30.00", "2026-11-01", "SO 118");
        no_id.receipt_id = String::new();
        assert!(
            receipt_of(&no_id, today, "org")
                .unwrap_err()
                .starts_with("receipt_id: missing;")
        );
        no_id.receipt_id = Uuid::nil().to_string();
        assert!(
            receipt_of(&no_id, today, "org")
                .unwrap_err()
                .starts_with("receipt_id: the nil UUID")
        );
        let fine = receipt_of(&request("30", "2026-11-29", " SO 118 "), today, "org").unwrap();
        assert_eq!(
            (fine.amount.to_string(), fine.reference.as_str()),
            ("30.00".to_owned(), "SO 118")
        );
    }
}
