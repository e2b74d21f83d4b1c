//! Per-principal request rate limits: a token bucket for each caller (organisation, and
//! for a supported person their own id), refilled at `per_second` up to `burst`.
//!
//! What must stay true:
//!
//! - a caller within its rate is never refused, however many other callers are over
//!   theirs; a caller over it is answered `ResourceExhausted` at once, saying how long to
//!   wait, and the refused call costs nothing (it neither reaches a handler nor drains
//!   the bucket further);
//! - the arithmetic is exact: the bucket counts millionths of a request in integers, so no
//!   rounding lets a caller through early or holds one back late;
//! - the platform's own services calling each other ([`PLATFORM_SERVICES`], as authority
//!   staff; see [`is_platform_service`]) are not limited: a payment run's calls to the
//!   ledger are work the caller who started it was already admitted for. No other subject,
//!   however it is spelt, and no other kind of organisation, is exempt;
//! - one caller is one bucket however its token spells it: the subject is compared
//!   without case or surrounding space, and a person id counts only for a person;
//! - the buckets of callers gone quiet are dropped, so the memory they take is bounded by
//!   the callers of the last little while, not by every caller ever seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic::Status;

use super::Principal;
use sds_vocabulary::OrgKind;

/// One request, in the bucket's unit.
const REQUEST: u64 = 1_000_000;

/// Above this many buckets, full ones (callers quiet for long enough to have refilled)
/// are dropped.
const BUCKETS_BEFORE_PRUNING: usize = 10_000;

/// The sustained rate and the burst one principal may make requests at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests a second, sustained.
    pub per_second: u32,
    /// Requests that may arrive at once after a quiet spell.
    pub burst: u32,
}

/// The subjects the platform's services call each other as (each service's `SERVICE_ID`).
pub const PLATFORM_SERVICES: [&str; 3] = ["sds-contracts", "sds-payments", "sds-portal"];

/// Whether `principal` is one of the platform's services calling another (payments calling
/// the ledger, say): one of [`PLATFORM_SERVICES`], as authority staff, for no person.
pub fn is_platform_service(principal: &Principal) -> bool {
    principal.org_kind == OrgKind::Authority
        && principal.person_id.is_none()
        && PLATFORM_SERVICES.contains(&principal.org_id.as_str())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Caller {
    kind: OrgKind,
    org_id: String,
    person_id: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Millionths of a request available.
    available: u64,
    refilled_at: Instant,
}

/// The buckets of one process, shared by every service in it.
#[derive(Debug, Clone)]
pub(super) struct RateLimiter {
    limit: RateLimit,
    buckets: Arc<Mutex<HashMap<Caller, Bucket>>>,
}

impl RateLimiter {
    pub(super) fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit: RateLimit {
                per_second: limit.per_second.max(1),
                burst: limit.burst.max(1),
            },
            buckets: Arc::default(),
        }
    }

    /// Takes one request from `principal`'s bucket, or says how long until it may ask.
    pub(super) fn admit(&self, principal: &Principal) -> Result<(), Status> {
        self.admit_at(principal, Instant::now())
    }

    fn admit_at(&self, principal: &Principal, now: Instant) -> Result<(), Status> {
        if is_platform_service(principal) {
            return Ok(());
        }
        let capacity = u64::from(self.limit.burst) * REQUEST;
        let per_second = u64::from(self.limit.per_second);
        let caller = Caller {
            kind: principal.org_kind,
            org_id: principal.org_id.trim().to_lowercase(),
            person_id: match principal.org_kind {
                OrgKind::Person => principal.person_id.clone(),
                _ => None,
            },
        };
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= BUCKETS_BEFORE_PRUNING && !buckets.contains_key(&caller) {
            buckets.retain(|_, bucket| refilled(*bucket, now, capacity, per_second) < capacity);
        }
        let bucket = buckets.entry(caller).or_insert(Bucket {
            available: capacity,
            refilled_at: now,
        });
        let available = refilled(*bucket, now, capacity, per_second);
        *bucket = Bucket {
            available,
            refilled_at: now,
        };
        if available >= REQUEST {
            bucket.available -= REQUEST;
            return Ok(());
        }
        let wait = Duration::from_micros((REQUEST - available).div_ceil(per_second));
        Err(refusal(self.limit, wait))
    }
}

/// What `bucket` holds at `now`: what it held, plus `per_second` requests for every second
/// since, up to `capacity`.
fn refilled(bucket: Bucket, now: Instant, capacity: u64, per_second: u64) -> u64 {
    let micros = u64::try_from(
        now.saturating_duration_since(bucket.refilled_at)
            .as_micros(),
    )
    .unwrap_or(u64::MAX);
    bucket
        .available
        .saturating_add(micros.saturating_mul(per_second))
        .min(capacity)
}

