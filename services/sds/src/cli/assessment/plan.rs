//! `sds assessment budget` and `sds assessment plan ...`: the social worker's flow from an
//! indicative budget to an approved, varied support plan, over gRPC.
//!
//! Every command prints the record the server returns (`IndicativeBudget`, `Plan`) as
//! pretty JSON, except `plan get`, which prints a table of the plan's lines unless given
//! `--json`. Lines and changes are written in the compact forms of [`line_spec`]; a draft's
//! lines may instead come from a file of the proto3 JSON of a list of `sds.v1.NewPlanLine`.
//!
//! What must stay true: the commands and flags README.md lists are contracts; a spec is
//! refused before anything is sent only for its shape (a lines file only for not being that
//! JSON), and everything else (amounts,
//! dates, limits, who may approve) is the server's to judge, its refusal printed as one line.

use std::path::PathBuf;

use clap::Subcommand;
use sds_assessment::domain::FundHoldingModel;
use sds_proto::v1::{
    ApprovePlanRequest, BudgetByHand, Date, DraftPlanRequest, GetPlanRequest, HoursAtRates,
    LineChange, Money, NewPlanLine, RasAnswers, RecordProviderChoiceRequest, RejectPlanRequest,
    SetIndicativeBudgetRequest, SubmitPlanRequest, VaryPlanRequest, line_change,
    set_indicative_budget_request::Method,
};
use sds_vocabulary::named_enum::WireEnum as _;

use super::plan_table::plan_table;
use super::{client, print_json};
use super::{line_spec, policy};
use crate::cli::ClientArgs;
use crate::cli::output::OutputFormat;
use crate::cli::status_error;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("method").required(true).args(["by_hand", "ras", "hours"])))]
pub struct BudgetArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The person's id (a UUID).
    person_id: String,
    /// A weekly amount set by hand, such as 300.00 (needs --reason).
    #[arg(long, requires = "reason")]
    by_hand: Option<String>,
    /// Why the budget is set by hand.
    #[arg(long, requires = "by_hand")]
    reason: Option<String>,
    /// From the policy's resource allocation system, scored with --answer.
    #[arg(long, requires = "answers")]
    ras: bool,
    /// A RAS question's score, code=score (such as personal_care=6); repeat for each.
    #[arg(long = "answer", requires = "ras")]
    answers: Vec<String>,
    /// Hours a week at a rate, "description=HOURS@RATE" (such as "personal care=7.5@23.50");
    /// leave out @RATE for the policy's standard rate. Repeat for each.
    #[arg(long)]
    hours: Vec<String>,
    /// YYYY-MM-DD: the date the budget is worked out for; today when not given.
    #[arg(long)]
    set_on: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Drafts the person's first plan, or replaces the lines of its open draft. A line is
    /// SUPPORT:AMOUNT:OPTION[:from=DATE][:to=DATE][:provider=P][:holder=H], such as
    /// personal-care:weekly=210.00:option2:holder=provider (see README.md).
    #[command(group(clap::ArgGroup::new("plan_lines").required(true).multiple(true).args(["lines", "lines_file"])))]
    Draft {
        #[command(flatten)]
        client: ClientArgs,
        person_id: String,
        /// YYYY-MM-DD; a line with no from= starts on it.
        #[arg(long)]
        effective_from: String,
        /// A plan line; repeat for each.
        #[arg(long = "line")]
        lines: Vec<String>,
        /// A file (or - for standard input) of lines as the proto3 JSON of a list of
        /// sds.v1.NewPlanLine; they come before any --line.
        #[arg(long)]
        lines_file: Option<PathBuf>,
    },
    /// Submits a draft for approval.
    Submit {
        #[command(flatten)]
        client: ClientArgs,
        person_id: String,
        #[arg(long)]
        version: u32,
        /// Why, when the plan costs more than the indicative budget.
        #[arg(long)]
        over_budget_reason: Option<String>,
    },
    /// Approves a submitted version, within the caller's devolved limit.
    Approve {
        #[command(flatten)]
        client: ClientArgs,
        person_id: String,
        #[arg(long)]
        version: u32,
    },
    /// Rejects a submitted version with a reason.
    Reject {
        #[command(flatten)]
        client: ClientArgs,
        person_id: String,
        #[arg(long)]
        version: u32,
        #[arg(long)]
        reason: String,
    },
    /// Prints the plan's lines as a table (the latest version unless --version); --json
    /// prints the Plan.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        person_id: String,
        #[arg(long)]
        version: Option<u32>,
        #[command(flatten)]
        output: OutputFormat,
    },
    /// Varies the approved version from a date: lines added (--add, a plan line), changed
    /// (--change N:PART..., such as 2:weekly=280.00) or ended (--end-line N), or the whole
    /// plan ended (--end-plan). Prints the new draft.
    Vary(VaryArgs),
    /// Records the provider chosen for an option 2 line of the approved version, and who
    /// holds the fund.
    Choose {
        #[command(flatten)]
        client: ClientArgs,
        person_id: String,
        #[arg(long)]
        version: u32,
        /// The line's number.
        #[arg(long)]
        line: u32,
        /// A directory provider id (UUID) or a Care Inspectorate number (CS and 10 digits).
        #[arg(long)]
        provider: String,
        #[arg(long, value_parser = crate::cli::enum_arg::EnumArg::<FundHoldingModel>::new())]
        holding_model: FundHoldingModel,
        /// The organisation id of a third-party holder.
        #[arg(long)]
        holder: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("changes").required(true).multiple(true).args(["add", "change", "end_line", "end_plan"])))]
