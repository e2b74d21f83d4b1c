//! The notification benchmark (QUALITY.md P3, issue 11): how long after a plan variation is
//! committed the provider's portal subscriber is told of the recomputed schedule, at a
//! steady rate of variations. Every service runs in this process on a scratch database (as
//! `sds serve` composes them), driven through their public APIs by the flow of
//! [`sds::flow`].
//!
//! What is timed: a variation of a person's plan is agreed when the last party signs the
//! agreement's variation (`SignAgreement` returns: the version is committed and
//! `agreement.varied` is in the outbox); from then, the event crosses NATS to payments,
//! which recomputes the schedule and publishes `schedule.changed`, which crosses NATS to the
//! portal, which stores the notification and wakes the subscriber's stream. The latency is
//! from the signature's answer to the notification's arrival at the subscriber. The plan
//! variation and the first signatures before it are load, not timed.
//!
//! The raw baseline, measured in the same run: a core NATS publish to a subscriber on the
//! same server, at the same rate, one hop where the platform's path has two hops plus the
//! services' work.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt as _;
use sds::flow::{self, Calendar, Platform};
use sds_platform::{AuthorityId, ManualClock, Principal, Role, TokenIssuer};
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_client::DirectoryServiceClient;
use sds_proto::v1::portal_service_client::PortalServiceClient;
use sqlx::PgPool;
use tokio::sync::Mutex;

use super::scratch::{config_for, drop_database, scratch_database, thousandths};

/// QUALITY.md P3: p50 at most 20 ms and p99 at most 100 ms.
pub const TARGET_P50_MS: u64 = 20;
pub const TARGET_P99_MS: u64 = 100;

/// What the load generator does at the aimed rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Load {
    /// Every variation is made ready beforehand, untimed (the plan varied and approved, the
    /// agreement's variation drafted and signed by the person and the provider); at the rate,
    /// the practitioner's last signature agrees each one. One variation an agreement.
    LastSignature,
    /// The whole workflow of each variation at the rate (read, vary, submit and approve the
    /// plan; wait for the draft; three signatures), the agreements varied in turn, a day at
    /// a time. On two cores the workflow itself is the limit.
    WholeWorkflow,
}

impl Load {
    fn name(self) -> &'static str {
        match self {
            Load::LastSignature => "last-signature",
            Load::WholeWorkflow => "whole-workflow",
        }
    }
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub load: Load,
    /// People with an active agreement: each varied once (`LastSignature`; at least the
    /// rate times the seconds) or in turn (`WholeWorkflow`).
    pub agreements: usize,
    /// Variations a second to aim at.
    pub rate: u32,
    /// How long to keep the rate up.
    pub seconds: u64,
}

/// What one run measured: latencies in microseconds, sorted.
#[derive(Debug, Clone)]
pub struct NotifyReport {
    pub options: Options,
    pub variations: usize,
    pub elapsed: Duration,
    pub latencies_us: Vec<u64>,
    pub lost: usize,
    pub duplicated: usize,
    /// Notifications that arrived before the signature's answer reached the client (their
    /// latency is taken as 0).
    pub early: usize,
    pub raw_latencies_us: Vec<u64>,
}

