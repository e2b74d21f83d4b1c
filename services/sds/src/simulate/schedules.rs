//! What the schedule checks compare: for each agreement, what payments recorded as paid
//! (its instalment rows and the ledger transfers derived from them) and what `libs/money`'s
//! schedule rule says of the same recorded history, worked out here by the preview that
//! `sds payments preview` runs, not by the payments service's live path.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_payments::preview::{
    PreviewActualInput, PreviewInput, PreviewInstalment, PreviewLineInput, PreviewVersionInput,
    preview,
};
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

use futures::StreamExt as _;
use sds::flow::bearer;

/// Schedules asked for at once.
const SCHEDULES_AT_ONCE: usize = 8;

/// One instalment as a run recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    pub due_date: NaiveDate,
    pub amount: Decimal,
    pub posted: bool,
    /// The ledger transfer its funding leg made, in pence, if any.
    pub transferred_pence: Option<i64>,
}

/// An agreement's books as of the authority's last run.
#[derive(Debug, Clone)]
pub struct ScheduleBooks {
    pub agreement_id: Uuid,
    /// The authority's last run so far; instalments due by then must be paid.
    pub last_run: NaiveDate,
    /// By period start.
    pub paid: BTreeMap<NaiveDate, Paid>,
    /// The preview of the recorded history through today.
    pub preview: Vec<PreviewInstalment>,
}

fn text(date: Option<&proto::Date>) -> Option<String> {
    date.map(|date| date.iso.clone())
        .filter(|iso| !iso.is_empty())
}

/// The preview's input from the history payments serves, through `until`.
fn preview_input(
    history: &proto::PreviewScheduleRequest,
    until: NaiveDate,
) -> anyhow::Result<PreviewInput> {
    let frequency = match proto::PaymentFrequency::try_from(history.frequency) {
        Ok(proto::PaymentFrequency::Quarterly) => "quarterly",
        Ok(proto::PaymentFrequency::Monthly) => "monthly",
        _ => "four_weekly",
    };
    let timing = match proto::ScheduleTiming::try_from(history.timing) {
        Ok(proto::ScheduleTiming::Arrears) => "arrears",
        _ => "advance",
    };
    Ok(PreviewInput {
        frequency: frequency.to_owned(),
        timing: timing.to_owned(),
        anchor_date: text(history.anchor_date.as_ref()),
        payment_lag_days: history.payment_lag_days,
        until: until.to_string(),
        versions: history
            .versions
            .iter()
            .map(|version| {
                Ok(PreviewVersionInput {
                    recorded_on: text(version.recorded_on.as_ref())
                        .context("a version without its day")?,
                    lines: version
                        .lines
                        .iter()
                        .map(|line| {
                            Ok(PreviewLineInput {
                                weekly_amount: line
                                    .weekly_amount
                                    .as_ref()
                                    .map(|money| money.amount.clone())
                                    .context("a line without its amount")?,
                                start: text(line.start.as_ref())
                                    .context("a line without its start")?,
                                end: text(line.end.as_ref()),
                                flexible: line.flexible,
                                contribution: line.contribution,
                            })
                        })
                        .collect::<anyhow::Result<_>>()?,
                })
            })
            .collect::<anyhow::Result<_>>()?,
        actuals: history
            .actuals
            .iter()
            .map(|actual| {
                Ok(PreviewActualInput {
                    period_start: text(actual.period_start.as_ref())
                        .context("a report without its period")?,
                    reported_on: text(actual.reported_on.as_ref())
                        .context("a report without its day")?,
                    amount: actual
                        .amount
                        .as_ref()
                        .map(|money| money.amount.clone())
                        .context("a report without its amount")?,
                })
            })
            .collect::<anyhow::Result<_>>()?,
    })
}

/// The books of `agreements` (each with its authority's last run), as of `today`.
pub async fn load(
    observer: &PgPool,
    payments: &PaymentsServiceClient<Channel>,
    finance_token: &dyn Fn(&str) -> String,
    agreements: &[(Uuid, String, NaiveDate)],
    today: NaiveDate,
) -> anyhow::Result<Vec<ScheduleBooks>> {
    let ids: Vec<Uuid> = agreements.iter().map(|(id, ..)| *id).collect();
    let rows: Vec<(Uuid, NaiveDate, NaiveDate, Decimal, bool)> = sqlx::query_as(
        "SELECT agreement_id, period_start, due_date, amount, posted \
         FROM payments.instalment_payment WHERE agreement_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(observer)
    .await
    .context("read the instalments paid")?;
    let transfer_ids: Vec<Uuid> = rows
        .iter()
        .map(|(agreement, start, ..)| {
            sds_payments::runs::transfer_id(*agreement, *start, "funding")
        })
        .collect();
    let transfers: HashMap<Uuid, i64> = sqlx::query_as::<_, (Uuid, i64)>(
        "SELECT id, amount_pence FROM ledger.transfer WHERE id = ANY($1)",
    )
    .bind(&transfer_ids)
    .fetch_all(observer)
    .await
    .context("read the transfers the instalments made")?
    .into_iter()
    .collect();
    let mut paid: HashMap<Uuid, BTreeMap<NaiveDate, Paid>> = HashMap::new();
    for (agreement, start, due_date, amount, posted) in rows {
        let transfer = sds_payments::runs::transfer_id(agreement, start, "funding");
        paid.entry(agreement).or_default().insert(
            start,
            Paid {
                due_date,
                amount,
                posted,
                transferred_pence: transfers.get(&transfer).copied(),
            },
        );
    }
    let mut books = Vec::with_capacity(agreements.len());
    // One token per authority, and several schedules asked for at once (in order), as
    // finance staff's tools would: a run day reads every agreement of the authority.
    let mut tokens: HashMap<&str, String> = HashMap::new();
    for (_, authority, _) in agreements {
        tokens
            .entry(authority.as_str())
            .or_insert_with(|| finance_token(authority));
    }
    let mut fetched =
        futures::stream::iter(agreements.iter().map(|(agreement_id, authority, _)| {
            let mut payments = payments.clone();
            let request = bearer(
                tokens.get(authority.as_str()).map_or("", String::as_str),
                proto::GetScheduleRequest {
                    agreement_id: agreement_id.to_string(),
                    until: Some(proto::Date {
                        iso: today.to_string(),
                    }),
                },
            );
            async move {
                payments
                    .get_schedule(request)
                    .await
                    .with_context(|| format!("read the schedule of agreement {agreement_id}"))
            }
        }))
        .buffered(SCHEDULES_AT_ONCE);
    for (agreement_id, _, last_run) in agreements {
        let schedule = fetched
            .next()
            .await
            .context("a schedule asked for")??
            .into_inner();
        let history = schedule
            .history
            .with_context(|| format!("agreement {agreement_id}'s schedule has no history"))?;
        let input = preview_input(&history, today)?;
        let previewed = preview(&input)
            .map_err(|error| anyhow::anyhow!("preview of agreement {agreement_id}: {error}"))?;
        books.push(ScheduleBooks {
            agreement_id: *agreement_id,
            last_run: *last_run,
            paid: paid.remove(agreement_id).unwrap_or_default(),
            preview: previewed.instalments,
        });
    }
    Ok(books)
}
