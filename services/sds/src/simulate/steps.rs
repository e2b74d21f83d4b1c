//! The steps of a fund beyond the flow's: its agreement's terms varied on the day it is
//! signed (a fee of its own, payment on actuals), the provider's report of a period's
//! delivery, and the end of the person's whole plan.
//!
//! What must stay true, as in [`super::act`]: each step is made as its user makes it, with
//! their own token (the practitioner varies and ends, every party signs, the provider
//! reports), through the services' public APIs.

use anyhow::Context as _;
use sds::flow::{self, Platform, bearer};
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;

use super::act::{self, Signed, date, pounds};
use super::terms::Actual;
use super::workload::{FIRST_WEEKLY_PENCE, FundPlan, PlanEnd};

/// The agreement's terms varied from its start to the fund's own fee, and the variation signed by every party. Returns the agreement as
/// signed.
pub async fn vary_terms(
    platform: &Platform,
    fund: &FundPlan,
    signed: &Signed,
) -> anyhow::Result<proto::Agreement> {
    let practitioner = platform.staff(&[Role::Practitioner]);
    let mut contracts = ContractsServiceClient::new(platform.contracts.clone());
    let mut terms = signed
        .agreement
        .terms
        .clone()
        .context("the agreement has its terms")?;
    if let Some(kind) = fund.terms.fee {
        terms.fee = Some(act::fee(kind, fund.number.is_multiple_of(2)));
    }
    let varied = contracts
        .vary_agreement(bearer(
            &practitioner,
            proto::VaryAgreementRequest {
                agreement_id: signed.agreement.id.clone(),
                effective_from: terms.start.clone(),
                terms: Some(terms),
            },
        ))
        .await
        .context("vary the agreement's terms")?
        .into_inner();
    let version = if varied.awaiting_version == 0 {
        varied.version
    } else {
        varied.awaiting_version
    };
    let person = platform.person(&signed.person_id);
    let provider = platform.provider(&signed.provider_id);
    let holder = signed.holder_id.as_deref().map(|id| platform.holder(id));
    let signers: Vec<&str> = [
        Some(person.as_str()),
        Some(provider.as_str()),
        holder.as_deref(),
        Some(practitioner.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    flow::sign_by_everyone(&mut contracts, &signed.agreement.id, version, &signers).await
}

/// The provider's report number `number` of the fund's reports.
pub async fn report(
    platform: &Platform,
    fund: &FundPlan,
    signed: &Signed,
    number: usize,
) -> anyhow::Result<()> {
    let actual = fund
        .terms
        .actuals
        .as_ref()
        .and_then(|actuals| actuals.get(number))
        .context("the fund's report")?;
    report_actual(platform, signed, actual)
        .await
        .with_context(|| format!("{}: the report", fund.case_reference()))
}

/// The provider's report of what it delivered in the actual's period: its percent of the
/// plan's amount for the period (line 1, the option 2 line, at the flow's weekly amount).
async fn report_actual(
    platform: &Platform,
    signed: &Signed,
    actual: &Actual,
) -> anyhow::Result<()> {
    let days = (actual.period_end - actual.period_start).num_days() + 1;
    let planned = days * FIRST_WEEKLY_PENCE / 7;
    let delivered = planned * i64::try_from(actual.percent).unwrap_or(100) / 100;
    PaymentsServiceClient::new(platform.payments.clone())
        .report_actuals(bearer(
            &platform.provider(&signed.provider_id),
            proto::ReportActualsRequest {
                agreement_id: signed.agreement.id.clone(),
                period_start: date(actual.period_start),
                lines: vec![proto::ActualLine {
                    plan_line: 1,
                    amount: Some(proto::Money {
                        amount: pounds(delivered),
                    }),
                    hours: String::new(),
                }],
            },
        ))
        .await
        .with_context(|| format!("report the delivery of {}", actual.period_start))?;
    Ok(())
}

/// The person's whole plan ended by the practitioner, its lines' last day the day before
/// the plan end's `from`, and the ending approved.
pub async fn end_plan(platform: &Platform, fund: &FundPlan, signed: &Signed) -> anyhow::Result<()> {
    let end = fund.plan_end.context("the plan ends")?;
    end_whole_plan(platform, signed, &end)
        .await
        .with_context(|| format!("{}: the plan's end", fund.case_reference()))
}

async fn end_whole_plan(platform: &Platform, signed: &Signed, end: &PlanEnd) -> anyhow::Result<()> {
    let practitioner = platform.staff(&[Role::Practitioner]);
    let mut assessment = AssessmentServiceClient::new(platform.assessment.clone());
    let latest =
        flow::setup::latest_plan(&mut assessment, &practitioner, &signed.person_id).await?;
    let draft = assessment
        .vary_plan(bearer(
            &practitioner,
            proto::VaryPlanRequest {
                person_id: signed.person_id.clone(),
                version: latest.version,
                effective_from: date(end.from),
                changes: vec![],
                end_plan: true,
            },
        ))
        .await
        .context("end the plan")?
        .into_inner();
    flow::setup::approve(
        &mut assessment,
        &practitioner,
        &signed.person_id,
        draft.version,
    )
    .await
    .context("approve the plan's end")?;
    Ok(())
}
