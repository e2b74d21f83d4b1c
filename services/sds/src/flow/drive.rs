//! The flow itself, from the package request to the person's statement, on the days of a
//! [`Calendar`]: the person and the provider are ready ([`super::setup`]).

use anyhow::Context as _;
use sds_platform::Role;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_proto::v1::portal_service_client::PortalServiceClient;
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;

use super::choose::choose_and_sign;
use super::{Calendar, HOP, Platform, bearer, date, eventually};

/// What the flow came to, for a test to compare across deployment shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Each run's instalments and total.
    pub runs: Vec<(u64, String)>,
    /// The kinds of the portal notifications the provider received, in order.
    pub provider_told: Vec<String>,
    /// The adjustment `schedule.changed` carried for the backdated variation.
    pub adjustment: String,
    /// The person's statement from the plan's start to the flow's last day: money in, and
    /// its sentences.
    pub statement_in: String,
    /// What went out of it: the provider's charges drawn.
    pub statement_out: String,
    pub statement_text: String,
    /// Ids a caller may want next: the agreement and the person's fund.
    pub agreement_id: String,
    pub fund_id: String,
}

fn amount_of(money: Option<&proto::Money>) -> String {
    money.map(|money| money.amount.clone()).unwrap_or_default()
}

/// Drives the flow for `person_id` (with an approved plan whose option 2 line 1 is to be
/// chosen) and `provider` (ready to be chosen and paid), starting on the calendar's day of
/// acceptance and ending on its last day.
pub async fn drive(
    platform: &Platform,
    calendar: &Calendar,
    person_id: &str,
    provider: &proto::Provider,
) -> anyhow::Result<Outcome> {
    let authority = platform.authority.as_str().to_owned();
    let finance = platform.staff(&[Role::Finance]);
    let provider_token = platform.provider(&provider.id);
    let mut payments = PaymentsServiceClient::new(platform.payments.clone());
    platform.on_day(calendar.accepted_on)?;

    // The provider's portal is open from the start and stays subscribed.
    let mut notifications = PortalServiceClient::new(platform.portal.clone())
        .subscribe(bearer(&provider_token, proto::SubscribeRequest::default()))
        .await
        .context("the provider subscribes")?
        .into_inner();

    let agreement = choose_and_sign(platform, calendar, person_id, provider).await?;

    // The first run, on the first due date after signing: everything owed from the plan's
    // start through the period it opens.
    platform.on_day(calendar.first_run())?;
    let first = run(&mut payments, &finance, &authority, calendar.first_run()).await?;

    // A backdated variation: from a month after the plan's start, 280.00 a week.
    platform.on_day(calendar.variation_recorded())?;
    let varied = vary_and_sign(
        platform,
        person_id,
        &agreement,
        &provider.id,
        calendar.variation_from(),
        "280.00",
    )
    .await?;
    anyhow::ensure!(
        varied.state == proto::AgreementVersionState::Agreed as i32,
        "every party signed the variation: {varied:?}"
    );

    // The next run pays the adjustment with the next instalment.
    eventually("payments follows the variation", || {
        schedule_versions(&payments, &finance, &agreement.id, 2)
    })
    .await?;
    platform.on_day(calendar.second_run())?;
    let second = run(&mut payments, &finance, &authority, calendar.second_run()).await?;

    // What the provider was told, in order, through its one subscription.
    let mut told = Vec::new();
    let mut adjustment = String::new();
    let mut remittances = 0;
    while remittances < 2 || adjustment.is_empty() {
        let next = tokio::time::timeout(HOP, notifications.next())
            .await
            .map_err(|_| anyhow::anyhow!("the provider was not told everything; told: {told:?}"))?
            .context("the subscription ended")?
            .context("a notification")?;
        if let Some(proto::notification::Body::ScheduleChanged(notice)) = &next.body
            && notice.change == proto::ScheduleChangeKind::Varied as i32
        {
            adjustment = amount_of(notice.adjustment.as_ref());
        }
        if matches!(
            next.body,
            Some(proto::notification::Body::RemittanceIssued(_))
        ) {
            remittances += 1;
        }
        told.push(
            proto::NotificationKind::try_from(next.kind)
                .map(|kind| kind.as_str_name().to_owned())
                .unwrap_or_default(),
        );
    }

    // The provider holds the fund: it draws its charges for the support given up to the
    // second run, what the first run paid and the adjustment the variation made of it.
    let fund_id = super::draw::draw_for_support_given(
        platform,
        calendar,
        person_id,
        &provider.id,
        &first.1,
        &adjustment,
    )
    .await?;

    // The person's statement over the whole time, as they may read it.
    let statement = LedgerServiceClient::new(platform.ledger.clone())
        .get_statement(bearer(
            &finance,
            proto::GetStatementRequest {
                fund_id: fund_id.clone(),
                from: date(calendar.plan_start()),
                to: date(calendar.last_day()),
            },
        ))
        .await
        .context("the person's statement")?
        .into_inner();
    Ok(Outcome {
        runs: vec![first, second],
        provider_told: told,
        adjustment,
        statement_in: amount_of(statement.total_in.as_ref()),
        statement_out: amount_of(statement.total_out.as_ref()),
        statement_text: statement.text,
        agreement_id: agreement.id,
        fund_id,
    })
}

