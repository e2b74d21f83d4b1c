//! Indicative budgets as set, newest last; the current one is the latest recorded.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{BudgetLine, BudgetMethod, IndicativeBudget};
use crate::error::AssessmentError;

/// A budget with when it was set, for what date and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetRecord {
    pub budget: IndicativeBudget,
    pub set_on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineJson {
    description: String,
    points: Option<u32>,
    amount: Option<String>,
}

pub async fn insert_budget(
    connection: &mut PgConnection,
    person_id: Uuid,
    budget: &IndicativeBudget,
    set_on: NaiveDate,
    actor: &str,
) -> Result<DateTime<Utc>, AssessmentError> {
    let lines: Vec<LineJson> = budget
        .breakdown
        .iter()
        .map(|line| LineJson {
            description: line.description.clone(),
            points: line.points,
            amount: line.amount.map(|amount| amount.to_string()),
        })
        .collect();
    let breakdown = serde_json::to_value(lines).map_err(anyhow::Error::new)?;
    let recorded_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO indicative_budget (id, person_id, method, weekly, breakdown, set_on, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING recorded_at",
    )
    .bind(Uuid::now_v7())
    .bind(person_id)
    .bind(budget.method.name())
    .bind(budget.weekly.as_decimal())
    .bind(breakdown)
    .bind(set_on)
    .bind(actor)
    .fetch_one(&mut *connection)
    .await
    .operation("insert indicative budget")?;
    Ok(recorded_at)
}

/// The person's current budget: the latest set.
pub async fn current_budget(
    connection: &mut PgConnection,
    person_id: Uuid,
) -> Result<Option<BudgetRecord>, AssessmentError> {
    let row: Option<(
        String,
        Decimal,
        serde_json::Value,
        NaiveDate,
        DateTime<Utc>,
        String,
    )> = sqlx::query_as(
        "SELECT method, weekly, breakdown, set_on, recorded_at, recorded_by \
             FROM indicative_budget WHERE person_id = $1 \
             ORDER BY recorded_at DESC, id DESC LIMIT 1",
    )
    .bind(person_id)
    .fetch_optional(&mut *connection)
    .await
    .operation("select current budget")?;
    let Some((method, weekly, breakdown, set_on, recorded_at, recorded_by)) = row else {
        return Ok(None);
    };
    let bad = |what: &str| anyhow::anyhow!("stored budget of {person_id} has a malformed {what}");
    let lines: Vec<LineJson> = serde_json::from_value(breakdown).map_err(|_| bad("breakdown"))?;
    let mut breakdown = Vec::with_capacity(lines.len());
    for line in lines {
        breakdown.push(BudgetLine {
            description: line.description,
            points: line.points,
            amount: line
                .amount
                .map(|amount| Money::parse(&amount).map_err(|_| bad("amount")))
                .transpose()?,
        });
    }
    Ok(Some(BudgetRecord {
        budget: IndicativeBudget {
            method: BudgetMethod::from_name(&method).ok_or_else(|| bad("method"))?,
            weekly: Money::try_from(weekly).map_err(|_| bad("weekly amount"))?,
            breakdown,
        },
        set_on,
        recorded_at,
        recorded_by,
    }))
}
