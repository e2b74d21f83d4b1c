//! Concurrent clients: `clients` tasks take the next call from one shared list until it is
//! empty, each call timed on its own. The first error ends the run and is returned (the
//! other tasks are dropped): a refusal, deadlock or serialization failure that reaches a
//! caller fails the benchmark loudly rather than being retried or counted away.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// What one phase of one side measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Transfers posted.
    pub transfers: u64,
    /// From the first call to the last answer.
    pub elapsed: Duration,
    /// Each call's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Measured {
    /// Adds a later round of the same phase: its transfers, its time and its latencies.
    pub fn absorb(&mut self, round: Measured) {
        self.transfers += round.transfers;
        self.elapsed += round.elapsed;
        self.latencies.extend(round.latencies);
        self.latencies.sort_unstable();
    }
}

/// Makes `calls` calls, `call(client, index)`, from `clients` concurrent tasks; each call
/// posts `transfers_per_call` transfers.
pub async fn run<F, Fut>(
    clients: usize,
    calls: usize,
    transfers_per_call: usize,
    call: F,
) -> anyhow::Result<Measured>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients.max(1) {
        let call = Arc::clone(&call);
        let next = Arc::clone(&next);
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= calls {
                    break;
                }
                let began = Instant::now();
                call(client, index)
                    .await
                    .with_context(|| format!("client {client}, call {index}"))?;
                latencies.push(began.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        });
    }
    let mut latencies = Vec::with_capacity(calls);
    while let Some(joined) = tasks.join_next().await {
        latencies.extend(joined.context("a benchmark client panicked")??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Measured {
        transfers: u64::try_from(calls.saturating_mul(transfers_per_call)).unwrap_or(u64::MAX),
        elapsed,
        latencies,
    })
}
