//! The figures of a run: per ledger size, each phase's throughput (transfers a second),
//! p99 latency per call and the ratio to raw; printed as a table and, for the largest
//! size, as the JSON last line. Integer arithmetic on microseconds throughout.

use std::fmt::Write as _;
use std::time::Duration;

use super::clients::Measured;
use crate::bench::scratch::thousandths;

/// QUALITY.md P2: each phase at least 0.5x raw (in thousandths), single p99 at most 20 ms.
pub const TARGET_RATIO_THOUSANDTHS: u128 = 500;
pub const TARGET_SINGLE_P99_MICROS: u128 = 20_000;

impl Measured {
    /// Transfers a second.
    pub fn per_s(&self) -> u128 {
        u128::from(self.transfers) * 1_000_000 / self.elapsed.as_micros().max(1)
    }

    /// The 99th percentile of the calls' latencies (nearest rank), in microseconds.
    pub fn p99_micros(&self) -> u128 {
        let n = self.latencies.len();
        if n == 0 {
            return 0;
        }
        let rank = (n * 99).div_ceil(100).max(1);
        self.latencies[rank - 1].as_micros()
    }
}

/// One phase measured on both sides.
#[derive(Debug, Clone, Default)]
pub struct Pair {
    pub ours: Measured,
    pub raw: Measured,
}

impl Pair {
    /// Ours over raw, as speeds, in thousandths.
    pub fn ratio_thousandths(&self) -> u128 {
        let ours = u128::from(self.ours.transfers) * self.raw.elapsed.as_micros() * 1000;
        let raw = u128::from(self.raw.transfers) * self.ours.elapsed.as_micros();
        ours / raw.max(1)
    }
}

/// Everything measured at one ledger size.
#[derive(Debug, Clone, Default)]
pub struct SizeReport {
    pub accounts: usize,
    pub funds: usize,
    /// Writing the funds and accounts into both scratch databases.
    pub seeding: Duration,
    /// The opening funding through `PostBulk` (one transfer per fund).
    pub funding: Measured,
    pub single: Pair,
    pub batch: Pair,
    pub bulk: Pair,
    /// pg_stat_database's deadlocks over the run, both scratch databases.
    pub deadlocks: i64,
    /// The audit's last line for the service's scratch database.
    pub audit: String,
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct LedgerBenchReport {
    pub clients: usize,
    pub batch_size: usize,
    pub bulk_chunk: usize,
    pub sizes: Vec<SizeReport>,
}

/// Microseconds as milliseconds to the microsecond: `12.345`.
fn millis(micros: u128) -> String {
    thousandths(micros)
}

/// A phase's p99 for the table; bulk is one call, so it has none.
fn p99(phase: &str, measured: &Measured) -> String {
    if phase == "bulk" {
        "-".to_owned()
    } else {
        millis(measured.p99_micros())
    }
}

impl LedgerBenchReport {
    /// The size the JSON line reports: the largest, where flat cost matters most.
    pub fn largest(&self) -> Option<&SizeReport> {
        self.sizes.iter().max_by_key(|size| size.accounts)
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "ledger: {} clients; batches of {}; bulk in chunks of {}; ours / raw (target at least {}, single p99 at most {} ms)\n",
            self.clients,
            self.batch_size,
            self.bulk_chunk,
            thousandths(TARGET_RATIO_THOUSANDTHS),
            millis(TARGET_SINGLE_P99_MICROS),
        );
        let _ = writeln!(
            out,
            "  {:>9} {:>7}  {:<7} {:>9} {:>9} {:>7} {:>11} {:>11} {:>10}",
            "accounts",
            "funds",
            "phase",
            "per_s",
            "raw_per_s",
            "ratio",
            "p99_ms",
            "raw_p99_ms",
            "transfers"
        );
        for size in &self.sizes {
            for (phase, pair) in [
                ("single", &size.single),
                ("batch", &size.batch),
                ("bulk", &size.bulk),
            ] {
                let _ = writeln!(
                    out,
                    "  {:>9} {:>7}  {:<7} {:>9} {:>9} {:>7} {:>11} {:>11} {:>10}",
                    size.accounts,
                    size.funds,
                    phase,
                    pair.ours.per_s(),
                    pair.raw.per_s(),
                    thousandths(pair.ratio_thousandths()),
                    p99(phase, &pair.ours),
                    p99(phase, &pair.raw),
                    pair.ours.transfers,
                );
            }
            let _ = writeln!(
                out,
                "  {:>9} {:>7}  seeded in {} s; opening funding {}/s; deadlocks {}",
                size.accounts,
                size.funds,
                thousandths(size.seeding.as_millis()),
                size.funding.per_s(),
                size.deadlocks,
            );
        }
        out
    }