/// Whether payments holds at least `versions` versions of the agreement's schedule.
pub(super) async fn schedule_versions(
    payments: &PaymentsServiceClient<Channel>,
    finance: &str,
    agreement_id: &str,
    versions: usize,
) -> anyhow::Result<Option<()>> {
    let schedule = payments
        .clone()
        .get_schedule(bearer(
            finance,
            proto::GetScheduleRequest {
                agreement_id: agreement_id.to_owned(),
                until: None,
            },
        ))
        .await;
    Ok(schedule.ok().and_then(|schedule| {
        let held = schedule
            .into_inner()
            .history
            .map_or(0, |history| history.versions.len());
        (held >= versions).then_some(())
    }))
}

/// Signs `version` of the agreement as each of `tokens` in turn; returns the agreement as the
/// last signature left it. The provider's framework status reaches contracts by event: a
/// signature refused as not yet allowed is given again.
pub async fn sign_by_everyone(
    contracts: &mut ContractsServiceClient<Channel>,
    agreement_id: &str,
    version: u32,
    tokens: &[&str],
) -> anyhow::Result<proto::Agreement> {
    let mut signed = None;
    for token in tokens {
        signed = Some(
            eventually("a party signs", || {
                let mut contracts = contracts.clone();
                let request = bearer(
                    token,
                    proto::SignAgreementRequest {
                        agreement_id: agreement_id.to_owned(),
                        version,
                        capacity: 0,
                    },
                );
                async move {
                    match contracts.sign_agreement(request).await {
                        Ok(signed) => Ok(Some(signed.into_inner())),
                        Err(status) if status.code() == tonic::Code::FailedPrecondition => Ok(None),
                        Err(status) => Err(anyhow::Error::new(status).context("a party signs")),
                    }
                }
            })
            .await?,
        );
    }
    signed.context("at least one party signs")
}

/// Runs payments for `run_date`; returns the instalments paid and their total.
async fn run(
    payments: &mut PaymentsServiceClient<Channel>,
    finance: &str,
    authority: &str,
    run_date: chrono::NaiveDate,
) -> anyhow::Result<(u64, String)> {
    let mut progress = payments
        .run_payments(bearer(
            finance,
            proto::RunPaymentsRequest {
                authority: authority.to_owned(),
                run_date: date(run_date),
            },
        ))
        .await
        .with_context(|| format!("start the run of {run_date}"))?
        .into_inner();
    while let Some(step) = progress.next().await {
        let step = step.with_context(|| format!("the run of {run_date}"))?;
        if let Some(summary) = step.completed {
            return Ok((summary.instalments, amount_of(summary.total.as_ref())));
        }
    }
    anyhow::bail!("the run of {run_date} ended without a summary")
}

