//! `SetContribution` and `GetContribution`: the person's weekly contribution towards their
//! budget, as the authority's financial assessment set it, kept per agreement as versions
//! like the agreement's own lines, and taken off what the schedule pays.
//!
//! What must stay true: a change is recorded whole with its `schedule.changed`, or not at
//! all; setting what is already in force records nothing and publishes nothing; only the
//! authority's finance staff change it.

use chrono::{Days, NaiveDate};
use sds_events::OutboxBell;
use sds_money::{AccrualLine, Money};
use sds_platform::StoreContext as _;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_vocabulary::date::parse_iso_date;
use sds_vocabulary::shown;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::history::History;
use crate::domain::live::weekly_on;
use crate::domain::terms::{HoldingModel, ScheduleTerms};
use crate::error::PaymentsError;
use crate::grpc::convert::{date_message, money_message};
use crate::grpc::schedules::may_see;
use crate::schedules::{ChangeError, ChangeMade, publish_schedule_change};
use crate::store;
use crate::store::contributions::{self as stored, RecordedContribution};

/// How far before or after today a contribution may take effect.
pub const EFFECTIVE_WINDOW_DAYS: u64 = 366;

const WEEKLY: &str = "give what the person pays a week, 0.00 to 100000.00 (0.00 for none)";

/// A change as asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    agreement_id: Uuid,
    weekly: Money,
    effective_from: NaiveDate,
    assessment_reference: String,
}

fn agreement(raw: &str) -> Result<Uuid, PaymentsError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        PaymentsError::InvalidInput(if raw.trim().is_empty() {
            "agreement_id: missing; give the agreement's id (a UUID)".to_owned()
        } else {
            format!("agreement_id: {} is not a UUID", shown(raw))
        })
    })
}

fn change_of(request: &proto::SetContributionRequest, today: NaiveDate) -> Result<Change, String> {
    let agreement_id = Uuid::parse_str(request.agreement_id.trim()).map_err(|_| {
        if request.agreement_id.trim().is_empty() {
            "agreement_id: missing; give the agreement's id (a UUID)".to_owned()
        } else {
            format!(
                "agreement_id: {} is not a UUID",
                shown(&request.agreement_id)
            )
        }
    })?;
    let raw_weekly = request
        .weekly_amount
        .as_ref()
        .map(|money| money.amount.trim())
        .unwrap_or_default();
    if raw_weekly.is_empty() {
        return Err(format!("weekly_amount: missing; {WEEKLY}"));
    }
    let weekly = Money::parse(raw_weekly)
        .ok()
        .filter(|weekly| !weekly.is_negative() && weekly.pence() <= 10_000_000)
        .ok_or_else(|| {
            format!(
                "weekly_amount: {} is not allowed; {WEEKLY}",
                shown(raw_weekly)
            )
        })?;
    let raw_from = request
        .effective_from
        .as_ref()
        .map(|date| date.iso.trim())
        .unwrap_or_default();
    if raw_from.is_empty() {
        return Err(
            "effective_from: missing; give the first day it applies as YYYY-MM-DD".to_owned(),
        );
    }
    let effective_from = parse_iso_date(raw_from).ok_or_else(|| {
        format!(
            "effective_from: {} is not a date; expected YYYY-MM-DD",
            shown(raw_from)
        )
    })?;
    let window = Days::new(EFFECTIVE_WINDOW_DAYS);
    let earliest = today.checked_sub_days(window).unwrap_or(today);
    let latest = today.checked_add_days(window).unwrap_or(today);
    if effective_from < earliest || effective_from > latest {
        return Err(format!(
            "effective_from: {effective_from} is more than {EFFECTIVE_WINDOW_DAYS} days from today ({today}); \
             accepted: {earliest} to {latest}"
        ));
    }
    let reference = reference(
        "assessment_reference",
        &request.assessment_reference,
        "the financial assessment's reference",
    )?;
    Ok(Change {
        agreement_id,
        weekly,
        effective_from,
        assessment_reference: reference,
    })
}

/// Whoever holds the person's fund, and so collects their contribution: the holder of a
/// third-party fund, or the provider of a provider-held one (never for an authority-held
/// fund, where the authority collects through its own charging).
pub(super) fn is_collector(principal: &Principal, terms: &ScheduleTerms) -> bool {
    let kind = match terms.holding_model {
        HoldingModel::ThirdParty => OrgKind::Holder,
        HoldingModel::Provider => OrgKind::Provider,
        HoldingModel::Authority => return false,
    };
    principal.org_kind == kind && Uuid::parse_str(&principal.org_id).ok() == Some(terms.payee_id)
}

/// A reference as people write them on one line: 1 to 100 characters, trimmed, with no
/// control, invisible or direction-changing character (none may make one read as another).
pub(super) fn reference(field: &str, raw: &str, what: &str) -> Result<String, String> {
    let reference = raw.trim();
    if reference.is_empty() {
        return Err(format!(
            "{field}: missing; give {what} (1 to 100 characters)"
        ));
    }
    if reference.chars().count() > 100
        || reference.chars().any(|character| {
            character.is_control()
                || sds_vocabulary::text::is_invisible_or_direction_changing(character)
        })
    {
        return Err(format!(
            "{field}: {} is not allowed; 1 to 100 characters, no control, invisible or direction-changing characters",
            shown(reference)
        ));
    }
    Ok(reference.to_owned())
}