pub struct VaryArgs {
    #[command(flatten)]
    client: ClientArgs,
    person_id: String,
    /// The approved version varied.
    #[arg(long)]
    version: u32,
    /// YYYY-MM-DD; may be in the past, within the policy's backdating window.
    #[arg(long)]
    effective_from: String,
    /// A new line (a plan line; no from= starts it on --effective-from); repeat for each.
    #[arg(long)]
    add: Vec<String>,
    /// A change to a line, N:PART[:PART...]; repeat for each.
    #[arg(long)]
    change: Vec<String>,
    /// The number of a line to end the day before --effective-from; repeat for each.
    #[arg(long)]
    end_line: Vec<u32>,
    /// Ends the whole plan instead.
    #[arg(long, conflicts_with_all = ["add", "change", "end_line"])]
    end_plan: bool,
}

fn date(iso: &str) -> Option<Date> {
    Some(Date {
        iso: iso.to_owned(),
    })
}

impl BudgetArgs {
    fn request(&self) -> anyhow::Result<SetIndicativeBudgetRequest> {
        let method = if let Some(weekly) = &self.by_hand {
            Method::ByHand(BudgetByHand {
                weekly: Some(Money {
                    amount: weekly.clone(),
                }),
                reason: self.reason.clone().unwrap_or_default(),
            })
        } else if self.ras {
            Method::ResourceAllocation(RasAnswers {
                answers: self
                    .answers
                    .iter()
                    .map(|answer| line_spec::ras_answer(answer))
                    .collect::<anyhow::Result<_>>()?,
            })
        } else {
            Method::HoursAtRates(HoursAtRates {
                items: self
                    .hours
                    .iter()
                    .map(|item| line_spec::hours_item(item))
                    .collect::<anyhow::Result<_>>()?,
            })
        };
        Ok(SetIndicativeBudgetRequest {
            person_id: self.person_id.clone(),
            method: Some(method),
            set_on: self.set_on.as_deref().and_then(date),
        })
    }
}

impl VaryArgs {
    fn request(&self) -> anyhow::Result<VaryPlanRequest> {
        let mut changes = Vec::new();
        for spec in &self.add {
            let line = line_spec::plan_line(spec, &self.effective_from)?;
            changes.push(line_change::Kind::Add(line));
        }
        for spec in &self.change {
            changes.push(line_change::Kind::Change(line_spec::line_change(spec)?));
        }
        changes.extend(self.end_line.iter().map(|n| line_change::Kind::End(*n)));
        Ok(VaryPlanRequest {
            person_id: self.person_id.clone(),
            version: self.version,
            effective_from: date(&self.effective_from),
            changes: changes
                .into_iter()
                .map(|kind| LineChange { kind: Some(kind) })
                .collect(),
            end_plan: self.end_plan,
        })
    }
}

/// What a lines file should be, for refusals.
const LINES_FILE: &str = "expected the proto3 JSON of a list of sds.v1.NewPlanLine, as \
    [{\"support_type\": \"SUPPORT_TYPE_PERSONAL_CARE\", \"amount\": {\"weekly\": {\"amount\": \"210.00\"}}, \
    \"arrangement\": {\"direct_payment\": {}}, \"start\": {\"iso\": \"2026-12-01\"}}]";

/// Reads a lines file, or standard input for `-`.
fn read_lines_file(file: &std::path::Path) -> anyhow::Result<Vec<NewPlanLine>> {
    let (source, text) = policy::read_source(file)?;
    policy::from_json(&source, &text, LINES_FILE)
}

fn draft_request(
    person_id: &str,
    effective_from: &str,
    file_lines: Vec<NewPlanLine>,
    lines: &[String],
) -> anyhow::Result<DraftPlanRequest> {
    let mut all = file_lines;
    for spec in lines {
        all.push(line_spec::plan_line(spec, effective_from)?);
    }
    Ok(DraftPlanRequest {
        person_id: person_id.to_owned(),
        effective_from: date(effective_from),
        lines: all,
    })
}

