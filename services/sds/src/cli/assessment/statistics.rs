//! `sds assessment stats` and `sds assessment export-phs`: the authority's option uptake on
//! a date and its Public Health Scotland return for a quarter (commissioning staff).
//!
//! What must stay true: `stats --json` prints exactly one line, the JSON object the issue
//! fixes (`authority`, `at`, `people`, `by_option` with keys "1" to "4", `cells` with
//! `locality`, `client_group`, `option` as a string and `people`, keys in that order), so a
//! script reads the last line; the table's percentages are of the people counted (each
//! person once), so a person in two groups makes the cells add up to more than 100%;
//! `export-phs` writes the files exactly as the server rendered them (PHS's field names,
//! CRLF), each under PHS's own file name, and never leaves half a file behind.

use std::path::{Path, PathBuf};

use sds_assessment::domain::ClientGroup;
use sds_proto::v1::{
    Date, ExportNationalReturnRequest, GetUptakeStatisticsRequest, NationalReturn, UptakeStatistics,
};
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;
use serde::Serialize;

use crate::cli::output::{OutputFormat, Table, count_of};
use crate::cli::{ClientArgs, status_error};

use super::client;

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The authority, such as demo-shire.
    #[arg(long)]
    pub authority: String,
    /// YYYY-MM-DD; today (Europe/London) when not given.
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct ExportPhsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The authority, such as demo-shire.
    #[arg(long)]
    pub authority: String,
    /// A financial year's quarter: 2026Q3 is October to December 2026.
    #[arg(long)]
    pub period: String,
    /// Where to write sds_snapshot.csv and client.csv (made if missing).
    #[arg(long, default_value = ".")]
    pub output_dir: PathBuf,
}

/// The file names PHS takes.
pub const SDS_SNAPSHOT_FILE: &str = "sds_snapshot.csv";
pub const CLIENT_FILE: &str = "client.csv";

