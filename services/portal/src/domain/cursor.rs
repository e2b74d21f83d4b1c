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
}
