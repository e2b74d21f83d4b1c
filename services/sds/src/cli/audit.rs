//! `sds audit reads`: the read audit trail of personal data from every service that keeps
//! one (assessment, contracts, ledger, payments), merged into one listing ordered by time,
//! so that an authority's data protection officer gets one answer to "who looked at this
//! person's record".
//!
//! What must stay true: the output is CSV (RFC 4180) with the header line
//! `at,service,authority,actor,actor_kind,subject_kind,subject_id,what,record_id,outcome`,
//! a contract README documents; every page of every service is read, and a service that
//! refuses or cannot be reached fails the whole command with one line and nothing printed,
//! so a part of the trail is never shown as if it were all of it.

use chrono::{DateTime, Utc};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_proto::v1::{self as proto, ReadAuditEntry};

use super::output::emit;
use super::{Bearer, ClientArgs, ServerArgs, connect, status_error};

/// The columns, in order.
pub const HEADER: [&str; 10] = [
    "at",
    "service",
    "authority",
    "actor",
    "actor_kind",
    "subject_kind",
    "subject_id",
    "what",
    "record_id",
    "outcome",
];

/// Entries asked for in one page: the most a service gives.
const PAGE_SIZE: u32 = 200;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Who read people's plans, records, statements and agreements and payees' bank
    /// accounts, and who was refused (the authority's staff): one CSV listing from every
    /// service, oldest first. A refusal's outcome is `refused:` and the code the caller was
    /// answered (`refused:PERMISSION_DENIED`, `refused:NOT_FOUND`).
    Reads(ReadsArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReadsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The authority whose trail to list.
    #[arg(long)]
    pub authority: String,
    /// Only reads of this person's (or payee's) records.
    #[arg(long)]
    pub subject: Option<String>,
    /// Only reads at or after this instant, RFC 3339 (2026-11-28T00:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Only reads before this instant, RFC 3339.
    #[arg(long)]
    pub until: Option<String>,
    /// Where assessment runs, when not at --addr (a fleet of `sds serve --only`).
    #[arg(long)]
    pub assessment_addr: Option<String>,
    /// Where contracts runs, when not at --addr.
    #[arg(long)]
    pub contracts_addr: Option<String>,
    /// Where the ledger runs, when not at --addr.
    #[arg(long)]
    pub ledger_addr: Option<String>,
    /// Where payments runs, when not at --addr.
    #[arg(long)]
    pub payments_addr: Option<String>,
}

pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Reads(args) => reads(&args).await,
    }
}

/// Asks every page of one service's trail, through `$client` (a generated client).
macro_rules! every_page {
    ($client:expr, $request:expr) => {{
        let mut client = $client;
        let mut request: proto::ListReadAuditRequest = $request;
        let mut entries = Vec::new();
        loop {
            let page = client
                .list_read_audit(request.clone())
                .await
                .map_err(status_error)?
                .into_inner();
            entries.extend(page.entries);
            let next = page
                .page
                .map(|page| page.next_page_token)
                .unwrap_or_default();
            if next.is_empty() {
                break;
            }
            request.page = Some(proto::PageRequest {
                page_size: PAGE_SIZE,
                page_token: next,
            });
        }
        entries
    }};
}

/// The server at `addr`, or at --addr, with the TLS settings of --addr.
fn server(args: &ReadsArgs, addr: Option<&String>) -> ServerArgs {
    let mut server = args.client.server.clone();
    if let Some(addr) = addr {
        server.addr.clone_from(addr);
    }
    server
}

