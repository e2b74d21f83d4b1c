//! The Public Health Scotland social care return, pure part: reporting periods, SDS
//! episodes, the rows of `sds_snapshot.csv` and `client.csv`, and their CSV text.
//!
//! Periods are quarters of the financial year, as PHS names them: `2026Q3` is the third
//! quarter of financial year 2026/27, October to December 2026; Q1 is April-June, Q2
//! July-September, Q4 January-March of the following calendar year (`2026Q4` is
//! 2027-01-01 to 2027-03-31). `financial_year` is written as the year it starts (2026 for
//! 2026/27) and `financial_quarter` as 1-4. Dates are written `YYYY-MM-DD`; an open end is
//! an empty cell.
//!
//! An SDS episode is a maximal run of days on which the person has active approved lines
//! with the same set of options (1, 2, 3); a day without any active line, or a change in the
//! set, ends it. Option 4 is never sent: a mix is the set of options flagged 1.
//!
//! What must stay true: one snapshot row per person per episode overlapping the period,
//! with the episode's own dates (not clipped to the period); one client row per person with
//! a snapshot row; rows ordered by social care id, then episode start; the same people give
//! byte-identical files.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate};

use sds_vocabulary::date::iso;
use sds_vocabulary::{Invalid, shown};

use super::line::PlanLine;
use super::option::SdsOption;
use super::person::{ClientGroup, ClientGroups, SupportedPerson};
use super::policy::SendingLocation;

/// A quarter of a financial year, such as `2026Q3` (October to December 2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhsPeriod {
    /// The calendar year the financial year starts in: 2026 for 2026/27.
    financial_year: i32,
    /// 1 to 4.
    quarter: u8,
}

impl PhsPeriod {
    /// Reads `YYYYQn`, `n` from 1 to 4.
    pub fn parse(field: &str, raw: &str) -> Result<PhsPeriod, Invalid> {
        let refuse = || {
            Invalid::new(
                field,
                format!(
                    "is {}; expected a financial year and quarter such as 2026Q3 (October to December 2026)",
                    shown(raw)
                ),
            )
        };
        let text = raw.trim().to_ascii_uppercase();
        let (year, quarter) = text.split_once('Q').ok_or_else(refuse)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) || quarter.len() != 1 {
            return Err(refuse());
        }
        let financial_year: i32 = year.parse().map_err(|_| refuse())?;
        // The years the platform dates anything in (as `sds_vocabulary::date` reads them).
        if !(1900..=2200).contains(&financial_year) {
            return Err(refuse());
        }
        let quarter: u8 = quarter.parse().map_err(|_| refuse())?;
        PhsPeriod::new(financial_year, quarter).ok_or_else(refuse)
    }

    /// `None` for a quarter outside 1-4 or a year chrono cannot date.
    pub fn new(financial_year: i32, quarter: u8) -> Option<PhsPeriod> {
        let period = PhsPeriod {
            financial_year,
            quarter,
        };
        ((1..=4).contains(&quarter) && period.bounds().is_some()).then_some(period)
    }

    /// The period containing `date`.
    pub fn containing(date: NaiveDate) -> PhsPeriod {
        // April is month 4: months 4-12 are in the financial year starting this year.
        let (financial_year, month_of_year) = if date.month() >= 4 {
            (date.year(), date.month() - 4)
        } else {
            (date.year() - 1, date.month() + 8)
        };
        PhsPeriod {
            financial_year,
            quarter: u8::try_from(month_of_year / 3 + 1).unwrap_or(4),
        }
    }

    pub fn financial_year(&self) -> i32 {
        self.financial_year
    }

    pub fn quarter(&self) -> u8 {
        self.quarter
    }

    fn bounds(&self) -> Option<(NaiveDate, NaiveDate)> {
        let (year, first_month) = match self.quarter {
            1 => (self.financial_year, 4),
            2 => (self.financial_year, 7),
            3 => (self.financial_year, 10),
            _ => (self.financial_year.checked_add(1)?, 1),
        };
        let start = NaiveDate::from_ymd_opt(year, first_month, 1)?;
        let end = start
            .checked_add_months(chrono::Months::new(3))?
            .pred_opt()?;
        Some((start, end))
    }

    /// The first day of the quarter.
    pub fn start(&self) -> NaiveDate {
        self.bounds().map_or(NaiveDate::MIN, |(start, _)| start)
    }

    /// The last day of the quarter.
    pub fn end(&self) -> NaiveDate {
        self.bounds().map_or(NaiveDate::MAX, |(_, end)| end)
    }
}

