//! `sds ledger post-bulk FILE`: posts a payment run's transfers from a CSV file through
//! `PostBulk`, in chunks of up to 10,000, each all or nothing.
//!
//! The file has a header row naming at least `id`, `debit_account_id`,
//! `credit_account_id`, `amount` and `category`, and optionally `reference`, `note` and
//! `pending` (`true`/`false`, `yes`/`no`, or empty). Every row names its transfer's id, so
//! the same file sent again after a lost answer or a refused chunk records each transfer
//! once. The file's shape is checked before anything is sent (a missing column, a column
//! twice, a quote left open, an unknown category, a row without id); what only the server
//! can judge (amounts, accounts, balances) comes back naming the file's line.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context as _;
use sds_ledger::domain::Category;
use sds_proto::v1 as proto;
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;

use super::ClientArgs;
use super::csv_file::{CsvFile, Shape, physical_line, swallowed_rows};
use super::output::print_json;

/// As the server takes them.
const CHUNK: usize = 10_000;
/// Below the server's 4 MiB message limit, with room for the chunk's own framing: a run
/// with long notes goes in more, smaller chunks.
const CHUNK_BYTES: usize = 3 * 1024 * 1024;

const REQUIRED_COLUMNS: [&str; 5] = [
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "category",
];
const OPTIONAL_COLUMNS: [&str; 3] = ["reference", "note", "pending"];

#[derive(Debug, clap::Args)]
pub struct PostBulkArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The run's CSV file.
    file: PathBuf,
}

/// The transfers of a file, each with the line it is on.
#[derive(Debug, Default, PartialEq)]
pub struct RunFile {
    pub transfers: Vec<proto::NewTransfer>,
    pub lines: Vec<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RunFileError {
    #[error("the file is empty; expected a CSV of transfers with a header row")]
    Empty,
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    #[error(
        "the header lacks {missing}; expected the columns id, debit_account_id, credit_account_id, amount, category, and optionally reference, note, pending"
    )]
    MissingColumns { missing: String },
    #[error("the header names {column} twice; give each column once")]
    DuplicateColumn { column: String },
    #[error("line {line} cannot be read ({reason})")]
    Unreadable { line: u32, reason: String },
    #[error("line {line}: {column} {reason}")]
    BadCell {
        line: u32,
        column: &'static str,
        reason: String,
    },
    #[error("the file has no transfers, only its header")]
    NoTransfers,
}

/// Reads a run's file.
pub fn parse(bytes: &[u8]) -> Result<RunFile, RunFileError> {
    let mut file = CsvFile::open(bytes, &REQUIRED_COLUMNS).map_err(|shape| match shape {
        Shape::Empty => RunFileError::Empty,
        Shape::NotUtf8 => RunFileError::NotUtf8,
        Shape::UnreadableHeader(reason) => RunFileError::Unreadable { line: 1, reason },
        Shape::DuplicateColumn(column) => RunFileError::DuplicateColumn { column },
        Shape::MissingColumns(missing) => RunFileError::MissingColumns { missing },
    })?;
    let text = file.text;
    let mut run = RunFile::default();
    // Each id's first line: a repeated id would be refused only when its chunk is sent,
    // after the chunks before it had been recorded.
    let mut first_lines: HashMap<String, u32> = HashMap::new();
    for record in file.reader.records() {
        let record = record.map_err(|error| RunFileError::Unreadable {
            line: error
                .position()
                .map_or(0, |position| u32::try_from(position.line()).unwrap_or(0)),
            reason: error.to_string(),
        })?;
        let line = record
            .position()
            .map_or(0, |position| physical_line(text, position));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.iter().any(swallowed_rows) {
            return Err(RunFileError::Unreadable {
                line,
                reason: "a quoted cell runs over several lines; a quote is probably not closed"
                    .to_owned(),
            });
        }
        if record.len() > file.width {
            return Err(RunFileError::Unreadable {
                line,
                reason: format!(
                    "it has {} fields where the header names {} columns; a value holding a comma needs double quotes round it",
                    record.len(),
                    file.width
                ),
            });
        }
        let cell = |column: &str| file.columns.cell(&record, column);
        let bad = |column: &'static str, reason: String| RunFileError::BadCell {
            line,
            column,
            reason,
        };
        let id = cell("id");
        if id.is_empty() {
            return Err(bad(
                "id",
                "is empty; every transfer of a run names its id (a UUID), so the file can be sent again safely".to_owned(),
            ));
        }
        if let Some(first) = first_lines.insert(id.to_ascii_lowercase(), line) {
            return Err(bad(
                "id",
                format!("repeats the id of line {first}; each transfer of a run has its own id"),
            ));
        }
        let category = Category::parse("category", &cell("category"))
            .map_err(|invalid| bad("category", invalid.problem().to_owned()))?;
        let pending = match cell("pending").to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "0" => false,
            "true" | "yes" | "1" => true,
            other => {
                return Err(bad(
                    "pending",
                    format!("is {other:?}; give true or false (or leave it empty)"),
                ));
            }
        };
        run.transfers.push(proto::NewTransfer {
            id,
            debit_account_id: cell("debit_account_id"),
            credit_account_id: cell("credit_account_id"),
            amount: Some(proto::Money {
                amount: cell("amount"),
            }),
            category: category.wire_number(),
            reference: cell(OPTIONAL_COLUMNS[0]),
            note: cell(OPTIONAL_COLUMNS[1]),
            pending,
        });
        run.lines.push(line);
    }
    if run.transfers.is_empty() {
        return Err(RunFileError::NoTransfers);
    }
    Ok(run)
}

