//! The providers' and holders' portal subscribers (portal's Subscribe stream): each
//! connects before the first day, goes offline on days drawn from the seed and resumes from
//! the last notification number it received; one whose stream breaks (a fault) resumes the
//! same way at once. `every_subscriber_got_every_notification_once_in_order` then compares
//! what each received with what the portal holds for it.
//!
//! What must stay true: the subscribers only read, so they never change the books (the
//! digest does not depend on them); which days each is offline is drawn from a stream of
//! its own per subscriber; a subscriber's record of what it received is the numbers in the
//! order they arrived, duplicates and all, so the check sees what a real one would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::NaiveDate;
use sds::flow::{Platform, bearer};
use sds_proto::v1 as proto;
use sds_proto::v1::portal_service_client::PortalServiceClient;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;
use uuid::Uuid;

use super::Settings;
use super::act::AuthoritySetup;
use super::checks::Violation;
use super::rng::Rng;
use super::workload::plus;

const CHECK: &str = "every_subscriber_got_every_notification_once_in_order";

/// How long a connected subscriber may take to be sent what the portal holds for it, once
/// the platform is quiet.
const CATCH_UP: Duration = Duration::from_secs(20);

/// Who subscribes: a provider or a third-party holder (the token's organisation kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Provider,
    Holder,
}

impl Kind {
    fn column(self) -> &'static str {
        match self {
            Kind::Provider => "provider",
            Kind::Holder => "holder",
        }
    }
}

/// What one subscriber has received, beside what the portal holds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub name: String,
    /// The notification numbers, in the order they arrived.
    pub received: Vec<u64>,
    /// The portal's last notification number for it (0 for none).
    pub held: u64,
    pub connected: bool,
}

/// The first subscriber that missed a notification, got one twice or out of order, or (while
/// connected) has not been sent everything the portal holds for it.
pub fn every_subscriber_got_every_notification_once_in_order(seen: &[Seen]) -> Option<Violation> {
    for subscriber in seen {
        let name = &subscriber.name;
        if let Some((position, got)) = subscriber
            .received
            .iter()
            .enumerate()
            .find(|(position, seq)| **seq != *position as u64 + 1)
        {
            return Some(Violation {
                check: CHECK,
                detail: format!(
                    "{name} received notification {got} as its notification number {} \
                     (a gap, a repeat or out of order)",
                    position + 1
                ),
            });
        }
        let received = subscriber.received.len() as u64;
        let short = if subscriber.connected {
            received != subscriber.held
        } else {
            received > subscriber.held
        };
        if short {
            return Some(Violation {
                check: CHECK,
                detail: format!(
                    "{name} received {received} notifications but the portal holds {} for it",
                    subscriber.held
                ),
            });
        }
    }
    None
}

/// One simulated subscriber.
struct Subscriber {
    name: String,
    kind: Kind,
    org_id: Uuid,
    token: Token,
    received: Arc<Mutex<Vec<u64>>>,
    task: Option<JoinHandle<()>>,
    /// The days it is offline, each window from its first to its last day.
    offline: Vec<(NaiveDate, NaiveDate)>,
}

/// Signs the subscriber's token afresh for each subscription (a run outlives a token).
pub type Token = Arc<dyn Fn() -> String + Send + Sync>;

/// Every subscriber of the run.
pub struct Subscribers {
    channel: Channel,
    subscribers: Vec<Subscriber>,
}

/// Offline windows of one to five days, about one a month, drawn for subscriber `index`.
fn offline_days(seed: u64, index: u64, start: NaiveDate, days: u64) -> Vec<(NaiveDate, NaiveDate)> {
    let mut rng = Rng::stream(seed, "subscriber", index);
    (0..days / 30 + 1)
        .map(|_| {
            let first = plus(start, rng.below(days.max(1)));
            (first, plus(first, rng.between(0, 4)))
        })
        .collect()
}

impl Subscribers {
    /// A subscriber for each provider and third-party holder of every authority.
    pub fn of_everyone(
        channel: &Channel,
        platforms: &[Platform],
        setups: &[AuthoritySetup],
        settings: &Settings,
    ) -> anyhow::Result<Subscribers> {
        let mut who: Vec<(String, Kind, String, Token)> = Vec::new();
        for (platform, setup) in platforms.iter().zip(setups) {
            let authority = platform.authority.as_str();
            for (number, provider) in setup.providers.iter().enumerate() {
                let (platform, id) = (platform.clone(), provider.id.clone());
                who.push((
                    format!("{authority}'s provider {}", number + 1),
                    Kind::Provider,
                    provider.id.clone(),
                    Arc::new(move || platform.provider(&id)),
                ));
            }
            let (holder, id) = (platform.clone(), setup.holder.id.clone());
            who.push((
                format!("{authority}'s holder"),
                Kind::Holder,
                setup.holder.id.clone(),
                Arc::new(move || holder.holder(&id)),
            ));
        }
        Subscribers::new(
            channel.clone(),
            who,
            settings.seed,
            settings.start,
            settings.days,
        )
    }

