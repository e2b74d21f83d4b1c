//! The audit behind `sds ledger audit`: every invariant of the books checked over every
//! fund of every authority, reading the ledger's schema directly.
//!
//! Kinds of violation: `transfer_unbalanced` (a transfer's entries do not sum to zero or
//! are not its debit and credit), `balance_mismatch` (an account's stored posted sums are
//! not the sums of its entries), `pending_mismatch` (its stored pending sums are not its
//! unresolved pending transfers), `below_limit` (a fund's available balance is below minus
//! its overdraft limit), `history_changed` (the hash chain does not recompute, naming the
//! link, or a staged link whose rows no longer match its digest) and `unchained` (history
//! rows outside the chain).
//!
//! Everything is read in one repeatable-read, read-only transaction, so the audit sees one
//! consistent moment of the books while postings go on.
//!
//! An audit run again and again over growing books (`sds simulate` runs one after every
//! simulated day) may go on from where the previous one left the chain ([`run_from`]): the
//! links after it are walked, chained to the hash it ended on, and every other check is
//! made over all the books as before. A link walked before is not hashed again, so a row of
//! an old link rewritten consistently (its transfer still balanced, its account's sums
//! changed to match) is found only by a walk from the start ([`run`]). The checks themselves are pure
//! ([`checks`], [`history`]); [`load`] is the SQL.

pub mod checks;
pub mod history;
pub mod load;

use std::collections::BTreeMap;

use anyhow::Context as _;
use sqlx::PgPool;

use crate::chain::LinkContent;
pub use history::ChainWalk;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub kind: &'static str,
    pub detail: String,
}

impl Violation {
    pub fn new(kind: &'static str, detail: String) -> Violation {
        Violation { kind, detail }
    }
}

/// What the audit found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub funds: i64,
    pub transfers: i64,
    pub violations: Vec<Violation>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// The kinds found, each once, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.violations.iter().map(|v| v.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// `{"funds": N, "transfers": N, "violations": [{"kind": "...", "detail": "..."}]}`,
    /// the command's last line (scripts read it, so its shape is a contract).
    pub fn json_line(&self) -> String {
        let violations: Vec<String> = self
            .violations
            .iter()
            .map(|v| {
                format!(
                    "{{\"kind\": {}, \"detail\": {}}}",
                    json_string(v.kind),
                    json_string(&v.detail)
                )
            })
            .collect();
        format!(
            "{{\"funds\": {}, \"transfers\": {}, \"violations\": [{}]}}",
            self.funds,
            self.transfers,
            violations.join(", ")
        )
    }
}

/// `text` as a JSON string.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Audits the ledger through `pool`, whose connections work in the ledger's schema.
pub async fn run(pool: &PgPool) -> anyhow::Result<Report> {
    run_from(pool, ChainWalk::default())
        .await
        .map(|(report, _)| report)
}

/// [`run`], walking the chain from `walk` (where an earlier audit's walk ended) rather than
/// from its start; returns where this walk ended, for the next.
pub async fn run_from(pool: &PgPool, walk: ChainWalk) -> anyhow::Result<(Report, ChainWalk)> {
    let mut tx = pool.begin().await.context("begin the audit")?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .context("read one moment of the books")?;
    let (funds, transfers) = load::counts(&mut tx).await?;
    let mut violations = Vec::new();
    load::each_transfer(&mut tx, |totals| {
        violations.extend(checks::check_transfer(totals));
    })
    .await?;
    load::each_account(&mut tx, |totals| {
        violations.extend(checks::check_posted(totals));
        violations.extend(checks::check_pending(totals));
        violations.extend(checks::check_limit(totals));
    })
    .await?;
    let (found, walk) = walk_chain(&mut tx, walk).await?;
    violations.extend(found);
    for (table, count) in load::unchained(&mut tx).await? {
        violations.extend(history::unchained(table, count));
    }
    tx.commit().await.context("end the audit")?;
    Ok((
        Report {
            funds,
            transfers,
            violations,
        },
        walk,
    ))
}

/// Walks the chain from `walk` a page of links at a time, checks the links staged behind
/// it, then looks for rows naming no link; returns where the walk ended.
async fn walk_chain(
    connection: &mut sqlx::PgConnection,
    mut walk: ChainWalk,
) -> anyhow::Result<(Vec<Violation>, ChainWalk)> {
    let mut violations = Vec::new();
    loop {
        let links = load::links_after(connection, walk.seq()).await?;
        let last_page = i64::try_from(links.len()).unwrap_or(i64::MAX) < load::LINKS_PER_PAGE;
        let link_ids: Vec<i64> = links.iter().map(|link| link.link_id).collect();
        let mut contents: BTreeMap<i64, LinkContent> =
            load::contents(connection, &link_ids).await?;
        for link in &links {
            let content = contents.remove(&link.link_id).unwrap_or_default();
            violations.extend(walk.link(link, &content));
        }
        if last_page {
            break;
        }
    }
    violations.extend(check_staged(connection).await?);
    for (link_id, (transfers, resolutions, entries)) in load::orphans(connection).await? {
        violations.push(history::orphaned(link_id, transfers, resolutions, entries));
    }
    let head = load::head(connection).await?;
    violations.extend(walk.finish(head.as_ref()));
    Ok((violations, walk))
}

/// Checks the rows of links staged and not yet chained against the digests staged with
/// them, a page at a time.
async fn check_staged(connection: &mut sqlx::PgConnection) -> anyhow::Result<Vec<Violation>> {
    let mut violations = Vec::new();
    let mut after = 0;
    loop {
        let staged = load::staged_after(connection, after).await?;
        let Some(last) = staged.last() else {
            break;
        };
        after = last.link_id;
        let link_ids: Vec<i64> = staged.iter().map(|link| link.link_id).collect();
        let mut contents = load::contents(connection, &link_ids).await?;
        for link in &staged {
            let content = contents.remove(&link.link_id).unwrap_or_default();
            violations.extend(history::check_staged(link, &content));
        }
    }
    Ok(violations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_report_prints_its_counts_and_no_violations() {
        let report = Report {
            funds: 3,
            transfers: 12,
            violations: vec![],
        };
        assert_eq!(
            report.json_line(),
            r#"{"funds": 3, "transfers": 12, "violations": []}"#
        );
    }

    #[test]
    fn violations_print_as_kind_and_detail_with_text_escaped() {
        let report = Report {
            funds: 1,
            transfers: 2,
            violations: vec![
                Violation::new("below_limit", "fund \"a\"\n".into()),
                Violation::new("unchained", "x\\y".into()),
            ],
        };
        assert_eq!(
            report.json_line(),
            r#"{"funds": 1, "transfers": 2, "violations": [{"kind": "below_limit", "detail": "fund \"a\"\n"}, {"kind": "unchained", "detail": "x\\y"}]}"#
        );
    }
}
