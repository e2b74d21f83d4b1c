//! The shortest history that shows a violation. A check names what it found wrong by ids
//! (an agreement, a fund, an account of a fund, a person); those ids lead back to the
//! simulated people involved, and their steps, day by day, are the history to read. The
//! run is then made again with only those people (`--only`), first with the same faults
//! and then with none, and the smallest run that still breaks the same check is the one
//! printed to reproduce it.
//!
//! What must stay true: `--only` keeps each person's history exactly as it was in the full
//! run (every person's steps are drawn from a stream of their own), so a violation that
//! needs only those people shows again in the smaller run; and a history is printed only
//! for people the violation really names.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

/// Every UUID written in `text`, in order, each once.
pub fn uuids_in(text: &str) -> Vec<Uuid> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    while start + 36 <= bytes.len() {
        let candidate = &text.get(start..start + 36);
        let bounded = start == 0 || !bytes[start - 1].is_ascii_hexdigit();
        let ends = bytes
            .get(start + 36)
            .is_none_or(|next| !next.is_ascii_hexdigit());
        match candidate
            .filter(|_| bounded && ends)
            .and_then(|slice| Uuid::parse_str(slice).ok())
        {
            Some(id) => {
                if !found.contains(&id) {
                    found.push(id);
                }
                start += 36;
            }
            None => start += 1,
        }
    }
    found
}

/// The simulated people (their fund indices) a violation's `detail` names: by an
/// agreement or person id the run knows (`known`), or by a ledger fund or account, which
/// the ledger leads back to its person.
pub async fn people_named(
    detail: &str,
    known: &HashMap<Uuid, usize>,
    observer: &PgPool,
) -> anyhow::Result<BTreeSet<usize>> {
    let mut people = BTreeSet::new();
    let mut unknown = Vec::new();
    for id in uuids_in(detail) {
        match known.get(&id) {
            Some(index) => {
                people.insert(*index);
            }
            None => unknown.push(id),
        }
    }
    if unknown.is_empty() {
        return Ok(people);
    }
    let persons: Vec<Uuid> = sqlx::query_scalar(
        "SELECT f.person_id FROM ledger.fund f WHERE f.id = ANY($1) \
         UNION SELECT f.person_id FROM ledger.account a JOIN ledger.fund f ON f.id = a.fund_id \
         WHERE a.id = ANY($1)",
    )
    .bind(&unknown)
    .fetch_all(observer)
    .await?;
    people.extend(persons.iter().filter_map(|person| known.get(person)));
    Ok(people)
}

/// What each simulated person did, day by day, as the run made it.
#[derive(Debug, Clone, Default)]
pub struct Steps(BTreeMap<usize, Vec<(NaiveDate, String)>>);

impl Steps {
    /// Records that the person of fund `index` made `what` on `day`.
    pub fn record(&mut self, index: usize, day: NaiveDate, what: String) {
        self.0.entry(index).or_default().push((day, what));
    }

    /// The lines of the people in `people`, each headed by their case reference.
    pub fn of(&self, people: &BTreeSet<usize>, reference: impl Fn(usize) -> String) -> Vec<String> {
        let mut lines = Vec::new();
        for index in people {
            lines.push(format!("  {}:", reference(*index)));
            for (day, what) in self.0.get(index).map(Vec::as_slice).unwrap_or_default() {
                lines.push(format!("    {day}: {what}"));
            }
        }
        lines
    }
}

/// The same run narrowed down: only `people` (fund numbers, 1-based), through `days` days,
/// with `faults`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    pub seed: u64,
    pub funds: usize,
    pub days: u64,
    pub authorities: usize,
    pub start: NaiveDate,
    pub faults: &'static str,
    pub people: Vec<usize>,
    /// Passed on, so a planted wrong balance is planted again.
    pub plant_wrong_balance_on_day: Option<u64>,
}

impl Narrowed {
    pub fn arguments(&self) -> Vec<String> {
        let people: Vec<String> = self.people.iter().map(usize::to_string).collect();
        let mut arguments = vec![
            "simulate".to_owned(),
            "--seed".to_owned(),
            self.seed.to_string(),
            "--funds".to_owned(),
            self.funds.to_string(),
            "--days".to_owned(),
            self.days.to_string(),
            "--authorities".to_owned(),
            self.authorities.to_string(),
            "--start".to_owned(),
            self.start.to_string(),
            "--faults".to_owned(),
            self.faults.to_owned(),
            "--only".to_owned(),
            people.join(","),
        ];
        if let Some(day) = self.plant_wrong_balance_on_day {
            arguments.push("--plant-wrong-balance-on-day".to_owned());
            arguments.push(day.to_string());
        }
        arguments
    }

