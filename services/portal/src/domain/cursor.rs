//! The resume cursor: the number of the last notification a subscriber received. It is
//! checked against what the subscriber has been sent, so that a cursor from another
//! subscriber, a typo or a lost database cannot silently skip what is still to come.

use sds_vocabulary::{Invalid, shown};

/// Where a stream starts: after notification `0` (everything kept) or after the one named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor(u64);

/// The field a cursor arrives in.
const FIELD: &str = "after";

impl Cursor {
    /// Before the first notification.
    pub fn start() -> Cursor {
        Cursor(0)
    }

    pub fn after(seq: u64) -> Cursor {
        Cursor(seq)
    }

    pub fn seq(self) -> u64 {
        self.0
    }

    /// Reads a cursor as a request carries it: empty for the start, else plain decimal
    /// digits (no sign, spaces or exponent), as `Notification.seq` prints.
    pub fn parse(raw: &str) -> Result<Cursor, Invalid> {
        if raw.is_empty() {
            return Ok(Cursor::start());
        }
        let digits = raw.len() <= 20 && raw.bytes().all(|byte| byte.is_ascii_digit());
        let seq = digits.then(|| raw.parse::<u64>().ok()).flatten();
        // Stored numbers are PostgreSQL bigints; a cursor above them can name nothing sent.
        match seq.filter(|seq| i64::try_from(*seq).is_ok()) {
            Some(seq) => Ok(Cursor(seq)),
            None => Err(Invalid::new(
                FIELD,
                format!(
                    "{} is not a notification number; give the seq of the last notification received as digits, such as \"42\", or leave it empty to receive every notification kept",
                    shown(raw)
                ),
            )),
        }
    }

    /// Refuses a cursor beyond `last`, the subscriber's latest notification.
    pub fn within(self, last: u64) -> Result<Cursor, Invalid> {
        if self.0 <= last {
            return Ok(self);
        }
        Err(Invalid::new(
            FIELD,
            format!(
                "is {}, but your latest notification is {last}; give the seq of a notification you received, or leave it empty to receive every notification kept",
                self.0
            ),
        ))
    }
}

/// A cursor from before what is still kept: the notifications after it up to
/// `pruned_through` were pruned, so resuming from it would skip them unseen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "after: is {after}, but {} no longer kept (the portal keeps notifications for a limited time, SDS_NOTIFICATION_RETENTION_DAYS); subscribe with an empty cursor to receive every notification still kept, and read what changed meanwhile from the services themselves",
    self.missing()
)]
pub struct NoLongerKept {
    pub after: u64,
    pub first_missing: u64,
    pub pruned_through: u64,
}

impl NoLongerKept {
    fn missing(&self) -> String {
        if self.first_missing == self.pruned_through {
            format!("notification {} is", self.first_missing)
        } else {
            format!(
                "notifications {} to {} are",
                self.first_missing, self.pruned_through
            )
        }
    }
}

impl Cursor {
    /// Refuses a cursor after which notifications were pruned; the start (everything still
    /// kept) is always accepted.
    pub fn kept(self, pruned_through: u64) -> Result<Cursor, NoLongerKept> {
        if self.0 == 0 || self.0 >= pruned_through {
            Ok(self)
        } else {
            Err(NoLongerKept {
                after: self.0,
                first_missing: self.0 + 1,
                pruned_through,
            })
        }
    }

    /// Whether `seq`, the first notification read after this cursor, follows on from it
    /// with nothing pruned in between. After the start anything kept follows on.
    pub fn followed_by(self, seq: u64) -> Result<(), NoLongerKept> {
        if self.0 == 0 || seq == self.0 + 1 {
            Ok(())
        } else {
            Err(NoLongerKept {
                after: self.0,
                first_missing: self.0 + 1,
                pruned_through: seq.saturating_sub(1),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_empty_or_plain_digits() {
        assert_eq!(Cursor::parse(""), Ok(Cursor::start()));
        assert_eq!(Cursor::parse("0"), Ok(Cursor::after(0)));
        assert_eq!(Cursor::parse("42"), Ok(Cursor::after(42)));
        for malformed in [
            "-1",
            "+3",
            " 4",
            "4 ",
            "1e3",
            "4.0",
            "abc",
            "99999999999999999999",
        ] {
            let refused = Cursor::parse(malformed).unwrap_err();
            assert_eq!(refused.field(), "after", "{malformed}");
            assert!(
                refused.problem().contains("not a notification number"),
                "{refused}"
            );
        }
        assert!(Cursor::parse(&u64::MAX.to_string()).is_err());
    }

    #[test]
    fn a_cursor_beyond_the_latest_notification_is_refused_naming_the_latest() {
        assert_eq!(Cursor::after(3).within(3), Ok(Cursor::after(3)));
        assert_eq!(Cursor::start().within(0), Ok(Cursor::start()));
        let refused = Cursor::after(4).within(3).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "after is 4, but your latest notification is 3; give the seq of a notification you received, or leave it empty to receive every notification kept"
        );
    }

    #[test]
    fn a_cursor_from_before_what_is_kept_is_refused_with_what_was_pruned() {
        assert_eq!(Cursor::start().kept(40), Ok(Cursor::start()));
        assert_eq!(Cursor::after(40).kept(40), Ok(Cursor::after(40)));
        assert_eq!(Cursor::after(41).kept(40), Ok(Cursor::after(41)));
        let refused = Cursor::after(12).kept(40).expect_err("pruned");
        assert_eq!((refused.first_missing, refused.pruned_through), (13, 40));
        assert!(
            refused
                .to_string()
                .starts_with("after: is 12, but notifications 13 to 40 are no longer kept"),
            "{refused}"
        );
    }

    #[test]
    fn a_read_follows_on_only_from_the_very_next_number() {
        assert_eq!(Cursor::start().followed_by(41), Ok(()));
        assert_eq!(Cursor::after(40).followed_by(41), Ok(()));
        let gap = Cursor::after(40).followed_by(45).expect_err("a gap");
        assert_eq!((gap.first_missing, gap.pruned_through), (41, 44));
        let one = Cursor::after(27).kept(28).expect_err("28 is gone");
        assert!(
            one.to_string()
                .starts_with("after: is 27, but notification 28 is no longer kept"),
            "{one}"
        );
    }
}
