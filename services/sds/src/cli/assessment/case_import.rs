//! `sds assessment import --authority ID FILE`: the CSV a case system exports, one row per
//! plan line, sent to `ImportCaseRecords`.
//!
//! What must stay true: the file is UTF-8 (a byte-order mark is skipped), with a header row
//! naming the columns in any order; a file that is not this CSV (not UTF-8, no header, a
//! required column missing, a row that cannot be read) is refused before anything is sent;
//! rows keep their physical line numbers (the header is line 1) so rejections point at
//! the file; the rows of one case reference always travel in one request (the server
//! judges a person whole); rejections go to stderr as `line N: rejected: reason`, a
//! progress bar only when stderr is a terminal, and the last line on stdout is the JSON
//! summary with its keys in the documented order.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use sds_proto::v1::{CaseRecordRow, ImportCaseRecordsRequest, ImportCaseRecordsResponse};

use crate::cli::ClientArgs;
use crate::cli::csv_file::{CsvFile, Shape, physical_line, swallowed_rows};

/// The most rows in one request, as the server allows.
pub const MAX_ROWS_PER_REQUEST: usize = 5000;

/// Columns a row cannot do without.
const REQUIRED_COLUMNS: [&str; 10] = [
    "case_reference",
    "display_name",
    "date_of_birth",
    "locality",
    "client_groups",
    "eligibility",
    "support_type",
    "option",
    "weekly_amount",
    "start_date",
];

/// Columns that may be left out of the file, read as blank when they are.
const OPTIONAL_COLUMNS: [&str; 4] = ["end_date", "provider", "holding_model", "holder"];

/// A row the importer did not send, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u32,
    pub reason: String,
}

/// The file read: each person's rows, in file order, and what was refused locally.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub people: Vec<Vec<CaseRecordRow>>,
    pub rejected: Vec<Rejection>,
    /// People refused before sending (more rows than one request may carry).
    pub people_rejected: u64,
}

/// Why a whole file is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("the file is empty; expected the case system's CSV with a header row")]
    Empty,
    #[error("not the case system's CSV: the file is not UTF-8 text")]
    NotUtf8,
    #[error(
        "not the case system's CSV: the header lacks {missing}; expected the columns case_reference, display_name, date_of_birth, locality, client_groups, eligibility, support_type, option, weekly_amount, start_date, end_date, provider, holding_model, holder"
    )]
    MissingColumns { missing: String },
    #[error("not the case system's CSV: line {line} cannot be read ({reason})")]
    Unreadable { line: u64, reason: String },
    #[error("not the case system's CSV: the header names {column} twice; give each column once")]
    DuplicateColumn { column: String },
}