async fn reads(args: &ReadsArgs) -> anyhow::Result<()> {
    let bearer = Bearer::from_args(&args.client)?;
    let request = proto::ListReadAuditRequest {
        authority: args.authority.clone(),
        subject_id: args.subject.clone().unwrap_or_default(),
        since: args.since.clone().unwrap_or_default(),
        until: args.until.clone().unwrap_or_default(),
        page: Some(proto::PageRequest {
            page_size: PAGE_SIZE,
            page_token: String::new(),
        }),
    };
    let mut listed: Vec<(&str, ReadAuditEntry)> = Vec::new();
    let channel = connect(&server(args, args.assessment_addr.as_ref())).await?;
    let client = AssessmentServiceClient::with_interceptor(channel, bearer.clone());
    listed.extend(
        every_page!(client, request.clone())
            .into_iter()
            .map(|entry| ("assessment", entry)),
    );
    let channel = connect(&server(args, args.contracts_addr.as_ref())).await?;
    let client = ContractsServiceClient::with_interceptor(channel, bearer.clone());
    listed.extend(
        every_page!(client, request.clone())
            .into_iter()
            .map(|entry| ("contracts", entry)),
    );
    let channel = connect(&server(args, args.ledger_addr.as_ref())).await?;
    let client = LedgerServiceClient::with_interceptor(channel, bearer.clone());
    listed.extend(
        every_page!(client, request.clone())
            .into_iter()
            .map(|entry| ("ledger", entry)),
    );
    let channel = connect(&server(args, args.payments_addr.as_ref())).await?;
    let client = PaymentsServiceClient::with_interceptor(channel, bearer);
    listed.extend(
        every_page!(client, request)
            .into_iter()
            .map(|entry| ("payments", entry)),
    );
    emit(&csv_listing(listed)?)
}

/// The entries as CSV, oldest first (by time, then service, then place in its trail).
pub fn csv_listing(mut listed: Vec<(&str, ReadAuditEntry)>) -> anyhow::Result<String> {
    let at = |entry: &ReadAuditEntry| {
        DateTime::parse_from_rfc3339(&entry.at)
            .map(|at| at.with_timezone(&Utc))
            .ok()
    };
    listed.sort_by(|(one, first), (other, second)| {
        (at(first), *one, first.position).cmp(&(at(second), *other, second.position))
    });
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for (service, entry) in &listed {
        let outcome = match entry.refusal_code.as_str() {
            "" => entry.outcome.clone(),
            code => format!("{}:{code}", entry.outcome),
        };
        writer.write_record([
            entry.at.as_str(),
            service,
            &entry.authority,
            &entry.actor,
            &entry.actor_kind,
            &entry.subject_kind,
            &entry.subject_id,
            &entry.what,
            &entry.record_id,
            &outcome,
        ])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, position: u64, actor: &str, refusal: &str) -> ReadAuditEntry {
        ReadAuditEntry {
            position,
            authority: "fife".into(),
            actor: actor.into(),
            actor_kind: "authority".into(),
            subject_kind: "person".into(),
            subject_id: "0192f0c1-0000-7000-8000-0000000000a1".into(),
            what: "ledger.GetStatement".into(),
            record_id: "0192f0c1-0000-7000-8000-0000000000f1".into(),
            outcome: if refusal.is_empty() {
                "read"
            } else {
                "refused"
            }
            .into(),
            refusal_code: refusal.into(),
            at: at.into(),
        }
    }

    #[test]
    fn entries_of_every_service_are_merged_by_time_and_quoted_where_they_must_be() {
        let listed = vec![
            (
                "payments",
                entry("2026-11-28T10:00:00.000002Z", 1, "fife", ""),
            ),
            (
                "ledger",
                entry("2026-11-28T10:00:00.000001Z", 9, "a, \"b\"", "NOT_FOUND"),
            ),
            (
                "assessment",
                entry("2026-11-28T10:00:00.000002Z", 4, "fife", ""),
            ),
            (
                "assessment",
                entry("2026-11-28T10:00:00.000002Z", 3, "fife", ""),
            ),
        ];
        let text = csv_listing(listed).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        let order: Vec<(&str, &str)> = lines[1..]
            .iter()
            .map(|line| {
                let mut cells = line.split(',');
                (cells.next().unwrap(), cells.next().unwrap())
            })
            .collect();
        assert_eq!(
            order,
            [
                ("2026-11-28T10:00:00.000001Z", "ledger"),
                ("2026-11-28T10:00:00.000002Z", "assessment"),
                ("2026-11-28T10:00:00.000002Z", "assessment"),
                ("2026-11-28T10:00:00.000002Z", "payments"),
            ]
        );
        assert!(
            lines[1].contains(",\"a, \"\"b\"\"\",") && lines[1].ends_with(",refused:NOT_FOUND"),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with(",read"), "{}", lines[2]);
    }
}
