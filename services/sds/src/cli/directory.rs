//! `sds directory ...`: the provider directory from the command line, over gRPC.
//!
//! A command that returns one provider prints it as the JSON of the generated
//! `sds.v1.Provider` (see [`output`](crate::cli::output) for the conventions); `search`
//! prints a table, or with `--json` the `SearchProvidersResponse`. The import prints its
//! progress, rejections and notes on stderr and, last on stdout, the one-line JSON summary
//! README documents.

mod care_inspectorate;
mod grades;
mod search_table;

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use sds_directory::domain;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::{
    Check, CheckStatus, Date, FrameworkStatus, GetProviderRequest, Grade, ManagementFeeKind,
    ManagementFeePolicy, Money, PageRequest, ProviderDetails, RecordCheckRequest,
    RecordGradesRequest, RegisterProviderRequest, RepublishProvidersRequest,
    SearchProvidersRequest, SetCareInspectorateNumberRequest, SetFrameworkStatusRequest,
    UpdateProviderRequest,
};
use sds_vocabulary::NamedEnum;
use sds_vocabulary::named_enum::WireEnum;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::cli::enum_arg::EnumArg;
use crate::cli::output::{OutputFormat, print_json};
use crate::cli::{Bearer, ClientArgs, connect, status_error};

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Registers a provider (a provider registers itself; commissioning staff may register any).
    Register {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        details: DetailsArgs,
        /// An idempotency key (such as a UUID): running the same command again with it
        /// returns the provider the first run registered instead of registering another.
        #[arg(long, default_value = "")]
        request_id: String,
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
        #[arg(long, value_parser = EnumArg::<domain::FrameworkStatus>::new())]
        framework_status: Option<domain::FrameworkStatus>,
        #[arg(long)]
        holds_isfs: Option<bool>,
        /// Also find Care Inspectorate services listed as inactive (cancelled or not operating).
        #[arg(long)]
        include_inactive: bool,
        #[arg(long, default_value_t = 25)]
        page_size: u32,
        #[arg(long, default_value = "")]
        page_token: String,
        #[command(flatten)]
        output: OutputFormat,
    },
    /// Records a check with its expiry date.
    RecordCheck {
        #[command(flatten)]
        client: ClientArgs,
        provider_id: String,
        #[arg(long, value_parser = EnumArg::<domain::CheckKind>::new())]
        kind: domain::CheckKind,
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
    /// Withdraws grades recorded in error (commissioning staff): the previous inspection's
    /// grade is current again; the withdrawn ones stay in the history with the reason.
    WithdrawGrades(grades::WithdrawArgs),
    /// Every grade a provider has had: current, superseded or withdrawn.
    GradeHistory(grades::HistoryArgs),
    /// Sets a provider's framework status for your authority.
    SetFrameworkStatus {
        #[command(flatten)]
        client: ClientArgs,
        provider_id: String,
        #[arg(long)]
        authority: String,
        #[arg(long, value_parser = EnumArg::<domain::FrameworkStatus>::new())]
        status: domain::FrameworkStatus,
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
    /// Publishes every provider again, unchanged, for services that keep their own copy of
    /// the directory and must rebuild it (commissioning staff).
    Republish {
        #[command(flatten)]
        client: ClientArgs,
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
    #[arg(long, value_parser = EnumArg::<domain::ProviderKind>::new())]
    kind: Option<domain::ProviderKind>,
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
            request_id,
        } => {
            let mut provider_details = ProviderDetails::default();
            details.apply_to(&mut provider_details)?;
            let provider = client(&args)
                .await?
                .register_provider(RegisterProviderRequest {
                    details: Some(provider_details),
                    request_id,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider)
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
            print_json(&provider)
        }
        DirectoryCommand::Get { client: args, id } => {
            let provider = client(&args)
                .await?
                .get_provider(GetProviderRequest { id })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider)
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
            include_inactive,
            page_size,
            page_token,
            output,
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
                        .map_or(FrameworkStatus::Unspecified as i32, |status| {
                            status.wire_number()
                        }),
                    holds_isfs,
                    include_inactive,
                    page: Some(PageRequest {
                        page_size,
                        page_token,
                    }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            output.print_list(&response, search_table::search_table)
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
                        kind: kind.wire_number(),
                        reference,
                        checked_on: Some(Date { iso: checked_on }),
                        expires_on: Some(Date { iso: expires_on }),
                        status: CheckStatus::Unspecified as i32,
                    }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider)
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
            print_json(&provider)
        }
        DirectoryCommand::WithdrawGrades(args) => grades::withdraw(args).await,
        DirectoryCommand::GradeHistory(args) => grades::history(args).await,
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
                    status: status.wire_number(),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&provider)
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
            print_json(&provider)
        }
        DirectoryCommand::Republish { client: args } => {
            let response = client(&args)
                .await?
                .republish_providers(RepublishProvidersRequest {})
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&response)
        }
        DirectoryCommand::ImportCareInspectorate { client: args, file } => {
            care_inspectorate::import(&args, &file).await
        }
    }
}

/// Reads the whole file first, so that a file that is not the datastore CSV is refused
/// before anything is written; then sends the rows in batches.
impl DetailsArgs {
    /// Overwrites the fields that were given on the command line.
    fn apply_to(&self, details: &mut ProviderDetails) -> anyhow::Result<()> {
        if let Some(name) = &self.name {
            details.name = name.clone();
        }
        if let Some(kind) = self.kind {
            details.kind = kind.wire_number();
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
    let key_question = domain::KeyQuestion::parse("--grade", question).map_err(|_| {
        let accepted: Vec<String> = domain::KeyQuestion::ALL
            .iter()
            .map(|question| question.cli_name())
            .collect();
        anyhow::anyhow!(
            "--grade key question {question:?} is unknown; accepted: {}",
            accepted.join(", ")
        )
    })?;
    let grade = grade.parse::<u32>().with_context(|| {
        format!("--grade {raw:?}: the grade must be a whole number from 1 to 6")
    })?;
    Ok(Grade {
        key_question: key_question.wire_number(),
        grade,
        inspected_on: Some(Date {
            iso: inspected_on.to_owned(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use sds_proto::v1::KeyQuestion;

    use super::*;

    #[test]
    fn an_unknown_key_question_lists_the_accepted_ones() {
        let error = parse_grade_arg("vibes=5", "2026-03-14").unwrap_err();
        assert_eq!(
            error.to_string(),
            "--grade key question \"vibes\" is unknown; accepted: support-wellbeing, care-and-support-planning, setting, staff-team, leadership, care-play-and-learning"
        );
        let grade = parse_grade_arg("staff-team=4", "2026-03-14").unwrap();
        assert_eq!(grade.key_question, KeyQuestion::StaffTeam as i32);
        assert_eq!(grade.grade, 4);
    }
}