/// Turns the bytes of an export into each person's rows.
pub fn parse(bytes: &[u8]) -> Result<ParsedFile, FileError> {
    let mut file = CsvFile::open(bytes, &REQUIRED_COLUMNS).map_err(|shape| match shape {
        Shape::Empty => FileError::Empty,
        Shape::NotUtf8 => FileError::NotUtf8,
        Shape::UnreadableHeader(reason) => FileError::Unreadable { line: 1, reason },
        Shape::DuplicateColumn(column) => FileError::DuplicateColumn { column },
        Shape::MissingColumns(missing) => FileError::MissingColumns { missing },
    })?;
    let text = file.text;
    let mut parsed = ParsedFile::default();
    let mut person_of: HashMap<String, usize> = HashMap::new();
    for record in file.reader.records() {
        let record = record.map_err(|error| FileError::Unreadable {
            line: error.position().map_or(0, csv::Position::line),
            reason: error.to_string(),
        })?;
        let line = record
            .position()
            .map_or(0, |position| physical_line(text, position));
        if record.iter().all(str::is_empty) {
            continue;
        }
        // A quote left open swallows the rows after it into one cell: a line break followed
        // by more comma-separated text. Refuse the file rather than lose those rows. (A
        // lone line break inside a quoted name reaches the server, which rejects that
        // person for it.)
        if record.iter().any(swallowed_rows) {
            return Err(FileError::Unreadable {
                line: u64::from(line),
                reason: "a quoted cell runs over several lines; a quote is probably not closed"
                    .to_owned(),
            });
        }
        let row = CaseRecordRow {
            source_line: line,
            case_reference: file.columns.cell(&record, "case_reference"),
            display_name: file.columns.cell(&record, "display_name"),
            date_of_birth: file.columns.cell(&record, "date_of_birth"),
            locality: file.columns.cell(&record, "locality"),
            client_groups: file.columns.cell(&record, "client_groups"),
            eligibility: file.columns.cell(&record, "eligibility"),
            support_type: file.columns.cell(&record, "support_type"),
            option: file.columns.cell(&record, "option"),
            weekly_amount: file.columns.cell(&record, "weekly_amount"),
            start_date: file.columns.cell(&record, "start_date"),
            end_date: file.columns.cell(&record, OPTIONAL_COLUMNS[0]),
            provider: file.columns.cell(&record, OPTIONAL_COLUMNS[1]),
            holding_model: file.columns.cell(&record, OPTIONAL_COLUMNS[2]),
            holder: file.columns.cell(&record, OPTIONAL_COLUMNS[3]),
        };
        let index = *person_of
            .entry(row.case_reference.clone())
            .or_insert_with(|| {
                parsed.people.push(Vec::new());
                parsed.people.len() - 1
            });
        parsed.people[index].push(row);
    }
    // A person the server could not be sent whole is refused here, on their first line.
    parsed.people.retain(|rows| {
        if rows.len() <= MAX_ROWS_PER_REQUEST {
            return true;
        }
        parsed.rejected.push(Rejection {
            line: rows[0].source_line,
            reason: format!(
                "case_reference {} has {} rows; one person may have at most {MAX_ROWS_PER_REQUEST}",
                rows[0].case_reference,
                rows.len()
            ),
        });
        parsed.people_rejected += 1;
        false
    });
    Ok(parsed)
}

/// The most bytes of rows in one request: below the server's 4 MiB message limit with
/// room for the request's own framing.
pub const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

