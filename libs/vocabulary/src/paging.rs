//! Pages of a list, as every service lists them: a size (25 unless asked, at most 200)
//! and an opaque token for the next page that is refused if it belongs to another list.

use crate::Invalid;

const DEFAULT_PAGE_SIZE: u32 = 25;
const MAX_PAGE_SIZE: u32 = 200;
const TOKEN_VERSION: &str = "a1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub size: u32,
    pub offset: u64,
}

/// The page asked for; `fingerprint` names the list (its filters), so a token from another
/// list is refused rather than silently read at the wrong place.
pub fn requested(page_size: u32, page_token: &str, fingerprint: &str) -> Result<Page, Invalid> {
    let size = match page_size {
        0 => DEFAULT_PAGE_SIZE,
        size if size > MAX_PAGE_SIZE => {
            return Err(Invalid::new(
                "page_size",
                format!(
                    "is {size}; at most {MAX_PAGE_SIZE} are accepted (0 means {DEFAULT_PAGE_SIZE})"
                ),
            ));
        }
        size => size,
    };
    let offset = match page_token.trim() {
        "" => 0,
        token => offset_of(token, fingerprint).ok_or_else(|| {
            Invalid::new(
                "page_token",
                "is not a token this list issued (it belongs to another list or was changed); list again without a page token to start from the first page",
            )
        })?,
    };
    Ok(Page { size, offset })
}

/// The token of the page after `page`, or `None` when `page` reaches the last match.
pub fn next_token(page: Page, total: u64, fingerprint: &str) -> Option<String> {
    let next = page.offset.checked_add(u64::from(page.size))?;
    (next < total).then(|| {
        format!(
            "{TOKEN_VERSION}.{next}.{:016x}",
            checksum(fingerprint, next)
        )
    })
}

/// A token carrying `position` itself, for a list paged by the last row shown rather than
/// by an offset: [`requested`] reads it back as [`Page::offset`] for the same fingerprint.
pub fn position_token(position: u64, fingerprint: &str) -> String {
    format!(
        "{TOKEN_VERSION}.{position}.{:016x}",
        checksum(fingerprint, position)
    )
}

fn offset_of(token: &str, fingerprint: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (Some(version), Some(offset), Some(sum), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let offset: u64 = offset.parse().ok()?;
    let sum = u64::from_str_radix(sum, 16).ok()?;
    (version == TOKEN_VERSION
        && i64::try_from(offset).is_ok()
        && sum == checksum(fingerprint, offset))
    .then_some(offset)
}

/// FNV-1a: stable across builds, so tokens survive a restart.
fn checksum(fingerprint: &str, offset: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{TOKEN_VERSION}\u{1f}{fingerprint}\u{1f}{offset}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_leads_to_the_next_page_of_its_own_list_only() {
        let first = requested(0, "", "fife").unwrap();
        assert_eq!(
            first,
            Page {
                size: 25,
                offset: 0
            }
        );
        let token = next_token(first, 30, "fife").unwrap();
        assert_eq!(requested(0, &token, "fife").unwrap().offset, 25);
        assert!(requested(0, &token, "angus").is_err());
        assert_eq!(
            next_token(
                Page {
                    size: 25,
                    offset: 25
                },
                30,
                "fife"
            ),
            None
        );
        assert_eq!(requested(201, "", "fife").unwrap_err().field(), "page_size");
        let after = position_token(4_711, "fife");
        assert_eq!(requested(0, &after, "fife").unwrap().offset, 4_711);
        assert!(requested(0, &after, "angus").is_err());
    }
}
