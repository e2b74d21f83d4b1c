//! Searching the directory: the filters a search may combine, and pages through the
//! results.
//!
//! Results are sorted by relevance to the search text, then by minimum grade (best first,
//! ungraded last), then by name and id, so the order is total: within one unchanging
//! directory, consecutive pages neither overlap nor leave gaps. Each page is read from the
//! directory as it is when that page is asked for, though, and a token names only an
//! offset, not a place among the results. If providers are registered, changed, regraded
//! or moved on a framework between two page requests, the results shift under the offset:
//! the next page may repeat a provider already shown, or skip one that was never shown,
//! and `total_matches` may differ from page to page. Callers should drop ids they have
//! already seen. A skip cannot be seen from the responses (a regrade reorders the results
//! without changing `total_matches`), so a caller that must see every match cannot rely on
//! paging through a directory that is changing.
//!
//! A page token names the offset of the next page and carries a checksum of that offset
//! and of the filters it was issued for: a token from another search, or one edited by
//! hand, is refused rather than silently answering a different question. The checksum is
//! not a secret (an offset is no secret either); it only makes mistakes loud.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sds_vocabulary::NamedEnum as _;

use super::framework::FrameworkMembership;
use super::grade::GradeValue;
use sds_vocabulary::Invalid;

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 200;

/// Tokens of another format version are refused, so the format may change safely.
const TOKEN_VERSION: &str = "p1";

/// What a search asks for. Every filter that is `None` matches every provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilters {
    /// Words to find in names, service types and localities; ranks the results.
    pub text: Option<String>,
    /// One of the provider's service types, ignoring case.
    pub service_type: Option<String>,
    /// One of the provider's localities, ignoring case.
    pub locality: Option<String>,
    /// Every current grade at least this; ungraded providers never qualify.
    pub min_grade: Option<GradeValue>,
    /// The provider's status with one authority (no status recorded counts as off framework).
    pub framework: Option<FrameworkMembership>,
    pub holds_isfs: Option<bool>,
    /// Whether inactive Care Inspectorate services (cancelled or not operating) may match;
    /// by default they do not, since nobody can be supported by them.
    pub include_inactive: bool,
}

/// One page of results: at most `size` providers from `offset` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub size: u32,
    pub offset: u64,
}

impl SearchFilters {
    /// The filters as one canonical text: two searches asking the same question have the
    /// same fingerprint.
    fn fingerprint(&self) -> String {
        let optional = |value: Option<&str>| value.unwrap_or("").to_lowercase();
        let framework = self
            .framework
            .as_ref()
            .map(|membership| format!("{}={}", membership.authority, membership.status.name()))
            .unwrap_or_default();
        let mut parts = vec![
            optional(self.text.as_deref()),
            optional(self.service_type.as_deref()),
            optional(self.locality.as_deref()),
            self.min_grade
                .map(|grade| grade.get().to_string())
                .unwrap_or_default(),
            framework,
            self.holds_isfs
                .map(|holds| holds.to_string())
                .unwrap_or_default(),
        ];
        // Only when asked, so that tokens issued before the filter existed stay valid.
        if self.include_inactive {
            parts.push("include_inactive".to_owned());
        }
        parts.join("\u{1f}")
    }
}

/// The page a request asks for. Field names in errors are relative to the page request.
pub fn requested_page(
    filters: &SearchFilters,
    page_size: u32,
    page_token: &str,
) -> Result<Page, Invalid> {
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
    let offset = if page_token.is_empty() {
        0
    } else {
        offset_from_token(filters, page_token).ok_or_else(|| {
            Invalid::new(
                "page_token",
                "is not a token this search issued (it belongs to another search or was changed); repeat the search without a page token to start from the first page",
            )
        })?
    };
    Ok(Page { size, offset })
}

/// The token of the page after `page`, or `None` when `page` reaches the last match.
pub fn next_page_token(filters: &SearchFilters, page: Page, total_matches: u64) -> Option<String> {
    let next_offset = page.offset.checked_add(u64::from(page.size))?;
    (next_offset < total_matches).then(|| token_for(filters, next_offset))
}

fn token_for(filters: &SearchFilters, offset: u64) -> String {
    let checksum = checksum(filters, offset);
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_VERSION}:{offset}:{checksum:016x}"))
}

fn offset_from_token(filters: &SearchFilters, token: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split(':');
    let (Some(version), Some(offset), Some(checksum), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let offset: u64 = offset.parse().ok()?;
    let checksum = u64::from_str_radix(checksum, 16).ok()?;
    let fits_in_sql = i64::try_from(offset).is_ok();
    (version == TOKEN_VERSION && fits_in_sql && checksum == self::checksum(filters, offset))
        .then_some(offset)
}

/// FNV-1a over the filters and the offset: stable across builds and Rust versions, which
/// std's hasher does not promise, so tokens survive a rolling restart.
fn checksum(filters: &SearchFilters, offset: u64) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let text = format!(
        "{TOKEN_VERSION}\u{1f}{}\u{1f}{offset}",
        filters.fingerprint()
    );
    let mut hash = OFFSET_BASIS;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day_support() -> SearchFilters {
        SearchFilters {
            service_type: Some("Day support".into()),
            ..SearchFilters::default()
        }
    }

    #[test]
    fn page_size_defaults_to_25_and_stops_at_200() {
        let filters = SearchFilters::default();
        assert_eq!(requested_page(&filters, 0, "").unwrap().size, 25);
        assert_eq!(requested_page(&filters, 200, "").unwrap().size, 200);
        let error = requested_page(&filters, 201, "").unwrap_err();
        assert_eq!(error.field(), "page_size");
    }

    #[test]
    fn a_token_leads_to_the_next_page_of_the_same_search() {
        let filters = day_support();
        let first = requested_page(&filters, 10, "").unwrap();
        let token = next_page_token(&filters, first, 25).unwrap();
        let second = requested_page(&filters, 10, &token).unwrap();
        assert_eq!(
            second,
            Page {
                size: 10,
                offset: 10
            }
        );
        let token = next_page_token(&filters, second, 25).unwrap();
        let third = requested_page(&filters, 10, &token).unwrap();
        assert_eq!(third.offset, 20);
        assert_eq!(next_page_token(&filters, third, 25), None);
    }

    #[test]
    fn a_token_from_another_search_or_edited_by_hand_is_refused() {
        let token = next_page_token(
            &day_support(),
            Page {
                size: 10,
                offset: 0,
            },
            100,
        )
        .unwrap();
        let other_search = SearchFilters {
            locality: Some("Fife".into()),
            ..day_support()
        };
        assert!(requested_page(&other_search, 10, &token).is_err());
        let with_inactive = SearchFilters {
            include_inactive: true,
            ..day_support()
        };
        assert!(requested_page(&with_inactive, 10, &token).is_err());

        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(&token).unwrap()).unwrap();
        let edited = URL_SAFE_NO_PAD.encode(decoded.replacen(":10:", ":90:", 1));
        assert!(requested_page(&day_support(), 10, &edited).is_err());
        for garbage in ["x", "not base64!", "cDE6MTA"] {
            assert!(
                requested_page(&day_support(), 10, garbage).is_err(),
                "{garbage}"
            );
        }
    }
}
