//! `sds assessment ...`: people, the authority's policy and assessments from the command
//! line, over gRPC (`sds.v1.AssessmentService`).
//!
//! Every command prints the one record the server returns (`Person`, `Policy`,
//! `Assessment`) as the pretty JSON of its generated message (see
//! [`output`](crate::cli::output) for the conventions); `stats` and `export-phs` print
//! their own shapes ([`statistics`]). The policy is read from a file in
//! the proto3 JSON of `sds.v1.PolicyDetails` ([`policy`]).
//!
//! What must stay true: the commands and flags README.md lists ("The `sds` command") are
//! contracts; flags carry the request's fields as given, so that the server's validation,
//! and its one-line `InvalidArgument` naming the field, stay the only judge of them (the
//! CLI refuses only what it cannot send: an unknown enum name or a file that is not that
//! JSON).

pub(crate) mod case_import;
mod line_spec;
mod plan;
mod plan_table;
mod policy;
mod statistics;

use std::path::PathBuf;

use clap::Subcommand;
use sds_assessment::domain::{ClientGroup, EligibilityLevel};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::{
    Date, GetPersonRequest, GetPolicyRequest, PersonDetails, RecordAssessmentRequest,
    RecordPersonRequest, SetPolicyRequest,
};
use sds_vocabulary::named_enum::WireEnum as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::cli::enum_arg::EnumArg;
use crate::cli::output::print_json;
use crate::cli::{Bearer, ClientArgs, connect, status_error};

#[derive(Debug, Subcommand)]
pub enum AssessmentCommand {
    /// The people an authority supports.
    #[command(subcommand)]
    Person(PersonCommand),
    /// The authority's effective-dated policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Records an assessment of a person and prints the eligibility decision against the
    /// policy in effect on the assessment's date (practitioners, team managers, panel).
    Assess(AssessArgs),
    /// People on each SDS option on a date, by locality and client group (commissioning
    /// staff): a table, or with --json one JSON object on the last line.
    Stats(statistics::StatsArgs),
    /// Writes the Public Health Scotland SDS return for a quarter, sds_snapshot.csv and
    /// client.csv (commissioning staff), and prints the paths and row counts.
    ExportPhs(statistics::ExportPhsArgs),
    /// Sets the person's indicative budget by hand (--by-hand with --reason), from the RAS
    /// (--ras with --answer code=score) or from hours at rates (--hours), and prints it.
    Budget(plan::BudgetArgs),
    /// The person's support plan: draft, submit, approve or reject, get, vary, and record
    /// the provider chosen for an option 2 line.
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Imports the CSV a case system exports (commissioning staff): one row per plan line,
    /// each case reference's rows its current approved plan, recorded as imported. Rejected
    /// rows on stderr; last on stdout one JSON line with the people imported, updated,
    /// unchanged and rejected.
    Import(case_import::ImportArgs),
}

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Records a person from the case system, or updates them: keyed on the case
    /// reference, so running it again with the same details changes nothing.
    Record(RecordPersonArgs),
    /// Prints one person (the read is written to their audit trail).
    Get {
        #[command(flatten)]
        client: ClientArgs,
        /// The person's id (a UUID).
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct RecordPersonArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The authority that supports the person, such as demo-shire.
    #[arg(long)]
    authority: String,
    /// The case system's reference, unique within the authority.
    #[arg(long)]
    case_reference: String,
    /// How staff and the person's own statements name them.
    #[arg(long)]
    name: String,
    /// YYYY-MM-DD
    #[arg(long)]
    date_of_birth: String,
    /// The locality (or council area) the person lives in.
    #[arg(long)]
    locality: String,
    /// A client group that applies; repeat (or comma-separate) for several.
    #[arg(
        long = "client-group",
        required = true,
        value_delimiter = ',',
        value_parser = EnumArg::<ClientGroup>::new()
    )]
    client_groups: Vec<ClientGroup>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Sets the authority's policy from its effective date (commissioning staff): FILE is
    /// the proto3 JSON of sds.v1.PolicyDetails (see deploy/local/sample/policy.json).
    Set {
        #[command(flatten)]
        client: ClientArgs,
        /// The policy file, or - for standard input.
        #[arg(long)]
        file: PathBuf,
        /// The authority, instead of the file's `authority`.
        #[arg(long)]
        authority: Option<String>,
        /// YYYY-MM-DD, instead of the file's `effective_from`.
        #[arg(long)]
        effective_from: Option<String>,
    },
    /// Prints the policy in effect on a date.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        authority: String,
        /// YYYY-MM-DD; today (Europe/London) when not given.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The person's id (a UUID).
    person_id: String,
    /// What matters to the person, in their own words; repeat for several.
    #[arg(long = "outcome", required = true)]
    outcomes: Vec<String>,
    /// A need found at assessment; repeat for several.
    #[arg(long = "need")]
    needs: Vec<String>,
    /// The risk to independence and wellbeing found.
    #[arg(long, value_parser = EnumArg::<EligibilityLevel>::new())]
    eligibility: EligibilityLevel,
    /// YYYY-MM-DD; not after today.
    #[arg(long)]
    assessed_on: String,
    /// A community resource the person was pointed to (needed when not eligible); repeat
    /// for several.
    #[arg(long = "community-resource")]
    community_resources: Vec<String>,
}