    /// The last line: the largest size's figures, and deadlocks over every size.
    pub fn to_json(&self) -> String {
        let size = self.largest().cloned().unwrap_or_default();
        let deadlocks: i64 = self.sizes.iter().map(|size| size.deadlocks).sum();
        let rpc = |pair: &Pair| {
            format!(
                "{{\"raw_per_s\": {}, \"per_s\": {}, \"ratio\": {}, \"p99_ms\": {}}}",
                pair.raw.per_s(),
                pair.ours.per_s(),
                thousandths(pair.ratio_thousandths()),
                millis(pair.ours.p99_micros())
            )
        };
        format!(
            "{{\"single\": {}, \"batch\": {}, \"bulk\": {{\"raw_per_s\": {}, \"per_s\": {}, \"ratio\": {}}}, \"deadlocks\": {deadlocks}}}",
            rpc(&size.single),
            rpc(&size.batch),
            size.bulk.raw.per_s(),
            size.bulk.ours.per_s(),
            thousandths(size.bulk.ratio_thousandths()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(transfers: u64, millis: u64, latencies: &[u64]) -> Measured {
        Measured {
            transfers,
            elapsed: Duration::from_millis(millis),
            latencies: latencies
                .iter()
                .map(|m| Duration::from_millis(*m))
                .collect(),
        }
    }

    #[test]
    fn p99_is_the_nearest_rank_and_ratio_compares_speeds() {
        let latencies: Vec<u64> = (1..=200).collect();
        let ours = measured(1_000, 2_000, &latencies);
        assert_eq!(ours.per_s(), 500);
        assert_eq!(ours.p99_micros(), 198_000);
        let pair = Pair {
            ours,
            raw: measured(3_000, 2_000, &[1]),
        };
        assert_eq!(pair.ratio_thousandths(), 333);
    }

    #[test]
    fn the_last_line_reports_the_largest_size() {
        let pair = |ours: u64| Pair {
            ours: measured(ours, 1_000, &[5]),
            raw: measured(1_000, 1_000, &[1]),
        };
        let report = LedgerBenchReport {
            clients: 8,
            batch_size: 100,
            bulk_chunk: 10_000,
            sizes: vec![
                SizeReport {
                    accounts: 1_000_000,
                    single: pair(600),
                    batch: pair(700),
                    bulk: pair(800),
                    ..SizeReport::default()
                },
                SizeReport {
                    accounts: 10_000,
                    single: pair(100),
                    deadlocks: 0,
                    ..SizeReport::default()
                },
            ],
        };
        assert_eq!(
            report.to_json(),
            "{\"single\": {\"raw_per_s\": 1000, \"per_s\": 600, \"ratio\": 0.600, \"p99_ms\": 5.000}, \
             \"batch\": {\"raw_per_s\": 1000, \"per_s\": 700, \"ratio\": 0.700, \"p99_ms\": 5.000}, \
             \"bulk\": {\"raw_per_s\": 1000, \"per_s\": 800, \"ratio\": 0.800}, \"deadlocks\": 0}"
        );
        assert!(report.table().contains("1000000"));
    }
}
