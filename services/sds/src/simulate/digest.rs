//! The digest of the final books: one SHA-256 over every fact the books hold that the seed
//! decides, so two runs of the same seed can be compared by one string.
//!
//! What must stay true: only deterministic content goes in: amounts, dates, kinds,
//! authorities, case references, localities, client groups and line numbers. Never a random
//! id (people, agreements, funds, transfers and runs have UUIDs drawn afresh on every run),
//! a wall-clock time, or an order the platform happened to serve things in: the facts are
//! written as lines and sorted before they are hashed.

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};
use sqlx::PgPool;

/// SHA-256 of the lines, sorted, each ended by a newline; lowercase hex.
pub fn digest_of(mut lines: Vec<String>) -> String {
    lines.sort_unstable();
    let mut hasher = Sha256::new();
    for line in &lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The facts of the books, each read by one query as one line per row keyed by authority and
/// case reference; with what it reads, for the error when it fails.
const FACTS: [(&str, &str); 6] = [
    // Who each person is to the statistics: where they live and their client groups.
    (
        "read the people",
        "SELECT concat_ws('|', 'person', p.authority, p.case_reference, p.locality, \
            array_to_string(p.client_groups, ',')) \
         FROM assessment.person p",
    ),
    // What each schedule knows: its versions' lines and its end.
    (
        "read the schedules' versions",
        "SELECT concat_ws('|', 'schedule-line', s.authority, p.case_reference, s.frequency, \
            s.timing, s.payment_lag_days, v.version, v.effective_from, v.recorded_on, \
            v.event_type, l.line_number, l.kind, l.plan_line, l.support_type, l.weekly, \
            l.start_date, coalesce(l.end_date::text, '-')) \
         FROM payments.schedule s \
         JOIN assessment.person p ON p.id = s.person_id \
         JOIN payments.schedule_version v ON v.agreement_id = s.agreement_id \
         JOIN payments.schedule_line l ON l.agreement_id = v.agreement_id AND l.version = v.version",
    ),
    (
        "read the schedules' ends",
        "SELECT concat_ws('|', 'schedule-end', s.authority, p.case_reference, e.last_day, \
            e.recorded_on, e.cause) \
         FROM payments.schedule_end e \
         JOIN payments.schedule s ON s.agreement_id = e.agreement_id \
         JOIN assessment.person p ON p.id = s.person_id",
    ),
    // What runs paid.
    (
        "read the instalments paid",
        "SELECT concat_ws('|', 'instalment', s.authority, p.case_reference, i.period_start, \
            i.period_end, i.due_date, i.base, i.adjustment, i.amount, i.posted) \
         FROM payments.instalment_payment i \
         JOIN payments.schedule s ON s.agreement_id = i.agreement_id \
         JOIN assessment.person p ON p.id = s.person_id",
    ),
    // What the ledger holds: every transfer, and every account's sums.
    (
        "read the ledger's transfers",
        "SELECT concat_ws('|', 'transfer', f.authority, p.case_reference, f.holding_model, \
            t.category, t.amount_pence, t.pending, t.created_on, \
            (t.reverses_id IS NOT NULL), da.kind, ca.kind) \
         FROM ledger.transfer t \
         JOIN ledger.fund f ON f.id = t.fund_id \
         JOIN ledger.account da ON da.id = t.debit_account_id \
         JOIN ledger.account ca ON ca.id = t.credit_account_id \
         JOIN assessment.person p ON p.id = f.person_id",
    ),
    (
        "read the ledger's accounts",
        "SELECT concat_ws('|', 'account', f.authority, p.case_reference, f.holding_model, \
            f.weekly_budget_pence, f.overdraft_limit_pence, f.opened_on, \
            coalesce(f.closed_on::text, '-'), a.kind, a.debits_posted, a.credits_posted, \
            a.debits_pending, a.credits_pending) \
         FROM ledger.account a \
         JOIN ledger.fund f ON f.id = a.fund_id \
         JOIN assessment.person p ON p.id = f.person_id",
    ),
];

/// Every fact of the books, one line each.
pub async fn book_lines(observer: &PgPool) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for (what, query) in FACTS {
        let rows: Vec<(String,)> = sqlx::query_as(query)
            .fetch_all(observer)
            .await
            .with_context(|| what.to_owned())?;
        lines.extend(rows.into_iter().map(|(line,)| line));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| (*text).to_owned()).collect()
    }

    #[test]
    fn the_digest_does_not_depend_on_the_order_the_facts_were_read_in() {
        assert_eq!(
            digest_of(lines(&[
                "instalment|sim-1|SIM-000001|2026-04-06|840.00",
                "account|b"
            ])),
            digest_of(lines(&[
                "account|b",
                "instalment|sim-1|SIM-000001|2026-04-06|840.00"
            ]))
        );
    }

    #[test]
    fn a_penny_anywhere_changes_the_digest() {
        let one = digest_of(lines(&["instalment|sim-1|SIM-000001|2026-04-06|840.00"]));
        let other = digest_of(lines(&["instalment|sim-1|SIM-000001|2026-04-06|840.01"]));
        assert_ne!(one, other);
        assert_eq!(one.len(), 64);
    }

    #[test]
    fn lines_are_kept_apart_so_two_facts_never_hash_as_one() {
        assert_ne!(
            digest_of(lines(&["ab", "c"])),
            digest_of(lines(&["a", "bc"]))
        );
    }

    #[test]
    fn no_books_have_the_digest_of_nothing() {
        // SHA-256 of the empty string.
        assert_eq!(
            digest_of(Vec::new()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
