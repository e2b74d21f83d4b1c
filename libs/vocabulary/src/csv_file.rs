//! A CSV file a user hands the CLI or uploads to the portal (a case system's export, a
//! payment run, a provider's delivery): UTF-8 with an optional byte-order mark, a header
//! row naming the columns in any order and any case, each column once, rows keeping their
//! physical line numbers (the header is line 1). Each caller words its own refusals from
//! [`Shape`].

use std::collections::HashMap;

/// Why a file is not a CSV of the expected columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Empty,
    NotUtf8,
    UnreadableHeader(String),
    DuplicateColumn(String),
    /// The required columns missing, comma-separated.
    MissingColumns(String),
}

/// A file opened at its header: its text, a reader positioned at the first row, and where
/// each column is.
pub struct CsvFile<'a> {
    pub text: &'a str,
    pub reader: csv::Reader<&'a [u8]>,
    pub columns: Columns,
    /// How many columns the header names (blank names included).
    pub width: usize,
}

/// Where each column of the header is, by its lower-case name.
pub struct Columns {
    positions: HashMap<String, usize>,
}

impl<'a> CsvFile<'a> {
    /// Opens `bytes`, checking that the header names each of `required`.
    pub fn open(bytes: &'a [u8], required: &[&str]) -> Result<CsvFile<'a>, Shape> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|_| Shape::NotUtf8)?;
        if text.trim().is_empty() {
            return Err(Shape::Empty);
        }
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|error| Shape::UnreadableHeader(error.to_string()))?
            .clone();
        let mut positions: HashMap<String, usize> = HashMap::new();
        for (position, name) in header.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            // Two columns of one name would leave it to chance which one a value comes from.
            if !name.is_empty() && positions.insert(name.clone(), position).is_some() {
                return Err(Shape::DuplicateColumn(name));
            }
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|name| !positions.contains_key(*name))
            .collect();
        if !missing.is_empty() {
            return Err(Shape::MissingColumns(missing.join(", ")));
        }
        Ok(CsvFile {
            text,
            reader,
            columns: Columns { positions },
            width: header.len(),
        })
    }
}

impl Columns {
    /// The cell of `column` in `record`; blank when the file has no such column.
    /// Whether the header names `column`.
    pub fn has(&self, column: &str) -> bool {
        self.positions.contains_key(column)
    }

    pub fn cell(&self, record: &csv::StringRecord, column: &str) -> String {
        self.positions
            .get(column)
            .and_then(|position| record.get(*position))
            .unwrap_or("")
            .to_owned()
    }
}

/// Whether a cell holds a line break with a comma after it: rows a quote left open ran on
/// into.
pub fn swallowed_rows(cell: &str) -> bool {
    cell.find(['\n', '\r'])
        .is_some_and(|line_break| cell[line_break..].contains(','))
}

/// The file's line a record starts on (the header is line 1). csv counts lines so a
/// quoted cell over several lines does not shift the rest, but places a record after empty
/// lines at the first of them, which it skips: those are stepped over here.
pub fn physical_line(text: &str, position: &csv::Position) -> u32 {
    let mut line = position.line();
    let mut rest = usize::try_from(position.byte())
        .ok()
        .and_then(|start| text.get(start..))
        .unwrap_or("");
    loop {
        let after = rest
            .strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\n'))
            .or_else(|| rest.strip_prefix('\r'));
        match after {
            Some(after) => {
                rest = after;
                line += 1;
            }
            None => break,
        }
    }
    u32::try_from(line).unwrap_or(u32::MAX)
}
