//! Many rows at once by `COPY ... FROM STDIN`: a bulk chunk's transfers and entries go to
//! the server as one buffer each, parsed there without a statement per row or arrays to
//! unpack. The rows are the same as `write_posting` writes for a smaller batch, so which
//! path wrote a row makes no difference to anything that reads it (the hash chain and the
//! audit included).
//!
//! Text format: columns separated by tabs, rows by newlines, `\N` for NULL, and a
//! backslash, tab, newline or carriage return inside a value written as its escape, so a
//! note can hold any text.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::transfers::NewEntry;
use crate::domain::TransferContent;
use crate::error::LedgerError;

/// Appends `value` to `row` as one text-format column.
fn push_text(row: &mut String, value: &str) {
    for character in value.chars() {
        match character {
            '\\' => row.push_str("\\\\"),
            '\t' => row.push_str("\\t"),
            '\n' => row.push_str("\\n"),
            '\r' => row.push_str("\\r"),
            other => row.push(other),
        }
    }
}

/// What every row of one write shares, rendered once.
struct Stamp {
    at: String,
    on: String,
    chain_link_id: i64,
}

impl Stamp {
    fn new(now: DateTime<Utc>, today: NaiveDate, chain_link_id: i64) -> Stamp {
        Stamp {
            at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
            on: today.format("%Y-%m-%d").to_string(),
            chain_link_id,
        }
    }
}

fn transfer_rows(
    batch_id: Uuid,
    rows: &[(TransferContent, Uuid, Uuid)],
    stamp: &Stamp,
    by: &str,
) -> String {
    let mut by_text = String::new();
    push_text(&mut by_text, by);
    let mut buffer = String::with_capacity(rows.len() * 320);
    for (content, fund, credit_fund) in rows {
        // Writing to a String cannot fail.
        let _ = write!(
            buffer,
            "{}\t{batch_id}\t{fund}\t{credit_fund}\t{}\t{}\t{}\t{}\t",
            content.id,
            content.debit,
            content.credit,
            content.amount,
            content.category.name(),
        );
        push_text(&mut buffer, &content.reference);
        buffer.push('\t');
        push_text(&mut buffer, &content.note);
        let reverses = content
            .reverses
            .map_or_else(|| "\\N".to_owned(), |id| id.to_string());
        let _ = writeln!(
            buffer,
            "\t{}\t{reverses}\t{}\t{}\t{by_text}\t{}",
            if content.pending { 't' } else { 'f' },
            stamp.at,
            stamp.on,
            stamp.chain_link_id
        );
    }
    buffer
}

fn entry_rows(entries: &[NewEntry], stamp: &Stamp) -> String {
    let mut buffer = String::with_capacity(entries.len() * 140);
    for entry in entries {
        let _ = writeln!(
            buffer,
            "{}\t{}\t{}\t{}\t{}\t{}",
            entry.transfer_id,
            entry.account_id,
            entry.amount,
            stamp.at,
            stamp.on,
            stamp.chain_link_id
        );
    }
    buffer
}

async fn copy(
    connection: &mut PgConnection,
    statement: &'static str,
    rows: String,
    what: &'static str,
) -> Result<(), LedgerError> {
    let mut copy_in = connection.copy_in_raw(statement).await.operation(what)?;
    match copy_in.send(rows.into_bytes()).await.map(|_| ()) {
        Ok(()) => {
            copy_in.finish().await.operation(what)?;
            Ok(())
        }
        Err(source) => {
            // The caller rolls the transaction back either way; telling the server now
            // leaves the connection out of COPY mode.
            let _ = copy_in.abort(source.to_string()).await;
            Err(sds_platform::StoreError {
                operation: what,
                source,
            }
            .into())
        }
    }
}

/// The transfers of one batch, as `write_posting` would write them.
pub async fn copy_transfers(
    connection: &mut PgConnection,
    batch_id: Uuid,
    rows: &[(TransferContent, Uuid, Uuid)],
    now: DateTime<Utc>,
    today: NaiveDate,
    by: &str,
    chain_link_id: i64,
) -> Result<(), LedgerError> {
    let stamp = Stamp::new(now, today, chain_link_id);
    copy(
        connection,
        "COPY transfer (id, batch_id, fund_id, credit_fund_id, debit_account_id, \
             credit_account_id, amount_pence, category, reference, note, pending, reverses_id, \
             created_at, created_on, created_by, chain_link_id) FROM STDIN",
        transfer_rows(batch_id, rows, &stamp, by),
        "copy transfers",
    )
    .await
}

/// Entries, as `insert_entries` would write them.
pub async fn copy_entries(
    connection: &mut PgConnection,
    entries: &[NewEntry],
    now: DateTime<Utc>,
    today: NaiveDate,
    chain_link_id: i64,
) -> Result<(), LedgerError> {
    let stamp = Stamp::new(now, today, chain_link_id);
    copy(
        connection,
        "COPY entry (transfer_id, account_id, amount_pence, posted_at, posted_on, chain_link_id) \
         FROM STDIN",
        entry_rows(entries, &stamp),
        "copy entries",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Category;

    #[test]
    fn text_that_would_break_a_row_is_escaped() {
        let mut row = String::new();
        push_text(&mut row, "a\tb\nc\rd\\e \u{e9}");
        assert_eq!(row, "a\\tb\\nc\\rd\\\\e \u{e9}");
    }

    #[test]
    fn a_transfer_row_has_every_column_in_order() {
        let content = TransferContent {
            id: Uuid::from_u128(1),
            debit: Uuid::from_u128(2),
            credit: Uuid::from_u128(3),
            amount: 12_345,
            category: Category::SupportPayment,
            reference: "run 7\tline 1".to_owned(),
            note: String::new(),
            pending: false,
            reverses: None,
        };
        let now = DateTime::parse_from_rfc3339("2026-04-01T09:30:00Z")
            .map(|at| at.with_timezone(&Utc))
            .ok();
        let Some(now) = now else {
            panic!("a valid timestamp");
        };
        let stamp = Stamp::new(now, now.date_naive(), 9);
        let rows = transfer_rows(
            Uuid::from_u128(4),
            &[(content, Uuid::from_u128(5), Uuid::from_u128(5))],
            &stamp,
            "finance",
        );
        let columns: Vec<&str> = rows.trim_end_matches('\n').split('\t').collect();
        assert_eq!(columns.len(), 16, "{rows}");
        assert_eq!(columns[6], "12345");
        assert_eq!(columns[7], "support_payment");
        assert_eq!(columns[8], "run 7\\tline 1");
        assert_eq!(columns[9], "");
        assert_eq!(columns[10], "f");
        assert_eq!(columns[11], "\\N");
        assert_eq!(columns[12], "2026-04-01T09:30:00.000000Z");
        assert_eq!(columns[13], "2026-04-01");
        assert_eq!(columns[15], "9");
    }
}