    /// `who` (name, kind, organisation id, token), each offline on days drawn from `seed`.
    pub fn new(
        channel: Channel,
        who: Vec<(String, Kind, String, Token)>,
        seed: u64,
        start: NaiveDate,
        days: u64,
    ) -> anyhow::Result<Subscribers> {
        let subscribers = who
            .into_iter()
            .enumerate()
            .map(|(index, (name, kind, org_id, token))| {
                Ok(Subscriber {
                    offline: offline_days(seed, index as u64, start, days),
                    name,
                    kind,
                    org_id: Uuid::parse_str(&org_id).context("a subscriber's id")?,
                    token,
                    received: Arc::new(Mutex::new(Vec::new())),
                    task: None,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Subscribers {
            channel,
            subscribers,
        })
    }

    /// Connects those online on `today` that are not, and disconnects those offline.
    pub fn on_day(&mut self, today: NaiveDate) {
        for subscriber in &mut self.subscribers {
            let offline = subscriber
                .offline
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&today));
            match (&subscriber.task, offline) {
                (Some(task), true) => {
                    task.abort();
                    subscriber.task = None;
                }
                (None, false) => {
                    subscriber.task = Some(tokio::spawn(listen(
                        self.channel.clone(),
                        Arc::clone(&subscriber.token),
                        Arc::clone(&subscriber.received),
                    )));
                }
                _ => {}
            }
        }
    }

    /// What each subscriber has received beside what the portal holds for it, once every
    /// connected one has been sent all of it (or [`CATCH_UP`] has passed).
    pub async fn seen(&self, observer: &PgPool) -> anyhow::Result<Vec<Seen>> {
        let held: HashMap<(String, Uuid), i64> = sqlx::query_as::<_, (String, Uuid, i64)>(
            "SELECT kind, org_id, last_seq FROM portal.subscriber",
        )
        .fetch_all(observer)
        .await
        .context("read the portal's subscribers")?
        .into_iter()
        .map(|(kind, org_id, last)| ((kind, org_id), last))
        .collect();
        let held_of = |subscriber: &Subscriber| {
            held.get(&(subscriber.kind.column().to_owned(), subscriber.org_id))
                .map_or(0, |last| u64::try_from(*last).unwrap_or(0))
        };
        let received = |subscriber: &Subscriber| {
            subscriber
                .received
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        };
        let deadline = Instant::now() + CATCH_UP;
        loop {
            let behind = self.subscribers.iter().any(|subscriber| {
                subscriber.task.is_some()
                    && (received(subscriber).len() as u64) < held_of(subscriber)
            });
            if !behind || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(self
            .subscribers
            .iter()
            .map(|subscriber| Seen {
                name: subscriber.name.clone(),
                received: received(subscriber),
                held: held_of(subscriber),
                connected: subscriber.task.is_some(),
            })
            .collect())
    }
}

impl Drop for Subscribers {
    fn drop(&mut self) {
        for subscriber in &self.subscribers {
            if let Some(task) = &subscriber.task {
                task.abort();
            }
        }
    }
}

/// Subscribes from the last number received and records each notification's number as it
/// arrives; when the stream breaks, subscribes again from the last one.
async fn listen(channel: Channel, token: Token, received: Arc<Mutex<Vec<u64>>>) {
    loop {
        let after = received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last()
            .map_or(String::new(), u64::to_string);
        let mut portal = PortalServiceClient::new(channel.clone());
        if let Ok(stream) = portal
            .subscribe(bearer(&token(), proto::SubscribeRequest { after }))
            .await
        {
            let mut stream = stream.into_inner();
            while let Some(Ok(notification)) = stream.next().await {
                received
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(notification.seq);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(received: &[u64], held: u64, connected: bool) -> Vec<Seen> {
        vec![Seen {
            name: "sim-1 provider 1".into(),
            received: received.to_vec(),
            held,
            connected,
        }]
    }

    #[test]
    fn every_notification_once_in_order_passes_and_an_offline_subscriber_may_be_behind() {
        assert_eq!(
            every_subscriber_got_every_notification_once_in_order(&seen(&[1, 2, 3], 3, true)),
            None
        );
        assert_eq!(
            every_subscriber_got_every_notification_once_in_order(&seen(&[1, 2], 3, false)),
            None
        );
        assert_eq!(
            every_subscriber_got_every_notification_once_in_order(&seen(&[], 0, true)),
            None
        );
    }

    #[test]
    fn a_gap_a_repeat_or_a_reordering_is_a_violation() {
        for received in [&[1, 3][..], &[1, 2, 2], &[2, 1], &[1, 2, 3, 3]] {
            let found =
                every_subscriber_got_every_notification_once_in_order(&seen(received, 3, true));
            assert!(found.is_some(), "{received:?}");
        }
    }

    #[test]
    fn a_connected_subscriber_not_sent_everything_held_for_it_is_a_violation() {
        let found = every_subscriber_got_every_notification_once_in_order(&seen(&[1, 2], 3, true));
        assert!(found.is_some_and(|found| found.detail.contains("holds 3")));
        assert!(
            every_subscriber_got_every_notification_once_in_order(&seen(&[1, 2, 3, 4], 3, false))
                .is_some()
        );
    }

    #[test]
    fn offline_days_are_drawn_from_the_seed_within_the_run() {
        let start = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
        let one = offline_days(7, 3, start, 120);
        assert_eq!(one, offline_days(7, 3, start, 120));
        assert_ne!(one, offline_days(8, 3, start, 120));
        assert!(
            one.iter()
                .all(|(first, last)| *first >= start && (*last - *first).num_days() <= 4)
        );
    }
}
