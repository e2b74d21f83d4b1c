//! The weight table and the sort code substitution table, as parsed from Vocalink's files.

use std::collections::HashMap;
use std::path::Path;

use super::digits;

/// A sort code's six digit values.
pub(super) type SortCode = [u8; 6];

/// How the weighted digits are totalled and what the total must be divisible by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    /// Sum of products, divisible by 10.
    Mod10,
    /// Sum of products, divisible by 11.
    Mod11,
    /// Sum of the digits of the products ("double alternate"), divisible by 10.
    DoubleAlternate,
}

/// One row of the weight table: a check for every sort code from `from` to `to` inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WeightRow {
    pub(super) from: SortCode,
    pub(super) to: SortCode,
    pub(super) method: Method,
    /// For `u v w x y z a b c d e f g h`. Kept wide so that no weight the parser accepts
    /// (any `i32`) can overflow a total of fourteen products.
    pub(super) weights: [i64; 14],
    /// The spec's exception number, 1 to 14.
    pub(super) exception: Option<u8>,
    /// The file line the row came from, to name it in errors.
    line: usize,
}

impl WeightRow {
    fn covers(&self, sort_code: &SortCode) -> bool {
        // Digit arrays of equal length order as the numbers they spell.
        self.from <= *sort_code && *sort_code <= self.to
    }
}

/// The weight table (Vocalink's valacdos.txt) and, optionally, the sort code substitution
/// table (scsubtab.txt).
#[derive(Debug, Clone, Default)]
pub struct ModulusTable {
    /// In file order: a sort code's first check is the first row covering it.
    rows: Vec<WeightRow>,
    /// Original sort code to the one exception 5 weighs in its place.
    substitutions: HashMap<SortCode, SortCode>,
}

impl ModulusTable {
    /// Parses the text of the two files. Errors name the file line: "line 12: ..." for the
    /// weights, "substitutions: line 3: ..." for the substitutions.
    pub fn parse(weights: &str, substitutions: Option<&str>) -> Result<ModulusTable, String> {
        let rows = parse_weights(weights)?;
        let substitutions = match substitutions {
            Some(text) => {
                parse_substitutions(text).map_err(|error| format!("substitutions: {error}"))?
            }
            None => HashMap::new(),
        };
        Ok(ModulusTable {
            rows,
            substitutions,
        })
    }

    /// Reads and parses the files. Errors name the file and its line: "path: line 12: ...".
    pub fn load(weights: &Path, substitutions: Option<&Path>) -> Result<ModulusTable, String> {
        let rows = parse_weights(&read(weights)?).map_err(|error| in_file(weights, error))?;
        let substitutions = match substitutions {
            Some(path) => {
                parse_substitutions(&read(path)?).map_err(|error| in_file(path, error))?
            }
            None => HashMap::new(),
        };
        Ok(ModulusTable {
            rows,
            substitutions,
        })
    }

    /// Number of weight rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows covering `sort_code`, first check first; at most two, as parsing ensures.
    pub(super) fn rows_for<'a>(
        &'a self,
        sort_code: &'a SortCode,
    ) -> impl Iterator<Item = &'a WeightRow> + 'a {
        self.rows.iter().filter(move |row| row.covers(sort_code))
    }

    /// The sort code exception 5 weighs for `sort_code`: its substitute if it has one.
    pub(super) fn substitute(&self, sort_code: &SortCode) -> SortCode {
        self.substitutions
            .get(sort_code)
            .copied()
            .unwrap_or(*sort_code)
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| in_file(path, error.to_string()))
}

fn in_file(path: &Path, error: String) -> String {
    format!("{}: {error}", path.display())
}

/// The file's lines, numbered from 1, without blank ones. A byte order mark is dropped
/// because files saved by Windows tools may start with one.
fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim().is_empty())
}