/// Varies the person's option 2 line still running (the last without an end: a variation
/// ends a line and carries it on as a new one) to `weekly` a week from `from` and approves it; then,
/// once contracts has drafted the agreement's variation, signs it as every party (the
/// person, the provider, the practitioner). Returns the agreement as signed.
pub async fn vary_and_sign(
    platform: &Platform,
    person_id: &str,
    agreement: &proto::Agreement,
    provider_id: &str,
    from: chrono::NaiveDate,
    weekly: &str,
) -> anyhow::Result<proto::Agreement> {
    let awaiting =
        vary_to_last_signature(platform, person_id, agreement, provider_id, from, weekly).await?;
    sign_last(platform, &awaiting).await
}

/// The last signature of an agreement's variation, the practitioner's: the moment the
/// variation is agreed (the version committed with its `agreement.varied`). Returns the
/// agreement as signed.
pub async fn sign_last(
    platform: &Platform,
    awaiting: &proto::Agreement,
) -> anyhow::Result<proto::Agreement> {
    let practitioner = platform.staff(&[Role::Practitioner]);
    let mut contracts = ContractsServiceClient::new(platform.contracts.clone());
    sign_by_everyone(
        &mut contracts,
        &awaiting.id,
        awaiting.version,
        &[practitioner.as_str()],
    )
    .await
}

/// [`vary_and_sign`] up to the last signature: the plan varied and approved, the agreement's
/// variation drafted by contracts and signed by the person and the provider. Returns the
/// variation awaiting the practitioner's signature ([`sign_last`]).
pub async fn vary_to_last_signature(
    platform: &Platform,
    person_id: &str,
    agreement: &proto::Agreement,
    provider_id: &str,
    from: chrono::NaiveDate,
    weekly: &str,
) -> anyhow::Result<proto::Agreement> {
    let practitioner = platform.staff(&[Role::Practitioner]);
    let mut assessment = AssessmentServiceClient::new(platform.assessment.clone());
    let latest = super::setup::latest_plan(&mut assessment, &practitioner, person_id).await?;
    // The option 2 line still running: a plan may mix it with lines of other options.
    let running = latest
        .lines
        .iter()
        .filter(|line| line.end.as_ref().is_none_or(|end| end.iso.is_empty()))
        .filter(|line| {
            matches!(
                line.arrangement
                    .as_ref()
                    .and_then(|given| given.arrangement.as_ref()),
                Some(proto::arrangement::Arrangement::PersonDirected(_))
            )
        })
        .map(|line| line.number)
        .max()
        .context("the plan has an option 2 line still running")?;
    let draft = assessment
        .vary_plan(bearer(
            &practitioner,
            proto::VaryPlanRequest {
                person_id: person_id.to_owned(),
                version: latest.version,
                effective_from: date(from),
                changes: vec![proto::LineChange {
                    kind: Some(proto::line_change::Kind::Change(proto::LineChangeUpdate {
                        number: running,
                        amount: Some(proto::LineAmount {
                            amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                                amount: weekly.to_owned(),
                            })),
                        }),
                        ..proto::LineChangeUpdate::default()
                    })),
                }],
                end_plan: false,
            },
        ))
        .await
        .context("vary the plan")?
        .into_inner();
    super::setup::approve(&mut assessment, &practitioner, person_id, draft.version).await?;
    let mut contracts = ContractsServiceClient::new(platform.contracts.clone());
    let varied = eventually("contracts drafts the agreement's variation", || {
        let mut contracts = contracts.clone();
        let request = bearer(
            &practitioner,
            proto::GetAgreementRequest {
                agreement_id: agreement.id.clone(),
            },
        );
        let signed_version = agreement.version;
        async move {
            Ok(contracts
                .get_agreement(request)
                .await
                .ok()
                .map(tonic::Response::into_inner)
                .filter(|current| current.version > signed_version))
        }
    })
    .await?;
    let person = platform.person(person_id);
    let provider = platform.provider(provider_id);
    sign_by_everyone(
        &mut contracts,
        &varied.id,
        varied.version,
        &[person.as_str(), provider.as_str()],
    )
    .await
}