impl fmt::Display for PhsPeriod {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}Q{}", self.financial_year, self.quarter)
    }
}

/// The options of an episode as the return flags them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OptionFlags {
    pub option_1: bool,
    pub option_2: bool,
    pub option_3: bool,
}

impl OptionFlags {
    fn is_empty(&self) -> bool {
        !(self.option_1 || self.option_2 || self.option_3)
    }

    fn of_lines_active_on<'a>(
        lines: impl Iterator<Item = &'a PlanLine>,
        on: NaiveDate,
    ) -> OptionFlags {
        let mut flags = OptionFlags::default();
        for line in lines.filter(|line| line.is_active_on(on)) {
            match line.option() {
                SdsOption::DirectPayment => flags.option_1 = true,
                SdsOption::IndividualServiceFund => flags.option_2 = true,
                SdsOption::Arranged => flags.option_3 = true,
                // A line is never option 4; only a set of lines is.
                SdsOption::Mix => {}
            }
        }
        flags
    }
}

/// A maximal run of days with the same non-empty set of options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    pub start: NaiveDate,
    /// `None` while it continues.
    pub end: Option<NaiveDate>,
    pub options: OptionFlags,
}

impl Episode {
    pub fn overlaps(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.start <= to && self.end.is_none_or(|end| end >= from)
    }
}

/// The SDS episodes of a person's approved lines, in date order.
pub fn sds_episodes(lines: &[PlanLine]) -> Vec<Episode> {
    // The set of active options can only change on a line's first day or the day after its
    // last, so those days cut time into runs with one set each.
    let mut boundaries: BTreeSet<NaiveDate> = BTreeSet::new();
    for line in lines {
        boundaries.insert(line.span.start());
        if let Some(day_after) = line.span.end().and_then(|end| end.succ_opt()) {
            boundaries.insert(day_after);
        }
    }
    let boundaries: Vec<NaiveDate> = boundaries.into_iter().collect();
    let mut episodes: Vec<Episode> = Vec::new();
    for (index, run_start) in boundaries.iter().copied().enumerate() {
        let run_end = boundaries.get(index + 1).and_then(|next| next.pred_opt());
        let options = OptionFlags::of_lines_active_on(lines.iter(), run_start);
        if options.is_empty() {
            continue;
        }
        match episodes.last_mut() {
            // Runs are consecutive, so the same set straight after the last episode
            // continues it.
            Some(last)
                if last.options == options
                    && last.end.and_then(|end| end.succ_opt()) == Some(run_start) =>
            {
                last.end = run_end;
            }
            _ => episodes.push(Episode {
                start: run_start,
                end: run_end,
                options,
            }),
        }
    }
    episodes
}

/// One row of `sds_snapshot.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdsSnapshotRow {
    pub sending_location: SendingLocation,
    pub social_care_id: String,
    pub period: PhsPeriod,
    pub sds_start_date: NaiveDate,
    pub sds_end_date: Option<NaiveDate>,
    pub options: OptionFlags,
}

/// One row of `client.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub sending_location: SendingLocation,
    pub social_care_id: String,
    pub period: PhsPeriod,
    pub client_groups: ClientGroups,
}

/// The rows of one period's return.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhsReturn {
    pub sds_snapshot: Vec<SdsSnapshotRow>,
    pub clients: Vec<ClientRow>,
}

/// The return for `period` from `people`.
pub fn phs_return(
    sending_location: &SendingLocation,
    period: PhsPeriod,
    people: &[SupportedPerson],
) -> PhsReturn {
    let mut ordered: Vec<&SupportedPerson> = people.iter().collect();
    ordered.sort_by(|a, b| a.social_care_id.cmp(&b.social_care_id));
    let mut rows = PhsReturn::default();
    for person in ordered {
        let episodes: Vec<Episode> = sds_episodes(&person.approved_lines)
            .into_iter()
            .filter(|episode| episode.overlaps(period.start(), period.end()))
            .collect();
        if episodes.is_empty() {
            continue;
        }
        for episode in episodes {
            rows.sds_snapshot.push(SdsSnapshotRow {
                sending_location: sending_location.clone(),
                social_care_id: person.social_care_id.clone(),
                period,
                sds_start_date: episode.start,
                sds_end_date: episode.end,
                options: episode.options,
            });
        }
        rows.clients.push(ClientRow {
            sending_location: sending_location.clone(),
            social_care_id: person.social_care_id.clone(),
            period,
            client_groups: person.client_groups.clone(),
        });
    }
    rows
}

