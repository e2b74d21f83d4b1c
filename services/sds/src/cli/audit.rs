//! `sds audit reads`: the read audit trail of personal data from every service that keeps
//! one (assessment, contracts, ledger, payments), merged into one listing ordered by time,
//! so that an authority's data protection officer gets one answer to "who looked at this
//! person's record".
//!
//! What must stay true: the output is CSV (RFC 4180) with the header line
//! `at,service,authority,actor,actor_kind,subject_kind,subject_id,what,record_id,outcome`,
//! a contract README documents, ordered by time, then service, then place in its trail;
//! every page of every service is read. The listing streams: each service's pages come in
//! the order of its trail (its positions, which follow its clock; two reads racing within
//! the same instant may be a microsecond apart the other way round) and are merged as they
//! come (a k-way merge by time), so a few pages are held at a time however long the trail,
//! and rows are printed as they are merged. Nothing is printed until every service has answered its
//! first page, so a service that refuses (another authority's staff, a bad argument) or
//! cannot be reached fails the whole command with one line and nothing printed; one that
//! fails later fails it too, with one line on standard error and a non-zero exit, after
//! the rows already printed (so a listing is whole only when the command succeeds). A cell
//! that a spreadsheet would read as a formula (starting `=`, `+`, `-`, `@`, a tab or a
//! carriage return) is written with a `'` before it ([`cell`]).

use std::collections::VecDeque;
use std::future::Future;

use chrono::{DateTime, Utc};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_proto::v1::payments_service_client::PaymentsServiceClient;
use sds_proto::v1::{self as proto, ReadAuditEntry};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

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

/// One service's client.
#[derive(Clone)]
enum Client {
    Assessment(AssessmentServiceClient<InterceptedService<Channel, Bearer>>),
    Contracts(ContractsServiceClient<InterceptedService<Channel, Bearer>>),
    Ledger(LedgerServiceClient<InterceptedService<Channel, Bearer>>),
    Payments(PaymentsServiceClient<InterceptedService<Channel, Bearer>>),
}

impl Client {
    async fn page(
        mut self,
        request: proto::ListReadAuditRequest,
    ) -> Result<proto::ListReadAuditResponse, tonic::Status> {
        let answer = match &mut self {
            Client::Assessment(client) => client.list_read_audit(request).await,
            Client::Contracts(client) => client.list_read_audit(request).await,
            Client::Ledger(client) => client.list_read_audit(request).await,
            Client::Payments(client) => client.list_read_audit(request).await,
        };
        answer.map(tonic::Response::into_inner)
    }
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
        page: None,
    };
    let channel = async |addr: Option<&String>| connect(&server(args, addr)).await;
    let clients = [
        Client::Assessment(AssessmentServiceClient::with_interceptor(
            channel(args.assessment_addr.as_ref()).await?,
            bearer.clone(),
        )),
        Client::Contracts(ContractsServiceClient::with_interceptor(
            channel(args.contracts_addr.as_ref()).await?,
            bearer.clone(),
        )),
        Client::Ledger(LedgerServiceClient::with_interceptor(
            channel(args.ledger_addr.as_ref()).await?,
            bearer.clone(),
        )),
        Client::Payments(PaymentsServiceClient::with_interceptor(
            channel(args.payments_addr.as_ref()).await?,
            bearer,
        )),
    ];
    let fetch = |service: usize, token: String| {
        let client = clients[service].clone();
        let request = proto::ListReadAuditRequest {
            page: Some(proto::PageRequest {
                page_size: PAGE_SIZE,
                page_token: token,
            }),
            ..request.clone()
        };
        async move {
            let page = client.page(request).await.map_err(status_error)?;
            let next = page.page.map(|page| page.next_page_token);
            Ok((page.entries, next.unwrap_or_default()))
        }
    };
    stream(&SERVICES, fetch, write_out).await
}

/// The services asked, in the order of `reads`' clients.
const SERVICES: [&str; 4] = ["assessment", "contracts", "ledger", "payments"];

/// Writes `bytes` to standard output; false when the reader has gone away (`| head`),
/// which, as for other command-line tools, stops the listing quietly.
fn write_out(bytes: &[u8]) -> anyhow::Result<bool> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        other => other.map(|()| true).map_err(Into::into),
    }
}

/// One service's trail as it is read: the entries of its pages read and not printed yet,
/// each with its time, and the token of its next page (`None` once its last page is read).
struct Trail {
    service: &'static str,
    buffered: VecDeque<(Option<DateTime<Utc>>, ReadAuditEntry)>,
    next: Option<String>,
}

/// An entry's time; one that does not read sorts first, as it always did.
fn time_of(entry: &ReadAuditEntry) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&entry.at)
        .map(|at| at.with_timezone(&Utc))
        .ok()
}

