//! The days of a run, one after the other: each day's steps of the workload, its faults,
//! the payment runs of the authorities whose run date it is, and the checks, each part
//! once the platform is quiet.
//!
//! What must stay true: a day's steps may be served in any order (several at once), but
//! nothing of the next day starts before the day is quiet and checked; the books depend on
//! the seed only.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use chrono::NaiveDate;
use futures::StreamExt as _;
use sds::flow::{self, Platform};
use sds_platform::{ManualClock, Principal, TokenIssuer};
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_vocabulary::AuthorityId;
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

use super::act::{self, Signed};
use super::checks::Violation;
use super::faults::{self, Fault};
use super::history;
use super::interrupt::Interrupter;
use super::platform::FileClock;
use super::workload::{Workload, run_dates};
use super::{
    Settings, Stopped, Totals, digest, ledger_steps, logs, progress, quiet, steps, subscribers,
    uptake,
};

mod day_checks;
mod trail;

/// Signs a token for any principal with the run's own secret.
fn signer(secret: &str) -> flow::Tokens {
    let issuer = TokenIssuer::shared_secret(secret);
    Arc::new(move |principal: &Principal| {
        issuer
            .issue(principal, Duration::from_secs(3600))
            .unwrap_or_default()
    })
}

/// The days of the run, in order, and what they leave behind.
pub(super) struct Simulation<'a> {
    settings: &'a Settings,
    workload: &'a Workload,
    manual: FileClock,
    /// Makes the day's interruption (a kill, a restart, the relays stopped).
    interrupter: Interrupter<'a>,
    platforms: Vec<Platform>,
    setups: Vec<act::AuthoritySetup>,
    /// The providers' and holders' portal subscribers, once the authorities are set up.
    subscribers: Option<subscribers::Subscribers>,
    channel: Channel,
    payments: PaymentsServiceClient<Channel>,
    ledger_api: LedgerServiceClient<Channel>,
    observer: PgPool,
    ledger: PgPool,
    quiet: quiet::Quiet,
    /// Each authority's run dates within the run.
    run_dates: Vec<BTreeSet<NaiveDate>>,
    last_run: Vec<Option<NaiveDate>>,
    /// By fund index, once signed.
    signed: HashMap<usize, Signed>,
    /// What each authority's uptake statistics were last checked against.
    uptake_checked: Vec<Option<uptake::Expected>>,
    /// The wall time the statements, uptake and subscriber checks took, in that order.
    check_time: [Duration; 3],
    /// Where the last day's ledger audit left the hash chain: each day's audit walks only
    /// the links after it (the last day's, the whole chain).
    walk: sds_ledger::audit::ChainWalk,
    /// Each person's steps, the faults, and whose ids are whose: a violation's history.
    trail: history::Steps,
    faults_seen: Vec<(NaiveDate, String)>,
    known: HashMap<Uuid, usize>,
    totals: Totals,
}

/// One person's step of one day.
#[derive(Debug, Clone, Copy)]
enum Step {
    Accept(usize),
    Vary(usize, usize),
    End(usize),
    /// The provider reports the fund's actual number `.1`.
    Report(usize, usize),
    /// The fund's ledger movement number `.1`.
    Move(usize, usize),
    EndPlan(usize),
}

enum Done {
    Signed(usize, Signed),
    Varied(usize, proto::Agreement),
    /// A step that changes nothing the day keeps (a notice, a report, a plan's end).
    Recorded,
}