/// The header of `sds_snapshot.csv`.
pub const SDS_SNAPSHOT_HEADER: [&str; 10] = [
    "sending_location",
    "social_care_id",
    "period",
    "sds_period_start_date",
    "sds_period_end_date",
    "sds_start_date",
    "sds_end_date",
    "sds_option_1",
    "sds_option_2",
    "sds_option_3",
];

/// The column of `client.csv` for each client group, in the file's order.
pub const CLIENT_GROUP_COLUMNS: [(ClientGroup, &str); 12] = [
    (ClientGroup::Dementia, "dementia"),
    (ClientGroup::MentalHealth, "mental_health_problems"),
    (ClientGroup::LearningDisability, "learning_disability"),
    (
        ClientGroup::PhysicalSensoryDisability,
        "physical_and_sensory_disability",
    ),
    (ClientGroup::Drugs, "drugs"),
    (ClientGroup::Alcohol, "alcohol"),
    (ClientGroup::PalliativeCare, "palliative_care"),
    (ClientGroup::Carer, "carer"),
    (ClientGroup::ElderlyFrail, "elderly_frail"),
    (ClientGroup::NeurologicalCondition, "neurological_condition"),
    (ClientGroup::Autism, "autism"),
    (ClientGroup::OtherVulnerable, "other_vulnerable_groups"),
];

/// Why a file could not be written (only an unexpected fault of the CSV writer).
#[derive(Debug, thiserror::Error)]
#[error("could not write the PHS file: {0}")]
pub struct PhsRenderError(String);

fn flag(value: bool) -> &'static str {
    if value { "1" } else { "0" }
}

/// `sds_snapshot.csv` as text, header first.
pub fn render_sds_snapshot_csv(rows: &[SdsSnapshotRow]) -> Result<String, PhsRenderError> {
    let mut records: Vec<Vec<String>> = Vec::with_capacity(rows.len());
    for row in rows {
        records.push(vec![
            row.sending_location.to_string(),
            row.social_care_id.clone(),
            row.period.to_string(),
            iso(row.period.start()),
            iso(row.period.end()),
            iso(row.sds_start_date),
            row.sds_end_date.map(iso).unwrap_or_default(),
            flag(row.options.option_1).to_owned(),
            flag(row.options.option_2).to_owned(),
            flag(row.options.option_3).to_owned(),
        ]);
    }
    render(&SDS_SNAPSHOT_HEADER, &records)
}

/// `client.csv` as text, header first.
pub fn render_client_csv(rows: &[ClientRow]) -> Result<String, PhsRenderError> {
    let mut header = vec![
        "sending_location",
        "social_care_id",
        "financial_year",
        "financial_quarter",
    ];
    header.extend(CLIENT_GROUP_COLUMNS.iter().map(|(_, column)| *column));
    let mut records: Vec<Vec<String>> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut record = vec![
            row.sending_location.to_string(),
            row.social_care_id.clone(),
            row.period.financial_year().to_string(),
            row.period.quarter().to_string(),
        ];
        for (group, _) in CLIENT_GROUP_COLUMNS {
            record.push(flag(row.client_groups.contains(&group)).to_owned());
        }
        records.push(record);
    }
    render(&header, &records)
}