type Client = AssessmentServiceClient<InterceptedService<Channel, Bearer>>;

/// The largest answer the CLI accepts: a national return of about two million people.
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

async fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let bearer = Bearer::from_args(args)?;
    // The national return of a large authority runs to several megabytes (about 110 bytes
    // a person), past tonic's 4 MiB default for a message received.
    Ok(
        AssessmentServiceClient::with_interceptor(connect(&args.server).await?, bearer)
            .max_decoding_message_size(MAX_RESPONSE_BYTES),
    )
}

pub async fn run(command: AssessmentCommand) -> anyhow::Result<()> {
    match command {
        AssessmentCommand::Person(PersonCommand::Record(args)) => {
            let request = args.request();
            let person = client(&args.client)
                .await?
                .record_person(request)
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&person)
        }
        AssessmentCommand::Person(PersonCommand::Get { client: args, id }) => {
            let person = client(&args)
                .await?
                .get_person(GetPersonRequest { id })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&person)
        }
        AssessmentCommand::Policy(PolicyCommand::Set {
            client: args,
            file,
            authority,
            effective_from,
        }) => {
            // Read before connecting, so that a bad file is refused even with no server.
            let mut details = policy::read_policy_details(&file)?;
            policy::override_fields(&mut details, authority, effective_from);
            let policy = client(&args)
                .await?
                .set_policy(SetPolicyRequest {
                    details: Some(details),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&policy)
        }
        AssessmentCommand::Policy(PolicyCommand::Get {
            client: args,
            authority,
            at,
        }) => {
            let policy = client(&args)
                .await?
                .get_policy(GetPolicyRequest {
                    authority,
                    at: at.map(|iso| Date { iso }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&policy)
        }
        AssessmentCommand::Assess(args) => {
            let request = args.request();
            let assessment = client(&args.client)
                .await?
                .record_assessment(request)
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&assessment)
        }
        AssessmentCommand::Stats(args) => statistics::stats(args).await,
        AssessmentCommand::ExportPhs(args) => statistics::export_phs(args).await,
        AssessmentCommand::Budget(args) => plan::budget(args).await,
        AssessmentCommand::Plan(command) => plan::run(command).await,
        AssessmentCommand::Import(args) => case_import::import(args).await,
    }
}

impl RecordPersonArgs {
    fn request(&self) -> RecordPersonRequest {
        RecordPersonRequest {
            authority: self.authority.clone(),
            details: Some(PersonDetails {
                case_reference: self.case_reference.clone(),
                display_name: self.name.clone(),
                date_of_birth: Some(Date {
                    iso: self.date_of_birth.clone(),
                }),
                locality: self.locality.clone(),
                client_groups: self
                    .client_groups
                    .iter()
                    .map(|group| group.wire_number())
                    .collect(),
            }),
        }
    }
}

