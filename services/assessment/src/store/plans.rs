//! Plan versions and their lines. A draft is rewritten in place until it is submitted; a
//! submitted version only moves on to approved or rejected; approved and rejected versions
//! are never written again (the upsert below refuses to touch them, and the caller treats
//! that as a bug). Every version is read back through `PlanVersion::restore`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _, Role};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::amount::{GivenAmount, LineAmount};
use crate::domain::option::{
    Arrangement, CareInspectorateNumber, FundHolder, FundHoldingModel, PersonsChoice, ProviderId,
    ProviderRef,
};
use crate::domain::plan::{Approval, PlanState, PlanVersion};
use crate::domain::{LineSpan, PlanLine, SupportType};
use crate::error::AssessmentError;

/// A stored version with what the plan message needs beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub plan: PlanVersion,
    pub review_due: Option<NaiveDate>,
    /// The approved version this one varies or carries a choice on; `None` for the first.
    pub previous_version: Option<u32>,
    /// Whether this version ends the whole plan.
    pub ends_plan: bool,
}

impl StoredVersion {
    /// A version just made, not yet stored.
    pub fn new(plan: PlanVersion) -> StoredVersion {
        StoredVersion {
            plan,
            review_due: None,
            previous_version: None,
            ends_plan: false,
        }
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i32,
    effective_from: NaiveDate,
    recorded_on: NaiveDate,
    status: String,
    submitted_on: Option<NaiveDate>,
    approved_on: Option<NaiveDate>,
    approved_as: Option<String>,
    approved_weekly: Option<Decimal>,
    rejected_on: Option<NaiveDate>,
    rejection_reason: Option<String>,
    over_budget_reason: Option<String>,
    review_due: Option<NaiveDate>,
    previous_version: Option<i32>,
    ends_plan: bool,
}

// Shared with `statistics`, which reads the lines of many people the same way.
#[derive(sqlx::FromRow)]
pub(super) struct LineRow {
    version: i32,
    number: i32,
    support_type: String,
    amount_kind: String,
    amount: Option<Decimal>,
    hours_per_week: Option<Decimal>,
    hourly_rate: Option<Decimal>,
    arrangement: String,
    provider: Option<String>,
    holding_model: Option<String>,
    holder: Option<String>,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
}

/// Locks the person's plan for the rest of the transaction (through the person row), so
/// two changes to one plan cannot interleave.
pub async fn lock_plan(
    connection: &mut PgConnection,
    person_id: Uuid,
) -> Result<(), AssessmentError> {
    sqlx::query("SELECT 1 FROM person WHERE id = $1 FOR UPDATE")
        .bind(person_id)
        .execute(&mut *connection)
        .await
        .operation("lock plan")?;
    Ok(())
}

/// Every version of the person's plan, oldest first.
pub async fn plan_versions(
    connection: &mut PgConnection,
    person_id: Uuid,
    authority: &AuthorityId,
) -> Result<Vec<StoredVersion>, AssessmentError> {
    let versions: Vec<VersionRow> = sqlx::query_as(
        "SELECT version, effective_from, recorded_on, status, submitted_on, approved_on, \
             approved_as, approved_weekly, rejected_on, rejection_reason, over_budget_reason, \
             review_due, previous_version, ends_plan \
         FROM plan_version WHERE person_id = $1 ORDER BY version",
    )
    .bind(person_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select plan versions")?;
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT version, number, support_type, amount_kind, amount, hours_per_week, hourly_rate, \
             arrangement, provider, holding_model, holder, start_date, end_date \
         FROM plan_line WHERE person_id = $1 ORDER BY version, number",
    )
    .bind(person_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select plan lines")?;
    let mut stored = Vec::with_capacity(versions.len());
    for row in versions {
        let mut own = Vec::new();
        for line in lines.iter().filter(|line| line.version == row.version) {
            own.push(line_of(line, authority).map_err(|error| {
                anyhow::anyhow!(
                    "stored plan line {} of {person_id} v{}: {error}",
                    line.number,
                    row.version
                )
            })?);
        }
        stored.push(
            version_of(row, own)
                .map_err(|error| anyhow::anyhow!("stored plan version of {person_id}: {error}"))?,
        );
    }
    Ok(stored)
}

fn money(raw: Option<Decimal>, what: &str) -> anyhow::Result<Money> {
    let raw = raw.ok_or_else(|| anyhow::anyhow!("{what} is missing"))?;
    Money::try_from(raw).map_err(|_| anyhow::anyhow!("{what} {raw} is not money"))
}

pub(super) fn line_of(row: &LineRow, authority: &AuthorityId) -> anyhow::Result<PlanLine> {
    let given = match row.amount_kind.as_str() {
        "weekly" => GivenAmount::Weekly {
            per_week: money(row.amount, "amount")?,
        },
        "annual" => GivenAmount::Annual {
            per_year: money(row.amount, "amount")?,
        },
        "hours_at_rate" => GivenAmount::HoursAtRate {
            hours_per_week: row
                .hours_per_week
                .ok_or_else(|| anyhow::anyhow!("hours are missing"))?,
            hourly_rate: money(row.hourly_rate, "hourly rate")?,
        },
        other => anyhow::bail!("unknown amount kind {other:?}"),
    };
    let provider = row
        .provider
        .as_deref()
        .map(|raw| ProviderRef::parse("provider", raw))
        .transpose()?;
    let holder = match (row.holding_model.as_deref(), row.holder.as_deref()) {
        (None, None) => None,
        (Some(model), holder) => Some(
            match (
                FundHoldingModel::from_name(model)
                    .ok_or_else(|| anyhow::anyhow!("unknown holding model {model:?}"))?,
                holder,
            ) {
                (FundHoldingModel::ThirdParty, Some(holder)) => FundHolder::ThirdParty {
                    holder: Uuid::parse_str(holder)?,
                },
                (FundHoldingModel::Provider, None) => FundHolder::Provider,
                (FundHoldingModel::Authority, None) => FundHolder::Authority {
                    authority: authority.clone(),
                },
                _ => anyhow::bail!("holder does not match its model"),
            },
        ),
        (None, Some(_)) => anyhow::bail!("a holder without a model"),
    };
    let arrangement = match row.arrangement.as_str() {
        "direct_payment" => Arrangement::DirectPayment,
        "authority_arranged" => Arrangement::AuthorityArranged { provider },
        "person_directed" => Arrangement::PersonDirected(PersonsChoice { provider, holder }),
        other => anyhow::bail!("unknown arrangement {other:?}"),
    };
    Ok(PlanLine {
        number: u32::try_from(row.number)?,
        support_type: SupportType::from_name(&row.support_type)
            .ok_or_else(|| anyhow::anyhow!("unknown support type {:?}", row.support_type))?,
        amount: LineAmount::new(given)?,
        arrangement,
        span: LineSpan::new(row.start_date, row.end_date)?,
    })
}

fn version_of(row: VersionRow, lines: Vec<PlanLine>) -> anyhow::Result<StoredVersion> {
    let state = match row.status.as_str() {
        "draft" => PlanState::Draft,
        "submitted" => PlanState::Submitted {
            submitted_on: row
                .submitted_on
                .ok_or_else(|| anyhow::anyhow!("submitted without a date"))?,
        },
        "approved" => PlanState::Approved(Approval {
            approved_on: row
                .approved_on
                .ok_or_else(|| anyhow::anyhow!("approved without a date"))?,
            approved_as: row
                .approved_as
                .as_deref()
                .and_then(Role::from_name)
                .ok_or_else(|| anyhow::anyhow!("approved without a role"))?,
            weekly_cost: money(row.approved_weekly, "approved weekly cost")?,
        }),
        "rejected" => PlanState::Rejected {
            rejected_on: row
                .rejected_on
                .ok_or_else(|| anyhow::anyhow!("rejected without a date"))?,
            reason: row
                .rejection_reason
                .ok_or_else(|| anyhow::anyhow!("rejected without a reason"))?,
        },
        other => anyhow::bail!("unknown status {other:?}"),
    };
    let plan = PlanVersion::restore(
        u32::try_from(row.version)?,
        row.effective_from,
        row.recorded_on,
        lines,
        state,
        row.over_budget_reason,
    )?;
    Ok(StoredVersion {
        plan,
        review_due: row.review_due,
        previous_version: row.previous_version.map(u32::try_from).transpose()?,
        ends_plan: row.ends_plan,
    })
}

fn provider_text(provider: &ProviderRef) -> String {
    match provider {
        ProviderRef::Directory(id) => ProviderId::to_string(id),
        ProviderRef::CareInspectorate(number) => CareInspectorateNumber::to_string(number),
    }
}

/// Writes a version: a new one, or the open (draft or submitted) version moved on. Lines
/// are rewritten only while the version is a draft.
pub async fn save_version(
    connection: &mut PgConnection,
    person_id: Uuid,
    authority: &AuthorityId,
    stored: &StoredVersion,
    actor: &str,
) -> Result<(), AssessmentError> {
    let version = &stored.plan;
    let review_due = stored.review_due;
    let (submitted_on, approved, rejected) = match version.state() {
        PlanState::Draft => (None, None, None),
        PlanState::Submitted { submitted_on } => (Some(*submitted_on), None, None),
        PlanState::Approved(approval) => (None, Some(approval), None),
        PlanState::Rejected {
            rejected_on,
            reason,
        } => (None, None, Some((*rejected_on, reason.as_str()))),
    };
    let number = i32::try_from(version.version()).map_err(anyhow::Error::new)?;
    let written = sqlx::query(
        "INSERT INTO plan_version (person_id, version, authority, effective_from, recorded_on, \
             status, submitted_on, approved_on, approved_as, approved_weekly, rejected_on, \
             rejection_reason, over_budget_reason, review_due, recorded_by, updated_by, \
             previous_version, ends_plan) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17) \
         ON CONFLICT (person_id, version) DO UPDATE SET \
             effective_from = excluded.effective_from, recorded_on = excluded.recorded_on, \
             status = excluded.status, submitted_on = coalesce(excluded.submitted_on, plan_version.submitted_on), \
             approved_on = excluded.approved_on, approved_as = excluded.approved_as, \
             approved_weekly = excluded.approved_weekly, rejected_on = excluded.rejected_on, \
             rejection_reason = excluded.rejection_reason, \
             over_budget_reason = excluded.over_budget_reason, review_due = excluded.review_due, \
             updated_at = now(), updated_by = excluded.updated_by \
         WHERE plan_version.status IN ('draft', 'submitted')",
    )
    .bind(person_id)
    .bind(number)
    .bind(authority.as_str())
    .bind(version.effective_from())
    .bind(version.recorded_on())
    .bind(version.status().name())
    .bind(submitted_on)
    .bind(approved.map(|approval| approval.approved_on))
    .bind(approved.map(|approval| approval.approved_as.name()))
    .bind(approved.map(|approval| approval.weekly_cost.as_decimal()))
    .bind(rejected.map(|(on, _)| on))
    .bind(rejected.map(|(_, reason)| reason))
    .bind(version.over_budget_reason())
    .bind(review_due)
    .bind(actor)
    .bind(
        stored
            .previous_version
            .map(i32::try_from)
            .transpose()
            .map_err(anyhow::Error::new)?,
    )
    .bind(stored.ends_plan)
    .execute(&mut *connection)
    .await
    .operation("save plan version")?;
    if written.rows_affected() != 1 {
        return Err(AssessmentError::Internal(anyhow::anyhow!(
            "plan version {number} of {person_id} is approved or rejected and cannot be written"
        )));
    }
    let carries_new_lines =
        version.status().name() == "draft" || written_fresh(connection, person_id, number).await?;
    if !carries_new_lines {
        return Ok(());
    }
    sqlx::query("DELETE FROM plan_line WHERE person_id = $1 AND version = $2")
        .bind(person_id)
        .bind(number)
        .execute(&mut *connection)
        .await
        .operation("clear draft lines")?;
    for line in version.lines() {
        let columns = LineColumns::of(line)?;
        sqlx::query(
            "INSERT INTO plan_line (person_id, version, number, support_type, amount_kind, amount, \
                 hours_per_week, hourly_rate, weekly, arrangement, provider, holding_model, holder, \
                 start_date, end_date) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(person_id)
        .bind(number)
        .bind(columns.number)
        .bind(columns.support_type)
        .bind(columns.amount_kind)
        .bind(columns.amount)
        .bind(columns.hours_per_week)
        .bind(columns.hourly_rate)
        .bind(columns.weekly)
        .bind(columns.arrangement)
        .bind(columns.provider)
        .bind(columns.holding_model)
        .bind(columns.holder)
        .bind(columns.start_date)
        .bind(columns.end_date)
        .execute(&mut *connection)
        .await
        .operation("insert plan line")?;
    }
    Ok(())
}

/// A line as its `plan_line` columns (beside the person and version).
pub(super) struct LineColumns {
    pub number: i32,
    pub support_type: &'static str,
    pub amount_kind: &'static str,
    pub amount: Option<Decimal>,
    pub hours_per_week: Option<Decimal>,
    pub hourly_rate: Option<Decimal>,
    pub weekly: Decimal,
    pub arrangement: &'static str,
    pub provider: Option<String>,
    pub holding_model: Option<&'static str>,
    pub holder: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

impl LineColumns {
    pub(super) fn of(line: &PlanLine) -> Result<LineColumns, AssessmentError> {
        let (amount_kind, amount, hours_per_week, hourly_rate) = match line.amount.given() {
            GivenAmount::Weekly { per_week } => ("weekly", Some(per_week.as_decimal()), None, None),
            GivenAmount::Annual { per_year } => ("annual", Some(per_year.as_decimal()), None, None),
            GivenAmount::HoursAtRate {
                hours_per_week,
                hourly_rate,
            } => (
                "hours_at_rate",
                None,
                Some(hours_per_week),
                Some(hourly_rate.as_decimal()),
            ),
        };
        let (arrangement, provider, holder) = match &line.arrangement {
            Arrangement::DirectPayment => ("direct_payment", None, None),
            Arrangement::AuthorityArranged { provider } => {
                ("authority_arranged", provider.as_ref(), None)
            }
            Arrangement::PersonDirected(choice) => (
                "person_directed",
                choice.provider.as_ref(),
                choice.holder.as_ref(),
            ),
        };
        Ok(LineColumns {
            number: i32::try_from(line.number).map_err(anyhow::Error::new)?,
            support_type: line.support_type.name(),
            amount_kind,
            amount,
            hours_per_week,
            hourly_rate,
            weekly: line.amount.weekly(),
            arrangement,
            provider: provider.map(provider_text),
            holding_model: holder.map(|holder| holder.model().name()),
            holder: match holder {
                Some(FundHolder::ThirdParty { holder }) => Some(holder.to_string()),
                _ => None,
            },
            start_date: line.span.start(),
            end_date: line.span.end(),
        })
    }
}

/// Whether a version has no lines stored yet: one just inserted already approved (a
/// provider choice) has its lines written once, like a draft.
async fn written_fresh(
    connection: &mut PgConnection,
    person_id: Uuid,
    version: i32,
) -> Result<bool, AssessmentError> {
    let lines: i64 =
        sqlx::query_scalar("SELECT count(*) FROM plan_line WHERE person_id = $1 AND version = $2")
            .bind(person_id)
            .bind(version)
            .fetch_one(&mut *connection)
            .await
            .operation("count plan lines")?;
    Ok(lines == 0)
}

#[derive(sqlx::FromRow)]
struct PersonLineRow {
    person_id: Uuid,
    #[sqlx(flatten)]
    line: LineRow,
}

/// The lines of each person's latest version, for those whose latest version is approved,
/// read in one query. A person whose latest version is open (draft or submitted), rejected,
/// or approved without lines is absent: the caller reads them one by one.
pub async fn latest_approved_lines(
    connection: &mut PgConnection,
    person_ids: &[Uuid],
    authority: &AuthorityId,
) -> Result<std::collections::HashMap<Uuid, Vec<PlanLine>>, AssessmentError> {
    let rows: Vec<PersonLineRow> = sqlx::query_as(
        "WITH latest AS ( \
             SELECT DISTINCT ON (person_id) person_id, version, status \
             FROM plan_version WHERE person_id = ANY($1) \
             ORDER BY person_id, version DESC) \
         SELECT l.person_id, l.version, l.number, l.support_type, l.amount_kind, l.amount, \
             l.hours_per_week, l.hourly_rate, l.arrangement, l.provider, l.holding_model, \
             l.holder, l.start_date, l.end_date \
         FROM plan_line l JOIN latest ON latest.person_id = l.person_id \
             AND latest.version = l.version \
         WHERE latest.status = 'approved' \
         ORDER BY l.person_id, l.number",
    )
    .bind(person_ids)
    .fetch_all(&mut *connection)
    .await
    .operation("select latest approved lines")?;
    let mut lines: std::collections::HashMap<Uuid, Vec<PlanLine>> =
        std::collections::HashMap::new();
    for row in rows {
        let line = line_of(&row.line, authority).map_err(|error| {
            anyhow::anyhow!(
                "stored plan line {} of {} v{}: {error}",
                row.line.number,
                row.person_id,
                row.line.version
            )
        })?;
        lines.entry(row.person_id).or_default().push(line);
    }
    Ok(lines)
}