fn is_finance_of(principal: &Principal, terms: &ScheduleTerms) -> bool {
    principal.org_kind == OrgKind::Authority
        && principal.may_act_for(&terms.authority)
        && principal.has_role(Role::Finance)
}

fn message(
    agreement_id: Uuid,
    person_id: Uuid,
    versions: &[RecordedContribution],
) -> proto::Contribution {
    proto::Contribution {
        dues: Vec::new(),
        receipts: Vec::new(),
        total_due: None,
        total_received: None,
        outstanding: None,
        arrears_periods: 0,
        arrears_since: None,
        allowed_periods: 0,
        agreement_id: agreement_id.to_string(),
        person_id: person_id.to_string(),
        versions: versions
            .iter()
            .map(|recorded| proto::ContributionChange {
                version: recorded.change.version,
                weekly_amount: Some(money_message(recorded.change.weekly)),
                effective_from: Some(date_message(recorded.change.effective_from)),
                recorded_on: Some(date_message(recorded.change.recorded_on)),
                assessment_reference: recorded.assessment_reference.clone(),
                recorded_by: recorded.recorded_by.clone(),
                recorded_at: recorded
                    .recorded_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
            .collect(),
    }
}

pub async fn set(
    pool: &PgPool,
    outbox: &OutboxBell,
    principal: &Principal,
    today: NaiveDate,
    request: &proto::SetContributionRequest,
) -> Result<proto::Contribution, PaymentsError> {
    let change = change_of(request, today).map_err(PaymentsError::InvalidInput)?;
    let mut transaction = pool.begin().await.operation("database connection")?;
    if !store::lock_schedule(&mut transaction, change.agreement_id).await? {
        return Err(PaymentsError::ScheduleNotFound(change.agreement_id));
    }
    let before = store::load_schedule(&mut transaction, change.agreement_id)
        .await?
        .filter(|record| may_see(principal, &record.terms))
        .ok_or(PaymentsError::ScheduleNotFound(change.agreement_id))?;
    if !is_finance_of(principal, &before.terms) {
        return Err(PaymentsError::NotAllowed(format!(
            "contributions to {}'s budgets are set by its finance staff",
            before.terms.authority
        )));
    }
    if before.terms.holding_model == HoldingModel::Authority {
        return Err(PaymentsError::InvalidInput(
            "agreement_id: the authority holds this person's fund, so it collects any contribution through its own charging and pays the provider in full; a contribution is taken off the payments only where a provider or a third party holds the fund"
                .to_owned(),
        ));
    }
    let budget = budget_on(&before.history, today, change.effective_from);
    if change.weekly > budget {
        return Err(PaymentsError::InvalidInput(format!(
            "weekly_amount: {} is more than the budget of {budget} a week from {}; a contribution is at most the budget it pays towards",
            change.weekly, change.effective_from
        )));
    }
    let mut versions = stored::of_schedules(&mut transaction, &[change.agreement_id])
        .await?
        .remove(&change.agreement_id)
        .unwrap_or_default();
    let in_force = versions.last().is_some_and(|latest| {
        latest.change.weekly == change.weekly
            && latest.change.effective_from == change.effective_from
            && latest.assessment_reference == change.assessment_reference
    });
    if in_force {
        drop(transaction);
        return with_collection(
            pool,
            &before.terms.authority,
            message(change.agreement_id, before.terms.person_id, &versions),
        )
        .await;
    }
    let recorded = stored::record(
        &mut transaction,
        change.agreement_id,
        change.effective_from,
        today,
        change.weekly,
        &change.assessment_reference,
        &principal.org_id,
    )
    .await?;
    let agreement_version = before
        .history
        .versions
        .iter()
        .map(|version| version.version)
        .max()
        .unwrap_or_default();
    let terms = before.terms.clone();
    publish_schedule_change(
        &mut transaction,
        change.agreement_id,
        before,
        None,
        ChangeMade {
            kind: proto::ScheduleChangeKind::Contribution,
            agreement_version,
            effective_from: change.effective_from,
            recorded_on: today,
        },
    )
    .await
    .map_err(|error| match error {
        ChangeError::Rule(error) => PaymentsError::InvalidInput(format!(
            "weekly_amount: the schedule cannot be worked out with this contribution: {error}"
        )),
        ChangeError::Store(error) => error,
    })?;
    transaction
        .commit()
        .await
        .operation("commit contribution")?;
    outbox.ring();
    tracing::info!(
        authority = %terms.authority,
        agreement = %change.agreement_id,
        version = recorded.change.version,
        "contribution recorded"
    );
    versions.push(recorded);
    with_collection(
        pool,
        &terms.authority,
        message(change.agreement_id, terms.person_id, &versions),
    )
    .await
}

async fn with_collection(
    pool: &PgPool,
    authority: &sds_vocabulary::AuthorityId,
    mut contribution: proto::Contribution,
) -> Result<proto::Contribution, PaymentsError> {
    let agreement_id = Uuid::parse_str(&contribution.agreement_id).map_err(anyhow::Error::new)?;
    let mut connection = pool.acquire().await.operation("database connection")?;
    super::contribution_receipts::add_collection(
        &mut connection,
        authority,
        agreement_id,
        &mut contribution,
    )
    .await?;
    Ok(contribution)
}

/// What the person's fund receives a week on `from` (or on the first day support is funded,
/// when that is later), as known on `today`: the most a contribution can be.
fn budget_on(history: &History, today: NaiveDate, from: NaiveDate) -> Money {
    let lines: Vec<AccrualLine> = history
        .lines_known_on(today)
        .into_iter()
        .filter(|line| !line.is_contribution())
        .collect();
    let first = lines.iter().map(AccrualLine::start).min().unwrap_or(from);
    weekly_on(&lines, from.max(first))
}

/// Who may read a person's contribution: the authority's staff, the person, and whoever
/// collects it (the fund's holder); not a provider the person's money merely pays.
fn may_read(principal: &Principal, terms: &ScheduleTerms) -> bool {
    let own = principal.org_kind == OrgKind::Person && may_see(principal, terms);
    let staff = principal.org_kind == OrgKind::Authority && principal.may_act_for(&terms.authority);
    is_collector(principal, terms) || own || staff
}

pub async fn get(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::GetContributionRequest,
) -> Result<proto::Contribution, PaymentsError> {
    let agreement_id = agreement(&request.agreement_id)?;
    let mut connection = pool.acquire().await.operation("database connection")?;
    let record = store::load_schedule(&mut connection, agreement_id)
        .await?
        .filter(|record| may_read(principal, &record.terms))
        .ok_or(PaymentsError::ScheduleNotFound(agreement_id))?;
    let versions = stored::of_schedules(&mut connection, &[agreement_id])
        .await?
        .remove(&agreement_id)
        .unwrap_or_default();
    let mut contribution = message(agreement_id, record.terms.person_id, &versions);
    super::contribution_receipts::add_collection(
        &mut connection,
        &record.terms.authority,
        agreement_id,
        &mut contribution,
    )
    .await?;
    Ok(contribution)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(weekly: &str, from: &str, reference: &str) -> proto::SetContributionRequest {
        proto::SetContributionRequest {
            agreement_id: "6f1c1d0e-8a5b-4c7e-9d3a-2b1f0e4d5c6a".to_owned(),
            weekly_amount: Some(proto::Money {
                amount: weekly.to_owned(),
            }),
            effective_from: Some(proto::Date {
                iso: from.to_owned(),
            }),
            assessment_reference: reference.to_owned(),
        }
    }

    #[test]
    fn each_bad_field_is_named_with_what_is_accepted() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let cases = [
            (request("", "2026-12-01", "FA-1"), "weekly_amount: missing;"),
            (
                request("-1.00", "2026-12-01", "FA-1"),
                "weekly_amount: \"-1.00\" is not allowed; give what the person pays a week, 0.00 to 100000.00",
            ),
            (
                request("100000.01", "2026-12-01", "FA-1"),
                "weekly_amount: \"100000.01\" is not allowed;",
            ),
            (
                request("12.345", "2026-12-01", "FA-1"),
                "weekly_amount: \"12.345\" is not allowed;",
            ),
            (request("10.00", "", "FA-1"), "effective_from: missing;"),
            (
                request("10.00", "1/12/2026", "FA-1"),
                "effective_from: \"1/12/2026\" is not a date; expected YYYY-MM-DD",
            ),
            (
                request("10.00", "2025-11-27", "FA-1"),
                "effective_from: 2025-11-27 is more than 366 days from today (2026-11-29); accepted: 2025-11-28 to 2027-11-30",
            ),
            (
                request("10.00", "2027-12-01", "FA-1"),
                "effective_from: 2027-12-01 is more than 366 days",
            ),
            (
                request("10.00", "2026-12-01", " "),
                "assessment_reference: missing;",
            ),
            (
                request("10.00", "2026-12-01", &"x".repeat(101)),
                "assessment_reference: ",
            ),
            (
                request("10.00", "2026-12-01", "FA\u{7}1"),
                "assessment_reference: \"FA\\u{7}1\" is not allowed",
            ),
        ];
        for (request, expected) in cases {
            let error = change_of(&request, today).expect_err(expected);
            assert!(
                error.starts_with(expected),
                "{error:?} should start {expected:?}"
            );
        }
        let mut no_agreement = request("10.00", "2026-12-01", "FA-1");
        no_agreement.agreement_id = "nope".to_owned();
        assert_eq!(
            change_of(&no_agreement, today).unwrap_err(),
            "agreement_id: \"nope\" is not a UUID"
        );
        let fine = change_of(&request(" 25.50 ", "2025-11-28", " FA-2026/118 "), today).unwrap();
        assert_eq!(fine.weekly.to_string(), "25.50");
        assert_eq!(fine.assessment_reference, "FA-2026/118");
    }
}