/// The trail whose first entry comes next: the earliest by time, then service, then place
/// in its trail. Every trail with more to read must have an entry buffered.
fn earliest(trails: &[Trail]) -> Option<usize> {
    trails
        .iter()
        .enumerate()
        .filter_map(|(index, trail)| {
            let (at, entry) = trail.buffered.front()?;
            Some((index, (*at, trail.service, entry.position)))
        })
        .min_by(|(_, one), (_, other)| one.cmp(other))
        .map(|(index, _)| index)
}

/// Lists every service's trail as one CSV, merging the pages `fetch` reads (a service's
/// index in `services` and a page token, empty for the first; its entries and the next
/// page's token, empty after the last) and handing the CSV to `out` as it goes: the header
/// and the rows merged so far each time another page is needed, and the rest at the end.
/// Nothing goes to `out` until every service has given its first page. `out` answers false
/// when no one reads any more, which ends the listing.
pub async fn stream<Fetch, Fetched>(
    services: &[&'static str],
    mut fetch: Fetch,
    mut out: impl FnMut(&[u8]) -> anyhow::Result<bool>,
) -> anyhow::Result<()>
where
    Fetch: FnMut(usize, String) -> Fetched,
    Fetched: Future<Output = anyhow::Result<(Vec<ReadAuditEntry>, String)>>,
{
    let mut trails: Vec<Trail> = services
        .iter()
        .map(|service| Trail {
            service,
            buffered: VecDeque::new(),
            next: Some(String::new()),
        })
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    // The header and rows are held back until every service has answered once.
    let mut started = false;
    loop {
        for (index, trail) in trails.iter_mut().enumerate() {
            while trail.buffered.is_empty()
                && let Some(token) = trail.next.take()
            {
                if started && !drain(&mut writer, &mut out)? {
                    return Ok(());
                }
                let (entries, next) = fetch(index, token).await?;
                trail
                    .buffered
                    .extend(entries.into_iter().map(|entry| (time_of(&entry), entry)));
                trail.next = Some(next).filter(|next| !next.is_empty());
            }
        }
        started = true;
        let Some(index) = earliest(&trails) else {
            break;
        };
        let trail = &mut trails[index];
        let Some((_, entry)) = trail.buffered.pop_front() else {
            break;
        };
        writer.write_record(row(trail.service, &entry))?;
    }
    drain(&mut writer, &mut out)?;
    Ok(())
}

/// Hands what `writer` holds to `out`.
fn drain(
    writer: &mut csv::Writer<Vec<u8>>,
    out: &mut impl FnMut(&[u8]) -> anyhow::Result<bool>,
) -> anyhow::Result<bool> {
    let held = std::mem::replace(writer, csv::Writer::from_writer(Vec::new()));
    let bytes = held.into_inner()?;
    if bytes.is_empty() {
        return Ok(true);
    }
    out(&bytes)
}

/// One entry's cells, in the order of [`HEADER`].
fn row(service: &str, entry: &ReadAuditEntry) -> [String; 10] {
    let outcome = match entry.refusal_code.as_str() {
        "" => entry.outcome.clone(),
        code => format!("{}:{code}", entry.outcome),
    };
    [
        &entry.at,
        service,
        &entry.authority,
        &entry.actor,
        &entry.actor_kind,
        &entry.subject_kind,
        &entry.subject_id,
        &entry.what,
        &entry.record_id,
        &outcome,
    ]
    .map(cell)
}

/// `text` as a cell no spreadsheet runs as a formula (OWASP's advice on CSV injection): one
/// that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a `'` before it.
/// Every cell is passed through this: the ones of our own format (a time, a UUID, a
/// service, a kind) never start so, and an actor (a token's `sub`) or a record id asked for
/// can.
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries as CSV, oldest first (by time, then service, then place in its trail): the
    /// listing `stream` prints when each service's entries are given in one page.
    fn csv_listing(listed: Vec<(&'static str, ReadAuditEntry)>) -> anyhow::Result<String> {
        let mut services: Vec<&'static str> = Vec::new();
        let mut pages: Vec<Vec<ReadAuditEntry>> = Vec::new();
        for (service, entry) in listed {
            let index = match services.iter().position(|known| *known == service) {
                Some(index) => index,
                None => {
                    services.push(service);
                    pages.push(Vec::new());
                    services.len() - 1
                }
            };
            pages[index].push(entry);
        }
        for page in &mut pages {
            page.sort_by_key(|entry| (time_of(entry), entry.position));
        }
        let mut printed = Vec::new();
        let fetch = |service: usize, _token: String| {
            let entries = std::mem::take(&mut pages[service]);
            async move { Ok((entries, String::new())) }
        };
        futures::executor::block_on(stream(&services, fetch, |bytes| {
            printed.extend_from_slice(bytes);
            Ok(true)
        }))?;
        Ok(String::from_utf8(printed)?)
    }

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

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_written_as_text() {
        for (actor, written) in [
            (
                "=HYPERLINK(\"http://x.example\",\"x\")",
                "'=HYPERLINK(\"http://x.example\",\"x\")",
            ),
            ("+SUM(1+1)", "'+SUM(1+1)"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("fife", "fife"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(cell(actor), written, "{actor:?}");
            let mut hostile = entry("2026-11-28T10:00:00.000001Z", 1, actor, "PERMISSION_DENIED");
            hostile.record_id = actor.into();
            let text = csv_listing(vec![("ledger", hostile)]).unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let row = reader.records().next().unwrap().unwrap();
            assert_eq!(&row[3], written, "actor {actor:?}");
            assert_eq!(&row[8], written, "record_id {actor:?}");
            // Values of our own format are left as they are.
            assert_eq!(&row[0], "2026-11-28T10:00:00.000001Z");
            assert_eq!(&row[6], "0192f0c1-0000-7000-8000-0000000000a1");
            assert_eq!(&row[7], "ledger.GetStatement");
        }
    }

    /// Pages of each service as a fake server gives them: `pages[service][page]`.
    type Pages = Vec<Vec<Vec<ReadAuditEntry>>>;

    /// Runs [`stream`] over `pages`, failing the read of `fail` (service, page) if given;
    /// returns what was printed, in the pieces it was handed over, and the outcome.
    fn streamed(
        pages: &Pages,
        fail: Option<(usize, usize)>,
    ) -> (Vec<String>, Vec<(usize, usize)>, anyhow::Result<()>) {
        let services = ["assessment", "contracts", "ledger", "payments"];
        let mut printed = Vec::new();
        let mut asked = Vec::new();
        let asked_log = &mut asked;
        let fetch = |service: usize, token: String| {
            let page: usize = if token.is_empty() {
                0
            } else {
                token.parse().unwrap()
            };
            asked_log.push((service, page));
            let answer = if fail == Some((service, page)) {
                Err(anyhow::anyhow!("Unavailable: the ledger went away"))
            } else {
                let next = if page + 1 < pages[service].len() {
                    (page + 1).to_string()
                } else {
                    String::new()
                };
                Ok((pages[service][page].clone(), next))
            };
            async move { answer }
        };
        let outcome = futures::executor::block_on(stream(&services, fetch, |bytes| {
            printed.push(String::from_utf8(bytes.to_vec()).unwrap());
            Ok(true)
        }));
        (printed, asked, outcome)
    }

    fn at(second: u32) -> String {
        format!("2026-11-28T10:00:{second:02}.000000Z")
    }

    #[test]
    fn pages_are_merged_by_time_as_they_come_and_printed_as_they_go() {
        // Each service's trail in pages of two, interleaved in time with the others'.
        let mut pages: Pages = vec![Vec::new(); 4];
        let mut expected = Vec::new();
        for service in 0..4 {
            let mut trail = Vec::new();
            for n in 0..7u32 {
                let second = n * 7 + u32::try_from(service).unwrap() * 2;
                trail.push(entry(&at(second % 60), u64::from(n) + 1, "fife", ""));
            }
            trail.sort_by_key(|entry| entry.at.clone());
            for (n, entry) in trail.iter().enumerate() {
                expected.push((
                    entry.at.clone(),
                    ["assessment", "contracts", "ledger", "payments"][service],
                    n,
                ));
            }
            pages[service] = trail.chunks(2).map(<[_]>::to_vec).collect();
        }
        // Two entries of the same time in two services: by service.
        pages[3][0][0].at = pages[1][0][0].at.clone();
        expected.sort();
        let (printed, asked, outcome) = streamed(&pages, None);
        outcome.unwrap();
        let text = printed.concat();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines.len(), 1 + 4 * 7);
        let order: Vec<(String, String)> = lines[1..]
            .iter()
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                (cells[0].to_owned(), cells[1].to_owned())
            })
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "by time, then service");
        // Every page read once, and rows went out before the last page was read: the
        // listing is printed as it goes, not held whole.
        assert_eq!(asked.len(), 4 * 4);
        assert!(printed.len() > 2, "{printed:?}");
        assert!(printed[0].starts_with(&HEADER.join(",")));
    }

    #[test]
    fn a_service_failing_first_prints_nothing_and_one_failing_later_fails_the_listing() {
        let page = |second: u32| vec![entry(&at(second), u64::from(second), "fife", "")];
        let pages: Pages = vec![
            vec![page(1), page(5)],
            vec![page(2)],
            vec![page(3), page(6), page(9)],
            vec![page(4)],
        ];
        let (printed, _, outcome) = streamed(&pages, Some((2, 0)));
        assert!(outcome.is_err());
        assert!(printed.is_empty(), "{printed:?}");
        let (printed, _, outcome) = streamed(&pages, Some((2, 2)));
        assert_eq!(
            outcome.unwrap_err().to_string(),
            "Unavailable: the ledger went away"
        );
        // Only what was merged before the failure was printed, in order.
        let text = printed.concat();
        let times: Vec<&str> = text.lines().skip(1).map(|line| &line[..27]).collect();
        assert_eq!(times, [at(1), at(2), at(3), at(4), at(5), at(6)]);
    }
}
