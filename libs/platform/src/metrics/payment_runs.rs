//! The payment runs in progress in this OS process, for `sds_payment_run_done` and
//! `sds_payment_run_total` (see the module above for why they are kept once per OS
//! process rather than per [`super::Metrics`]).
//!
//! What must stay true: a run shows only its current phase; its series go when the run
//! ends, however it ends (its [`PaymentRunGauges`] is dropped); a run that ends never
//! removes the series of a later run of the same authority.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use super::lock;

/// What one run shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shown {
    /// Which [`PaymentRunGauges`] set it.
    owner: u64,
    pub(super) phase: &'static str,
    pub(super) done: u64,
    pub(super) total: u64,
}

/// The runs in progress, by authority.
static RUNS: LazyLock<Mutex<BTreeMap<String, Shown>>> = LazyLock::new(Mutex::default);

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// Calls `each` with every run in progress.
pub(super) fn each(mut each: impl FnMut(&str, &Shown)) {
    for (authority, shown) in lock(&RUNS).iter() {
        each(authority, shown);
    }
}

/// The progress gauges of one payment run in progress; its series go when it is dropped.
#[derive(Debug)]
pub struct PaymentRunGauges {
    authority: String,
    owner: u64,
}

impl PaymentRunGauges {
    /// Gauges for a run of `authority`, showing nothing until [`PaymentRunGauges::show`].
    pub fn new(authority: &str) -> PaymentRunGauges {
        PaymentRunGauges {
            authority: authority.to_owned(),
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The run is in `phase` (`planning`, `funds`, `posting`, `exporting`), `done` of
    /// `total` items through it. Replaces what the run showed before.
    pub fn show(&self, phase: &'static str, done: u64, total: u64) {
        lock(&RUNS).insert(
            self.authority.clone(),
            Shown {
                owner: self.owner,
                phase,
                done,
                total,
            },
        );
    }
}

impl Drop for PaymentRunGauges {
    fn drop(&mut self) {
        let mut runs = lock(&RUNS);
        if runs
            .get(&self.authority)
            .is_some_and(|shown| shown.owner == self.owner)
        {
            runs.remove(&self.authority);
        }
    }
}
