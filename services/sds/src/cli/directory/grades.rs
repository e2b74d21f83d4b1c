//! `sds directory withdraw-grades` and `sds directory grade-history`: taking back grades
//! recorded in error, and reading every grade a provider has had, with who recorded or
//! withdrew each and why.

use sds_directory::domain;
use sds_proto::v1::{
    Date, ListGradeHistoryRequest, ListGradeHistoryResponse, WithdrawGradesRequest,
};
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;

use crate::cli::enum_arg::EnumArg;
use crate::cli::output::{OutputFormat, Table, count_of, print_json};
use crate::cli::{ClientArgs, status_error};

#[derive(Debug, clap::Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    client: ClientArgs,
    provider_id: String,
    /// The date of the inspection the grades came from (YYYY-MM-DD).
    #[arg(long)]
    inspected_on: String,
    /// A key question to withdraw; repeat for several; none withdraws the whole inspection.
    #[arg(long = "key-question", value_parser = EnumArg::<domain::KeyQuestion>::new())]
    key_questions: Vec<domain::KeyQuestion>,
    /// Why, kept in the provider's history.
    #[arg(long)]
    reason: String,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    client: ClientArgs,
    provider_id: String,
    #[command(flatten)]
    output: OutputFormat,
}

pub async fn withdraw(args: WithdrawArgs) -> anyhow::Result<()> {
    let provider = super::client(&args.client)
        .await?
        .withdraw_grades(WithdrawGradesRequest {
            provider_id: args.provider_id,
            inspected_on: Some(Date {
                iso: args.inspected_on,
            }),
            key_questions: args
                .key_questions
                .iter()
                .map(|question| question.wire_number())
                .collect(),
            reason: args.reason,
            expected_version: None,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    print_json(&provider)
}

pub async fn history(args: HistoryArgs) -> anyhow::Result<()> {
    let response = super::client(&args.client)
        .await?
        .list_grade_history(ListGradeHistoryRequest {
            provider_id: args.provider_id,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    args.output.print_list(&response, history_table)
}

/// One grade a row, newest inspection first; a withdrawn grade says by whom and why.
fn history_table(response: &ListGradeHistoryResponse) -> Table {
    let mut table = Table::new(&[
        "inspected on",
        "key question",
        "grade",
        "status",
        "recorded by",
        "withdrawn",
    ]);
    for entry in &response.entries {
        let grade = entry.grade.clone().unwrap_or_default();
        let status = match (&entry.withdrawal, entry.current) {
            (Some(_), _) => "withdrawn",
            (None, true) => "current",
            (None, false) => "superseded",
        };
        table.push_row(vec![
            grade.inspected_on.map(|date| date.iso).unwrap_or_default(),
            domain::KeyQuestion::from_wire("key_question", grade.key_question).map_or_else(
                |_| format!("unknown ({})", grade.key_question),
                |question| question.cli_name(),
            ),
            grade.grade.to_string(),
            status.to_owned(),
            entry.recorded_by.clone(),
            entry
                .withdrawal
                .as_ref()
                .map_or_else(String::new, |withdrawal| {
                    format!(
                        "{} by {}: {}",
                        withdrawal.withdrawn_at, withdrawal.withdrawn_by, withdrawal.reason
                    )
                }),
        ]);
    }
    table.push_footer(count_of(
        u64::try_from(response.entries.len()).unwrap_or(u64::MAX),
        "grade",
        "grades",
    ));
    table
}

#[cfg(test)]
mod tests {
    use sds_proto::v1::{Grade, GradeHistoryEntry, GradeWithdrawal, KeyQuestion};

    use super::*;

    fn entry(grade: u32, current: bool, withdrawal: Option<GradeWithdrawal>) -> GradeHistoryEntry {
        GradeHistoryEntry {
            grade: Some(Grade {
                key_question: KeyQuestion::StaffTeam as i32,
                grade,
                inspected_on: Some(Date {
                    iso: "2025-10-01".into(),
                }),
            }),
            current,
            recorded_at: "2025-10-02T09:00:00.000Z".into(),
            recorded_by: "aberdeenshire".into(),
            withdrawal,
        }
    }

    #[test]
    fn the_history_shows_each_grade_as_current_superseded_or_withdrawn_with_the_reason() {
        let response = ListGradeHistoryResponse {
            entries: vec![
                entry(
                    6,
                    false,
                    Some(GradeWithdrawal {
                        withdrawn_at: "2025-11-01T10:00:00.000Z".into(),
                        withdrawn_by: "fife".into(),
                        reason: "wrong service".into(),
                    }),
                ),
                entry(4, true, None),
                entry(3, false, None),
            ],
        };
        let rendered = history_table(&response).render();
        let lines: Vec<&str> = rendered.lines().collect();
        assert!(lines[1].contains("staff-team") && lines[1].contains("withdrawn"));
        assert!(lines[1].contains("by fife: wrong service"), "{rendered}");
        assert!(lines[2].contains("current"));
        assert!(lines[3].contains("superseded"));
        assert!(rendered.ends_with("\n3 grades\n"), "{rendered}");
    }
}
