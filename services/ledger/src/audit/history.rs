//! History unchanged: the hash chain walked link by link. Each link's hash is recomputed
//! from the previous link's stored hash and the digest of the rows that name it, so a row
//! changed, added or removed breaks its own link, and a stored hash rewritten to match
//! changed rows breaks the next one. A missing sequence number is a removed link; the head
//! must be the last link. The rows of a link staged and not chained yet are checked against
//! the digest staged with them.

use crate::chain::{GENESIS, Hash, LinkContent, link_hash};

use super::Violation;
use super::load::StagedLink;

/// A link as stored: its place in the chain, the id its rows name it by, and its hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredLink {
    pub seq: i64,
    pub link_id: i64,
    pub hash: Vec<u8>,
}

/// Where the walk has got to: the last link seen and its stored hash.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    seq: i64,
    hash: Vec<u8>,
}

impl Default for ChainWalk {
    fn default() -> Self {
        ChainWalk {
            seq: 0,
            hash: GENESIS.to_vec(),
        }
    }
}

fn changed(detail: String) -> Violation {
    Violation::new("history_changed", detail)
}

impl ChainWalk {
    /// The last link seen.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Checks `link`, whose rows are `content`, and moves on to it.
    pub fn link(&mut self, link: &StoredLink, content: &LinkContent) -> Vec<Violation> {
        let mut violations = Vec::new();
        if link.seq != self.seq + 1 {
            violations.push(changed(format!(
                "chain link {} follows link {}: links {} to {} are missing",
                link.seq,
                self.seq,
                self.seq + 1,
                link.seq - 1
            )));
        }
        let previous: Hash = self.hash.as_slice().try_into().unwrap_or([0xff; 32]);
        let expected = link_hash(&previous, &content.digest());
        if link.hash.as_slice() != expected.as_slice() {
            violations.push(changed(format!(
                "chain link {} does not match: its {} transfers, {} resolutions and {} entries \
                 (or the link before it) are not what was recorded",
                link.seq,
                content.transfers.len(),
                content.resolutions.len(),
                content.entries.len()
            )));
        }
        self.seq = link.seq;
        self.hash.clone_from(&link.hash);
        violations
    }

    /// After the last link: the head is that link.
    pub fn finish(&self, head: Option<&StoredLink>) -> Option<Violation> {
        match head {
            Some(head) if head.seq == self.seq && head.hash == self.hash => None,
            Some(head) => Some(changed(format!(
                "the chain head is at link {} but the last link recorded is {}, or their \
                 hashes differ",
                head.seq, self.seq
            ))),
            None => Some(changed("the chain head is missing".into())),
        }
    }
}

/// Checks the rows of a link staged and not yet chained against the digest staged with
/// them.
pub fn check_staged(link: &StagedLink, content: &LinkContent) -> Option<Violation> {
    (link.digest.as_slice() != content.digest().as_slice()).then(|| {
        changed(format!(
            "staged chain link id {} does not match: its {} transfers, {} resolutions and {} \
             entries are not what was recorded",
            link.link_id,
            content.transfers.len(),
            content.resolutions.len(),
            content.entries.len()
        ))
    })
}

/// Rows naming link id `link_id`, which is not recorded.
pub fn orphaned(link_id: i64, transfers: i64, resolutions: i64, entries: i64) -> Violation {
    changed(format!(
        "{transfers} transfers, {resolutions} resolutions and {entries} entries name chain link id {link_id}, which is not recorded"
    ))
}

/// Rows written outside the chain (before it existed, or behind the service).
pub fn unchained(table: &str, count: i64) -> Option<Violation> {
    (count > 0).then(|| {
        Violation::new(
            "unchained",
            format!("{count} rows of {table} belong to no chain link"),
        )
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use uuid::Uuid;

    use super::*;
    use crate::chain::ChainEntry;

    fn content(amount: i64) -> LinkContent {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).expect("a day");
        let entry = |account: u128, amount: i64| ChainEntry {
            transfer_id: Uuid::from_u128(amount.unsigned_abs().into()),
            account_id: Uuid::from_u128(account),
            amount,
            posted_on: day,
        };
        LinkContent {
            entries: vec![entry(1, -amount), entry(2, amount)],
            ..LinkContent::default()
        }
    }

    /// Three links over contents of 10, 20 and 30, hashed as the database does.
    fn chain() -> (Vec<StoredLink>, Vec<LinkContent>) {
        let contents = vec![content(10), content(20), content(30)];
        let mut previous = GENESIS;
        let links = contents
            .iter()
            .zip(1..)
            .map(|(content, seq)| {
                previous = link_hash(&previous, &content.digest());
                StoredLink {
                    seq,
                    link_id: seq,
                    hash: previous.to_vec(),
                }
            })
            .collect();
        (links, contents)
    }

    fn walk(links: &[StoredLink], contents: &[LinkContent]) -> (ChainWalk, Vec<Violation>) {
        let mut walk = ChainWalk::default();
        let violations = links
            .iter()
            .zip(contents)
            .flat_map(|(link, content)| walk.link(link, content))
            .collect();
        (walk, violations)
    }

    #[test]
    fn an_unchanged_chain_is_clean() {
        let (links, contents) = chain();
        let (walk, violations) = walk(&links, &contents);
        assert_eq!(violations, vec![]);
        assert_eq!(walk.finish(links.last()), None);
    }

    #[test]
    fn a_changed_row_breaks_its_own_link_only() {
        let (links, mut contents) = chain();
        contents[1].entries[1].amount = 21;
        let (_, violations) = walk(&links, &contents);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].kind, "history_changed");
        assert!(violations[0].detail.starts_with("chain link 2 "));
    }

    #[test]
    fn a_rewritten_hash_breaks_the_next_link() {
        let (mut links, mut contents) = chain();
        contents[1].entries[1].amount = 21;
        links[1].hash = link_hash(
            &links[0].hash.as_slice().try_into().expect("32 bytes"),
            &contents[1].digest(),
        )
        .to_vec();
        let (_, violations) = walk(&links, &contents);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(violations[0].detail.starts_with("chain link 3 "));
    }

    #[test]
    fn a_removed_link_is_named() {
        let (mut links, mut contents) = chain();
        links.remove(1);
        contents.remove(1);
        let (_, violations) = walk(&links, &contents);
        assert!(violations[0].detail.contains("links 2 to 2 are missing"));
    }

    #[test]
    fn a_head_behind_the_last_link_is_reported() {
        let (links, contents) = chain();
        let (walk, _) = walk(&links, &contents);
        assert!(walk.finish(Some(&links[1])).is_some());
        assert!(walk.finish(None).is_some());
    }

    #[test]
    fn a_staged_link_is_checked_against_its_digest() {
        let staged = StagedLink {
            link_id: 7,
            digest: content(10).digest().to_vec(),
        };
        assert_eq!(check_staged(&staged, &content(10)), None);
        let changed = check_staged(&staged, &content(11)).expect("a violation");
        assert_eq!(changed.kind, "history_changed");
        assert!(changed.detail.starts_with("staged chain link id 7 "));
    }

    #[test]
    fn rows_outside_the_chain_are_unchained() {
        assert_eq!(unchained("entry", 0), None);
        assert_eq!(
            unchained("entry", 2).map(|violation| violation.kind),
            Some("unchained")
        );
    }
}
