//! Effective-dated policy versions. A version is inserted once and never updated, so the
//! policy in effect on any past date stays answerable; its nested parts (the RAS and the
//! devolved limits) are stored as JSON in the shape below and read back through the
//! domain's validation.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::domain::limits::{DevolvedLimits, Limit, LimitsByAge};
use crate::domain::ras::{BandAward, RasBand, RasQuestion, ResourceAllocationSystem};
use crate::domain::review::ReviewInterval;
use crate::domain::{AuthorityPolicy, EligibilityThreshold, SendingLocation};
use crate::error::AssessmentError;

/// A policy version with who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    pub policy: AuthorityPolicy,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RasJson {
    questions: Vec<QuestionJson>,
    price_per_point: String,
    bands: Vec<BandJson>,
    weekly_cap: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionJson {
    code: String,
    label: String,
    max_score: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BandJson {
    from_points: u32,
    to_points: u32,
    fixed_weekly: Option<String>,
    price_per_point: Option<String>,
}

/// Each limit is an amount, or `null` for no limit.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsJson {
    practitioner: ByAgeJson,
    team_manager: ByAgeJson,
    panel: ByAgeJson,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ByAgeJson {
    child: Option<String>,
    adult: Option<String>,
}

fn ras_json(ras: &ResourceAllocationSystem) -> RasJson {
    RasJson {
        questions: ras
            .questions
            .iter()
            .map(|question| QuestionJson {
                code: question.code.clone(),
                label: question.label.clone(),
                max_score: question.max_score,
            })
            .collect(),
        price_per_point: ras.price_per_point.to_string(),
        bands: ras
            .bands
            .iter()
            .map(|band| {
                let (fixed_weekly, price_per_point) = match band.award {
                    BandAward::Fixed { per_week } => (Some(per_week.to_string()), None),
                    BandAward::PricePerPoint { price } => (None, Some(price.to_string())),
                };
                BandJson {
                    from_points: band.from_points,
                    to_points: band.to_points,
                    fixed_weekly,
                    price_per_point,
                }
            })
            .collect(),
        weekly_cap: ras.weekly_cap.map(|cap| cap.to_string()),
    }
}

fn limits_json(limits: &DevolvedLimits) -> LimitsJson {
    let by_age = |limits: &LimitsByAge| {
        let one = |limit: Limit| match limit {
            Limit::UpTo(most) => Some(most.to_string()),
            Limit::Unlimited => None,
        };
        ByAgeJson {
            child: one(limits.child),
            adult: one(limits.adult),
        }
    };
    LimitsJson {
        practitioner: by_age(&limits.practitioner),
        team_manager: by_age(&limits.team_manager),
        panel: by_age(&limits.panel),
    }
}

fn money(raw: &str) -> anyhow::Result<Money> {
    Money::parse(raw).map_err(|error| anyhow::anyhow!("stored amount {raw:?}: {error}"))
}

fn ras_of(json: RasJson) -> anyhow::Result<ResourceAllocationSystem> {
    let mut bands = Vec::with_capacity(json.bands.len());
    for band in json.bands {
        let award = match (band.fixed_weekly, band.price_per_point) {
            (Some(per_week), None) => BandAward::Fixed {
                per_week: money(&per_week)?,
            },
            (None, Some(price)) => BandAward::PricePerPoint {
                price: money(&price)?,
            },
            _ => anyhow::bail!("stored RAS band has neither or both awards"),
        };
        bands.push(RasBand {
            from_points: band.from_points,
            to_points: band.to_points,
            award,
        });
    }
    Ok(ResourceAllocationSystem {
        questions: json
            .questions
            .into_iter()
            .map(|question| RasQuestion {
                code: question.code,
                label: question.label,
                max_score: question.max_score,
            })
            .collect(),
        price_per_point: money(&json.price_per_point)?,
        bands,
        weekly_cap: json.weekly_cap.as_deref().map(money).transpose()?,
    })
}

fn limits_of(json: LimitsJson) -> anyhow::Result<DevolvedLimits> {
    let by_age = |json: ByAgeJson| -> anyhow::Result<LimitsByAge> {
        let one = |raw: Option<String>| -> anyhow::Result<Limit> {
            Ok(match raw {
                Some(most) => Limit::UpTo(money(&most)?),
                None => Limit::Unlimited,
            })
        };
        Ok(LimitsByAge {
            child: one(json.child)?,
            adult: one(json.adult)?,
        })
    };
    Ok(DevolvedLimits {
        practitioner: by_age(json.practitioner)?,
        team_manager: by_age(json.team_manager)?,
        panel: by_age(json.panel)?,
    })
}

/// Adds a policy version; one already starting on that date is `PolicyExists`.
/// Removes a policy that has not taken effect (its date is after `today`), so another
/// from the same date can replace it. A policy in effect or past is never removed: the
/// statement only matches a future date.
pub async fn withdraw_scheduled_policy(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    effective_from: NaiveDate,
    today: NaiveDate,
) -> Result<(), AssessmentError> {
    sqlx::query(
        "DELETE FROM policy WHERE authority = $1 AND effective_from = $2 AND effective_from > $3",
    )
    .bind(authority.as_str())
    .bind(effective_from)
    .bind(today)
    .execute(&mut *connection)
    .await
    .operation("withdraw a scheduled policy")?;
    Ok(())
}

pub async fn insert_policy(
    connection: &mut PgConnection,
    policy: &AuthorityPolicy,
    actor: &str,
) -> Result<(), AssessmentError> {
    let ras = policy
        .ras
        .as_ref()
        .map(|ras| serde_json::to_value(ras_json(ras)))
        .transpose()
        .map_err(anyhow::Error::new)?;
    let limits =
        serde_json::to_value(limits_json(&policy.approval_limits)).map_err(anyhow::Error::new)?;
    let (months, days) = match policy.review_interval {
        ReviewInterval::Months(months) => (Some(i32::try_from(months).unwrap_or(i32::MAX)), None),
        ReviewInterval::Days(days) => (None, Some(i32::try_from(days).unwrap_or(i32::MAX))),
    };
    let inserted = sqlx::query(
        "INSERT INTO policy (authority, effective_from, eligibility_threshold, ras, \
             standard_hourly_rate, approval_limits, backdating_days, review_interval_months, \
             review_interval_days, sending_location, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (authority, effective_from) DO NOTHING",
    )
    .bind(policy.authority.as_str())
    .bind(policy.effective_from)
    .bind(policy.eligibility_threshold.name())
    .bind(ras)
    .bind(policy.standard_hourly_rate.map(Money::as_decimal))
    .bind(limits)
    .bind(i32::try_from(policy.backdating_window_days).unwrap_or(i32::MAX))
    .bind(months)
    .bind(days)
    .bind(policy.sending_location.as_str())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("insert policy")?;
    if inserted.rows_affected() == 0 {
        return Err(AssessmentError::PolicyExists {
            authority: policy.authority.clone(),
            effective_from: policy.effective_from,
        });
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    authority: String,
    effective_from: NaiveDate,
    eligibility_threshold: String,
    ras: Option<serde_json::Value>,
    standard_hourly_rate: Option<Decimal>,
    approval_limits: serde_json::Value,
    backdating_days: i32,
    review_interval_months: Option<i32>,
    review_interval_days: Option<i32>,
    sending_location: String,
    recorded_at: DateTime<Utc>,
    recorded_by: String,
}

impl PolicyRow {
    fn into_record(self) -> anyhow::Result<PolicyRecord> {
        let whose = format!(
            "stored policy of {} from {}",
            self.authority, self.effective_from
        );
        let bad = |what: &str| anyhow::anyhow!("{whose} has a malformed {what}");
        let ras = self
            .ras
            .map(|value| serde_json::from_value::<RasJson>(value).map_err(anyhow::Error::new))
            .transpose()?
            .map(ras_of)
            .transpose()?;
        let limits: LimitsJson = serde_json::from_value(self.approval_limits)?;
        let review_interval = match (self.review_interval_months, self.review_interval_days) {
            (Some(months), None) => ReviewInterval::Months(u32::try_from(months)?),
            (None, Some(days)) => ReviewInterval::Days(u32::try_from(days)?),
            _ => return Err(bad("review interval")),
        };
        let policy = AuthorityPolicy {
            authority: AuthorityId::parse("authority", &self.authority)
                .map_err(|_| bad("authority"))?,
            effective_from: self.effective_from,
            eligibility_threshold: EligibilityThreshold::from_name(&self.eligibility_threshold)
                .ok_or_else(|| bad("eligibility threshold"))?,
            ras,
            standard_hourly_rate: self
                .standard_hourly_rate
                .map(|rate| Money::try_from(rate).map_err(|_| bad("hourly rate")))
                .transpose()?,
            approval_limits: limits_of(limits)?,
            backdating_window_days: u32::try_from(self.backdating_days)?,
            review_interval,
            sending_location: SendingLocation::parse("sending_location", &self.sending_location)
                .map_err(|_| bad("sending location"))?,
        };
        policy
            .validate()
            .map_err(|invalid| anyhow::anyhow!("{whose} no longer validates: {invalid}"))?;
        Ok(PolicyRecord {
            policy,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by,
        })
    }
}

/// Every policy version of the authority, oldest first.
pub async fn policies_of(
    connection: &mut PgConnection,
    authority: &AuthorityId,
) -> Result<Vec<PolicyRecord>, AssessmentError> {
    let rows: Vec<PolicyRow> = sqlx::query_as(
        "SELECT authority, effective_from, eligibility_threshold, ras, standard_hourly_rate, \
             approval_limits, backdating_days, review_interval_months, review_interval_days, \
             sending_location, recorded_at, recorded_by \
         FROM policy WHERE authority = $1 ORDER BY effective_from",
    )
    .bind(authority.as_str())
    .fetch_all(&mut *connection)
    .await
    .operation("select policies")?;
    Ok(rows
        .into_iter()
        .map(PolicyRow::into_record)
        .collect::<anyhow::Result<Vec<_>>>()?)
}
