//! `no_personal_data_in_logs`: every line of tracing output of the run is looked at for a
//! simulated person's name, date of birth or case reference; the check after each day fails
//! on the first line found. Two sources: the platform's own log (the `sds serve` child
//! writes its stderr to a file, [`watch`]; each check reads what was added since the last),
//! and the run's process itself, whose subscriber ([`capture`]) writes through the same
//! text layer as `sds serve` into a writer that looks at each line as it is written.
//!
//! What must stay true: the patterns are exactly what the workload gives people ("Simulated
//! Person N", "SIM-" and six digits, a date of birth on 1 March of 1940 to 1999), so a
//! line the check flags is personal data and nothing else; lines are looked at as they are
//! written and not kept (a long run logs far more than it could hold), only the first
//! offending line and how many lines were seen.

use std::io::{Read as _, Seek as _, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::checks::Violation;

/// What the capture has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub lines: u64,
    /// What the first offending line showed, and the line.
    pub first: Option<(&'static str, String)>,
}

static SEEN: OnceLock<Mutex<Seen>> = OnceLock::new();

/// The platform's log file and how far into it the checks have read.
static WATCHED: OnceLock<Mutex<Option<(PathBuf, u64)>>> = OnceLock::new();

fn watched() -> &'static Mutex<Option<(PathBuf, u64)>> {
    WATCHED.get_or_init(|| Mutex::new(None))
}

/// Looks at the platform's log `path` too, from its start.
pub fn watch(path: &Path) {
    *watched().lock().unwrap_or_else(PoisonError::into_inner) = Some((path.to_owned(), 0));
}

/// Looks at the whole lines added to the watched log since the last look.
fn read_the_platforms_log() -> std::io::Result<()> {
    let mut watched = watched().lock().unwrap_or_else(PoisonError::into_inner);
    let Some((path, offset)) = watched.as_mut() else {
        return Ok(());
    };
    let mut file = match std::fs::File::open(&*path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    file.seek(SeekFrom::Start(*offset))?;
    let mut added = Vec::new();
    file.read_to_end(&mut added)?;
    // A line still being written is read whole next time.
    let whole = added
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |last| last + 1);
    Scanner.write_all(&added[..whole])?;
    *offset += whole as u64;
    Ok(())
}

fn seen_now() -> &'static Mutex<Seen> {
    SEEN.get_or_init(|| Mutex::new(Seen::default()))
}

/// Which kind of a simulated person's data `line` holds, if any.
pub fn personal_data_in(line: &str) -> Option<&'static str> {
    if line.contains("Simulated Person") {
        return Some("a person's name");
    }
    let bytes = line.as_bytes();
    let digits = |from: usize, count: usize| {
        bytes
            .get(from..from + count)
            .is_some_and(|slice| slice.iter().all(u8::is_ascii_digit))
    };
    for (at, _) in line.match_indices("SIM-") {
        if digits(at + 4, 6) {
            return Some("a case reference");
        }
    }
    for (at, _) in line.match_indices("-03-01") {
        if at >= 4 && digits(at - 4, 4) {
            let year: u32 = line[at - 4..at].parse().unwrap_or(0);
            if (1940..2000).contains(&year) {
                return Some("a date of birth");
            }
        }
    }
    None
}

/// The writer each log line goes through: looked at, counted, dropped.
#[derive(Debug, Clone, Copy, Default)]
struct Scanner;

impl Write for Scanner {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buffer);
        let mut seen = seen_now().lock().unwrap_or_else(PoisonError::into_inner);
        for line in text.lines() {
            seen.lines += 1;
            if seen.first.is_none()
                && let Some(kind) = personal_data_in(line)
            {
                seen.first = Some((kind, line.chars().take(300).collect()));
            }
        }
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the process's tracing subscriber, writing through the scanner. Once per
/// process; a subscriber already installed (as in a test) is left as it is.
pub fn capture() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,async_nats=warn,h2=warn,tower=warn")
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(sds_platform::telemetry::text_log_layer(false, || Scanner))
        .try_init();
}

/// What the capture has seen so far, the platform's log read up to now.
pub fn seen() -> Seen {
    if let Err(error) = read_the_platforms_log() {
        eprintln!("simulate: the platform's log could not be read: {error}");
    }
    seen_now()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// A violation when a log line held a simulated person's name, date of birth or case
/// reference.
pub fn no_personal_data_in_logs(seen: &Seen) -> Option<Violation> {
    seen.first.as_ref().map(|(kind, line)| Violation {
        check: "no_personal_data_in_logs",
        detail: format!("a log line (of {} seen) holds {kind}: {line}", seen.lines),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_case_references_and_dates_of_birth_are_found_and_other_dates_are_not() {
        assert_eq!(
            personal_data_in("recorded person name=Simulated Person 12"),
            Some("a person's name")
        );
        assert_eq!(
            personal_data_in("case_reference=SIM-000042 recorded"),
            Some("a case reference")
        );
        assert_eq!(
            personal_data_in("born 1952-03-01 in Banchory"),
            Some("a date of birth")
        );
        assert_eq!(
            personal_data_in("run of 2026-03-01 paid 14 instalments"),
            None
        );
        assert_eq!(personal_data_in("authority=sim-1 SIM-12 step"), None);
        assert_eq!(personal_data_in("-03-01 at the start"), None);
    }

    #[test]
    fn a_line_with_personal_data_is_a_violation_and_clean_logs_are_not() {
        let clean = Seen {
            lines: 10,
            first: None,
        };
        assert_eq!(no_personal_data_in_logs(&clean), None);
        let leaked = Seen {
            lines: 10,
            first: Some(("a case reference", "case_reference=SIM-000001".into())),
        };
        assert!(
            no_personal_data_in_logs(&leaked)
                .is_some_and(|found| found.detail.contains("SIM-000001"))
        );
    }

    #[test]
    fn the_platforms_log_is_read_line_by_line_as_it_grows() -> std::io::Result<()> {
        let path = std::env::temp_dir().join(format!("sds-logs-{}.log", std::process::id()));
        std::fs::write(&path, "one clean line\nhalf a li")?;
        watch(&path);
        let before = seen().lines;
        assert_eq!(seen().lines, before);
        let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
        file.write_all(b"ne for SIM-000007\n")?;
        let after = seen();
        std::fs::remove_file(&path)?;
        assert!(after.lines > before);
        assert!(no_personal_data_in_logs(&after).is_some());
        Ok(())
    }

    #[test]
    fn the_scanner_counts_lines_and_keeps_the_first_offending_one() {
        let mut scanner = Scanner;
        let before = seen().lines;
        let _ = scanner.write(b"a clean line\nanother\n");
        assert!(seen().lines >= before + 2);
    }
}