pub async fn stats(args: StatsArgs) -> anyhow::Result<()> {
    let statistics = client(&args.client)
        .await?
        .get_uptake_statistics(GetUptakeStatisticsRequest {
            authority: args.authority,
            at: args.at.map(|iso| Date { iso }),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    if args.output.json {
        println!("{}", stats_json(&statistics)?);
    } else {
        print!("{}", stats_table(&statistics).render());
    }
    Ok(())
}

pub async fn export_phs(args: ExportPhsArgs) -> anyhow::Result<()> {
    let national = client(&args.client)
        .await?
        .export_national_return(ExportNationalReturnRequest {
            authority: args.authority,
            period: args.period,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    for line in write_return(&national, &args.output_dir)? {
        println!("{line}");
    }
    Ok(())
}

/// Writes both files into `directory` and says what was written, a line per file.
pub fn write_return(national: &NationalReturn, directory: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(directory)
        .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", directory.display()))?;
    let files = [
        (
            SDS_SNAPSHOT_FILE,
            &national.sds_snapshot_csv,
            national.sds_snapshot_rows,
        ),
        (CLIENT_FILE, &national.client_csv, national.client_rows),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (name, text, rows) in files {
        let path = directory.join(name);
        // Written beside it and renamed, so an interrupted run never leaves a truncated
        // file under the name PHS's upload takes.
        let partial = directory.join(format!(".{name}.partial"));
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
        written.push(format!(
            "{}  {}",
            path.display(),
            count_of(u64::from(rows), "row", "rows")
        ));
    }
    written.push(format!(
        "{} {} for {}, sending location {}",
        national.authority,
        national.period,
        count_of(u64::from(national.client_rows), "person", "people"),
        national.sending_location
    ));
    Ok(written)
}

/// The client group's name as stored (`learning_disability`), or its number when this
/// `sds` does not know it (a newer server).
fn group_name(wire: i32) -> String {
    ClientGroup::from_wire("client_group", wire)
        .map(|group| group.name().to_owned())
        .unwrap_or_else(|_| format!("client group {wire}"))
}

#[derive(Serialize)]
struct StatsJson<'a> {
    authority: &'a str,
    at: &'a str,
    people: u64,
    by_option: ByOptionJson,
    cells: Vec<CellJson<'a>>,
}

#[derive(Serialize)]
struct ByOptionJson {
    #[serde(rename = "1")]
    option_1: u64,
    #[serde(rename = "2")]
    option_2: u64,
    #[serde(rename = "3")]
    option_3: u64,
    #[serde(rename = "4")]
    option_4: u64,
}

#[derive(Serialize)]
struct CellJson<'a> {
    locality: &'a str,
    client_group: String,
    option: String,
    people: u64,
}

/// The one-line JSON object of `stats --json`. A struct, not a map, so the keys keep
/// their order.
pub fn stats_json(statistics: &UptakeStatistics) -> anyhow::Result<String> {
    let by_option = statistics.by_option.unwrap_or_default();
    let json = StatsJson {
        authority: &statistics.authority,
        at: statistics
            .at
            .as_ref()
            .map(|at| at.iso.as_str())
            .unwrap_or_default(),
        people: statistics.people,
        by_option: ByOptionJson {
            option_1: by_option.option_1,
            option_2: by_option.option_2,
            option_3: by_option.option_3,
            option_4: by_option.option_4,
        },
        cells: statistics
            .cells
            .iter()
            .map(|cell| CellJson {
                locality: &cell.locality,
                client_group: group_name(cell.client_group),
                option: cell.option.to_string(),
                people: cell.people,
            })
            .collect(),
    };
    crate::cli::output::one_line_json(&json)
}

/// `part` as a percentage of `whole` to one place, rounded half up; "-" of nobody.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    // In tenths of a percent, with integers so that 1 of 3 is 33.3% on every machine.
    let tenths = (u128::from(part) * 1000 + u128::from(whole) / 2) / u128::from(whole);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

pub fn stats_table(statistics: &UptakeStatistics) -> Table {
    let whole = statistics.people;
    let mut table = Table::new(&["locality", "client group", "option", "people", "percent"]);
    for cell in &statistics.cells {
        table.push_row(vec![
            cell.locality.clone(),
            group_name(cell.client_group),
            cell.option.to_string(),
            cell.people.to_string(),
            percent(cell.people, whole),
        ]);
    }
    let at = statistics
        .at
        .as_ref()
        .map(|at| at.iso.as_str())
        .unwrap_or_default();
    table.push_footer(format!(
        "{} supported by {} on {at} (each counted once, and once in each of their client groups above)",
        count_of(whole, "person", "people"),
        statistics.authority
    ));
    let by_option = statistics.by_option.unwrap_or_default();
    let totals: Vec<String> = [
        by_option.option_1,
        by_option.option_2,
        by_option.option_3,
        by_option.option_4,
    ]
    .iter()
    .zip(1..)
    .map(|(count, option)| format!("option {option}: {count} ({})", percent(*count, whole)))
    .collect();
    table.push_footer(totals.join("  "));
    table
}

#[cfg(test)]
mod tests {
    use sds_proto::v1::{self as proto, ClientGroup as WireGroup};

    use super::*;

    fn example() -> UptakeStatistics {
        UptakeStatistics {
            authority: "demo-shire".into(),
            at: Some(Date {
                iso: "2026-10-01".into(),
            }),
            people: 3,
            by_option: Some(proto::OptionCounts {
                option_1: 1,
                option_2: 2,
                option_3: 0,
                option_4: 0,
            }),
            cells: vec![
                proto::UptakeCell {
                    locality: "Banchory".into(),
                    client_group: WireGroup::Dementia as i32,
                    option: 2,
                    people: 2,
                },
                proto::UptakeCell {
                    locality: "Banchory".into(),
                    client_group: WireGroup::LearningDisability as i32,
                    option: 1,
                    people: 1,
                },
            ],
        }
    }

    #[test]
    fn the_json_is_one_line_with_the_keys_in_the_issues_order_and_options_as_strings() {
        assert_eq!(
            stats_json(&example()).unwrap(),
            r#"{"authority": "demo-shire", "at": "2026-10-01", "people": 3, "by_option": {"1": 1, "2": 2, "3": 0, "4": 0}, "cells": [{"locality": "Banchory", "client_group": "dementia", "option": "2", "people": 2}, {"locality": "Banchory", "client_group": "learning_disability", "option": "1", "people": 1}]}"#
        );
    }

    #[test]
    fn the_table_shows_each_cell_as_a_share_of_the_people_and_the_totals_by_option_below() {
        assert_eq!(
            stats_table(&example()).render(),
            "LOCALITY  CLIENT GROUP         OPTION  PEOPLE  PERCENT\n\
             Banchory  dementia             2       2       66.7%\n\
             Banchory  learning_disability  1       1       33.3%\n\
             3 people supported by demo-shire on 2026-10-01 (each counted once, and once in each of their client groups above)\n\
             option 1: 1 (33.3%)  option 2: 2 (66.7%)  option 3: 0 (0.0%)  option 4: 0 (0.0%)\n"
        );
    }

    #[test]
    fn percentages_round_half_up_to_one_place_and_nobody_is_a_dash() {
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(20, 20), "100.0%");
        assert_eq!(percent(0, 0), "-");
    }

    #[test]
    fn the_return_is_written_under_phs_file_names_with_its_bytes_unchanged() {
        let directory = std::env::temp_dir().join(format!(
            "sds-phs-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        let national = NationalReturn {
            authority: "demo-shire".into(),
            period: "2026Q3".into(),
            sending_location: "100".into(),
            sds_snapshot_csv: "a,b\r\n1,2\r\n".into(),
            sds_snapshot_rows: 1,
            client_csv: "c\r\n".into(),
            client_rows: 0,
        };
        let lines = write_return(&national, &directory.join("made")).unwrap();
        let made = directory.join("made");
        assert_eq!(
            std::fs::read_to_string(made.join(SDS_SNAPSHOT_FILE)).unwrap(),
            "a,b\r\n1,2\r\n"
        );
        assert_eq!(
            std::fs::read_to_string(made.join(CLIENT_FILE)).unwrap(),
            "c\r\n"
        );
        assert_eq!(
            lines[0],
            format!("{}  1 row", made.join(SDS_SNAPSHOT_FILE).display())
        );
        assert_eq!(
            lines[2],
            "demo-shire 2026Q3 for 0 people, sending location 100"
        );
        let names: Vec<_> = std::fs::read_dir(&made)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no partial file is left: {names:?}");
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