/// RFC 4180 CSV: CRLF line ends, fields quoted only when they must be.
fn render(header: &[&str], records: &[Vec<String>]) -> Result<String, PhsRenderError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(header)
        .map_err(|error| PhsRenderError(error.to_string()))?;
    for record in records {
        writer
            .write_record(record)
            .map_err(|error| PhsRenderError(error.to_string()))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| PhsRenderError(error.to_string()))?;
    String::from_utf8(bytes).map_err(|error| PhsRenderError(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::tests::date;
    use crate::domain::uptake::tests::{line, person};

    fn period(text: &str) -> PhsPeriod {
        PhsPeriod::parse("period", text).expect("test periods are valid")
    }

    #[test]
    fn periods_are_quarters_of_the_financial_year() {
        let cases = [
            ("2026Q1", "2026-04-01", "2026-06-30"),
            ("2026Q2", "2026-07-01", "2026-09-30"),
            ("2026Q3", "2026-10-01", "2026-12-31"),
            ("2026Q4", "2027-01-01", "2027-03-31"),
            ("2027q4", "2028-01-01", "2028-03-31"),
        ];
        for (text, start, end) in cases {
            let parsed = period(text);
            assert_eq!(
                (parsed.start(), parsed.end()),
                (date(start), date(end)),
                "{text}"
            );
            assert_eq!(PhsPeriod::containing(date(start)), parsed);
            assert_eq!(PhsPeriod::containing(date(end)), parsed);
        }
        assert_eq!(period("2026q3").to_string(), "2026Q3");
        for bad in [
            "2026Q5", "2026Q0", "26Q3", "2026-Q3", "2026", "Q3", "2026Q10", "9999Q4", "0000Q1",
        ] {
            assert!(PhsPeriod::parse("period", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_episode_runs_while_the_set_of_options_stays_the_same_and_breaks_on_a_gap() {
        let lines = [
            line(2, "2026-04-01", Some("2026-06-30")),
            // Another option 2 line straight after: the same episode.
            line(2, "2026-07-01", Some("2026-08-31")),
            // Option 1 joins from 1 August: a new episode with options 1 and 2.
            line(1, "2026-08-01", Some("2026-08-31")),
            // A gap in September, then option 3.
            line(3, "2026-10-01", None),
        ];
        let episodes = sds_episodes(&lines);
        let shown: Vec<(String, Option<String>, OptionFlags)> = episodes
            .iter()
            .map(|e| (iso(e.start), e.end.map(iso), e.options))
            .collect();
        let only = |o1, o2, o3| OptionFlags {
            option_1: o1,
            option_2: o2,
            option_3: o3,
        };
        assert_eq!(
            shown,
            [
                (
                    "2026-04-01".to_owned(),
                    Some("2026-07-31".to_owned()),
                    only(false, true, false)
                ),
                (
                    "2026-08-01".to_owned(),
                    Some("2026-08-31".to_owned()),
                    only(true, true, false)
                ),
                ("2026-10-01".to_owned(), None, only(false, false, true)),
            ]
        );
    }

    #[test]
    fn the_return_has_a_row_per_episode_overlapping_the_period_and_a_client_row_per_person() {
        use ClientGroup::{Carer, Dementia, LearningDisability};
        let people = vec![
            // Two episodes in Q3: option 2, then 2 and 3 together (never sent as 4).
            person(
                2,
                "North",
                &[Dementia, Carer],
                vec![line(2, "2026-04-01", None), line(3, "2026-11-01", None)],
            ),
            // Ended in Q2: not in the Q3 return.
            person(
                1,
                "North",
                &[Dementia],
                vec![line(1, "2026-04-01", Some("2026-09-30"))],
            ),
            // Starts on the last day of Q3.
            person(
                3,
                "South",
                &[LearningDisability],
                vec![line(1, "2026-12-31", None)],
            ),
        ];
        let location = SendingLocation::parse("sending_location", "100").unwrap();
        let rows = phs_return(&location, period("2026Q3"), &people);
        let snapshot = render_sds_snapshot_csv(&rows.sds_snapshot).unwrap();
        assert_eq!(
            snapshot,
            "sending_location,social_care_id,period,sds_period_start_date,sds_period_end_date,sds_start_date,sds_end_date,sds_option_1,sds_option_2,sds_option_3\r\n\
             100,P002,2026Q3,2026-10-01,2026-12-31,2026-04-01,2026-10-31,0,1,0\r\n\
             100,P002,2026Q3,2026-10-01,2026-12-31,2026-11-01,,0,1,1\r\n\
             100,P003,2026Q3,2026-10-01,2026-12-31,2026-12-31,,1,0,0\r\n"
        );
        let clients = render_client_csv(&rows.clients).unwrap();
        assert_eq!(
            clients,
            "sending_location,social_care_id,financial_year,financial_quarter,dementia,mental_health_problems,learning_disability,physical_and_sensory_disability,drugs,alcohol,palliative_care,carer,elderly_frail,neurological_condition,autism,other_vulnerable_groups\r\n\
             100,P002,2026,3,1,0,0,0,0,0,0,1,0,0,0,0\r\n\
             100,P003,2026,3,0,0,1,0,0,0,0,0,0,0,0,0\r\n"
        );
        // Person 1 is in the Q2 return.
        let q2 = phs_return(&location, period("2026Q2"), &people);
        assert_eq!(q2.clients.len(), 2);
        assert_eq!(q2.sds_snapshot[0].social_care_id, "P001");
    }

    #[test]
    fn every_client_group_has_its_own_column() {
        let groups: Vec<ClientGroup> = CLIENT_GROUP_COLUMNS
            .iter()
            .map(|(group, _)| *group)
            .collect();
        let every: Vec<ClientGroup> = <ClientGroup as sds_vocabulary::NamedEnum>::ALL.to_vec();
        assert_eq!(groups, every);
    }
}
