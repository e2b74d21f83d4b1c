//! The flow that defines the product (ARCHITECTURE.md), driven through the services' public
//! gRPC APIs as their users would: a person's option 2 line goes out as a package request,
//! a provider offers, the person accepts, the agreement is signed by every party, payments
//! pays it, the provider sees the remittance, a backdated variation is adjusted in the next
//! run and the provider is told, and the person's statement shows the money.
//!
//! [`Platform`] names where each service is reached, so the same flow runs against one
//! `sds serve` process or against one process per service.

use std::time::Duration;

use sds_platform::{AuthorityId, ManualClock, OrgKind, Principal, Role};
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_proto::v1::portal_service_client::PortalServiceClient;
use sds_testkit::{authority_staff, bearer, provider_org, token_for, wait_until};
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;
use uuid::Uuid;

/// How long one hop of events across the platform may take before the flow gives up.
const HOP: Duration = Duration::from_secs(30);

/// Where each service is reached.
#[derive(Clone)]
pub struct Platform {
    pub assessment: Channel,
    pub directory: Channel,
    pub contracts: Channel,
    pub payments: Channel,
    pub ledger: Channel,
    pub portal: Channel,
    pub clock: Hand,
}

/// What moves every service's "today": a clock shared in one process, or a clock file
/// that services in separate processes all read (`SDS_CLOCK_FILE`).
#[derive(Clone)]
pub enum Hand {
    Manual(ManualClock),
    File(std::path::PathBuf),
}

impl Platform {
    /// Moves every service's "today" to noon in Scotland on the day.
    pub fn on_day(&self, year: i32, month: u32, day: u32) {
        let date = chrono::NaiveDate::from_ymd_opt(year, month, day).expect("a date");
        let noon = ManualClock::on(date).clock().now();
        match &self.clock {
            Hand::Manual(clock) => clock.set(noon),
            Hand::File(path) => {
                sds_platform::write_clock_file(path, noon).expect("move the clock file")
            }
        }
    }
}

/// What the flow observed, for the test to compare across deployment shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Each run's instalments and total.
    pub runs: Vec<(u64, String)>,
    /// The portal notifications the provider received, by kind, in order.
    pub provider_told: Vec<String>,
    /// The adjustment `schedule.changed` carried for the backdated variation.
    pub adjustment: String,
    /// The person's statement over the whole time: money in, and its sentences.
    pub statement_in: String,
    pub statement_text: String,
}

fn date(iso: &str) -> Option<proto::Date> {
    Some(proto::Date {
        iso: iso.to_owned(),
    })
}

fn amount_of(money: Option<&proto::Money>) -> String {
    money.map(|money| money.amount.clone()).unwrap_or_default()
}

fn person_token(person_id: &str) -> String {
    token_for(&Principal {
        org_id: person_id.to_owned(),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![AuthorityId::parse("authority", "fife").expect("valid")],
        person_id: Some(person_id.to_owned()),
    })
}