/// Chunks of at most [`CHUNK`] transfers and [`CHUNK_BYTES`] bytes, in file order.
fn chunks(transfers: Vec<proto::NewTransfer>) -> Vec<proto::PostBulkChunk> {
    use prost::Message as _;
    let mut chunks: Vec<proto::PostBulkChunk> = Vec::new();
    let mut bytes = 0;
    for transfer in transfers {
        // A field's tag and length prefix take a few bytes more than the message itself.
        let size = transfer.encoded_len() + 8;
        let full = chunks
            .last()
            .is_none_or(|chunk| chunk.transfers.len() == CHUNK || bytes + size > CHUNK_BYTES);
        if full {
            chunks.push(proto::PostBulkChunk::default());
            bytes = 0;
        }
        bytes += size;
        if let Some(chunk) = chunks.last_mut() {
            chunk.transfers.push(transfer);
        }
    }
    chunks
}

/// The server's refusal with its `chunks[N].transfers[M]` read as the file's line.
fn placed(message: &str, lines: &[u32], chunk_starts: &[usize]) -> String {
    let place = message.strip_prefix("chunks[").and_then(|rest| {
        let (chunk, rest) = rest.split_once("].transfers[")?;
        let (transfer, rest) = rest.split_once(']')?;
        let index =
            chunk_starts.get(chunk.parse::<usize>().ok()?)? + transfer.parse::<usize>().ok()?;
        Some((lines.get(index)?, rest))
    });
    match place {
        Some((line, rest)) => {
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            format!("line {line}: {}", rest.trim_start_matches(": "))
        }
        None => message.to_owned(),
    }
}