fn percentile(sorted: &[u64], per_thousand: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let index = (sorted.len() * per_thousand)
        .div_ceil(1000)
        .saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

impl NotifyReport {
    /// Variations agreed a second, in thousandths.
    fn rate_thousandths(&self) -> u128 {
        (self.variations as u128) * 1_000_000 / self.elapsed.as_millis().max(1)
    }

    fn ms(us: u64) -> String {
        thousandths(u128::from(us))
    }

    pub fn table(&self) -> String {
        let p50 = percentile(&self.latencies_us, 500);
        let p99 = percentile(&self.latencies_us, 990);
        format!(
            "notifications: plan variation agreed -> schedule recomputed -> portal subscriber told\n  \
             load {}: aimed at {} variations/s over {} agreements for {} s\n  \
             variations agreed {:>8}   rate {:>9}/s\n  \
             latency p50 {:>9} ms   p99 {:>9} ms   max {:>9} ms   (target p50 <= {TARGET_P50_MS}, p99 <= {TARGET_P99_MS})\n  \
             raw NATS publish -> subscriber p50 {:>9} ms   p99 {:>9} ms\n  \
             lost {}   duplicated {}   told before the signature's answer arrived {}",
            self.options.load.name(),
            self.options.rate,
            self.options.agreements,
            self.options.seconds,
            self.variations,
            thousandths(self.rate_thousandths()),
            Self::ms(p50),
            Self::ms(p99),
            Self::ms(self.latencies_us.last().copied().unwrap_or(0)),
            Self::ms(percentile(&self.raw_latencies_us, 500)),
            Self::ms(percentile(&self.raw_latencies_us, 990)),
            self.lost,
            self.duplicated,
            self.early,
        )
    }

    /// The last line: the keys issue 11 names, then the raw baseline's.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"rate_per_s\": {}, \"p50_ms\": {}, \"p99_ms\": {}, \"lost\": {}, \"duplicated\": {}, \"variations\": {}, \"early\": {}, \"raw_p50_ms\": {}, \"raw_p99_ms\": {}, \"load\": \"{}\"}}",
            thousandths(self.rate_thousandths()),
            Self::ms(percentile(&self.latencies_us, 500)),
            Self::ms(percentile(&self.latencies_us, 990)),
            self.lost,
            self.duplicated,
            self.variations,
            self.early,
            Self::ms(percentile(&self.raw_latencies_us, 500)),
            Self::ms(percentile(&self.raw_latencies_us, 990)),
            self.options.load.name(),
        )
    }
}

/// Runs the benchmark on a scratch database of the PostgreSQL at `database_url`.
pub async fn notify_benchmark(
    database_url: &str,
    nats_url: &str,
    options: Options,
) -> anyhow::Result<NotifyReport> {
    anyhow::ensure!(options.agreements > 0, "--agreements must be at least 1");
    anyhow::ensure!(options.rate > 0, "--rate must be at least 1");
    let needed = u64::from(options.rate).saturating_mul(options.seconds);
    anyhow::ensure!(
        options.load == Load::WholeWorkflow
            || u64::try_from(options.agreements).unwrap_or(u64::MAX) >= needed,
        "--agreements must be at least --rate times --seconds ({needed}) for --load last-signature: each agreement is varied once"
    );
    let admin = PgPool::connect(database_url)
        .await
        .with_context(|| format!("connect to PostgreSQL at {database_url}"))?;
    let (name, url) = scratch_database(&admin, database_url, "notify").await?;
    let outcome = measure(&url, nats_url, options).await;
    drop_database(&admin, &name).await;
    outcome
}

