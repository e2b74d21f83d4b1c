//! The read audit trail of personal data (QUALITY.md S6): who read a person's plan,
//! statement or agreement, or a payee's bank account, when, and who tried and was refused.
//! Each service keeps its own trail, a `read_audit` table in its own schema made by its own
//! migration with the columns [`write`] fills; this module writes entries, lists them for
//! `ListReadAudit`, and turns them into the one message every service answers with.
//!
//! What must stay true:
//! - a call that returns personal data writes one `read` entry per record it returns (a
//!   list one per record, in one INSERT) before the answer leaves, in the read's own
//!   transaction where it has one; when the entry cannot be written the call fails, so no
//!   data goes out without its entry;
//! - a call refused on a record that exists writes one `refused` entry under the record's
//!   own authority, with the code the caller was answered, so the authority sees who tried;
//!   the same actor refused the same RPC on the same record again in the same minute of the
//!   service's clock writes nothing more (the first refusal of each minute is kept), so a
//!   looping caller cannot flood the trail; a record that does not exist writes nothing
//!   (there is no "whose"), nor does a call refused before authentication or for bad
//!   arguments;
//! - entries are only inserted: every service's table refuses UPDATE, DELETE and TRUNCATE;
//! - only staff of an authority list its entries, and bad arguments are refused naming the
//!   field before anything is read. Listing is not itself audited: entries name people by
//!   id only.

use chrono::{DateTime, SecondsFormat, Utc};
use sds_proto::v1 as proto;
use sds_vocabulary::{AuthorityId, Invalid, NamedEnum as _, OrgKind, paging, shown};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{ApiError, Clock, Principal, StoreContext as _, StoreError};

sds_vocabulary::named_enum! {
    /// Whose record a call asked for.
    pub enum SubjectKind("subject kind") {
        /// A supported person: their plan, statement or agreement.
        Person = "person",
        /// A provider paid by the authority (its bank account).
        Provider = "provider",
        /// A third-party holder paid by the authority (its bank account).
        Holder = "holder",
        /// A payee whose kind is not known yet (bank details entered before any schedule).
        Payee = "payee",
    }
}

sds_vocabulary::named_enum! {
    /// The gRPC code a refused caller was answered, as gRPC names it.
    pub enum Refusal("refusal") {
        PermissionDenied = "PERMISSION_DENIED",
        /// Answered to hide a record of another organisation.
        NotFound = "NOT_FOUND",
    }
}

/// What became of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Read,
    Refused(Refusal),
}

/// The record one call asked for: whose it is, under which authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub authority: AuthorityId,
    pub subject_kind: SubjectKind,
    pub subject_id: Uuid,
    /// The service and RPC: `ledger.GetStatement`.
    pub what: &'static str,
    /// The id the caller asked for (the person for a plan, the fund, the agreement, the
    /// payee).
    pub record_id: String,
}

/// The minute a refusal at `at` is counted in: at most one `refused` entry per actor, RPC
/// and record is kept in each minute of the service's clock (see [`write_many`]).
pub fn refusal_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = at.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(60), 0).unwrap_or(at)
}

/// Appends one entry for `principal`'s call, at the service's `clock`'s now. A refusal
/// already recorded for the same actor, RPC and record in the same minute is not written
/// again (see [`write_many`]).
pub async fn write(
    connection: &mut PgConnection,
    clock: &Clock,
    principal: &Principal,
    record: &Record,
    outcome: Outcome,
) -> Result<(), StoreError> {
    write_many(
        connection,
        clock,
        principal,
        std::slice::from_ref(record),
        outcome,
    )
    .await
}

