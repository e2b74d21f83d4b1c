//! The query parameters of the open data lists, read strictly: a value that cannot be read
//! is refused with a message naming the parameter and what it accepts, never guessed at or
//! ignored, since a harvester that sent `modified_after=yesterday` and silently got the whole
//! directory back would not know its filter did nothing. Parameters this endpoint does not
//! serve (HSDS's `taxonomy_term_id`, `postcode`, ...) are refused for the same reason.

use chrono::{DateTime, NaiveDate, Utc};
use sds_vocabulary::shown;
use uuid::Uuid;

use super::page::PageRequest;
use crate::domain::ProviderId;
use crate::store::open_data::PublishedFilters;

/// The most entities one page holds: enough for a harvester to take a national directory
/// in a few dozen requests, few enough that one request stays quick.
pub const MAX_PER_PAGE: u32 = 200;
/// Entities on a page when `per_page` is not given.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Search text longer than this is refused: no provider's name and areas need more.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A parameter that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParameter {
    pub parameter: String,
    pub message: String,
}

impl BadParameter {
    fn new(parameter: &str, message: impl Into<String>) -> BadParameter {
        BadParameter {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

/// Which parameters a list takes besides `page` and `per_page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `/services` and `/service_at_locations`: search, organization and change filters.
    Services,
    /// `/organizations`: search only (HSDS gives organizations no change filter).
    Organizations,
}

impl ListKind {
    fn accepted(self) -> &'static [&'static str] {
        match self {
            ListKind::Services => &[
                "page",
                "per_page",
                "search",
                "organization_id",
                "modified_after",
            ],
            ListKind::Organizations => &["page", "per_page", "search"],
        }
    }
}

/// A list request as read from its query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub page: PageRequest,
    pub filters: PublishedFilters,
}

/// Reads the decoded `(name, value)` pairs of a query string.
pub fn read_list_request(
    kind: ListKind,
    pairs: &[(String, String)],
) -> Result<ListRequest, BadParameter> {
    let accepted = kind.accepted();
    for (index, (name, _)) in pairs.iter().enumerate() {
        if !accepted.contains(&name.as_str()) {
            return Err(BadParameter::new(
                name,
                format!(
                    "{} is not a parameter of this list; accepted: {}",
                    shown(name),
                    accepted.join(", ")
                ),
            ));
        }
        if pairs[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(BadParameter::new(
                name,
                format!("{name} is given more than once; give it once"),
            ));
        }
    }
    let value_of = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };

    let page_number = match value_of("page") {
        None => 1,
        Some(raw) => whole_number_from_1("page", raw, u32::MAX, "a page number from 1")?,
    };
    let per_page = match value_of("per_page") {
        None => DEFAULT_PER_PAGE,
        Some(raw) => whole_number_from_1(
            "per_page",
            raw,
            MAX_PER_PAGE,
            &format!("a whole number from 1 to {MAX_PER_PAGE}"),
        )?,
    };
    let text = value_of("search").map(read_search).transpose()?.flatten();
    let organization_id = value_of("organization_id")
        .map(read_organization_id)
        .transpose()?;
    let modified_after = value_of("modified_after")
        .map(read_modified_after)
        .transpose()?;
    Ok(ListRequest {
        page: PageRequest {
            page_number,
            per_page,
        },
        filters: PublishedFilters {
            text,
            organization_id,
            modified_after,
        },
    })
}

fn whole_number_from_1(
    parameter: &str,
    raw: &str,
    most: u32,
    accepted: &str,
) -> Result<u32, BadParameter> {
    match raw.trim().parse::<u32>() {
        Ok(number) if (1..=most).contains(&number) => Ok(number),
        _ => Err(BadParameter::new(
            parameter,
            format!("{parameter} is {}; give {accepted}", shown(raw)),
        )),
    }
}

/// Blank search text means no search, as an empty search box does.
fn read_search(raw: &str) -> Result<Option<String>, BadParameter> {
    let text = raw.trim();
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(BadParameter::new(
            "search",
            format!("search is longer than {MAX_SEARCH_CHARS} characters; shorten it"),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

fn read_organization_id(raw: &str) -> Result<ProviderId, BadParameter> {
    Uuid::parse_str(raw.trim())
        .map(ProviderId::from_uuid)
        .map_err(|_| {
            BadParameter::new(
                "organization_id",
                format!(
                    "organization_id is {}; give an organization id from this feed (a UUID such as 0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b)",
                    shown(raw)
                ),
            )
        })
}

/// An RFC 3339 date-time (`2026-11-01T09:30:00Z`) or a date (`2026-11-01`, meaning its
/// start in UTC). A `+` in a query string decodes to a space, so an offset typed as
/// `+01:00` arrives as ` 01:00`; that one misreading is put right rather than refused.
fn read_modified_after(raw: &str) -> Result<DateTime<Utc>, BadParameter> {
    let text = raw.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Some((head, offset)) = text.rsplit_once(' ')
        && let Ok(instant) = DateTime::parse_from_rfc3339(&format!("{head}+{offset}"))
    {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = day.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc());
    }
    Err(BadParameter::new(
        "modified_after",
        format!(
            "modified_after is {}; give an RFC 3339 date-time such as 2026-11-01T09:30:00Z, or a date such as 2026-11-01",
            shown(raw)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn no_parameters_mean_the_first_page_of_everything() {
        let request = read_list_request(ListKind::Services, &[]).expect("read");
        assert_eq!(request.page.page_number, 1);
        assert_eq!(request.page.per_page, DEFAULT_PER_PAGE);
        assert_eq!(request.filters, PublishedFilters::default());
    }

    #[test]
    fn a_date_means_its_start_and_a_decoded_plus_is_read_as_an_offset() {
        let request = read_list_request(
            ListKind::Services,
            &pairs(&[("modified_after", "2026-11-01")]),
        )
        .expect("read");
        assert_eq!(
            request.filters.modified_after.map(|at| at.to_rfc3339()),
            Some("2026-11-01T00:00:00+00:00".to_owned())
        );
        let request = read_list_request(
            ListKind::Services,
            &pairs(&[("modified_after", "2026-11-01T10:00:00 01:00")]),
        )
        .expect("read");
        assert_eq!(
            request.filters.modified_after.map(|at| at.to_rfc3339()),
            Some("2026-11-01T09:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn values_that_cannot_be_read_are_refused_naming_the_parameter() {
        let cases = [
            ("page", "0"),
            ("page", "two"),
            ("per_page", "201"),
            ("per_page", "-1"),
            ("modified_after", "yesterday"),
            ("organization_id", "CS2004071234"),
        ];
        for (name, value) in cases {
            let refused =
                read_list_request(ListKind::Services, &pairs(&[(name, value)])).expect_err(value);
            assert_eq!(refused.parameter, name);
            assert!(refused.message.starts_with(name), "{}", refused.message);
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        let refused = read_list_request(
            ListKind::Organizations,
            &pairs(&[("modified_after", "2026-11-01")]),
        )
        .expect_err("organizations take no change filter");
        assert_eq!(refused.parameter, "modified_after");
        assert!(refused.message.contains("accepted: page, per_page, search"));
        let refused =
            read_list_request(ListKind::Services, &pairs(&[("page", "1"), ("page", "2")]))
                .expect_err("repeated");
        assert_eq!(refused.parameter, "page");
    }
}