/// Drives the whole flow for one person of Fife and one provider, on `platform`, from 28
/// November 2026 to 11 January 2027; `person_id` has an approved plan with an option 2
/// line whose provider is still to be chosen, and `provider` is registered and known to
/// assessment.
pub async fn drive(platform: &Platform, person_id: &str, provider: &proto::Provider) -> Outcome {
    let practitioner = token_for(&authority_staff("fife", &[Role::Practitioner]));
    let commissioning = token_for(&authority_staff("fife", &[Role::Commissioning]));
    let finance = token_for(&authority_staff("fife", &[Role::Finance]));
    let provider_token = token_for(&provider_org(&provider.id));
    let person = person_token(person_id);
    let mut assessment = AssessmentServiceClient::new(platform.assessment.clone());
    let mut directory = DirectoryServiceClient::new(platform.directory.clone());
    let mut contracts = ContractsServiceClient::new(platform.contracts.clone());
    let mut payments = PaymentsServiceClient::new(platform.payments.clone());
    let mut ledger = LedgerServiceClient::new(platform.ledger.clone());

    // The provider's portal is open from the start and stays subscribed.
    let mut portal = PortalServiceClient::new(platform.portal.clone());
    let mut notifications = portal
        .subscribe(bearer(&provider_token, proto::SubscribeRequest::default()))
        .await
        .expect("the provider subscribes")
        .into_inner();

    // The provider is on Fife's framework (contracts hears of it through provider.updated);
    // the authority's contract defaults and payment settings; the provider's bank account.
    directory
        .set_framework_status(bearer(
            &commissioning,
            proto::SetFrameworkStatusRequest {
                provider_id: provider.id.clone(),
                authority: "fife".into(),
                status: proto::FrameworkStatus::OnFramework as i32,
            },
        ))
        .await
        .expect("the provider is on the framework");
    contracts
        .set_contract_defaults(bearer(
            &commissioning,
            proto::SetContractDefaultsRequest {
                authority: "fife".into(),
                terms: Some(proto::ContractDefaultTerms {
                    frequency: proto::PaymentFrequency::FourWeekly as i32,
                    timing: Some(proto::PaymentTiming {
                        timing: Some(proto::payment_timing::Timing::Advance(proto::InAdvance {})),
                    }),
                    basis: proto::PaymentBasis::Scheduled as i32,
                    flex_tolerance_percent: "10".into(),
                    fee: Some(proto::AgreementFee {
                        kind: proto::ManagementFeeKind::None as i32,
                        ..proto::AgreementFee::default()
                    }),
                    notice_days: 28,
                    review_after_months: 6,
                }),
            },
        ))
        .await
        .expect("contract defaults");
    payments
        .set_payment_settings(bearer(
            &finance,
            proto::SetPaymentSettingsRequest {
                authority: "fife".into(),
                anchor_date: date("2026-04-06"),
                journal_codes: None,
                paying_account: Some(proto::PayingAccount {
                    name: "Fife HSCP".into(),
                    account: Some(proto::BankAccount {
                        sort_code: "80-22-60".into(),
                        account_number: "10203040".into(),
                        account_name: "Fife Council SDS".into(),
                    }),
                    service_user_number: "123456".into(),
                }),
                contribution_arrears_periods: 0,
            },
        ))
        .await
        .expect("payment settings");
    payments
        .set_payee_bank_account(bearer(
            &finance,
            proto::SetPayeeBankAccountRequest {
                authority: "fife".into(),
                payee_id: provider.id.clone(),
                account: Some(proto::BankAccount {
                    sort_code: "40-11-62".into(),
                    account_number: "41234567".into(),
                    account_name: "Kingdom Home Support".into(),
                }),
            },
        ))
        .await
        .expect("the provider's bank account");

    // Package request, offer, acceptance.
    let request = directory
        .publish_package_request(bearer(
            &practitioner,
            proto::PublishPackageRequestRequest {
                authority: "fife".into(),
                person_id: person_id.to_owned(),
                plan_id: Uuid::now_v7().to_string(),
                line_number: 1,
                content: Some(proto::PackageRequestContent {
                    needs_summary: "Help getting up and dressed each morning.".into(),
                    service_types: vec!["Support services".into()],
                    locality: "Fife".into(),
                    amount: Some(proto::package_request_content::Amount::WeeklyBudget(
                        proto::Money {
                            amount: "210.00".into(),
                        },
                    )),
                    start_date: date("2026-12-07"),
                    closing_date: date("2026-12-04"),
                }),
            },
        ))
        .await
        .expect("the request is published")
        .into_inner();
    let offer = directory
        .respond_to_package_request(bearer(
            &provider_token,
            proto::RespondToPackageRequestRequest {
                request_id: request.id.clone(),
                provider_id: provider.id.clone(),
                kind: proto::PackageResponseKind::Offer as i32,
                price: Some(
                    proto::respond_to_package_request_request::Price::WeeklyPrice(proto::Money {
                        amount: "210.00".into(),
                    }),
                ),
                earliest_start: date("2026-12-07"),
                note: "Two regular carers for mornings.".into(),
            },
        ))
        .await
        .expect("the provider offers")
        .into_inner();
    let ranked = directory
        .list_offers(bearer(
            &person,
            proto::ListOffersRequest {
                request_id: request.id.clone(),
            },
        ))
        .await
        .expect("the person sees the offers")
        .into_inner()
        .offers;
    assert_eq!(ranked.len(), 1);
    assert_eq!(ranked[0].rank, 1);
    directory
        .accept_offer(bearer(
            &person,
            proto::AcceptOfferRequest {
                request_id: request.id.clone(),
                offer_id: offer.id.clone(),
                offer_version: offer.version,
                holding_model: proto::FundHoldingModel::Provider as i32,
                holder: String::new(),
            },
        ))
        .await
        .expect("the person accepts");

    // The choice reaches the plan line; contracts drafts the agreement from it.
    let agreement = wait_until(HOP, "contracts drafts the agreement", || {
        let mut contracts = contracts.clone();
        let practitioner = practitioner.clone();
        let person_id = person_id.to_owned();
        async move {
            contracts
                .list_agreements(bearer(
                    &practitioner,
                    proto::ListAgreementsRequest {
                        authority: "fife".into(),
                        person_id,
                        page: None,
                    },
                ))
                .await
                .ok()?
                .into_inner()
                .agreements
                .into_iter()
                .next()
        }
    })
    .await;
    assert_eq!(agreement.provider_id, provider.id);
    let agreement = sign_by_everyone(
        &mut contracts,
        &agreement,
        &[&person, &provider_token, &practitioner],
    )
    .await;
    assert_eq!(agreement.status, proto::AgreementStatus::Active as i32);

    // The first run on the first due date after signing (Monday 14 December, a four-weekly
    // period's first day): what is owed from the plan's start through the period paid.
    wait_for_schedule(&mut payments, &finance, &agreement.id).await;
    platform.on_day(2026, 12, 14);
    let first = run(&mut payments, &finance, "2026-12-14").await;

    // A backdated variation recorded on 16 December: from 1 November, 280.00 a week.
    platform.on_day(2026, 12, 16);
    let approved = vary_plan(&mut assessment, &practitioner, person_id).await;
    let varied = wait_until(HOP, "contracts varies the agreement", || {
        let mut contracts = contracts.clone();
        let practitioner = practitioner.clone();
        let id = agreement.id.clone();
        async move {
            let current = contracts
                .get_agreement(bearer(
                    &practitioner,
                    proto::GetAgreementRequest { agreement_id: id },
                ))
                .await
                .ok()?
                .into_inner();
            (current.version > agreement.version).then_some(current)
        }
    })
    .await;
    let varied = sign_by_everyone(
        &mut contracts,
        &varied,
        &[&person, &provider_token, &practitioner],
    )
    .await;
    assert_eq!(
        varied.state,
        proto::AgreementVersionState::Agreed as i32,
        "{approved:?}"
    );

    // The next run pays the adjustment with the next instalment.
    platform.on_day(2027, 1, 11);
    let changed = wait_until(HOP, "payments has the varied schedule", || {
        let mut payments = payments.clone();
        let finance = finance.clone();
        let id = agreement.id.clone();
        async move {
            let schedule = payments
                .get_schedule(bearer(
                    &finance,
                    proto::GetScheduleRequest {
                        agreement_id: id,
                        until: None,
                    },
                ))
                .await
                .ok()?
                .into_inner();
            (schedule.history.as_ref()?.versions.len() >= 2).then_some(schedule)
        }
    })
    .await;
    let second = run(&mut payments, &finance, "2027-01-11").await;

    // What the provider was told, in order, through its one subscription.
    let mut told = Vec::new();
    let mut adjustment = String::new();
    let mut remittances = 0;
    while remittances < 2 || adjustment.is_empty() {
        let next = tokio::time::timeout(HOP, notifications.next())
            .await
            .unwrap_or_else(|_| {
                panic!("the provider is told everything within {HOP:?}; told so far: {told:?}")
            })
            .expect("the stream stays open")
            .expect("a notification");
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

    // The person's statement over the whole time.
    let fund_id = sds_payments_fund_id(person_id, &provider.id);
    let statement = ledger
        .get_statement(bearer(
            &finance,
            proto::GetStatementRequest {
                fund_id,
                from: date("2026-10-01"),
                to: date("2027-01-11"),
            },
        ))
        .await
        .expect("the person's statement")
        .into_inner();
    let _ = changed;
    Outcome {
        runs: vec![first, second],
        provider_told: told,
        adjustment,
        statement_in: amount_of(statement.total_in.as_ref()),
        statement_text: statement.text,
    }
}

/// The fund payments opens for a person's provider-held ISF (`sds_payments::runs::fund_id`).
fn sds_payments_fund_id(person_id: &str, provider_id: &str) -> String {
    sds_payments::runs::fund_id(
        &AuthorityId::parse("authority", "fife").expect("valid"),
        Uuid::parse_str(person_id).expect("an id"),
        provider_id,
    )
    .to_string()
}

async fn sign_by_everyone(
    contracts: &mut ContractsServiceClient<Channel>,
    agreement: &proto::Agreement,
    tokens: &[&str],
) -> proto::Agreement {
    let mut signed = agreement.clone();
    for token in tokens {
        // The provider's framework status reaches contracts by event; a signature before it
        // arrives is refused as not yet allowed, and given again.
        signed = wait_until(HOP, "a party signs", || {
            let mut contracts = contracts.clone();
            let token = (*token).to_owned();
            let id = agreement.id.clone();
            let version = agreement.version;
            async move {
                match contracts
                    .sign_agreement(bearer(
                        &token,
                        proto::SignAgreementRequest {
                            agreement_id: id,
                            version,
                            capacity: 0,
                        },
                    ))
                    .await
                {
                    Ok(signed) => Some(signed.into_inner()),
                    Err(status) if status.code() == tonic::Code::FailedPrecondition => None,
                    Err(status) => panic!("a party signs: {status:?}"),
                }
            }
        })
        .await;
    }
    signed
}

async fn wait_for_schedule(
    payments: &mut PaymentsServiceClient<Channel>,
    finance: &str,
    agreement_id: &str,
) {
    wait_until(HOP, "payments makes the schedule", || {
        let mut payments = payments.clone();
        let finance = finance.to_owned();
        let agreement_id = agreement_id.to_owned();
        async move {
            payments
                .get_schedule(bearer(
                    &finance,
                    proto::GetScheduleRequest {
                        agreement_id,
                        until: None,
                    },
                ))
                .await
                .ok()
                .map(|_| ())
        }
    })
    .await;
}

/// Runs payments for `run_date`; returns the instalments paid and their total.
async fn run(
    payments: &mut PaymentsServiceClient<Channel>,
    finance: &str,
    run_date: &str,
) -> (u64, String) {
    let mut progress = payments
        .run_payments(bearer(
            finance,
            proto::RunPaymentsRequest {
                authority: "fife".into(),
                run_date: date(run_date),
            },
        ))
        .await
        .expect("the run starts")
        .into_inner();
    while let Some(step) = progress.next().await {
        let step = step.expect("the run progresses");
        if let Some(summary) = step.completed {
            return (summary.instalments, amount_of(summary.total.as_ref()));
        }
    }
    panic!("the run of {run_date} ended without a summary");
}

/// Varies line 1 to 280.00 a week from 1 November and approves it; returns the plan.
async fn vary_plan(
    assessment: &mut AssessmentServiceClient<Channel>,
    practitioner: &str,
    person_id: &str,
) -> proto::Plan {
    let latest = assessment
        .get_plan(bearer(
            practitioner,
            proto::GetPlanRequest {
                person_id: person_id.to_owned(),
                version: 0,
            },
        ))
        .await
        .expect("the plan")
        .into_inner();
    let draft = assessment
        .vary_plan(bearer(
            practitioner,
            proto::VaryPlanRequest {
                person_id: person_id.to_owned(),
                version: latest.version,
                effective_from: date("2026-11-01"),
                changes: vec![proto::LineChange {
                    kind: Some(proto::line_change::Kind::Change(proto::LineChangeUpdate {
                        number: 1,
                        amount: Some(proto::LineAmount {
                            amount: Some(proto::line_amount::Amount::Weekly(proto::Money {
                                amount: "280.00".into(),
                            })),
                        }),
                        ..proto::LineChangeUpdate::default()
                    })),
                }],
                end_plan: false,
            },
        ))
        .await
        .expect("the backdated variation")
        .into_inner();
    assessment
        .submit_plan(bearer(
            practitioner,
            proto::SubmitPlanRequest {
                person_id: person_id.to_owned(),
                version: draft.version,
                over_budget_reason: "agreed at panel".into(),
            },
        ))
        .await
        .expect("submitted");
    assessment
        .approve_plan(bearer(
            practitioner,
            proto::ApprovePlanRequest {
                person_id: person_id.to_owned(),
                version: draft.version,
            },
        ))
        .await
        .expect("approved")
        .into_inner()
}