/// Appends one entry per record, all with `principal`, `outcome` and the `clock`'s now, in
/// one INSERT (a list's reads), in the order given.
///
/// Refusals are coalesced: a `refused` entry carries its minute (`refused_minute`), and a
/// unique index on (actor, what, record_id, refused_minute) keeps only the first refusal of
/// each minute, the others left out (`ON CONFLICT DO NOTHING`), so a refused caller that
/// loops cannot flood the trail. `read` entries are never coalesced.
pub async fn write_many(
    connection: &mut PgConnection,
    clock: &Clock,
    principal: &Principal,
    records: &[Record],
    outcome: Outcome,
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let at = clock.now();
    let (outcome, refusal, minute) = match outcome {
        Outcome::Read => ("read", None, None),
        Outcome::Refused(refusal) => ("refused", Some(refusal.name()), Some(refusal_minute(at))),
    };
    let authorities: Vec<&str> = records.iter().map(|r| r.authority.as_str()).collect();
    let subject_kinds: Vec<&str> = records.iter().map(|r| r.subject_kind.name()).collect();
    let subject_ids: Vec<Uuid> = records.iter().map(|r| r.subject_id).collect();
    let whats: Vec<&str> = records.iter().map(|r| r.what).collect();
    let record_ids: Vec<&str> = records.iter().map(|r| r.record_id.as_str()).collect();
    sqlx::query(
        "INSERT INTO read_audit (authority, actor, actor_kind, subject_kind, subject_id, what, \
             record_id, outcome, refusal_code, at, refused_minute) \
         SELECT authority, $6, $7, subject_kind, subject_id, what, record_id, $8, $9, $10, $11 \
         FROM UNNEST($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[]) \
             WITH ORDINALITY AS given(authority, subject_kind, subject_id, what, record_id, ordinal) \
         ORDER BY ordinal \
         ON CONFLICT DO NOTHING",
    )
    .bind(&authorities)
    .bind(&subject_kinds)
    .bind(&subject_ids)
    .bind(&whats)
    .bind(&record_ids)
    .bind(&principal.org_id)
    .bind(principal.org_kind.name())
    .bind(outcome)
    .bind(refusal)
    .bind(at)
    .bind(minute)
    .execute(&mut *connection)
    .await
    .operation("write read audit entries")?;
    Ok(())
}

/// A `read` entry: the data goes out with this call.
pub async fn read(
    connection: &mut PgConnection,
    clock: &Clock,
    principal: &Principal,
    record: &Record,
) -> Result<(), StoreError> {
    write(connection, clock, principal, record, Outcome::Read).await
}

/// One `read` entry per record a list gives out, in one INSERT.
pub async fn read_many(
    connection: &mut PgConnection,
    clock: &Clock,
    principal: &Principal,
    records: &[Record],
) -> Result<(), StoreError> {
    write_many(connection, clock, principal, records, Outcome::Read).await
}

/// A `ListReadAudit` request, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub authority: AuthorityId,
    pub subject_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub page: paging::Page,
    /// Names the list, so a page token of another list is refused.
    fingerprint: String,
}

/// Reads `request`, naming the field at fault.
pub fn query(request: &proto::ListReadAuditRequest) -> Result<Query, Invalid> {
    let authority = AuthorityId::parse("authority", &request.authority)?;
    let subject_id = match request.subject_id.trim() {
        "" => None,
        raw => Some(sds_vocabulary::id::id("subject_id", raw)?),
    };
    let since = instant("since", &request.since)?;
    let until = instant("until", &request.until)?;
    if let (Some(since), Some(until)) = (since, until)
        && until <= since
    {
        return Err(Invalid::new(
            "until",
            format!(
                "{} is not after since, {}; entries are listed from since up to (not including) until",
                shown(&request.until),
                shown(&request.since)
            ),
        ));
    }
    let fingerprint = format!(
        "read-audit|{}|{subject_id:?}|{since:?}|{until:?}",
        authority.as_str()
    );
    let asked = request.page.clone().unwrap_or_default();
    let page = paging::requested(asked.page_size, &asked.page_token, &fingerprint)
        .map_err(|invalid| invalid.within("page"))?;
    Ok(Query {
        authority,
        subject_id,
        since,
        until,
        page,
        fingerprint,
    })
}

fn instant(field: &str, raw: &str) -> Result<Option<DateTime<Utc>>, Invalid> {
    match raw.trim() {
        "" => Ok(None),
        text => DateTime::parse_from_rfc3339(text)
            .map(|at| Some(at.with_timezone(&Utc)))
            .map_err(|_| {
                Invalid::new(
                    field,
                    format!(
                        "{} is not an RFC 3339 instant; give one such as 2026-11-28T09:15:00Z",
                        shown(raw)
                    ),
                )
            }),
    }
}

