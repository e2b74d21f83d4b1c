//! How commands print what the server returns, the same way for every service: one record
//! as pretty JSON; a list as an aligned text table for people, or with `--json` the whole
//! response message as JSON for scripts (as `kubectl get -o json` does).
//!
//! The JSON is serde's, from the generated `sds_proto` types (proto3 JSON: proto field
//! names as keys, fields at their default printed, enums by their proto names, 64-bit
//! integers as strings), so it is the same shape as the gRPC contract and needs no upkeep
//! when a field is added. Tables are for reading and may change; scripts use `--json`.

use serde::Serialize;

/// The output flag of list and search commands.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct OutputFormat {
    /// Print the response message as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl OutputFormat {
    /// Prints `response` as JSON with `--json`, else the table `as_table` makes of it.
    pub fn print_list<Response: Serialize>(
        self,
        response: &Response,
        as_table: impl FnOnce(&Response) -> Table,
    ) -> anyhow::Result<()> {
        if self.json {
            print_json(response)
        } else {
            emit(&as_table(response).render())
        }
    }
}

/// Prints one value as pretty JSON.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    emit(&(serde_json::to_string_pretty(value)? + "\n"))
}

/// Writes `text` to standard output. A reader that has gone away (`| head`) is not an
/// error: like other command-line tools, the command then stops quietly.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// One value as JSON on one line, spaced as the issues write their output lines
/// (`{"key": 1, "list": [1, 2]}`: a space after each `:` and `,`), which scripts and
/// people read alike.
pub fn one_line_json(value: &impl Serialize) -> anyhow::Result<String> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, SpacedLine);
    value.serialize(&mut serializer)?;
    Ok(String::from_utf8(out)?)
}

/// serde_json's compact formatter with a space after `:` and after `,`.
struct SpacedLine;

impl serde_json::ser::Formatter for SpacedLine {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// Columns a person can read: each as wide as its widest cell, two spaces apart, and
/// footer lines (totals, the next page) below.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    footer: Vec<String>,
}

/// The space between two columns.
const COLUMN_GAP: &str = "  ";

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|header| header.to_uppercase()).collect(),
            rows: Vec::new(),
            footer: Vec::new(),
        }
    }

    /// Adds a row; cells beyond the headers are dropped and missing ones left blank.
    pub fn push_row(&mut self, cells: Vec<String>) {
        let mut row: Vec<String> = cells
            .into_iter()
            .take(self.headers.len())
            .map(|cell| on_one_line(&cell))
            .collect();
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
    }

    /// Adds a line under the table, such as `12 matches`.
    pub fn push_footer(&mut self, line: impl Into<String>) {
        self.footer.push(line.into());
    }

    /// The table as text, every line ending in a newline and none in trailing spaces.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|header| width(header)).collect();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                widths[column] = widths[column].max(width(cell));
            }
        }
        let mut text = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                if column > 0 {
                    line.push_str(COLUMN_GAP);
                }
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', widths[column] - width(cell)));
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        for line in &self.footer {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// Display width, counting characters: close enough for names and places in the directory.
fn width(cell: &str) -> usize {
    cell.chars().count()
}

/// A cell with any tab or line break turned into a space, so that it cannot break the
/// columns of the rows below.
fn on_one_line(cell: &str) -> String {
    cell.chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect()
}

/// `1 match`, `12 matches`: a count with its noun.
pub fn count_of(count: u64, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("1 {singular}")
    } else {
        format!("{count} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_lines_carry_no_trailing_spaces() {
        let mut table = Table::new(&["id", "name", "kind"]);
        table.push_row(vec!["1".into(), "Deeside Art Studio".into(), "".into()]);
        table.push_row(vec!["22".into(), "Moray".into(), "micro-provider".into()]);
        table.push_footer("2 matches");
        assert_eq!(
            table.render(),
            "ID  NAME                KIND\n\
             1   Deeside Art Studio\n\
             22  Moray               micro-provider\n\
             2 matches\n"
        );
    }

    #[test]
    fn a_cell_with_a_line_break_stays_on_its_row_and_short_rows_are_padded() {
        let mut table = Table::new(&["name", "place"]);
        table.push_row(vec!["two\nlines".into()]);
        assert_eq!(table.render(), "NAME       PLACE\ntwo lines\n");
    }

    #[test]
    fn counts_read_as_words() {
        assert_eq!(count_of(1, "match", "matches"), "1 match");
        assert_eq!(count_of(0, "match", "matches"), "0 matches");
    }
}
