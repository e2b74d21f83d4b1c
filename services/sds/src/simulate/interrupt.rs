//! The interruptions of a simulated day ([`Fault`]s that stop something and start it
//! again), made between two parts of the day's steps: no client request of the run is in
//! flight, but the work the first part set off (relays publishing, consumers handling,
//! contracts drafting, payments making schedules) is.
//!
//! Why not while a step's request is in flight: the run's steps are whole flows of
//! requests, and most of those requests carry no idempotency key (recording a person,
//! publishing a package request, accepting an offer, signing), so a client that resent one
//! whose answer it never saw could not tell "done" from "refused". The one request that is
//! made to be asked again, a payment run, does have the platform killed under it
//! ([`Interrupter::run_payments_killed`]); the repeats of [`super::faults`] resend the
//! others that are meant to be resent.
//!
//! What must stay true: an interruption is counted only when it happened, and the
//! platform is whole again (serving, relays running, its connections good) before the
//! next step of the day, so the day's quiet-wait and checks see what a day without it
//! would have left.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::NaiveDate;
use tonic::transport::Channel;

use super::act;
use super::faults::Fault;
use super::infra::Infra;
use super::platform::{PlatformProcess, Relays};

/// How long a pooled connection of the platform may sit idle before it is pinged as it
/// is handed out (`sds_platform::db`'s `PING_IDLE_AFTER`), with a margin.
const PINGED_AFTER_IDLE: Duration = Duration::from_millis(1_200);

/// How long the relays stay stopped, beyond the time the platform takes to start again.
const RELAYS_STOPPED_FOR: Duration = Duration::from_millis(500);

/// How many interruptions of each kind happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub platform_kills: u64,
    pub platform_kills_mid_run: u64,
    pub nats_restarts: u64,
    pub postgres_restarts: u64,
    pub relay_stops: u64,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} platform kills, {} platform kills mid-run, {} NATS restarts, {} PostgreSQL restarts, {} relay stops",
            self.platform_kills,
            self.platform_kills_mid_run,
            self.nats_restarts,
            self.postgres_restarts,
            self.relay_stops
        )
    }
}

/// What the interruptions stop and start.
pub struct Interrupter<'a> {
    platform: PlatformProcess,
    infra: &'a Infra,
    /// The run's one channel to the platform, reconnected after a restart.
    channel: Channel,
    postgres_skip_told: bool,
    /// The kill waiting for the next payment run, and how far into it.
    armed_mid_run: Option<Duration>,
    /// Shared with the run, which tells it at the end.
    tally: Arc<Mutex<Tally>>,
}