/// Only the authority's own staff see its trail.
pub fn ensure_may_list(principal: &Principal, authority: &AuthorityId) -> Result<(), ApiError> {
    if principal.org_kind == OrgKind::Authority && principal.may_act_for(authority) {
        Ok(())
    } else {
        Err(ApiError::denied(format!(
            "the read audit trail of {authority} is seen only by its own staff"
        )))
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    position: i64,
    authority: String,
    actor: String,
    actor_kind: String,
    subject_kind: String,
    subject_id: Uuid,
    what: String,
    record_id: String,
    outcome: String,
    refusal_code: Option<String>,
    at: DateTime<Utc>,
}

impl EntryRow {
    fn message(self) -> proto::ReadAuditEntry {
        proto::ReadAuditEntry {
            position: u64::try_from(self.position).unwrap_or_default(),
            authority: self.authority,
            actor: self.actor,
            actor_kind: self.actor_kind,
            subject_kind: self.subject_kind,
            subject_id: self.subject_id.to_string(),
            what: self.what,
            record_id: self.record_id,
            outcome: self.outcome,
            refusal_code: self.refusal_code.unwrap_or_default(),
            at: self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        }
    }
}

/// The columns a listing reads.
macro_rules! columns {
    () => {
        "SELECT position, authority, actor, actor_kind, subject_kind, subject_id, what, \
             record_id, outcome, refusal_code, at FROM read_audit "
    };
}

/// The time bounds every query below shares: $2 since, $3 until.
macro_rules! between {
    () => {
        " AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)"
    };
}

/// One page of an authority's trail ($1 authority, $2 since, $3 until, after position $4, at
/// most $5 entries): a range of the index on (authority, position), read in its order. The
/// row comparison is what only that index can answer: with `position > $4` alone the
/// planner may walk the primary key, every authority's entries, filtering out all but one's.
pub const PAGE: &str = concat!(
    columns!(),
    "WHERE authority = $1 AND (authority, position) > ($1, $4)",
    between!(),
    " ORDER BY authority, position LIMIT $5"
);

/// One page of the entries about one subject ($6), as [`PAGE`]: a range of the index on
/// (authority, subject_id, position). A statement of its own rather than one with
/// `($6 IS NULL OR subject_id = $6)`, whose generic plan (the one a prepared statement may
/// settle on) cannot use this index.
pub const SUBJECT_PAGE: &str = concat!(
    columns!(),
    "WHERE authority = $1 AND subject_id = $6 \
     AND (authority, subject_id, position) > ($1, $6, $4)",
    between!(),
    " ORDER BY authority, subject_id, position LIMIT $5"
);

/// How many entries match in all ($1 authority, $2 since, $3 until, $4 subject or null):
/// counted for the first page only.
const COUNT: &str = concat!(
    "SELECT count(*) FROM read_audit WHERE authority = $1",
    between!(),
    " AND ($4::uuid IS NULL OR subject_id = $4)"
);

/// `ListReadAudit`, the same in every service: the arguments checked, then the caller, then
/// one page of the service's trail, oldest first, paged by position. `total_matches` is
/// counted on the first page only (later pages carry 0): counting every match on every page
/// made listing a long trail quadratic.
pub async fn list(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::ListReadAuditRequest,
) -> Result<proto::ListReadAuditResponse, ApiError> {
    let query = query(request).map_err(|invalid| ApiError::invalid(invalid.to_string()))?;
    ensure_may_list(principal, &query.authority)?;
    let after = i64::try_from(query.page.offset).unwrap_or(i64::MAX);
    let mut connection = pool.acquire().await.operation("database connection")?;
    let total: i64 = if query.page.offset == 0 {
        sqlx::query_scalar(COUNT)
            .bind(query.authority.as_str())
            .bind(query.since)
            .bind(query.until)
            .bind(query.subject_id)
            .fetch_one(&mut *connection)
            .await
            .operation("count read audit entries")?
    } else {
        0
    };
    let statement = match query.subject_id {
        None => PAGE,
        Some(_) => SUBJECT_PAGE,
    };
    // One more than the page, to know whether another page follows.
    // Planned for its arguments each time (not as a generic plan kept with a prepared
    // statement), so an authority or subject of few entries is read as one.
    let mut page = sqlx::query_as(statement)
        .persistent(false)
        .bind(query.authority.as_str())
        .bind(query.since)
        .bind(query.until)
        .bind(after)
        .bind(i64::from(query.page.size) + 1);
    if let Some(subject) = query.subject_id {
        page = page.bind(subject);
    }
    let mut rows: Vec<EntryRow> = page
        .fetch_all(&mut *connection)
        .await
        .operation("list read audit entries")?;
    let size = usize::try_from(query.page.size).unwrap_or(usize::MAX);
    let more = rows.len() > size;
    rows.truncate(size);
    let next_page_token = match rows.last() {
        Some(last) if more => paging::position_token(
            u64::try_from(last.position).unwrap_or_default(),
            &query.fingerprint,
        ),
        _ => String::new(),
    };
    Ok(proto::ListReadAuditResponse {
        entries: rows.into_iter().map(EntryRow::message).collect(),
        page: Some(proto::PageResponse {
            next_page_token,
            total_matches: u64::try_from(total).unwrap_or_default(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        authority: &str,
        subject: &str,
        since: &str,
        until: &str,
    ) -> proto::ListReadAuditRequest {
        proto::ListReadAuditRequest {
            authority: authority.into(),
            subject_id: subject.into(),
            since: since.into(),
            until: until.into(),
            page: None,
        }
    }

    #[test]
    fn a_refusal_counts_in_the_minute_of_its_instant() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(
            refusal_minute(at("2026-11-28T10:05:59.999999Z")),
            at("2026-11-28T10:05:00Z")
        );
        assert_eq!(
            refusal_minute(at("2026-11-28T10:06:00Z")),
            at("2026-11-28T10:06:00Z")
        );
        assert_eq!(
            refusal_minute(at("1969-12-31T23:59:30.5Z")),
            at("1969-12-31T23:59:00Z")
        );
    }

    #[test]
    fn bad_arguments_are_refused_by_their_field() {
        let person = "0192f0c1-0000-7000-8000-0000000000a1";
        let cases = [
            (request("", "", "", ""), "authority"),
            (request("Fife!", "", "", ""), "authority"),
            (request("fife", "SW-1", "", ""), "subject_id"),
            (request("fife", person, "yesterday", ""), "since"),
            (request("fife", "", "", "2026-11-28"), "until"),
            (
                request("fife", "", "2026-11-28T10:00:00Z", "2026-11-28T10:00:00Z"),
                "until",
            ),
            (
                proto::ListReadAuditRequest {
                    page: Some(proto::PageRequest {
                        page_size: 201,
                        page_token: String::new(),
                    }),
                    ..request("fife", "", "", "")
                },
                "page.page_size",
            ),
            (
                proto::ListReadAuditRequest {
                    page: Some(proto::PageRequest {
                        page_size: 0,
                        page_token: "forged".into(),
                    }),
                    ..request("fife", "", "", "")
                },
                "page.page_token",
            ),
        ];
        for (asked, field) in cases {
            let refused = query(&asked).expect_err(field);
            assert_eq!(refused.field(), field, "{refused}");
        }
    }

    #[test]
    fn empty_filters_are_no_bounds_and_instants_read_in_any_offset() {
        let read = query(&request(" fife ", " ", "", "2026-11-28T10:00:00+01:00")).unwrap();
        assert_eq!(read.authority.as_str(), "fife");
        assert_eq!(read.subject_id, None);
        assert_eq!(read.since, None);
        assert_eq!(
            read.until.map(|at| at.to_rfc3339()),
            Some("2026-11-28T09:00:00+00:00".to_owned())
        );
        assert_eq!(read.page.size, 25);
    }

    #[test]
    fn a_page_token_leads_on_only_in_the_list_it_came_from() {
        let first = query(&request("fife", "", "", "")).unwrap();
        let token = paging::position_token(7, &first.fingerprint);
        let again = proto::ListReadAuditRequest {
            page: Some(proto::PageRequest {
                page_size: 0,
                page_token: token.clone(),
            }),
            ..request("fife", "", "", "")
        };
        assert_eq!(query(&again).unwrap().page.offset, 7);
        let elsewhere = proto::ListReadAuditRequest {
            authority: "angus".into(),
            ..again
        };
        assert_eq!(query(&elsewhere).unwrap_err().field(), "page.page_token");
    }

    #[test]
    fn only_the_authoritys_own_staff_list_its_trail() {
        let fife = AuthorityId::parse("authority", "fife").unwrap();
        let staff = |of: &str, kind: OrgKind| Principal {
            org_id: of.into(),
            org_kind: kind,
            roles: vec![],
            authorities: vec![AuthorityId::parse("authority", of).unwrap()],
            person_id: None,
        };
        let cases = [
            (staff("fife", OrgKind::Authority), true),
            (staff("angus", OrgKind::Authority), false),
            (staff("fife", OrgKind::Provider), false),
            (staff("fife", OrgKind::Holder), false),
            (staff("fife", OrgKind::Person), false),
        ];
        for (principal, allowed) in cases {
            assert_eq!(
                ensure_may_list(&principal, &fife).is_ok(),
                allowed,
                "{principal:?}"
            );
        }
    }
}
