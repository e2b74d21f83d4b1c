//! The flow that defines the product (ARCHITECTURE.md), driven through the services' public
//! gRPC APIs as their users would: a person's option 2 line goes out as a package request,
//! a provider offers, the person accepts, the agreement is signed by every party, payments
//! pays it, the provider sees the remittance, a backdated variation is adjusted in the next
//! run and the provider is told, and the person's statement shows the money.
//!
//! One driver, three users: the end-to-end tests (in one process and with each service its
//! own process), the local demo (`sds demo seed`, which lays the same history down in the
//! weeks before today) and the simulation (`sds simulate`). [`Platform`] says where each
//! service is, how to sign tokens and how to move "today"; [`Calendar`] says on which days.

mod calendar;
mod choose;
mod draw;
mod drive;
pub mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::NaiveDate;
use sds_platform::{OrgKind, Principal, Role};
use sds_vocabulary::AuthorityId;
use tonic::transport::Channel;

pub use calendar::{ANCHOR, Calendar};
pub use choose::{Holding, choose_and_sign, choose_and_sign_held};
pub use draw::draw_charges;
pub use drive::{
    Outcome, drive, sign_by_everyone, sign_last, vary_and_sign, vary_to_last_signature,
};

/// Signs a bearer token for a principal (the test secret in tests, the local secret in the
/// demo).
pub type Tokens = Arc<dyn Fn(&Principal) -> String + Send + Sync>;

/// Moves every service's "today" to a day (a test's manual clock, or the clock file the
/// services of the demo read).
pub type Hand = Arc<dyn Fn(NaiveDate) -> anyhow::Result<()> + Send + Sync>;

/// Where each service is reached, and the authority the flow works for.
#[derive(Clone)]
pub struct Platform {
    pub authority: AuthorityId,
    pub assessment: Channel,
    pub directory: Channel,
    pub contracts: Channel,
    pub payments: Channel,
    pub ledger: Channel,
    pub portal: Channel,
    pub tokens: Tokens,
    pub hand: Hand,
}

impl Platform {
    /// The same channel for every service: all of them in one process.
    pub fn in_one_process(
        authority: AuthorityId,
        channel: Channel,
        tokens: Tokens,
        hand: Hand,
    ) -> Platform {
        Platform {
            authority,
            assessment: channel.clone(),
            directory: channel.clone(),
            contracts: channel.clone(),
            payments: channel.clone(),
            ledger: channel.clone(),
            portal: channel,
            tokens,
            hand,
        }
    }

    /// A token of the authority's staff with `roles`.
    pub fn staff(&self, roles: &[Role]) -> String {
        (self.tokens)(&Principal {
            org_id: self.authority.as_str().to_owned(),
            org_kind: OrgKind::Authority,
            roles: roles.to_vec(),
            authorities: vec![self.authority.clone()],
            person_id: None,
        })
    }

    /// A provider organisation's token (its organisation id is its directory id).
    pub fn provider(&self, id: &str) -> String {
        (self.tokens)(&Principal {
            org_id: id.to_owned(),
            org_kind: OrgKind::Provider,
            roles: vec![Role::ProviderAdmin],
            authorities: vec![],
            person_id: None,
        })
    }

    /// A third-party holder organisation's token (its organisation id is its directory id).
    pub fn holder(&self, id: &str) -> String {
        (self.tokens)(&Principal {
            org_id: id.to_owned(),
            org_kind: OrgKind::Holder,
            roles: vec![Role::ProviderAdmin],
            authorities: vec![],
            person_id: None,
        })
    }

    /// The person's own token.
    pub fn person(&self, id: &str) -> String {
        (self.tokens)(&Principal {
            org_id: id.to_owned(),
            org_kind: OrgKind::Person,
            roles: vec![],
            authorities: vec![self.authority.clone()],
            person_id: Some(id.to_owned()),
        })
    }

    /// Moves "today" to `day` for every service.
    pub fn on_day(&self, day: NaiveDate) -> anyhow::Result<()> {
        (self.hand)(day).with_context(|| format!("move the clock to {day}"))
    }
}

/// How long one hop of events across the platform may take before the flow gives up.
pub const HOP: Duration = Duration::from_secs(30);

/// Asks `probe` until it gives a value (after 2 ms, then twice as long each time up to
/// every 50 ms), for at most [`HOP`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + HOP;
    // A hop usually takes a few milliseconds: ask again soon, then less and less often.
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            anyhow::bail!("{what}: not within {} s", HOP.as_secs());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

pub(crate) fn date(day: NaiveDate) -> Option<sds_proto::v1::Date> {
    Some(sds_proto::v1::Date {
        iso: day.format("%Y-%m-%d").to_string(),
    })
}

pub(crate) fn money(amount: &str) -> Option<sds_proto::v1::Money> {
    Some(sds_proto::v1::Money {
        amount: amount.to_owned(),
    })
}

/// A request carrying `token` as its bearer.
pub fn bearer<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}