impl<'a> Simulation<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        settings: &'a Settings,
        workload: &'a Workload,
        channel: Channel,
        manual: &FileClock,
        secret: &str,
        observer: PgPool,
        ledger: PgPool,
        quiet: quiet::Quiet,
        interrupter: Interrupter<'a>,
    ) -> Simulation<'a> {
        let tokens = signer(secret);
        let hand_clock = manual.clone();
        let hand: flow::Hand =
            Arc::new(move |day| hand_clock.set(ManualClock::on(day).clock().now()));
        let platforms = workload
            .authorities
            .iter()
            .filter_map(|plan| {
                let authority = AuthorityId::parse("authority", &plan.id).ok()?;
                Some(Platform::in_one_process(
                    authority,
                    channel.clone(),
                    Arc::clone(&tokens),
                    Arc::clone(&hand),
                ))
            })
            .collect();
        let last_day = settings.day(settings.days - 1);
        Simulation {
            settings,
            workload,
            manual: manual.clone(),
            interrupter,
            platforms,
            setups: Vec::new(),
            subscribers: None,
            channel: channel.clone(),
            ledger_api: LedgerServiceClient::new(channel.clone()),
            payments: PaymentsServiceClient::new(channel),
            observer,
            ledger,
            quiet,
            run_dates: workload
                .authorities
                .iter()
                .map(|plan| run_dates(plan, settings.start, last_day))
                .collect(),
            last_run: vec![None; workload.authorities.len()],
            signed: HashMap::new(),
            uptake_checked: Vec::new(),
            check_time: [Duration::ZERO; 3],
            walk: sds_ledger::audit::ChainWalk::default(),
            trail: history::Steps::default(),
            faults_seen: Vec::new(),
            known: HashMap::new(),
            totals: Totals::default(),
        }
    }

    pub(super) async fn run(&mut self) -> anyhow::Result<Result<Totals, Stopped>> {
        ensure!(
            self.platforms.len() == self.workload.authorities.len(),
            "an authority id the platform refuses"
        );
        for (platform, plan) in self.platforms.iter().zip(&self.workload.authorities) {
            let setup = act::set_up_authority(platform, plan, self.settings.start).await?;
            self.setups.push(setup);
        }
        self.subscribers = Some(subscribers::Subscribers::of_everyone(
            &self.channel,
            &self.platforms,
            &self.setups,
            self.settings,
        )?);
        let progress = progress::Progress::new(self.settings.days);
        for offset in 0..self.settings.days {
            let today = self.settings.day(offset);
            let found = self.day(offset, today).await.with_context(|| {
                format!("seed {}, day {} ({today})", self.settings.seed, offset + 1)
            })?;
            self.totals.events = self.events().await?;
            if let Some(violation) = found {
                progress.interrupt();
                let (people, history) = self.history_of(&violation).await?;
                return Ok(Err(Stopped {
                    totals: self.totals.clone(),
                    offset,
                    violation,
                    people,
                    history,
                }));
            }
            progress.day_done(
                offset + 1,
                today,
                self.totals.events,
                self.totals.faults,
                self.totals.checks,
            );
        }
        eprintln!(
            "simulate: {} lines of the services' logs looked at for personal data; \
             {:.1} s reconciling statements, {:.1} s on uptake, {:.1} s on subscribers",
            logs::seen().lines,
            self.check_time[0].as_secs_f64(),
            self.check_time[1].as_secs_f64(),
            self.check_time[2].as_secs_f64(),
        );
        self.totals.digest = digest::digest_of(digest::book_lines(&self.observer).await?);
        Ok(Ok(self.totals.clone()))
    }

    /// One simulated day; a violation if a check found one.
    async fn day(&mut self, offset: u64, today: NaiveDate) -> anyhow::Result<Option<Violation>> {
        self.manual.set(ManualClock::on(today).clock().now())?;
        if self.workload.uplifts.contains(&today) {
            // Before the day's steps, so that no agreement is drafted while its card moves.
            for (platform, setup) in self.platforms.iter().zip(&self.setups) {
                act::uplift(platform, &setup.cards, today).await?;
            }
            self.quiet.wait().await?;
        }
        if let Some(subscribers) = &mut self.subscribers {
            subscribers.on_day(today);
        }
        let steps = self.steps_of(today);
        let faults = faults::faults_of_day(self.settings.seed, self.settings.faults, offset);
        // The day's interruption, if any, comes between two parts of its steps, while the
        // work the first part set off is still in flight.
        let named: Vec<String> = faults.iter().map(|fault| format!("{fault:?}")).collect();
        self.record_day(today, &steps, &named);
        let interruption = faults::interruption(&faults, steps.len());
        let (before, after) = steps.split_at(interruption.map_or(steps.len(), |(_, at)| at));
        let mut done = self.steps_at_once(before).await;
        if let Some((fault, _)) = interruption
            && self.interrupter.interrupt(fault).await?
        {
            self.totals.faults += 1;
        }
        done.extend(self.steps_at_once(after).await);
        let mut touched: BTreeSet<usize> = BTreeSet::new();
        for result in done {
            match result? {
                Done::Signed(fund, signed) => {
                    touched.insert(fund);
                    self.remember(fund, &signed);
                    self.signed.insert(fund, signed);
                }
                Done::Varied(fund, agreement) => {
                    touched.insert(fund);
                    if let Some(signed) = self.signed.get_mut(&fund) {
                        signed.agreement = agreement;
                    }
                }
                Done::Recorded => {}
            }
        }
        for step in &steps {
            if let Step::End(fund)
            | Step::Report(fund, _)
            | Step::EndPlan(fund)
            | Step::Move(fund, _) = step
            {
                touched.insert(*fund);
            }
        }
        for fault in &faults {
            match fault {
                Fault::EventDeliveredTwice { pick } => {
                    if faults::deliver_an_event_twice(
                        &self.observer,
                        self.quiet.jetstream(),
                        self.quiet.outboxes(),
                        *pick,
                    )
                    .await?
                    {
                        self.totals.faults += 1;
                    }
                }
                Fault::NoticeRetried => {
                    // The notice of the day given again, as a client that lost the answer.
                    if let Some(Step::End(fund)) =
                        steps.iter().find(|step| matches!(step, Step::End(_)))
                    {
                        self.end(*fund).await?;
                        self.totals.faults += 1;
                    }
                }
                // The run's retry comes with the day's runs; the interruption came earlier.
                Fault::PaymentRunRetried
                | Fault::PlatformKilled { .. }
                | Fault::NatsRestarted { .. }
                | Fault::PostgresRestarted { .. }
                | Fault::RelaysStopped { .. }
                | Fault::PlatformKilledMidRun { .. } => {}
            }
        }
        self.quiet.wait().await?;
        let mut ran = Vec::new();
        // A kill drawn for a payment run waits for the next run, today's or a later day's.
        self.interrupter.arm(&faults);
        for (index, dates) in self.run_dates.iter().enumerate() {
            if dates.contains(&today) {
                if self
                    .interrupter
                    .run_payments(&self.platforms[index], today)
                    .await?
                {
                    self.totals.faults += 1;
                }
                ran.push(index);
            }
        }
        for index in &ran {
            self.last_run[*index] = Some(today);
        }
        if faults.contains(&Fault::PaymentRunRetried)
            && let Some(index) = ran.first()
        {
            // The same run asked for again: it must pay nothing twice.
            act::run_payments(&self.platforms[*index], today).await?;
            self.totals.faults += 1;
        }
        self.quiet.wait().await?;
        if self.settings.plant_wrong_balance_on_day == Some(offset + 1) {
            self.plant_wrong_balance().await?;
        }
        self.check(today, &ran, &touched).await
    }

    /// The day's steps: acceptances, variations and notices, in fund order.
    fn steps_of(&self, today: NaiveDate) -> Vec<Step> {
        let mut steps = Vec::new();
        for (index, fund) in self.workload.funds.iter().enumerate() {
            if fund.accepted_on == today {
                steps.push(Step::Accept(index));
            }
            if let Some(number) = fund
                .variations
                .iter()
                .position(|variation| variation.on == today)
            {
                steps.push(Step::Vary(index, number));
            }
            if fund.ending.is_some_and(|ending| ending.on == today) {
                steps.push(Step::End(index));
            }
            if fund.plan_end.is_some_and(|end| end.on == today) {
                steps.push(Step::EndPlan(index));
            }
            if let Some(number) = fund.ledger.iter().position(|movement| movement.on == today) {
                steps.push(Step::Move(index, number));
            }
            for (number, actual) in fund.terms.actuals.iter().flatten().enumerate() {
                if actual.on == today {
                    steps.push(Step::Report(index, number));
                }
            }
        }
        steps
    }

    /// `steps`, several at once.
    async fn steps_at_once(&self, steps: &[Step]) -> Vec<anyhow::Result<Done>> {
        futures::stream::iter(steps.iter().copied())
            .map(|step| self.step(step))
            .buffer_unordered(self.settings.parallel)
            .collect()
            .await
    }

    async fn step(&self, step: Step) -> anyhow::Result<Done> {
        match step {
            Step::Accept(index) => {
                let fund = &self.workload.funds[index];
                let setup = &self.setups[fund.authority];
                let provider = setup
                    .providers
                    .get(fund.provider)
                    .context("the fund's provider")?;
                let platform = &self.platforms[fund.authority];
                let mut signed = act::accept(platform, fund, provider, &setup.holder).await?;
                if fund.terms.varied() {
                    signed.agreement = steps::vary_terms(platform, fund, &signed)
                        .await
                        .with_context(|| format!("{}: the terms varied", fund.case_reference()))?;
                }
                Ok(Done::Signed(index, signed))
            }
            Step::Vary(index, number) => {
                let fund = &self.workload.funds[index];
                let signed = self.signed.get(&index).context("a varied fund is signed")?;
                let agreement = act::vary(
                    &self.platforms[fund.authority],
                    signed,
                    &fund.variations[number],
                )
                .await
                .with_context(|| format!("{}: the variation", fund.case_reference()))?;
                Ok(Done::Varied(index, agreement))
            }
            Step::End(index) => {
                self.end(index).await?;
                Ok(Done::Recorded)
            }
            Step::Report(index, number) => {
                let fund = &self.workload.funds[index];
                let signed = self
                    .signed
                    .get(&index)
                    .context("a reporting fund is signed")?;
                steps::report(&self.platforms[fund.authority], fund, signed, number).await?;
                Ok(Done::Recorded)
            }
            Step::Move(index, number) => {
                let fund = &self.workload.funds[index];
                let signed = self.signed.get(&index).context("a fund moved is signed")?;
                let movement = &fund.ledger[number];
                ledger_steps::make(&self.platforms[fund.authority], fund, signed, movement).await?;
                Ok(Done::Recorded)
            }
            Step::EndPlan(index) => {
                let fund = &self.workload.funds[index];
                let signed = self
                    .signed
                    .get(&index)
                    .context("an ending plan is signed")?;
                steps::end_plan(&self.platforms[fund.authority], fund, signed).await?;
                Ok(Done::Recorded)
            }
        }
    }

    async fn end(&self, index: usize) -> anyhow::Result<()> {
        let fund = &self.workload.funds[index];
        let signed = self.signed.get(&index).context("an ended fund is signed")?;
        let ending = fund.ending.context("the fund ends")?;
        act::end(&self.platforms[fund.authority], signed, &ending)
            .await
            .with_context(|| format!("{}: the notice", fund.case_reference()))
    }

    /// Every event the services have written so far.
    async fn events(&self) -> anyhow::Result<u64> {
        let mut events = 0;
        for outbox in self.quiet.outboxes() {
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {outbox}"
            )))
            .fetch_one(&self.observer)
            .await
            .with_context(|| format!("count the events of {outbox}"))?;
            events += u64::try_from(count).unwrap_or(0);
        }
        Ok(events)
    }
}