/// Requests of at most [`MAX_ROWS_PER_REQUEST`] rows and [`MAX_REQUEST_BYTES`] bytes, each
/// person's rows in one of them.
pub fn batches(people: Vec<Vec<CaseRecordRow>>) -> Vec<Vec<CaseRecordRow>> {
    use prost::Message as _;
    let mut batches: Vec<Vec<CaseRecordRow>> = Vec::new();
    let mut current: Vec<CaseRecordRow> = Vec::new();
    let mut current_bytes = 0;
    for rows in people {
        // Each row travels as a length-delimited field: its bytes plus a few of framing.
        let bytes: usize = rows.iter().map(|row| row.encoded_len() + 8).sum();
        if !current.is_empty()
            && (current.len() + rows.len() > MAX_ROWS_PER_REQUEST
                || current_bytes + bytes > MAX_REQUEST_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += bytes;
        current.extend(rows);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Requests kept in flight. People in different requests never share a row, so the server
/// writes two batches at once, each on its own PostgreSQL connection (and core), instead of
/// leaving one idle while the other request travels and is read.
pub const REQUESTS_IN_FLIGHT: usize = 2;

/// Sends every batch through `send`, [`REQUESTS_IN_FLIGHT`] at a time, handing each answer
/// (with its batch's row count) to `answered` as it comes; stops at the first refusal.
pub async fn send_batches<Send, Sent>(
    batches: Vec<Vec<CaseRecordRow>>,
    send: Send,
    mut answered: impl FnMut(usize, ImportCaseRecordsResponse),
) -> Result<(), tonic::Status>
where
    Send: Fn(Vec<CaseRecordRow>) -> Sent,
    Sent: std::future::Future<Output = Result<ImportCaseRecordsResponse, tonic::Status>>,
{
    use futures::StreamExt as _;
    let mut answers = futures::stream::iter(batches.into_iter().map(|batch| {
        let size = batch.len();
        let sent = send(batch);
        async move { sent.await.map(|response| (size, response)) }
    }))
    .buffer_unordered(REQUESTS_IN_FLIGHT);
    while let Some(answer) = answers.next().await {
        let (size, response) = answer?;
        answered(size, response);
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The authority whose case system exported the file, such as demo-shire.
    #[arg(long)]
    authority: String,
    /// The CSV: UTF-8, a header row, one row per plan line.
    file: std::path::PathBuf,
}

/// Reads the whole file first, so a file that is not this CSV is refused before anything
/// is written; then sends each batch and prints the summary last.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let parsed = read(&args.file)?;
    let mut rejected: Vec<(u32, String)> = parsed
        .rejected
        .iter()
        .map(|rejection| (rejection.line, rejection.reason.clone()))
        .collect();
    for (line, reason) in &rejected {
        eprintln!("line {line}: rejected: {reason}");
    }
    let total: usize = parsed.people.iter().map(Vec::len).sum();
    let client = super::client(&args.client).await?;
    // indicatif draws nothing when stderr is not a terminal.
    let progress = indicatif::ProgressBar::new(total as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let (mut imported, mut updated, mut unchanged) = (0u64, 0u64, 0u64);
    let mut people_rejected = parsed.people_rejected;
    let authority = args.authority.clone();
    let sent = send_batches(
        batches(parsed.people),
        |rows| {
            let mut client = client.clone();
            let request = ImportCaseRecordsRequest {
                authority: authority.clone(),
                rows,
            };
            async move {
                client
                    .import_case_records(request)
                    .await
                    .map(tonic::Response::into_inner)
            }
        },
        |size, response| {
            imported += response.people_imported;
            updated += response.people_updated;
            unchanged += response.people_unchanged;
            people_rejected += response.people_rejected;
            for rejection in response.rejected {
                progress.suspend(|| {
                    eprintln!("line {}: rejected: {}", rejection.line, rejection.reason)
                });
                rejected.push((rejection.line, rejection.reason));
            }
            progress.inc(size as u64);
        },
    )
    .await;
    if let Err(status) = sent {
        progress.abandon();
        anyhow::bail!(
            "{:?}: {} (after {imported} people imported and {updated} updated; the import is idempotent, so run it again once fixed)",
            status.code(),
            status.message(),
        );
    }
    progress.finish_and_clear();
    rejected.sort();
    println!(
        "{}",
        summary(imported, updated, unchanged, people_rejected, &rejected)
    );
    Ok(())
}

fn read(file: &Path) -> anyhow::Result<ParsedFile> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    parse(&bytes).map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))
}

/// The last line, with its keys in the order README.md gives them (serde_json's map
/// would sort them).
fn summary(
    imported: u64,
    updated: u64,
    unchanged: u64,
    people_rejected: u64,
    rejected: &[(u32, String)],
) -> String {
    let rows: Vec<String> = rejected
        .iter()
        .map(|(line, reason)| {
            format!(
                "{{\"line\": {line}, \"reason\": {}}}",
                serde_json::Value::String(reason.clone())
            )
        })
        .collect();
    format!(
        "{{\"people_imported\": {imported}, \"people_updated\": {updated}, \"people_unchanged\": {unchanged}, \"people_rejected\": {people_rejected}, \"rejected\": [{}]}}",
        rows.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "option,case_reference,display_name,date_of_birth,locality,client_groups,eligibility,support_type,weekly_amount,start_date\n";

    #[test]
    fn a_file_with_a_byte_order_mark_is_read_by_column_name_with_physical_line_numbers() {
        let text = format!(
            "\u{feff}{HEADER}1,SW-1,\"Morag\nInnes\",1948-05-17,Garioch,dementia,substantial,personal_care,10.00,2026-10-01\n\n3,SW-2,Ann,1950-01-01,Garioch,dementia,low,other,5.00,2026-10-01\n1,SW-1,\"Morag\nInnes\",1948-05-17,Garioch,dementia,substantial,day_support,1.00,2026-10-01\n"
        );
        let parsed = parse(text.as_bytes()).expect("the file is read");
        assert_eq!(parsed.people.len(), 2);
        let lines: Vec<u32> = parsed.people[0].iter().map(|row| row.source_line).collect();
        assert_eq!(lines, vec![2, 6]);
        assert_eq!(parsed.people[1][0].source_line, 5);
        assert_eq!(parsed.people[1][0].option, "3");
        assert_eq!(
            parsed.people[0][0].end_date, "",
            "an absent optional column is blank"
        );
    }

    #[test]
    fn a_quote_left_open_or_a_column_named_twice_refuses_the_file() {
        let open_quote = format!(
            "{HEADER}1,Q-1,\"Unclosed Name,1948-05-17,Garioch,dementia,substantial,personal_care,10.00,2026-10-01\n1,Q-2,Ann,1950-01-01,Garioch,dementia,low,other,5.00,2026-10-01\n"
        );
        assert_eq!(
            parse(open_quote.as_bytes()).unwrap_err(),
            FileError::Unreadable {
                line: 2,
                reason: "a quoted cell runs over several lines; a quote is probably not closed"
                    .to_owned()
            }
        );
        let twice = format!(
            "case_reference,{HEADER}SW-X,1,SW-1,Morag,1948-05-17,Garioch,dementia,substantial,personal_care,10.00,2026-10-01\n"
        );
        assert_eq!(
            parse(twice.as_bytes()).unwrap_err(),
            FileError::DuplicateColumn {
                column: "case_reference".to_owned()
            }
        );
    }

    #[test]
    fn batches_stay_below_the_message_limit_however_wide_the_rows() {
        let wide = CaseRecordRow {
            display_name: "Ä".repeat(200),
            locality: "Ö".repeat(200),
            ..CaseRecordRow::default()
        };
        let people: Vec<Vec<CaseRecordRow>> = (0..6000).map(|_| vec![wide.clone()]).collect();
        let sent = batches(people);
        assert!(sent.len() > 1, "6000 wide rows do not fit one request");
        for batch in &sent {
            let bytes: usize = batch
                .iter()
                .map(|row| prost::Message::encoded_len(row) + 8)
                .sum();
            assert!(bytes <= MAX_REQUEST_BYTES, "{bytes}");
        }
        assert_eq!(sent.iter().map(Vec::len).sum::<usize>(), 6000);
    }

    #[test]
    fn a_file_without_the_columns_is_refused() {
        let refused = parse(b"CSNumber,ServiceName\nCS2004071234,Acme\n").unwrap_err();
        assert!(matches!(refused, FileError::MissingColumns { .. }));
        assert!(refused.to_string().contains("case_reference"));
        assert_eq!(parse(b"").unwrap_err(), FileError::Empty);
        assert_eq!(parse(b"\xff\xfe,\n").unwrap_err(), FileError::NotUtf8);
    }

    #[test]
    fn batches_never_split_a_persons_rows() {
        let person = |rows: usize| vec![CaseRecordRow::default(); rows];
        let sizes: Vec<usize> = batches(vec![person(3000), person(2500), person(2000)])
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![3000, 4500]);
    }

    #[test]
    fn the_summary_keeps_its_keys_in_order_and_escapes_reasons() {
        assert_eq!(
            summary(1, 2, 3, 4, &[(7, "option is \"9\"".into())]),
            r#"{"people_imported": 1, "people_updated": 2, "people_unchanged": 3, "people_rejected": 4, "rejected": [{"line": 7, "reason": "option is \"9\""}]}"#
        );
    }
}