async fn measure(
    database_url: &str,
    nats_url: &str,
    options: Options,
) -> anyhow::Result<NotifyReport> {
    let config = config_for(database_url, nats_url)?;
    let sds_platform::config::JwtConfig::SharedSecret(secret) = config.jwt.clone() else {
        anyhow::bail!("the benchmark signs its own tokens: unset SDS_JWT_PUBLIC_KEYS_FILE");
    };
    let calendar = Calendar::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).context("a day")?);
    let clock = ManualClock::on(calendar.accepted_on);
    let process = sds_runtime::build_with_clock(config, sds::components(), clock.clock()).await?;
    let addr = process.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));
    let outcome = async {
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        let issuer = TokenIssuer::shared_secret(&secret);
        let tokens: flow::Tokens = Arc::new(move |principal: &Principal| {
            issuer
                .issue(principal, Duration::from_secs(3600))
                .unwrap_or_default()
        });
        let hand: flow::Hand = {
            let clock = clock.clone();
            Arc::new(move |day| {
                clock.set(ManualClock::on(day).clock().now());
                Ok(())
            })
        };
        let platform = Platform::in_one_process(
            AuthorityId::parse("authority", "bench-shire")?,
            channel,
            tokens,
            hand,
        );
        let (provider, agreements) = prepare(&platform, &calendar, options.agreements).await?;
        let ready = match options.load {
            Load::LastSignature => {
                Some(ready_to_sign(&platform, &calendar, &provider, &agreements).await?)
            }
            Load::WholeWorkflow => None,
        };
        let raw_latencies_us = raw_baseline(nats_url, options).await?;
        let subscriber = Subscriber::start(&platform, &provider).await?;
        eprintln!(
            "timing {} variations a second for {} s...",
            options.rate, options.seconds
        );
        let (committed, elapsed) = match ready {
            Some(ready) => last_signatures(&platform, &ready, options).await?,
            None => whole_workflows(&platform, &calendar, &provider, &agreements, options).await?,
        };
        Ok(subscriber
            .report(committed, elapsed, options, raw_latencies_us)
            .await)
    }
    .await;
    let _ = stop.send(());
    let _ = running.await;
    outcome
}