pub async fn post_bulk(args: PostBulkArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("read {}", args.file.display()))?;
    let run = parse(&bytes)
        .map_err(|error| anyhow::anyhow!("{}: {error}; nothing was sent", args.file.display()))?;
    let total = run.transfers.len();
    let chunks = chunks(run.transfers.clone());
    // Where each chunk starts in the file's transfers, to place a refusal on its line.
    let chunk_starts: Vec<usize> = chunks
        .iter()
        .scan(0, |start, chunk| {
            let this = *start;
            *start += chunk.transfers.len();
            Some(this)
        })
        .collect();
    let answer = super::ledger::client(&args.client)
        .await?
        .post_bulk(futures::stream::iter(chunks))
        .await
        .map_err(|status| {
            anyhow::anyhow!(
                "{:?}: {}",
                status.code(),
                placed(status.message(), &run.lines, &chunk_starts)
            )
        })?
        .into_inner();
    eprintln!(
        "{total} transfers in {} chunk(s): {} recorded now, {} already recorded",
        answer.chunks, answer.recorded, answer.already_recorded
    );
    print_json(&answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "id,debit_account_id,credit_account_id,amount,category,reference,note,pending\n";

    #[test]
    fn a_run_file_is_read_with_its_lines() {
        let text = format!(
            "{HEADER}t1,a,b,10.00,support-payment,run 7,\"a note, with a comma\",\n\nt2,a,b,0.50,management_fee,,,yes\n"
        );
        let run = parse(text.as_bytes()).unwrap();
        assert_eq!(run.lines, vec![2, 4]);
        assert_eq!(run.transfers[0].note, "a note, with a comma");
        assert_eq!(
            run.transfers[0].category,
            Category::SupportPayment.wire_number()
        );
        assert!(run.transfers[1].pending);
        assert_eq!(run.transfers[1].amount.as_ref().unwrap().amount, "0.50");
    }

    #[test]
    fn a_file_of_the_wrong_shape_is_refused_before_anything_is_sent() {
        let cases: Vec<(String, RunFileError)> = vec![
            (String::new(), RunFileError::Empty),
            (HEADER.to_owned(), RunFileError::NoTransfers),
            (
                "id,amount\nt1,1.00\n".to_owned(),
                RunFileError::MissingColumns {
                    missing: "debit_account_id, credit_account_id, category".to_owned(),
                },
            ),
            (
                "id,id,debit_account_id,credit_account_id,amount,category\n".to_owned(),
                RunFileError::DuplicateColumn {
                    column: "id".to_owned(),
                },
            ),
            (
                format!("{HEADER},a,b,1.00,funding,,,\n"),
                RunFileError::BadCell {
                    line: 2,
                    column: "id",
                    reason: "is empty; every transfer of a run names its id (a UUID), so the file can be sent again safely".to_owned(),
                },
            ),
            (
                format!("{HEADER}T1,a,b,1.00,funding,,,\nt2,a,b,1.00,funding,,,\nt1,a,b,2.00,funding,,,\n"),
                RunFileError::BadCell {
                    line: 4,
                    column: "id",
                    reason: "repeats the id of line 2; each transfer of a run has its own id"
                        .to_owned(),
                },
            ),
            (
                format!("{HEADER}t1,a,b,1.00,funding,ref, with comma,,\n"),
                RunFileError::Unreadable {
                    line: 2,
                    reason: "it has 9 fields where the header names 8 columns; a value holding a comma needs double quotes round it".to_owned(),
                },
            ),
            (
                format!("{HEADER}t1,a,b,1.00,funding,,,maybe\n"),
                RunFileError::BadCell {
                    line: 2,
                    column: "pending",
                    reason: "is \"maybe\"; give true or false (or leave it empty)".to_owned(),
                },
            ),
            (
                format!("{HEADER}t1,a,b,1.00,funding,\"open quote,,\nt2,a,b,1.00,funding,,,\n"),
                RunFileError::Unreadable {
                    line: 2,
                    reason: "a quoted cell runs over several lines; a quote is probably not closed"
                        .to_owned(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text.as_bytes()), Err(expected), "{text:?}");
        }
        let unknown = parse(format!("{HEADER}t1,a,b,1.00,gift,,,\n").as_bytes()).unwrap_err();
        assert!(
            unknown.to_string().starts_with("line 2: category "),
            "{unknown}"
        );
        assert_eq!(parse(b"\xff\xfe"), Err(RunFileError::NotUtf8));
    }

    #[test]
    fn a_refusal_is_placed_on_the_files_line() {
        let lines: Vec<u32> = (0..20_005).map(|index| index + 2).collect();
        let starts = [0, 10_000, 20_000];
        assert_eq!(
            placed(
                "chunks[1].transfers[3].amount is not above zero",
                &lines,
                &starts
            ),
            "line 10005: amount is not above zero"
        );
        assert_eq!(
            placed(
                "chunks[2].transfers[0]: fund f would be overdrawn",
                &lines,
                &starts
            ),
            "line 20002: fund f would be overdrawn"
        );
        assert_eq!(
            placed("chunks[0]: transfer t is already recorded", &lines, &starts),
            "chunks[0]: transfer t is already recorded"
        );
    }

    #[test]
    fn chunks_are_cut_by_count_and_by_size() {
        use prost::Message as _;
        let transfer = |note_chars: usize| proto::NewTransfer {
            id: "0192f0c1-0000-7000-8000-0000000000a1".to_owned(),
            note: "n".repeat(note_chars),
            ..proto::NewTransfer::default()
        };
        let short = chunks(vec![transfer(0); 25_001]);
        assert_eq!(
            short.iter().map(|c| c.transfers.len()).collect::<Vec<_>>(),
            vec![10_000, 10_000, 5_001]
        );
        // Notes of 1,000 characters: about 3,000 of them fill a chunk.
        let long = chunks(vec![transfer(1000); 10_000]);
        assert!(long.len() >= 4, "{} chunks", long.len());
        for chunk in &long {
            assert!(chunk.encoded_len() < 4 * 1024 * 1024);
        }
        assert_eq!(
            long.iter().map(|c| c.transfers.len()).sum::<usize>(),
            10_000
        );
    }
}