impl<'a> Interrupter<'a> {
    pub fn new(
        platform: PlatformProcess,
        infra: &'a Infra,
        channel: Channel,
        tally: Arc<Mutex<Tally>>,
    ) -> Interrupter<'a> {
        Interrupter {
            platform,
            infra,
            channel,
            postgres_skip_told: false,
            armed_mid_run: None,
            tally,
        }
    }

    fn counted(&self, count: impl FnOnce(&mut Tally)) {
        count(&mut self.tally.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Makes `fault` happen; whether it did (a PostgreSQL the run did not start is never
    /// restarted). A repeat is not an interruption and does nothing here.
    pub async fn interrupt(&mut self, fault: Fault) -> anyhow::Result<bool> {
        match fault {
            Fault::PlatformKilled { .. } => {
                self.platform.kill().await?;
                self.platform
                    .start_again(Relays::Running, &self.channel)
                    .await
                    .context("the platform after a kill")?;
                self.counted(|tally| tally.platform_kills += 1);
            }
            Fault::NatsRestarted { .. } => {
                self.infra.restart_nats().await?;
                self.counted(|tally| tally.nats_restarts += 1);
            }
            Fault::PostgresRestarted { .. } => {
                if !self.infra.owns_postgres() {
                    if !self.postgres_skip_told {
                        eprintln!(
                            "simulate: PostgreSQL restarts are skipped: the run did not start its PostgreSQL (--database-url)"
                        );
                        self.postgres_skip_told = true;
                    }
                    return Ok(false);
                }
                self.infra.restart_postgres()?;
                // A connection that broke while pooled fails the next request made on it
                // as UNAVAILABLE, for the client to retry; the run's steps do not retry
                // single requests, so none is made until every connection pooled before
                // the restart has sat idle long enough to be pinged (and replaced) first.
                tokio::time::sleep(PINGED_AFTER_IDLE).await;
                self.counted(|tally| tally.postgres_restarts += 1);
            }
            Fault::RelaysStopped { .. } => {
                // The same process, but its relays held: the events the first part of the
                // day wrote, and those its consumers write, wait in the outboxes.
                self.platform.kill().await?;
                self.platform
                    .start_again(Relays::Held, &self.channel)
                    .await
                    .context("the platform with its relays stopped")?;
                tokio::time::sleep(RELAYS_STOPPED_FOR).await;
                self.platform.kill().await?;
                self.platform
                    .start_again(Relays::Running, &self.channel)
                    .await
                    .context("the platform with its relays running again")?;
                self.counted(|tally| tally.relay_stops += 1);
            }
            Fault::EventDeliveredTwice { .. }
            | Fault::PaymentRunRetried
            | Fault::NoticeRetried
            | Fault::PlatformKilledMidRun { .. } => {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Arms the kill of a [`Fault::PlatformKilledMidRun`] among `faults` for the next
    /// payment run (runs are rarer than days).
    pub fn arm(&mut self, faults: &[Fault]) {
        for fault in faults {
            if let Fault::PlatformKilledMidRun { after_ms } = fault {
                self.armed_mid_run = Some(Duration::from_millis(*after_ms));
            }
        }
    }

    /// The authority's payment run of `day`, through the kill armed if there is one;
    /// whether the platform was killed in it.
    pub async fn run_payments(
        &mut self,
        platform: &sds::flow::Platform,
        day: NaiveDate,
    ) -> anyhow::Result<bool> {
        match self.armed_mid_run.take() {
            Some(after) => {
                self.run_payments_killed(platform, day, after).await?;
                Ok(true)
            }
            None => {
                act::run_payments(platform, day).await?;
                Ok(false)
            }
        }
    }

    /// The authority's payment run of `day` with the platform killed `after` into it and
    /// started again: the run's task dies with the process, mid-phase. Finance staff, who
    /// never saw the run's answer, ask for the same run again until they have one (while
    /// the dead run's lock is still held it is refused as in progress); the payments
    /// service must finish it and pay nothing twice. Returns the run's instalments.
    async fn run_payments_killed(
        &mut self,
        platform: &sds::flow::Platform,
        day: NaiveDate,
        after: Duration,
    ) -> anyhow::Result<u64> {
        let asked = async {
            let answer = act::run_payments(platform, day).await;
            (answer, Instant::now())
        };
        let killing = async {
            tokio::time::sleep(after).await;
            let killed_at = Instant::now();
            self.platform.kill().await?;
            self.platform
                .start_again(Relays::Running, &self.channel)
                .await
                .context("the platform after a kill mid-run")?;
            anyhow::Ok(killed_at)
        };
        let ((answer, answered_at), killed) = tokio::join!(asked, killing);
        let killed_at = killed?;
        // A run answered before the kill came was not killed in: a kill mid-day all the same.
        if answer.is_ok() && answered_at < killed_at {
            self.counted(|tally| tally.platform_kills += 1);
        } else {
            self.counted(|tally| tally.platform_kills_mid_run += 1);
        }
        let deadline = Instant::now() + RUN_ASKED_AGAIN_FOR;
        let mut answer = answer;
        loop {
            match answer {
                Ok(instalments) => return Ok(instalments),
                Err(error) if Instant::now() < deadline && worth_asking_again(&error) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => {
                    return Err(error.context("the payment run asked for again after a kill"));
                }
            }
            answer = act::run_payments(platform, day).await;
        }
    }
}

/// How long finance staff go on asking for a run the platform was killed in.
const RUN_ASKED_AGAIN_FOR: Duration = Duration::from_secs(120);

/// Whether a client would ask again: the answer never came (the connection went with the
/// process), or the dead run's lock is not yet let go. Any other refusal is the platform's
/// answer and stands.
fn worth_asking_again(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<tonic::Status>())
        .any(|status| match status.code() {
            tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled => true,
            tonic::Code::FailedPrecondition => status.message().contains("is in progress"),
            _ => false,
        })
}