fn parse_weights(text: &str) -> Result<Vec<WeightRow>, String> {
    let rows = numbered_lines(text)
        .map(|(line, content)| {
            parse_weight_row(line, content).map_err(|error| format!("line {line}: {error}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    refuse_third_checks(&rows)?;
    Ok(rows)
}

fn parse_weight_row(line: usize, content: &str) -> Result<WeightRow, String> {
    let fields: Vec<&str> = content.split_whitespace().collect();
    let (from, to, method, weights, exception) = match fields.as_slice() {
        [from, to, method, weights @ ..] if weights.len() == 14 => {
            (from, to, method, weights, None)
        }
        [from, to, method, weights @ .., exception] if weights.len() == 14 => {
            (from, to, method, weights, Some(exception))
        }
        _ => {
            return Err(format!(
                "expected 17 or 18 fields (from, to, method, 14 weights, optional exception), \
                 found {}",
                fields.len()
            ));
        }
    };
    let from = sort_code(from)?;
    let to = sort_code(to)?;
    if to < from {
        return Err(format!(
            "the range {} to {} ends before it starts",
            shown(&from),
            shown(&to)
        ));
    }
    let method = match *method {
        "MOD10" => Method::Mod10,
        "MOD11" => Method::Mod11,
        "DBLAL" => Method::DoubleAlternate,
        other => {
            return Err(format!(
                "unknown method {other:?}: expected MOD10, MOD11 or DBLAL"
            ));
        }
    };
    let mut parsed = [0i64; 14];
    for (slot, weight) in parsed.iter_mut().zip(weights.iter()) {
        let value: i32 = weight
            .parse()
            .map_err(|_| format!("weight {weight:?} is not an integer"))?;
        *slot = i64::from(value);
    }
    let exception = match exception {
        None => None,
        Some(text) => match text.parse::<u8>() {
            Ok(number @ 1..=14) => Some(number),
            _ => return Err(format!("exception {text:?} is not one of 1 to 14")),
        },
    };
    Ok(WeightRow {
        from,
        to,
        method,
        weights: parsed,
        exception,
        line,
    })
}

/// Refuses a table giving some sort code a third check. Where ranges overlap, the most
/// rows cover one point at the latest start among them, so counting at each row's start
/// finds every such sort code.
fn refuse_third_checks(rows: &[WeightRow]) -> Result<(), String> {
    for row in rows {
        let covering: Vec<&WeightRow> = rows
            .iter()
            .filter(|other| other.covers(&row.from))
            .collect();
        if let [first, second, third, ..] = covering.as_slice() {
            return Err(format!(
                "line {}: sort code {} would get a third check (with lines {} and {}); the spec \
                 defines at most two",
                third.line,
                shown(&row.from),
                first.line,
                second.line
            ));
        }
    }
    Ok(())
}

fn parse_substitutions(text: &str) -> Result<HashMap<SortCode, SortCode>, String> {
    let mut substitutions = HashMap::new();
    let mut lines_seen: HashMap<SortCode, usize> = HashMap::new();
    for (line, content) in numbered_lines(text) {
        let fields: Vec<&str> = content.split_whitespace().collect();
        let [original, substitute] = fields.as_slice() else {
            return Err(format!(
                "line {line}: expected 2 fields (original and substitute sort codes), found {}",
                fields.len()
            ));
        };
        let original = sort_code(original).map_err(|error| format!("line {line}: {error}"))?;
        let substitute = sort_code(substitute).map_err(|error| format!("line {line}: {error}"))?;
        // Two substitutes for one sort code would make the check depend on line order.
        if let Some(earlier) = lines_seen.insert(original, line) {
            return Err(format!(
                "line {line}: sort code {} is already substituted on line {earlier}",
                shown(&original)
            ));
        }
        substitutions.insert(original, substitute);
    }
    Ok(substitutions)
}

fn sort_code(text: &str) -> Result<SortCode, String> {
    digits(text).ok_or_else(|| format!("sort code {text:?} is not six digits"))
}

fn shown(sort_code: &SortCode) -> String {
    sort_code
        .iter()
        .map(|digit| char::from(b'0' + digit))
        .collect()
}
