//! `sds directory ...`: the provider directory from the command line, over gRPC.
//! Records are printed as JSON so that scripts and people can both read them.

mod care_inspectorate;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{
    Check, CheckKind, CheckStatus, Date, FrameworkStatus, GetProviderRequest, Grade,
    ImportCareInspectorateServicesRequest, KeyQuestion, ManagementFeeKind, ManagementFeePolicy,
    Money, PageRequest, Provider, ProviderDetails, ProviderKind, RecordCheckRequest,
    RecordGradesRequest, RegisterProviderRequest, SearchProvidersRequest,
    SetCareInspectorateNumberRequest, SetFrameworkStatusRequest, UpdateProviderRequest,
};
use serde_json::{Value, json};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::cli::{Bearer, ClientArgs, connect, status_error};

/// Rows per import call: large enough for set-based writes, small enough to report progress.
const IMPORT_BATCH: usize = 500;

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Registers a provider (a provider registers itself; commissioning staff may register any).
    Register {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        details: DetailsArgs,
    },
    /// Changes a provider's own record: fields not given keep their current values.
    Update {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        #[command(flatten)]
        details: DetailsArgs,
    },
    /// Prints one provider.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
    },
    /// Searches providers, best match first.
    Search {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long, default_value = "")]
        text: String,
        #[arg(long, default_value = "")]
        service_type: String,
        #[arg(long, default_value = "")]
        locality: String,
        /// 1-6: every current grade at least this.
        #[arg(long, default_value_t = 0)]
        min_grade: u32,
        /// With --framework-status: whose framework.
        #[arg(long, default_value = "")]
        framework_authority: String,
        #[arg(long)]
        framework_status: Option<FrameworkArg>,
        #[arg(long)]
        holds_isfs: Option<bool>,
        #[arg(long, default_value_t = 25)]
        page_size: u32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Records a check with its expiry date.
    RecordCheck {
        #[command(flatten)]
        client: ClientArgs,
        provider_id: String,
        #[arg(long)]
        kind: CheckArg,
        #[arg(long)]
        reference: String,
        /// YYYY-MM-DD
        #[arg(long)]
        checked_on: String,
        /// YYYY-MM-DD
        #[arg(long)]
        expires_on: String,
    },
    /// Records Care Inspectorate grades from one inspection: --grade leadership=5 ...
    RecordGrades {
        #[command(flatten)]
        client: ClientArgs,
        provider_id: String,
        /// key-question=grade, e.g. support-wellbeing=5; repeat per key question.
        #[arg(long = "grade", required = true)]
        grades: Vec<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        inspected_on: String,
    },
    /// Sets a provider's framework status for your authority.
    SetFrameworkStatus {
        #[command(flatten)]
        client: ClientArgs,
        provider_id: String,
        #[arg(long)]
        authority: String,
        #[arg(long)]
        status: FrameworkArg,
    },
    /// Attaches, corrects or clears a provider's Care Inspectorate number (commissioning
    /// staff), so that the next import updates this record instead of creating another.
    SetCareInspectorateNumber {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        /// CS followed by 10 digits; an empty value ("") clears the number.
        #[arg(long)]
        number: String,
    },
    /// Imports the Care Inspectorate datastore CSV (idempotent on CSNumber).
    ImportCareInspectorate {
        #[command(flatten)]
        client: ClientArgs,
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct DetailsArgs {
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    kind: Option<KindArg>,
    /// CS followed by 10 digits.
    #[arg(long)]
    care_inspectorate_number: Option<String>,
    /// Repeat for several.
    #[arg(long = "service-type")]
    service_types: Vec<String>,
    /// Council areas or localities served; repeat for several.
    #[arg(long = "locality")]
    localities: Vec<String>,
    #[arg(long, allow_negative_numbers = true)]
    capacity: Option<i32>,
    #[arg(long)]
    holds_isfs: Option<bool>,
    /// none | flat-weekly:AMOUNT | percentage:PERCENT | admin-hours:HOURS@RATE | included
    #[arg(long)]
    management_fee: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    RegisteredCareService,
    VoluntaryOrganisation,
    MicroProvider,
    SelfEmployedPersonalAssistant,
    CommunityGroup,
    NonCareBusiness,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CheckArg {
    Registration,
    PvgMembership,
    ProofOfSelfEmployment,
    PublicLiabilityInsurance,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FrameworkArg {
    OnFramework,
    OpenList,
    OffFramework,
}

type Client = DirectoryServiceClient<InterceptedService<Channel, Bearer>>;

async fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let bearer = Bearer::from_args(args)?;
    Ok(DirectoryServiceClient::with_interceptor(
        connect(&args.server).await?,
        bearer,
    ))
}

pub async fn run(command: DirectoryCommand) -> anyhow::Result<()> {
    match command {
        DirectoryCommand::Register {
            client: args,
            details,
        } => {
            let mut provider_details = ProviderDetails::default();
            details.apply_to(&mut provider_details)?;
            let provider = client(&args)
                .await?
                .register_provider(RegisterProviderRequest {
                    details: Some(provider_details),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider_json(&provider))
        }
        DirectoryCommand::Update {
            client: args,
            id,
            details,
        } => {
            let mut client = client(&args).await?;
            let current = client
                .get_provider(GetProviderRequest { id: id.clone() })
                .await
                .map_err(status_error)?
                .into_inner();
            let mut provider_details = current.details.unwrap_or_default();
            details.apply_to(&mut provider_details)?;
            let provider = client
                .update_provider(UpdateProviderRequest {
                    id,
                    details: Some(provider_details),
                    expected_version: Some(current.version),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider_json(&provider))
        }
        DirectoryCommand::Get { client: args, id } => {
            let provider = client(&args)
                .await?
                .get_provider(GetProviderRequest { id })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider_json(&provider))
        }
        DirectoryCommand::Search {
            client: args,
            text,
            service_type,
            locality,
            min_grade,
            framework_authority,
            framework_status,
            holds_isfs,
            page_size,
            page_token,
        } => {
            let response = client(&args)
                .await?
                .search_providers(SearchProvidersRequest {
                    text,
                    service_type,
                    locality,
                    min_grade,
                    framework_authority,
                    framework_status: framework_status
                        .map_or(FrameworkStatus::Unspecified, FrameworkArg::to_proto)
                        as i32,
                    holds_isfs,
                    page: Some(PageRequest {
                        page_size,
                        page_token,
                    }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            let page = response.page.unwrap_or_default();
            print_json(&json!({
                "providers": response.providers.iter().map(provider_json).collect::<Vec<_>>(),
                "total_matches": page.total_matches,
                "next_page_token": page.next_page_token,
            }))
        }
        DirectoryCommand::RecordCheck {
            client: args,
            provider_id,
            kind,
            reference,
            checked_on,
            expires_on,
        } => {
            let provider = client(&args)
                .await?
                .record_check(RecordCheckRequest {
                    provider_id,
                    check: Some(Check {
                        kind: kind.to_proto() as i32,
                        reference,
                        checked_on: Some(Date { iso: checked_on }),
                        expires_on: Some(Date { iso: expires_on }),
                        status: CheckStatus::Unspecified as i32,
                    }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider_json(&provider))
        }
        DirectoryCommand::RecordGrades {
            client: args,
            provider_id,
            grades,
            inspected_on,
        } => {
            let mut parsed = Vec::new();
            for raw in &grades {
                parsed.push(parse_grade_arg(raw, &inspected_on)?);
            }
            let provider = client(&args)
                .await?
                .record_grades(RecordGradesRequest {
                    provider_id,
                    grades: parsed,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider_json(&provider))
        }
        DirectoryCommand::SetFrameworkStatus {
            client: args,
            provider_id,
            authority,
            status,
        } => {
            let provider = client(&args)
                .await?
                .set_framework_status(SetFrameworkStatusRequest {
                    provider_id,
                    authority,
                    status: status.to_proto() as i32,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider_json(&provider))
        }
        DirectoryCommand::SetCareInspectorateNumber {
            client: args,
            id,
            number,
        } => {
            let provider = client(&args)
                .await?
                .set_care_inspectorate_number(SetCareInspectorateNumberRequest {
                    provider_id: id,
                    care_inspectorate_number: number,
                    expected_version: None,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider_json(&provider))
        }
        DirectoryCommand::ImportCareInspectorate { client: args, file } => {
            import_care_inspectorate(&args, &file).await
        }
    }
}

/// Reads the whole file first, so that a file that is not the datastore CSV is refused
/// before anything is written; then sends the rows in batches.
async fn import_care_inspectorate(args: &ClientArgs, file: &std::path::Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = care_inspectorate::parse(&bytes)
        .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    let mut rejected: Vec<(u64, String)> = parsed
        .rejected
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.clone()))
        .collect();
    for (line, reason) in &rejected {
        eprintln!("line {line}: rejected: {reason}");
    }

    let mut client = client(args).await?;
    let progress = indicatif::ProgressBar::new(parsed.services.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {pos}/{len} services ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let (mut imported, mut updated, mut unchanged) = (0u64, 0u64, 0u64);
    for batch in parsed.services.chunks(IMPORT_BATCH) {
        let response = client
            .import_care_inspectorate_services(ImportCareInspectorateServicesRequest { services: batch.to_vec() })
            .await
            .map_err(|status| {
                progress.abandon();
                anyhow::anyhow!(
                    "{:?}: {} (after {} imported and {} updated; the import is idempotent, so run it again once fixed)",
                    status.code(),
                    status.message(),
                    imported,
                    updated
                )
            })?
            .into_inner();
        imported += response.imported;
        updated += response.updated;
        unchanged += response.unchanged;
        for rejection in response.rejected {
            progress
                .suspend(|| eprintln!("line {}: rejected: {}", rejection.line, rejection.reason));
            rejected.push((rejection.line, rejection.reason));
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    rejected.sort();
    eprintln!(
        "{imported} new services registered; {} already known ({updated} changed, {unchanged} unchanged); {} rows rejected",
        updated + unchanged,
        rejected.len()
    );
    // "updated" counts every row that matched a known service number, changed or not, so
    // that imported + updated + rejected accounts for every row of the file.
    let summary = json!({
        "imported": imported,
        "updated": updated + unchanged,
        "rejected": rejected.iter().map(|(line, reason)| json!({"line": line, "reason": reason})).collect::<Vec<_>>(),
    });
    println!("{summary}");
    Ok(())
}

impl DetailsArgs {
    /// Overwrites the fields that were given on the command line.
    fn apply_to(&self, details: &mut ProviderDetails) -> anyhow::Result<()> {
        if let Some(name) = &self.name {
            details.name = name.clone();
        }
        if let Some(kind) = self.kind {
            details.kind = kind.to_proto() as i32;
        }
        if let Some(number) = &self.care_inspectorate_number {
            details.care_inspectorate_number = number.clone();
        }
        if !self.service_types.is_empty() {
            details.service_types = self.service_types.clone();
        }
        if !self.localities.is_empty() {
            details.localities = self.localities.clone();
        }
        if self.capacity.is_some() {
            details.capacity = self.capacity;
        }
        if let Some(holds) = self.holds_isfs {
            details.holds_isfs = holds;
        }
        if let Some(fee) = &self.management_fee {
            details.management_fee = Some(parse_fee_arg(fee)?);
        }
        if let Some(email) = &self.email {
            details.contact_email = email.clone();
        }
        if let Some(phone) = &self.phone {
            details.contact_phone = phone.clone();
        }
        Ok(())
    }
}

fn parse_fee_arg(raw: &str) -> anyhow::Result<ManagementFeePolicy> {
    let money = |amount: &str| {
        Some(Money {
            amount: amount.to_owned(),
        })
    };
    let mut policy = ManagementFeePolicy::default();
    let (kind, value) = raw.split_once(':').unwrap_or((raw, ""));
    match kind {
        "none" => policy.kind = ManagementFeeKind::None as i32,
        "included" => policy.kind = ManagementFeeKind::IncludedInHourlyRate as i32,
        "flat-weekly" => {
            policy.kind = ManagementFeeKind::FlatWeekly as i32;
            policy.flat_weekly = money(value);
        }
        "percentage" => {
            policy.kind = ManagementFeeKind::Percentage as i32;
            policy.percentage = value.to_owned();
        }
        "admin-hours" => {
            let (hours, rate) = value.split_once('@').context(
                "--management-fee admin-hours takes HOURS@RATE, e.g. admin-hours:1.5@18.00",
            )?;
            policy.kind = ManagementFeeKind::AdminHours as i32;
            policy.admin_hours_per_week = hours.to_owned();
            policy.admin_hourly_rate = money(rate);
        }
        other => anyhow::bail!(
            "--management-fee {other:?} is not a fee policy; accepted: none, flat-weekly:AMOUNT, percentage:PERCENT, admin-hours:HOURS@RATE, included"
        ),
    }
    Ok(policy)
}

fn parse_grade_arg(raw: &str, inspected_on: &str) -> anyhow::Result<Grade> {
    let (question, grade) = raw.split_once('=').with_context(|| {
        format!("--grade {raw:?} must be key-question=grade, e.g. leadership=5")
    })?;
    let key_question = match question {
        "support-wellbeing" => KeyQuestion::SupportWellbeing,
        "care-and-support-planning" => KeyQuestion::CareAndSupportPlanning,
        "setting" => KeyQuestion::Setting,
        "staff-team" => KeyQuestion::StaffTeam,
        "leadership" => KeyQuestion::Leadership,
        "care-play-and-learning" => KeyQuestion::CarePlayAndLearning,
        other => anyhow::bail!(
            "--grade key question {other:?} is unknown; accepted: support-wellbeing, care-and-support-planning, setting, staff-team, leadership, care-play-and-learning"
        ),
    };
    let grade = grade.parse::<u32>().with_context(|| {
        format!("--grade {raw:?}: the grade must be a whole number from 1 to 6")
    })?;
    Ok(Grade {
        key_question: key_question as i32,
        grade,
        inspected_on: Some(Date {
            iso: inspected_on.to_owned(),
        }),
    })
}

impl KindArg {
    fn to_proto(self) -> ProviderKind {
        match self {
            Self::RegisteredCareService => ProviderKind::RegisteredCareService,
            Self::VoluntaryOrganisation => ProviderKind::VoluntaryOrganisation,
            Self::MicroProvider => ProviderKind::MicroProvider,
            Self::SelfEmployedPersonalAssistant => ProviderKind::SelfEmployedPersonalAssistant,
            Self::CommunityGroup => ProviderKind::CommunityGroup,
            Self::NonCareBusiness => ProviderKind::NonCareBusiness,
        }
    }
}

impl CheckArg {
    fn to_proto(self) -> CheckKind {
        match self {
            Self::Registration => CheckKind::Registration,
            Self::PvgMembership => CheckKind::PvgMembership,
            Self::ProofOfSelfEmployment => CheckKind::ProofOfSelfEmployment,
            Self::PublicLiabilityInsurance => CheckKind::PublicLiabilityInsurance,
        }
    }
}

impl FrameworkArg {
    fn to_proto(self) -> FrameworkStatus {
        match self {
            Self::OnFramework => FrameworkStatus::OnFramework,
            Self::OpenList => FrameworkStatus::OpenList,
            Self::OffFramework => FrameworkStatus::OffFramework,
        }
    }
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The enum's name in lower snake case without its prefix: `on_framework`.
fn enum_name(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

fn date_text(date: Option<&Date>) -> Value {
    date.map_or(Value::Null, |date| Value::String(date.iso.clone()))
}

fn provider_json(provider: &Provider) -> Value {
    let details = provider.details.clone().unwrap_or_default();
    let kind = ProviderKind::try_from(details.kind).map_or("unknown".into(), |kind| {
        enum_name(kind.as_str_name(), "PROVIDER_KIND_")
    });
    let fee = details.management_fee.as_ref().map_or(Value::Null, |fee| {
        let kind = ManagementFeeKind::try_from(fee.kind).map_or("unknown".into(), |kind| enum_name(kind.as_str_name(), "MANAGEMENT_FEE_KIND_"));
        json!({
            "kind": kind,
            "flat_weekly": fee.flat_weekly.as_ref().map(|money| money.amount.clone()),
            "percentage": (!fee.percentage.is_empty()).then(|| fee.percentage.clone()),
            "admin_hours_per_week": (!fee.admin_hours_per_week.is_empty()).then(|| fee.admin_hours_per_week.clone()),
            "admin_hourly_rate": fee.admin_hourly_rate.as_ref().map(|money| money.amount.clone()),
        })
    });
    json!({
        "id": provider.id,
        "name": details.name,
        "kind": kind,
        "care_inspectorate_number": details.care_inspectorate_number,
        "service_types": details.service_types,
        "localities": details.localities,
        "capacity": details.capacity,
        "holds_isfs": details.holds_isfs,
        "management_fee": fee,
        "contact_email": details.contact_email,
        "contact_phone": details.contact_phone,
        "min_grade": provider.min_grade,
        "grades": provider.grades.iter().map(|grade| json!({
            "key_question": KeyQuestion::try_from(grade.key_question).map_or("unknown".into(), |question| enum_name(question.as_str_name(), "KEY_QUESTION_")),
            "grade": grade.grade,
            "inspected_on": date_text(grade.inspected_on.as_ref()),
        })).collect::<Vec<_>>(),
        "checks": provider.checks.iter().map(|check| json!({
            "kind": CheckKind::try_from(check.kind).map_or("unknown".into(), |kind| enum_name(kind.as_str_name(), "CHECK_KIND_")),
            "reference": check.reference,
            "checked_on": date_text(check.checked_on.as_ref()),
            "expires_on": date_text(check.expires_on.as_ref()),
            "status": CheckStatus::try_from(check.status).map_or("unknown".into(), |status| enum_name(status.as_str_name(), "CHECK_STATUS_")),
        })).collect::<Vec<_>>(),
        "frameworks": provider.frameworks.iter().map(|membership| json!({
            "authority": membership.authority,
            "status": FrameworkStatus::try_from(membership.status).map_or("unknown".into(), |status| enum_name(status.as_str_name(), "FRAMEWORK_STATUS_")),
        })).collect::<Vec<_>>(),
        "version": provider.version,
        "registered_at": provider.registered_at,
        "updated_at": provider.updated_at,
    })
}