impl AssessArgs {
    fn request(&self) -> RecordAssessmentRequest {
        RecordAssessmentRequest {
            person_id: self.person_id.clone(),
            outcomes: self.outcomes.clone(),
            needs: self.needs.clone(),
            eligibility: self.eligibility.wire_number(),
            assessed_on: Some(Date {
                iso: self.assessed_on.clone(),
            }),
            community_resources: self.community_resources.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use clap::error::ErrorKind;
    use sds_proto::v1 as proto;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AssessmentCommand,
    }

    fn parse(args: &[&str]) -> Result<AssessmentCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("assessment").chain(args.iter().copied()))
            .map(|cli| cli.command)
    }

    fn record_person(client_groups: &[&str]) -> Result<RecordPersonRequest, clap::Error> {
        let mut args = vec![
            "person",
            "record",
            "--authority",
            "demo-shire",
            "--case-reference",
            "CASE-0042",
            "--name",
            "Morag Innes",
            "--date-of-birth",
            "1941-02-17",
            "--locality",
            "Banchory",
        ];
        for group in client_groups {
            args.extend(["--client-group", group]);
        }
        match parse(&args)? {
            AssessmentCommand::Person(PersonCommand::Record(record)) => Ok(record.request()),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn a_person_is_sent_with_every_flag_in_its_field_and_client_groups_by_name() {
        let request =
            record_person(&["elderly-frail", "physical_sensory_disability,Dementia"]).unwrap();
        assert_eq!(
            request,
            RecordPersonRequest {
                authority: "demo-shire".into(),
                details: Some(PersonDetails {
                    case_reference: "CASE-0042".into(),
                    display_name: "Morag Innes".into(),
                    date_of_birth: Some(Date {
                        iso: "1941-02-17".into()
                    }),
                    locality: "Banchory".into(),
                    client_groups: vec![
                        proto::ClientGroup::ElderlyFrail as i32,
                        proto::ClientGroup::PhysicalSensoryDisability as i32,
                        proto::ClientGroup::Dementia as i32,
                    ],
                }),
            }
        );
    }

    #[test]
    fn a_person_needs_a_client_group_and_an_unknown_one_is_refused_with_the_accepted_names() {
        assert_eq!(
            record_person(&[]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
        let message = record_person(&["frail"]).unwrap_err().to_string();
        assert!(message.contains("invalid value 'frail'"), "{message}");
        assert!(
            message.contains("elderly-frail") && message.contains("other-vulnerable"),
            "{message}"
        );
    }

    #[test]
    fn an_assessment_carries_outcomes_needs_and_resources_in_the_order_given() {
        let command = parse(&[
            "assess",
            "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
            "--outcome",
            "I want to stay in my own home",
            "--outcome",
            "I want to see my grandchildren",
            "--need",
            "help to wash and dress",
            "--eligibility",
            "no_risk",
            "--assessed-on",
            "2026-06-01",
            "--community-resource",
            "Banchory lunch club",
        ])
        .unwrap();
        let AssessmentCommand::Assess(args) = command else {
            panic!("parsed as {command:?}");
        };
        assert_eq!(
            args.request(),
            RecordAssessmentRequest {
                person_id: "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b".into(),
                outcomes: vec![
                    "I want to stay in my own home".into(),
                    "I want to see my grandchildren".into()
                ],
                needs: vec!["help to wash and dress".into()],
                eligibility: proto::EligibilityLevel::NoRisk as i32,
                assessed_on: Some(Date {
                    iso: "2026-06-01".into()
                }),
                community_resources: vec!["Banchory lunch club".into()],
            }
        );
    }

    #[test]
    fn an_assessment_needs_an_outcome_and_a_known_eligibility_level() {
        let missing_outcome = parse(&[
            "assess",
            "id",
            "--eligibility",
            "critical",
            "--assessed-on",
            "2026-06-01",
        ])
        .unwrap_err();
        assert_eq!(missing_outcome.kind(), ErrorKind::MissingRequiredArgument);

        let message = parse(&[
            "assess",
            "id",
            "--outcome",
            "x",
            "--eligibility",
            "high",
            "--assessed-on",
            "2026-06-01",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            message.contains("[possible values: critical, substantial, moderate, low, no-risk]"),
            "{message}"
        );
    }

    #[test]
    fn policy_get_takes_an_optional_date_and_policy_set_a_file_or_standard_input() {
        let AssessmentCommand::Policy(PolicyCommand::Get { authority, at, .. }) =
            parse(&["policy", "get", "--authority", "demo-shire"]).unwrap()
        else {
            panic!("not policy get");
        };
        assert_eq!((authority.as_str(), at), ("demo-shire", None));

        let AssessmentCommand::Policy(PolicyCommand::Set {
            file,
            authority,
            effective_from,
            ..
        }) = parse(&[
            "policy",
            "set",
            "--file",
            "-",
            "--effective-from",
            "2026-04-01",
        ])
        .unwrap()
        else {
            panic!("not policy set");
        };
        assert_eq!(file, PathBuf::from("-"));
        assert_eq!(authority, None);
        assert_eq!(effective_from.as_deref(), Some("2026-04-01"));
    }
}
