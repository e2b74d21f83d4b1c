//! Recording a provider's report of delivery: judged against the plan known today, kept as
//! the period's next revision, and, when it completes a run of periods beyond the
//! agreement's tolerance, `variance.persistent` published in the same transaction.
//!
//! What must stay true: a report is recorded whole or not at all; the same report again
//! the same day records nothing; a run of periods beyond tolerance is raised once, however
//! often its periods are reported again.

use chrono::NaiveDate;
use sds_events::{NewEvent, OutboxBell};
use sds_platform::StoreContext as _;
use sds_platform::{OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::actuals::{self, JudgedReport, ReportedLine, persistent_run, variance_reason};
use crate::domain::terms::ScheduleTerms;
use crate::error::PaymentsError;
use crate::grpc::convert::{date_message, money_message};
use crate::store;
use crate::store::actuals as stored;

/// A report as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub agreement_id: Uuid,
    pub period_start: NaiveDate,
    pub lines: Vec<ReportedLine>,
}

/// Who may report an agreement's delivery: its provider, and the authority's finance staff.
fn may_report(principal: &Principal, terms: &ScheduleTerms) -> bool {
    let provider = principal.org_kind == OrgKind::Provider
        && principal.org_id == terms.provider_id.to_string();
    let finance = principal.org_kind == OrgKind::Authority
        && principal.may_act_for(&terms.authority)
        && principal.has_role(Role::Finance);
    provider || finance
}

/// Records `report`; returns it as recorded (or as recorded earlier today, when the same).
pub async fn record(
    pool: &PgPool,
    outbox: &OutboxBell,
    principal: &Principal,
    today: NaiveDate,
    report: &Report,
) -> Result<proto::ActualsReport, PaymentsError> {
    let mut transaction = pool.begin().await.operation("database connection")?;
    if !stored::lock_schedule(&mut transaction, report.agreement_id).await? {
        return Err(PaymentsError::ScheduleNotFound(report.agreement_id));
    }
    let record = store::load_schedule(&mut transaction, report.agreement_id)
        .await?
        .ok_or(PaymentsError::ScheduleNotFound(report.agreement_id))?;
    if !may_report(principal, &record.terms) {
        // Not theirs: as if it did not exist.
        return Err(PaymentsError::ScheduleNotFound(report.agreement_id));
    }
    let judged = actuals::judge(
        &record.terms,
        &record.history,
        report.period_start,
        &report.lines,
        today,
    )
    .map_err(|(path, problem)| PaymentsError::InvalidInput(format!("{path}: {problem}")))?;
    if let Some(revision) =
        stored::same_report_today(&mut transaction, report.agreement_id, &judged, today).await?
    {
        transaction
            .commit()
            .await
            .operation("database connection")?;
        return Ok(message(&record.terms, &judged, revision, today, false));
    }
    let revision = stored::record(
        &mut transaction,
        report.agreement_id,
        &judged,
        today,
        &principal.org_id,
    )
    .await?;
    let periods = stored::period_variances(&mut transaction, report.agreement_id).await?;
    let run = persistent_run(
        &record.terms.calendar(),
        &periods,
        judged.period.start,
        record.terms.flex_tolerance_percent,
    );
    let mut raised = false;
    if let Some(run) = run {
        let first = run[0].period;
        let last = run[run.len() - 1].period;
        if stored::raise_once(
            &mut transaction,
            report.agreement_id,
            first.start,
            last.start,
        )
        .await?
        {
            raised = true;
            let alerts = stored::alerts_of_person(&mut transaction, record.terms.person_id).await?;
            sds_events::enqueue(
                &mut transaction,
                NewEvent::new(
                    record.terms.authority.clone(),
                    record.terms.person_id.to_string(),
                    alerts,
                    proto::event::Body::VariancePersistent(proto::VariancePersistent {
                        person_id: record.terms.person_id.to_string(),
                        reason: variance_reason(&run),
                        from: Some(date_message(first.start)),
                        to: Some(date_message(last.end)),
                    }),
                ),
            )
            .await
            .map_err(anyhow::Error::new)?;
        }
    }
    transaction
        .commit()
        .await
        .operation("database connection")?;
    if raised {
        outbox.ring();
    }
    tracing::info!(agreement = %report.agreement_id, period = %judged.period.start, revision, raised, "delivery reported");
    Ok(message(&record.terms, &judged, revision, today, raised))
}

fn message(
    terms: &ScheduleTerms,
    judged: &JudgedReport,
    revision: i32,
    reported_on: NaiveDate,
    raised: bool,
) -> proto::ActualsReport {
    proto::ActualsReport {
        agreement_id: terms.agreement_id.to_string(),
        period_start: Some(date_message(judged.period.start)),
        period_end: Some(date_message(judged.period.end)),
        revision: u32::try_from(revision).unwrap_or_default(),
        reported_on: Some(date_message(reported_on)),
        total: Some(money_message(judged.total)),
        reported: Some(money_message(judged.reported)),
        planned: Some(money_message(judged.planned)),
        variance_percent: judged
            .variance_percent()
            .map(|percent| format!("{percent:.1}"))
            .unwrap_or_default(),
        variance_persistent: raised,
    }
}