/// One provider and `count` people with an active agreement with it (untimed).
async fn prepare(
    platform: &Platform,
    calendar: &Calendar,
    count: usize,
) -> anyhow::Result<(proto::Provider, Vec<(String, proto::Agreement)>)> {
    platform.on_day(calendar.assessed_on())?;
    flow::setup::authority(platform, calendar).await?;
    let provider = DirectoryServiceClient::new(platform.directory.clone())
        .register_provider(flow::bearer(
            &platform.staff(&[Role::Commissioning]),
            proto::RegisterProviderRequest {
                details: Some(proto::ProviderDetails {
                    name: "Bench Home Support".into(),
                    kind: proto::ProviderKind::VoluntaryOrganisation as i32,
                    service_types: vec!["Care at home".into()],
                    localities: vec!["Benchshire".into()],
                    capacity: Some(10_000),
                    ..proto::ProviderDetails::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .context("register the provider")?
        .into_inner();
    flow::setup::provider_ready(platform, &provider).await?;
    eprintln!("preparing {count} people with an active agreement...");
    let people = futures::stream::iter((0..count).map(|index| async move {
        flow::setup::person_with_plan(
            platform,
            calendar,
            &flow::setup::Person {
                case_reference: &format!("BENCH-{index:06}"),
                name: "Bench Person",
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1950, 1, 1).context("a day")?,
                locality: "Benchshire",
                client_group: sds_proto::v1::ClientGroup::ElderlyFrail,
            },
        )
        .await
    }))
    .buffer_unordered(8)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect::<anyhow::Result<Vec<_>>>()?;
    platform.on_day(calendar.accepted_on)?;
    let prepared = futures::stream::iter(people.into_iter().map(|person_id| {
        let provider = provider.clone();
        async move {
            let agreement =
                flow::choose_and_sign(platform, calendar, &person_id, &provider).await?;
            Ok::<_, anyhow::Error>((person_id, agreement))
        }
    }))
    .buffer_unordered(8)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((provider, prepared))
}

/// When each agreed variation's notification arrived, keyed by agreement and version.
type Arrivals = Arc<Mutex<HashMap<(String, u32), Vec<Instant>>>>;

/// Each agreed variation (agreement and version) with when its last signature's answer
/// arrived.
type Committed = Vec<((String, u32), Instant)>;

/// The provider's portal subscription, noting when each `schedule.changed` of a variation
/// arrives.
struct Subscriber {
    arrivals: Arrivals,
    listening: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Subscribes, catches up with what preparing told the provider, then listens.
    async fn start(platform: &Platform, provider: &proto::Provider) -> anyhow::Result<Subscriber> {
        let mut stream = PortalServiceClient::new(platform.portal.clone())
            .subscribe(flow::bearer(
                &platform.provider(&provider.id),
                proto::SubscribeRequest::default(),
            ))
            .await
            .context("subscribe")?
            .into_inner();
        while let Ok(Some(_)) =
            tokio::time::timeout(Duration::from_millis(500), stream.next()).await
        {}
        let arrivals: Arrivals = Arc::default();
        let listening = {
            let arrivals = Arc::clone(&arrivals);
            tokio::spawn(async move {
                while let Some(Ok(notification)) = stream.next().await {
                    if let Some(proto::notification::Body::ScheduleChanged(notice)) =
                        notification.body
                        && notice.change == proto::ScheduleChangeKind::Varied as i32
                    {
                        arrivals
                            .lock()
                            .await
                            .entry((notice.agreement_id, notice.agreement_version))
                            .or_default()
                            .push(Instant::now());
                    }
                }
            })
        };
        Ok(Subscriber {
            arrivals,
            listening,
        })
    }

    /// Waits a while for the last notifications, then matches each agreed variation with
    /// its first notification.
    async fn report(
        self,
        committed: Committed,
        elapsed: Duration,
        options: Options,
        raw_latencies_us: Vec<u64>,
    ) -> NotifyReport {
        let settle = Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.arrivals.lock().await.len();
            if arrived >= committed.len() || Instant::now() >= settle {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.listening.abort();
        let arrivals = self.arrivals.lock().await;
        let mut latencies_us = Vec::with_capacity(committed.len());
        let mut lost = 0;
        let mut duplicated = 0;
        let mut early = 0;
        for (key, at) in &committed {
            match arrivals.get(key) {
                Some(times) => {
                    duplicated += times.len().saturating_sub(1);
                    // The notification may beat the signature's answer back to this client:
                    // counted as 0, and counted.
                    if times[0] < *at {
                        early += 1;
                    }
                    let latency = times[0].saturating_duration_since(*at);
                    latencies_us.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
                }
                None => lost += 1,
            }
        }
        latencies_us.sort_unstable();
        NotifyReport {
            options,
            variations: committed.len(),
            elapsed,
            latencies_us,
            lost,
            duplicated,
            early,
            raw_latencies_us,
        }
    }
}

/// Makes one variation of each agreement ready for its last signature, from the day after
/// the first run (untimed).
async fn ready_to_sign(
    platform: &Platform,
    calendar: &Calendar,
    provider: &proto::Provider,
    agreements: &[(String, proto::Agreement)],
) -> anyhow::Result<Vec<proto::Agreement>> {
    eprintln!(
        "making {} variations ready for their last signature...",
        agreements.len()
    );
    let day = calendar.first_run().succ_opt().context("a next day")?;
    platform.on_day(day)?;
    futures::stream::iter(agreements.iter().map(|(person_id, agreement)| {
        let provider_id = provider.id.clone();
        async move {
            flow::vary_to_last_signature(
                platform,
                person_id,
                agreement,
                &provider_id,
                day,
                "301.00",
            )
            .await
        }
    }))
    .buffer_unordered(8)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect()
}

/// At the rate, the practitioner signs each ready variation last, each its own task
/// started on its tick, so the rate holds whatever the ones before are doing.
async fn last_signatures(
    platform: &Platform,
    ready: &[proto::Agreement],
    options: Options,
) -> anyhow::Result<(Committed, Duration)> {
    let interval = Duration::from_micros(1_000_000 / u64::from(options.rate));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut next_start = started;
    let mut in_flight = tokio::task::JoinSet::new();
    for awaiting in ready {
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep_until(next_start.into()).await;
        next_start += interval;
        let platform = platform.clone();
        let awaiting = awaiting.clone();
        in_flight.spawn(async move {
            let signed = flow::sign_last(&platform, &awaiting).await;
            (signed, Instant::now())
        });
    }
    let mut committed = Vec::with_capacity(ready.len());
    while let Some(joined) = in_flight.join_next().await {
        let (signed, at) = joined.context("a signature's task")?;
        let signed = signed?;
        committed.push(((signed.id, signed.version), at));
    }
    Ok((committed, started.elapsed()))
}

/// Rounds: each a new day on which every agreement goes through the whole workflow of a
/// variation once, the starts spaced to keep the rate, at most one variation of an
/// agreement in flight.
async fn whole_workflows(
    platform: &Platform,
    calendar: &Calendar,
    provider: &proto::Provider,
    agreements: &[(String, proto::Agreement)],
    options: Options,
) -> anyhow::Result<(Committed, Duration)> {
    let interval = Duration::from_micros(1_000_000 / u64::from(options.rate));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut committed: Committed = Vec::new();
    let mut day = calendar.first_run();
    let mut current: Vec<proto::Agreement> = agreements.iter().map(|(_, a)| a.clone()).collect();
    let mut round = 0_u32;
    while Instant::now() < deadline {
        day = day.succ_opt().context("a next day")?;
        platform.on_day(day)?;
        round += 1;
        let weekly = format!("{}.00", 300 + round % 50);
        let mut next_start = Instant::now();
        // Each variation is its own task, started on its tick, so the rate holds within
        // the round whatever the ones before are doing.
        let mut in_flight = tokio::task::JoinSet::new();
        for (index, (person_id, _)) in agreements.iter().enumerate() {
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep_until(next_start.into()).await;
            next_start += interval;
            let agreement = current[index].clone();
            let weekly = weekly.clone();
            let platform = platform.clone();
            let person_id = person_id.clone();
            let provider_id = provider.id.clone();
            in_flight.spawn(async move {
                let signed = flow::vary_and_sign(
                    &platform,
                    &person_id,
                    &agreement,
                    &provider_id,
                    day,
                    &weekly,
                )
                .await;
                (index, signed, Instant::now())
            });
        }
        // The day moves only when every variation of this one is agreed.
        while let Some(joined) = in_flight.join_next().await {
            let (index, signed, at) = joined.context("a variation's task")?;
            let signed = signed?;
            committed.push(((signed.id.clone(), signed.version), at));
            current[index] = signed;
        }
    }
    Ok((committed, started.elapsed()))
}

/// Core NATS publish -> subscriber latency at the same rate, for a few seconds.
async fn raw_baseline(nats_url: &str, options: Options) -> anyhow::Result<Vec<u64>> {
    let client = async_nats::connect(nats_url)
        .await
        .context("connect to NATS")?;
    let subject = format!("bench.notify.raw.{}", uuid::Uuid::now_v7().simple());
    let mut subscriber = client.subscribe(subject.clone()).await?;
    client.flush().await?;
    let started = Instant::now();
    let count = u64::from(options.rate).saturating_mul(3).max(1);
    let interval = Duration::from_micros(1_000_000 / u64::from(options.rate));
    let receiving = tokio::spawn(async move {
        let mut latencies = Vec::new();
        while let Some(message) = subscriber.next().await {
            let sent_us: u64 = std::str::from_utf8(&message.payload)
                .ok()
                .and_then(|text| text.parse().ok())
                .unwrap_or(0);
            let now_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            latencies.push(now_us.saturating_sub(sent_us));
            if latencies.len() as u64 >= count {
                break;
            }
        }
        latencies
    });
    let mut next = Instant::now();
    for _ in 0..count {
        tokio::time::sleep_until(next.into()).await;
        next += interval;
        let sent_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        client
            .publish(subject.clone(), sent_us.to_string().into())
            .await?;
        client.flush().await?;
    }
    let mut latencies = tokio::time::timeout(Duration::from_secs(10), receiving)
        .await
        .context("the raw subscriber receives every message")??;
    latencies.sort_unstable();
    Ok(latencies)
}
