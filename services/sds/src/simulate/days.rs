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
use sds_platform::{ManualClock, Principal, Role, TokenIssuer};
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_vocabulary::AuthorityId;
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

use super::act::{self, Signed};
use super::checks::{self, Violation};
use super::faults::{self, Fault};
use super::workload::{Workload, run_dates};
use super::{Settings, Stopped, Totals, digest, progress, quiet, schedules};

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
    manual: ManualClock,
    platforms: Vec<Platform>,
    providers: Vec<Vec<proto::Provider>>,
    payments: PaymentsServiceClient<Channel>,
    observer: PgPool,
    ledger: PgPool,
    quiet: quiet::Quiet,
    /// Each authority's run dates within the run.
    run_dates: Vec<BTreeSet<NaiveDate>>,
    last_run: Vec<Option<NaiveDate>>,
    /// By fund index, once signed.
    signed: HashMap<usize, Signed>,
    totals: Totals,
}

/// One person's step of one day.
#[derive(Debug, Clone, Copy)]
enum Step {
    Accept(usize),
    Vary(usize, usize),
    End(usize),
}

enum Done {
    Signed(usize, Signed),
    Varied(usize, proto::Agreement),
    Ended,
}

impl<'a> Simulation<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        settings: &'a Settings,
        workload: &'a Workload,
        channel: Channel,
        manual: &ManualClock,
        secret: &str,
        observer: PgPool,
        ledger: PgPool,
        quiet: quiet::Quiet,
    ) -> Simulation<'a> {
        let tokens = signer(secret);
        let hand_clock = manual.clone();
        let hand: flow::Hand = Arc::new(move |day| {
            hand_clock.set(ManualClock::on(day).clock().now());
            Ok(())
        });
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
            platforms,
            providers: Vec::new(),
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
            totals: Totals::default(),
        }
    }

    pub(super) async fn run(&mut self) -> anyhow::Result<Result<Totals, Stopped>> {
        ensure!(
            self.platforms.len() == self.workload.authorities.len(),
            "an authority id the platform refuses"
        );
        for (platform, plan) in self.platforms.iter().zip(&self.workload.authorities) {
            let providers = act::set_up_authority(platform, plan, self.settings.start).await?;
            self.providers.push(providers);
        }
        let progress = progress::Progress::new(self.settings.days);
        for offset in 0..self.settings.days {
            let today = self.settings.day(offset);
            let found = self.day(offset, today).await.with_context(|| {
                format!("seed {}, day {} ({today})", self.settings.seed, offset + 1)
            })?;
            self.totals.events = self.events().await?;
            if let Some(violation) = found {
                progress.interrupt();
                return Ok(Err((self.totals.clone(), offset, violation)));
            }
            progress.day_done(
                offset + 1,
                today,
                self.totals.events,
                self.totals.faults,
                self.totals.checks,
            );
        }
        self.totals.digest = digest::digest_of(digest::book_lines(&self.observer).await?);
        Ok(Ok(self.totals.clone()))
    }

    /// One simulated day; a violation if a check found one.
    async fn day(&mut self, offset: u64, today: NaiveDate) -> anyhow::Result<Option<Violation>> {
        self.manual.set(ManualClock::on(today).clock().now());
        let steps = self.steps_of(today);
        let done = futures::stream::iter(steps.iter().copied())
            .map(|step| self.step(step))
            .buffer_unordered(self.settings.parallel)
            .collect::<Vec<_>>()
            .await;
        let mut touched: BTreeSet<usize> = BTreeSet::new();
        for result in done {
            match result? {
                Done::Signed(fund, signed) => {
                    touched.insert(fund);
                    self.signed.insert(fund, signed);
                }
                Done::Varied(fund, agreement) => {
                    touched.insert(fund);
                    if let Some(signed) = self.signed.get_mut(&fund) {
                        signed.agreement = agreement;
                    }
                }
                Done::Ended => {}
            }
        }
        for step in &steps {
            if let Step::End(fund) = step {
                touched.insert(*fund);
            }
        }
        let faults = faults::faults_of_day(self.settings.seed, self.settings.faults, offset);
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
                Fault::PaymentRunRetried => {}
            }
        }
        self.quiet.wait().await?;
        let mut ran = Vec::new();
        for (index, dates) in self.run_dates.iter().enumerate() {
            if dates.contains(&today) {
                act::run_payments(&self.platforms[index], today).await?;
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
        }
        steps
    }

    async fn step(&self, step: Step) -> anyhow::Result<Done> {
        match step {
            Step::Accept(index) => {
                let fund = &self.workload.funds[index];
                let provider = self.providers[fund.authority]
                    .get(fund.provider)
                    .context("the fund's provider")?;
                let signed = act::accept(&self.platforms[fund.authority], fund, provider).await?;
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
                Ok(Done::Ended)
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

    /// The day's checks, in order; the first violation.
    async fn check(
        &mut self,
        today: NaiveDate,
        ran: &[usize],
        touched: &BTreeSet<usize>,
    ) -> anyhow::Result<Option<Violation>> {
        self.totals.checks += 1;
        if let Some(found) = checks::the_ledger_audit_is_clean(&self.ledger).await? {
            return Ok(Some(found));
        }
        self.totals.checks += 1;
        if let Some(found) = checks::no_fund_balance_is_below_its_limit(&self.observer).await? {
            return Ok(Some(found));
        }
        // The schedules a run or a step of today changed; the others are as they were.
        let last_day = today == self.settings.day(self.settings.days - 1);
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
        Ok(checks::what_each_schedule_paid_equals_its_preview(&books))
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