fn refusal(limit: RateLimit, wait: Duration) -> Status {
    let wait_ms = wait.as_millis().max(1);
    let mut status = Status::resource_exhausted(format!(
        "rate limit: this caller may make {} requests a second (bursts of {}); retry in {wait_ms} ms",
        limit.per_second, limit.burst
    ));
    // What gRPC clients with a retry policy read to know when to try again.
    if let Ok(value) = wait_ms.to_string().parse() {
        status
            .metadata_mut()
            .insert("grpc-retry-pushback-ms", value);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(kind: OrgKind, id: &str) -> Principal {
        Principal {
            org_id: id.to_owned(),
            org_kind: kind,
            roles: Vec::new(),
            authorities: Vec::new(),
            person_id: None,
        }
    }

    fn limiter(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimit { per_second, burst })
    }

    #[test]
    fn a_caller_gets_its_burst_at_once_then_one_request_per_refill() {
        let limiter = limiter(10, 3);
        let provider = org(OrgKind::Provider, "care-co");
        let start = Instant::now();
        for _ in 0..3 {
            limiter.admit_at(&provider, start).unwrap();
        }
        let refused = limiter.admit_at(&provider, start).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            refused.message(),
            "rate limit: this caller may make 10 requests a second (bursts of 3); retry in 100 ms"
        );
        assert_eq!(
            refused.metadata().get("grpc-retry-pushback-ms").unwrap(),
            "100"
        );
        // 99.999 ms later it is still a microsecond short; at 100 ms exactly it may.
        let almost = start + Duration::from_micros(99_999);
        let refused = limiter.admit_at(&provider, almost).unwrap_err();
        assert!(refused.message().ends_with("retry in 1 ms"), "{refused:?}");
        limiter
            .admit_at(&provider, start + Duration::from_millis(100))
            .unwrap();
        assert!(
            limiter
                .admit_at(&provider, start + Duration::from_millis(100))
                .is_err()
        );
    }

    #[test]
    fn one_caller_over_its_rate_does_not_slow_another() {
        let limiter = limiter(1, 2);
        let now = Instant::now();
        let greedy = org(OrgKind::Holder, "big-holder");
        let quiet = org(OrgKind::Authority, "demo-shire");
        for _ in 0..2 {
            limiter.admit_at(&greedy, now).unwrap();
        }
        for _ in 0..100 {
            assert!(limiter.admit_at(&greedy, now).is_err());
        }
        limiter.admit_at(&quiet, now).unwrap();
        limiter.admit_at(&quiet, now).unwrap();
    }

    #[test]
    fn people_of_one_organisation_kind_each_have_their_own_bucket() {
        let limiter = limiter(1, 1);
        let now = Instant::now();
        let mut first = org(OrgKind::Person, "person");
        first.person_id = Some("p-1".to_owned());
        let mut second = first.clone();
        second.person_id = Some("p-2".to_owned());
        limiter.admit_at(&first, now).unwrap();
        assert!(limiter.admit_at(&first, now).is_err());
        limiter.admit_at(&second, now).unwrap();
    }

    #[test]
    fn the_platforms_own_services_are_not_limited_and_nothing_else_passes_for_one() {
        let limiter = limiter(1, 1);
        let now = Instant::now();
        let payments = org(OrgKind::Authority, "sds-payments");
        for _ in 0..1_000 {
            limiter.admit_at(&payments, now).unwrap();
        }
        let mut as_a_person = org(OrgKind::Person, "sds-payments");
        as_a_person.person_id = Some("p-1".to_owned());
        let mut for_a_person = payments.clone();
        for_a_person.person_id = Some("p-1".to_owned());
        for pretender in [
            org(OrgKind::Authority, "sds-me"),
            org(OrgKind::Provider, "sds-payments"),
            as_a_person,
            for_a_person,
        ] {
            limiter.admit_at(&pretender, now).unwrap();
            assert!(limiter.admit_at(&pretender, now).is_err(), "{pretender:?}");
        }
    }

    #[test]
    fn a_caller_spelt_differently_is_still_one_caller() {
        let limiter = limiter(1, 1);
        let now = Instant::now();
        limiter
            .admit_at(&org(OrgKind::Authority, "demo-shire"), now)
            .unwrap();
        for spelling in ["Demo-Shire", "DEMO-SHIRE", " demo-shire "] {
            assert!(
                limiter
                    .admit_at(&org(OrgKind::Authority, spelling), now)
                    .is_err(),
                "{spelling:?}"
            );
        }
        // A person id on an organisation's token does not make it another caller.
        let mut with_a_person = org(OrgKind::Authority, "demo-shire");
        with_a_person.person_id = Some("p-9".to_owned());
        assert!(limiter.admit_at(&with_a_person, now).is_err());
    }

    #[test]
    fn a_refill_never_exceeds_the_burst_however_long_the_caller_was_quiet() {
        let limiter = limiter(1_000, 5);
        let provider = org(OrgKind::Provider, "care-co");
        let start = Instant::now();
        limiter.admit_at(&provider, start).unwrap();
        let later = start + Duration::from_secs(3600);
        for _ in 0..5 {
            limiter.admit_at(&provider, later).unwrap();
        }
        assert!(limiter.admit_at(&provider, later).is_err());
    }

    #[test]
    fn buckets_of_quiet_callers_are_dropped_when_there_are_many() {
        let limiter = limiter(10, 1);
        let start = Instant::now();
        for number in 0..BUCKETS_BEFORE_PRUNING {
            limiter
                .admit_at(&org(OrgKind::Provider, &format!("p{number}")), start)
                .unwrap();
        }
        // A second later every one of them has refilled: the next new caller prunes them.
        let later = start + Duration::from_secs(1);
        limiter
            .admit_at(&org(OrgKind::Provider, "newcomer"), later)
            .unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
