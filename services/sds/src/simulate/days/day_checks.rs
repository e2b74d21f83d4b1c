//! The day's checks, in order, once the platform is quiet: the ledger's audit and limits,
//! the schedules the day touched, the statements of the funds that moved, each authority's
//! uptake, the logs and the portal subscribers. A child of [`super`], so it reads the
//! run's state as the days leave it.
//!
//! What must stay true: the checks only read; each counts once in the run's checks when
//! it is made; the first violation stops the day's checks.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use anyhow::Context as _;
use chrono::NaiveDate;
use sds::flow::Platform;
use sds_platform::Role;
use uuid::Uuid;

use super::super::checks::{self, Violation};
use super::super::rng::Rng;
use super::super::{logs, schedules, statements, subscribers, uptake};
use super::Simulation;

/// The most funds whose statements a day's check reads (but on the last day, every one).
const STATEMENTS_A_DAY: usize = 200;

impl Simulation<'_> {
    /// The day's checks, in order; the first violation.
    pub(super) async fn check(
        &mut self,
        today: NaiveDate,
        ran: &[usize],
        touched: &BTreeSet<usize>,
    ) -> anyhow::Result<Option<Violation>> {
        let last_day = today == self.settings.day(self.settings.days - 1);
        self.totals.checks += 1;
        if let Some(found) =
            checks::the_ledger_audit_is_clean(&self.ledger, &mut self.walk, last_day).await?
        {
            return Ok(Some(found));
        }
        self.totals.checks += 1;
        if let Some(found) = checks::no_fund_balance_is_below_its_limit(&self.observer).await? {
            return Ok(Some(found));
        }
        // The schedules a run or a step of today changed; the others are as they were.
        let mut agreements = Vec::new();
        for (index, signed) in &self.signed {
            let fund = &self.workload.funds[*index];
            if !(last_day || touched.contains(index) || ran.contains(&fund.authority)) {
                continue;
            }
            let before_any = self
                .settings
                .start
                .pred_opt()
                .unwrap_or(self.settings.start);
            agreements.push((
                Uuid::parse_str(&signed.agreement.id).context("an agreement's id")?,
                self.workload.authorities[fund.authority].id.clone(),
                self.last_run[fund.authority].unwrap_or(before_any),
            ));
        }
        agreements.sort();
        let platforms: HashMap<String, &Platform> = self
            .platforms
            .iter()
            .map(|platform| (platform.authority.as_str().to_owned(), platform))
            .collect();
        let finance = |authority: &str| {
            platforms
                .get(authority)
                .map(|platform| platform.staff(&[Role::Finance]))
                .unwrap_or_default()
        };
        let books =
            schedules::load(&self.observer, &self.payments, &finance, &agreements, today).await?;
        self.totals.checks += 1;
        if let Some(found) = checks::every_due_instalment_is_paid_exactly_once(&books) {
            return Ok(Some(found));
        }
        self.totals.checks += 1;
        if let Some(found) = checks::what_each_schedule_paid_equals_its_preview(&books) {
            return Ok(Some(found));
        }
        // The statements of the funds that moved today (every fund on the last day).
        let started = Instant::now();
        let mut people: Vec<Uuid> = touched
            .iter()
            .filter_map(|index| self.signed.get(index))
            .filter_map(|signed| Uuid::parse_str(&signed.person_id).ok())
            .collect();
        people.sort();
        // A payment run moves every fund of its authority; their statements are read on
        // a sample drawn from the seed (every one on the last day), which keeps a day's
        // reading bounded however many funds the run holds.
        if !last_day && people.len() > STATEMENTS_A_DAY {
            let day = u64::try_from((today - self.settings.start).num_days()).unwrap_or(0);
            let mut draw = Rng::stream(self.settings.seed, "statements", day);
            for kept in 0..STATEMENTS_A_DAY {
                let left = (people.len() - kept) as u64;
                let pick = kept + usize::try_from(draw.below(left)).unwrap_or(0);
                people.swap(kept, pick);
            }
            people.truncate(STATEMENTS_A_DAY);
            people.sort();
        }
        let statements = statements::load(
            &self.observer,
            &self.ledger_api,
            &finance,
            &people,
            today,
            last_day,
            self.settings.parallel,
        )
        .await?;
        self.check_time[0] += started.elapsed();
        self.totals.checks += 1;
        if let Some(found) = statements::statements_reconcile_with_the_ledger(&statements) {
            return Ok(Some(found));
        }
        let started = Instant::now();
        let expected = uptake::expected(
            self.workload.funds.iter(),
            |index| self.signed.contains_key(&index),
            self.platforms.len(),
            today,
        );
        let seen = uptake::load(
            &self.platforms,
            expected,
            &mut self.uptake_checked,
            today,
            last_day,
        )
        .await?;
        self.check_time[1] += started.elapsed();
        self.totals.checks += 1;
        if let Some(found) = uptake::uptake_statistics_count_each_active_person_once(&seen) {
            return Ok(Some(found));
        }
        self.totals.checks += 1;
        if let Some(found) = logs::no_personal_data_in_logs(&logs::seen()) {
            return Ok(Some(found));
        }
        let Some(subscribers) = &self.subscribers else {
            return Ok(None);
        };
        let started = Instant::now();
        let seen = subscribers.seen(&self.observer).await?;
        self.check_time[2] += started.elapsed();
        self.totals.checks += 1;
        Ok(subscribers::every_subscriber_got_every_notification_once_in_order(&seen))
    }
}