    /// The command line to type.
    pub fn command(&self) -> String {
        format!("sds {}", self.arguments().join(" "))
    }
}

/// What making a narrowed run again showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Again {
    /// It broke `check` too, in this long.
    Broke { check: String, took: Duration },
    /// It ended without breaking anything.
    Clean,
    /// It could not be made (the binary, its infrastructure).
    Failed(String),
}

/// Makes the narrowed run with this very binary, on its own infrastructure (or a database
/// of its own on `database_url`), and says what it showed. The child's last line on
/// standard output is the JSON of the run; its violation is read from the `check` field
/// the run prints on standard error.
pub fn run_again(binary: &Path, narrowed: &Narrowed, database_url: Option<&str>) -> Again {
    let started = Instant::now();
    let mut command = Command::new(binary);
    command.args(narrowed.arguments());
    match database_url {
        Some(url) => command.env("SDS_SIMULATE_DATABASE_URL", url),
        None => command.env_remove("SDS_SIMULATE_DATABASE_URL"),
    };
    // The narrowed run must not narrow again (that would never end).
    command.env("SDS_SIMULATE_NARROWING", "1");
    let output = match command.output() {
        Ok(output) => output,
        Err(error) => {
            return Again::Failed(format!("could not start {}: {error}", binary.display()));
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    match broken_check(&stderr) {
        Some(check) => Again::Broke {
            check,
            took: started.elapsed(),
        },
        None if output.status.success() => Again::Clean,
        None => Again::Failed(
            stderr
                .lines()
                .last()
                .unwrap_or("it failed without a word")
                .to_owned(),
        ),
    }
}

/// The check a run's standard error says it broke (`..., check NAME: ...`).
pub fn broken_check(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find(|line| line.starts_with("simulate: VIOLATION:"))
        .and_then(|line| line.split(", check ").nth(1))
        .and_then(|rest| rest.split(':').next())
        .map(str::to_owned)
}

/// Whether this run is itself a narrowing of another (and must not narrow again).
pub fn narrowing() -> bool {
    std::env::var_os("SDS_SIMULATE_NARROWING").is_some()
}

/// Parses `--only`: fund numbers (1-based) separated by commas, each at most `funds`.
pub fn parse_only(text: &str, funds: usize) -> Result<BTreeSet<usize>, String> {
    let mut numbers = BTreeSet::new();
    for part in text.split(',') {
        let number: usize = part.trim().parse().map_err(|_| {
            format!(
                "--only {text:?}: {part:?} is not a fund number (1, 2, ... separated by commas)"
            )
        })?;
        if number == 0 || number > funds {
            return Err(format!(
                "--only {text:?}: fund {number} is not from 1 to --funds {funds}"
            ));
        }
        numbers.insert(number);
    }
    Ok(numbers)
}

/// Prints what a violation names and their history, then narrows the run down: the same
/// run with only those people through the day of the violation, with the same faults and
/// then with none, and says the smallest that still breaks the check, with its command.
/// A run that is itself a narrowing does not narrow again.
pub(super) async fn tell(settings: &super::Settings, stopped: &super::Stopped) {
    if stopped.people.is_empty() {
        eprintln!("simulate: the violation names none of the run's people by an id it knows");
    } else {
        eprintln!("simulate: the history of the people it names, through that day:");
        for line in &stopped.history {
            eprintln!("{line}");
        }
    }
    if narrowing() || stopped.people.is_empty() {
        return;
    }
    let Ok(binary) = std::env::current_exe() else {
        return;
    };
    let check = stopped.violation.check;
    let mut narrowed = Narrowed {
        seed: settings.seed,
        funds: settings.funds,
        days: stopped.offset + 1,
        authorities: settings.authorities,
        start: settings.start,
        faults: settings.faults.name(),
        people: stopped.people.clone(),
        plant_wrong_balance_on_day: settings.plant_wrong_balance_on_day,
    };
    let mut shortest = None;
    let levels: &[&'static str] = if narrowed.faults == "none" {
        &["none"]
    } else {
        &[narrowed.faults, "none"]
    };
    for faults in levels {
        narrowed.faults = faults;
        eprintln!("simulate: narrowing: {} ...", narrowed.command());
        let outcome = {
            let binary = binary.clone();
            let narrowed = narrowed.clone();
            let url = settings.database_url.clone();
            tokio::task::spawn_blocking(move || run_again(&binary, &narrowed, url.as_deref()))
                .await
                .unwrap_or_else(|error| Again::Failed(error.to_string()))
        };
        match outcome {
            Again::Broke { check: broke, took } if broke == check => {
                eprintln!(
                    "simulate: narrowing: broke {check} again, in {:.0} s",
                    took.as_secs_f64()
                );
                shortest = Some(narrowed.clone());
            }
            Again::Broke { check: broke, .. } => {
                eprintln!("simulate: narrowing: broke {broke} instead");
                break;
            }
            Again::Clean => {
                eprintln!("simulate: narrowing: ended clean");
                break;
            }
            Again::Failed(why) => {
                eprintln!("simulate: narrowing: could not be made: {why}");
                break;
            }
        }
    }
    match shortest {
        Some(narrowed) => eprintln!(
            "simulate: the shortest run that shows it: {}",
            narrowed.command()
        ),
        None => eprintln!(
            "simulate: it needs more than these people: the shortest run that shows it is the \
             whole run through day {}",
            stopped.offset + 1
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_in_a_detail_are_found_each_once_and_nothing_else_is() {
        let agreement = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
        let fund = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002);
        let detail = format!(
            "account {fund} of fund {agreement} stores 12; again {fund}; not an id: \
             {}x and a{}",
            &agreement.to_string()[..35],
            agreement.simple()
        );
        assert_eq!(uuids_in(&detail), vec![fund, agreement]);
        assert_eq!(uuids_in("no ids at all"), Vec::<Uuid>::new());
        // An id inside a longer run of hex digits is not an id.
        assert_eq!(uuids_in(&format!("ab{fund}")), Vec::<Uuid>::new());
    }

    #[test]
    fn the_check_a_run_broke_is_read_from_its_violation_line() {
        let stderr = "simulate: day 3/9\nsimulate: VIOLATION: seed 7, day 4 (2026-04-04), \
                      check the_ledger_audit_is_clean: 1 violations, the first x: y\n";
        assert_eq!(
            broken_check(stderr).as_deref(),
            Some("the_ledger_audit_is_clean")
        );
        assert_eq!(broken_check("simulate: day 3/9\n"), None);
    }

    #[test]
    fn only_takes_fund_numbers_within_the_run_and_refuses_anything_else() {
        assert_eq!(parse_only("3, 1,3", 5), Ok(BTreeSet::from([1, 3])));
        assert!(
            parse_only("0", 5)
                .unwrap_err()
                .contains("not from 1 to --funds 5")
        );
        assert!(
            parse_only("6", 5)
                .unwrap_err()
                .contains("not from 1 to --funds 5")
        );
        assert!(
            parse_only("two", 5)
                .unwrap_err()
                .contains("is not a fund number")
        );
        assert!(parse_only("", 5).is_err());
    }

    #[test]
    fn a_narrowed_run_is_the_same_command_with_only_its_people() {
        let narrowed = Narrowed {
            seed: 7,
            funds: 500,
            days: 40,
            authorities: 4,
            start: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default(),
            faults: "none",
            people: vec![12, 310],
            plant_wrong_balance_on_day: None,
        };
        assert_eq!(
            narrowed.command(),
            "sds simulate --seed 7 --funds 500 --days 40 --authorities 4 --start 2026-04-01 \
             --faults none --only 12,310"
        );
    }

    #[test]
    fn a_history_lists_each_named_person_and_only_them() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 4, d).unwrap_or_default();
        let mut steps = Steps::default();
        steps.record(0, day(1), "offer accepted".into());
        steps.record(1, day(2), "offer accepted".into());
        steps.record(0, day(9), "varied".into());
        let lines = steps.of(&BTreeSet::from([0]), |index| {
            format!("SIM-{:06}", index + 1)
        });
        assert_eq!(
            lines,
            vec![
                "  SIM-000001:",
                "    2026-04-01: offer accepted",
                "    2026-04-09: varied"
            ]
        );
    }
}