pub async fn budget(args: BudgetArgs) -> anyhow::Result<()> {
    // Read before connecting, so that a bad spec is refused even with no server.
    let request = args.request()?;
    let budget = client(&args.client)
        .await?
        .set_indicative_budget(request)
        .await
        .map_err(status_error)?
        .into_inner();
    print_json(&budget)
}

pub async fn run(command: PlanCommand) -> anyhow::Result<()> {
    let plan = match command {
        PlanCommand::Draft {
            client: args,
            person_id,
            effective_from,
            lines,
            lines_file,
        } => {
            // Read before connecting, so that a bad file or spec is refused with no server.
            let file_lines = match lines_file {
                Some(file) => read_lines_file(&file)?,
                None => Vec::new(),
            };
            let request = draft_request(&person_id, &effective_from, file_lines, &lines)?;
            client(&args).await?.draft_plan(request).await
        }
        PlanCommand::Submit {
            client: args,
            person_id,
            version,
            over_budget_reason,
        } => {
            let request = SubmitPlanRequest {
                person_id,
                version,
                over_budget_reason: over_budget_reason.unwrap_or_default(),
            };
            client(&args).await?.submit_plan(request).await
        }
        PlanCommand::Approve {
            client: args,
            person_id,
            version,
        } => {
            let request = ApprovePlanRequest { person_id, version };
            client(&args).await?.approve_plan(request).await
        }
        PlanCommand::Reject {
            client: args,
            person_id,
            version,
            reason,
        } => {
            let request = RejectPlanRequest {
                person_id,
                version,
                reason,
            };
            client(&args).await?.reject_plan(request).await
        }
        PlanCommand::Get {
            client: args,
            person_id,
            version,
            output,
        } => {
            let request = GetPlanRequest {
                person_id,
                version: version.unwrap_or(0),
            };
            let plan = client(&args)
                .await?
                .get_plan(request)
                .await
                .map_err(status_error)?
                .into_inner();
            return output.print_list(&plan, plan_table);
        }
        PlanCommand::Vary(args) => {
            let request = args.request()?;
            client(&args.client).await?.vary_plan(request).await
        }
        PlanCommand::Choose {
            client: args,
            person_id,
            version,
            line,
            provider,
            holding_model,
            holder,
        } => {
            let request = RecordProviderChoiceRequest {
                person_id,
                version,
                line_number: line,
                provider,
                holding_model: holding_model.wire_number(),
                holder: holder.unwrap_or_default(),
            };
            client(&args).await?.record_provider_choice(request).await
        }
    };
    print_json(&plan.map_err(status_error)?.into_inner())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use clap::error::ErrorKind;
    use sds_proto::v1 as proto;

    use super::*;
    use sds_proto::v1::Plan;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: super::super::AssessmentCommand,
    }

    fn parse(args: &[&str]) -> Result<super::super::AssessmentCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("assessment").chain(args.iter().copied()))
            .map(|cli| cli.command)
    }

    fn budget(args: &[&str]) -> Result<SetIndicativeBudgetRequest, clap::Error> {
        let args = [&["budget", "id"], args].concat();
        match parse(&args)? {
            super::super::AssessmentCommand::Budget(budget) => Ok(budget.request().unwrap()),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn a_budget_takes_exactly_one_method_and_by_hand_needs_a_reason() {
        let by_hand = budget(&["--by-hand", "300.00", "--reason", "agreed"]).unwrap();
        assert_eq!(
            by_hand.method,
            Some(Method::ByHand(BudgetByHand {
                weekly: Some(Money {
                    amount: "300.00".into()
                }),
                reason: "agreed".into(),
            }))
        );
        assert_eq!(by_hand.set_on, None);
        let ras = budget(&[
            "--ras",
            "--answer",
            "personal_care=6",
            "--answer",
            "community=2",
            "--set-on",
            "2026-06-01",
        ])
        .unwrap();
        let Some(Method::ResourceAllocation(answers)) = ras.method else {
            panic!("not the RAS");
        };
        assert_eq!(answers.answers.len(), 2);
        assert_eq!(ras.set_on.unwrap().iso, "2026-06-01");
        let hours = budget(&["--hours", "care=7.5@23.50", "--hours", "sitting=3"]).unwrap();
        let Some(Method::HoursAtRates(items)) = hours.method else {
            panic!("not hours");
        };
        assert_eq!(items.items.len(), 2);

        let kind = |args: &[&str]| budget(args).unwrap_err().kind();
        assert_eq!(kind(&[]), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            kind(&["--by-hand", "300.00"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(kind(&["--ras"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            kind(&["--by-hand", "1", "--reason", "r", "--hours", "a=1"]),
            ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn a_variation_sends_its_additions_changes_and_ends_and_end_plan_stands_alone() {
        let command = parse(&[
            "plan",
            "vary",
            "id",
            "--version",
            "3",
            "--effective-from",
            "2026-10-01",
            "--add",
            "short-breaks:annual=1040.00:option3",
            "--change",
            "2:weekly=280.00",
            "--end-line",
            "1",
        ])
        .unwrap();
        let super::super::AssessmentCommand::Plan(PlanCommand::Vary(args)) = command else {
            panic!("parsed as {command:?}");
        };
        let request = args.request().unwrap();
        assert_eq!(request.version, 3);
        assert!(!request.end_plan);
        let kinds: Vec<_> = request
            .changes
            .into_iter()
            .map(|c| c.kind.unwrap())
            .collect();
        assert!(matches!(&kinds[0], line_change::Kind::Add(line)
            if line.start.as_ref().unwrap().iso == "2026-10-01"
                && line.support_type == proto::SupportType::ShortBreaks as i32));
        assert!(matches!(&kinds[1], line_change::Kind::Change(change) if change.number == 2));
        assert_eq!(kinds[2], line_change::Kind::End(1));

        let vary = |extra: &[&str]| {
            let args = [
                &[
                    "plan",
                    "vary",
                    "id",
                    "--version",
                    "3",
                    "--effective-from",
                    "2026-10-01",
                ],
                extra,
            ]
            .concat();
            parse(&args).map(|_| ()).map_err(|error| error.kind())
        };
        assert_eq!(vary(&[]), Err(ErrorKind::MissingRequiredArgument));
        assert_eq!(vary(&["--end-plan"]), Ok(()));
        assert_eq!(
            vary(&["--end-plan", "--end-line", "1"]),
            Err(ErrorKind::ArgumentConflict)
        );
    }

    #[test]
    fn a_draft_takes_lines_from_a_file_before_its_line_flags_and_needs_one_or_the_other() {
        let file = std::env::temp_dir().join(format!("sds-lines-{}.json", std::process::id()));
        std::fs::write(
            &file,
            r#"[{"support_type": "SUPPORT_TYPE_EQUIPMENT", "amount": {"annual": {"amount": "520.00"}},
                "arrangement": {"direct_payment": {}}, "start": {"iso": "2026-12-01"}}]"#,
        )
        .unwrap();
        let lines = read_lines_file(&file).unwrap();
        let request = draft_request(
            "id",
            "2026-12-01",
            lines,
            &["personal-care:weekly=210.00:option2".to_owned()],
        )
        .unwrap();
        let kinds: Vec<i32> = request.lines.iter().map(|l| l.support_type).collect();
        assert_eq!(
            kinds,
            vec![
                proto::SupportType::Equipment as i32,
                proto::SupportType::PersonalCare as i32
            ]
        );

        std::fs::write(&file, r#"[{"support": "SUPPORT_TYPE_EQUIPMENT"}]"#).unwrap();
        let message = format!("{:#}", read_lines_file(&file).unwrap_err());
        assert!(
            message.contains("[0].support: unknown field `support`"),
            "{message}"
        );
        assert!(
            message.contains("a list of sds.v1.NewPlanLine"),
            "{message}"
        );
        std::fs::remove_file(&file).unwrap();

        let missing = parse(&["plan", "draft", "id", "--effective-from", "2026-12-01"]);
        assert_eq!(
            missing.unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn the_table_shows_each_line_and_the_plans_version_status_and_cost_below() {
        let plan = Plan {
            version: 2,
            status: proto::PlanStatus::Approved as i32,
            effective_from: date("2026-04-01"),
            option: 4,
            weekly_cost: Some(Money {
                amount: "310.00".into(),
            }),
            lines: vec![proto::PlanLine {
                number: 1,
                support_type: proto::SupportType::PersonalCare as i32,
                weekly: "210.0000".into(),
                option: 2,
                pending: "a provider".into(),
                start: date("2026-04-01"),
                ..proto::PlanLine::default()
            }],
            ..Plan::default()
        };
        let text = plan_table(&plan).render();
        assert!(
            text.starts_with("LINE  SUPPORT        OPTION  WEEKLY    START       END  PENDING\n"),
            "{text}"
        );
        assert!(
            text.contains("1     personal-care  2       210.0000  2026-04-01       a provider\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "version 2 (approved) from 2026-04-01: option 4, 310.00 a week, budget not set\n"
            ),
            "{text}"
        );
    }
}
