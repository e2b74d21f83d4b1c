//! A package request: a social worker asks the providers of an area for offers on one option 2
//! line of a person's plan. What providers see is anonymous ([`super::anonymity`]): the needs
//! in a few sentences, the service types, the locality, how much support (hours a week or a
//! weekly budget), when it should start and when offers close. Who the person is stays with
//! the request, shown to no provider until the person chooses one, and then to that one
//! only.
//!
//! What must stay true of a request, checked here and again by CHECK constraints:
//! - it asks for hours a week or a weekly budget, exactly one, above zero (at most 168 hours,
//!   two decimal places; money as `Money`);
//! - offers close on or after the day it is published and no later than the day support
//!   should start, which is at most a year ahead;
//! - it names one to ten distinct service types (ignoring case) and one locality.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use sds_money::Money;
use sds_vocabulary::Invalid;
use sds_vocabulary::text::{optional_paragraphs, optional_text};

use super::anonymity::ensure_anonymous;

/// The needs summary is at most this many characters.
pub const MAX_SUMMARY_CHARS: usize = 2000;
/// A request names at most this many service types.
pub const MAX_SERVICE_TYPES: usize = 10;
/// A service type or a locality is at most this many characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Support starts at most this many days after the request is published.
pub const MAX_DAYS_AHEAD: u64 = 366;
/// The hours in a week.
const HOURS_IN_A_WEEK: Decimal = Decimal::from_parts(168, 0, 0, false, 0);

sds_vocabulary::wire_enum! {
    /// Where a request stands: open to offers (until its closing date), accepted (the person
    /// chose an offer) or closed without one.
    pub enum RequestStatus("package request status") => sds_proto::v1::PackageRequestStatus {
        Open = "open",
        Accepted = "accepted",
        Closed = "closed",
    }
}

sds_vocabulary::wire_enum! {
    /// Who will hold the fund of the line, as the person chose with the offer.
    pub enum HoldingModel("fund holding model") => sds_proto::v1::FundHoldingModel {
        ThirdParty = "third_party",
        Provider = "provider",
        Authority = "authority",
    }
}

/// How much support a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    HoursPerWeek(Decimal),
    WeeklyBudget(Money),
}

/// A request's content as the social worker gave it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInput {
    pub needs_summary: String,
    pub service_types: Vec<String>,
    pub locality: String,
    pub hours_per_week: Option<Decimal>,
    pub weekly_budget: Option<Money>,
    pub start_date: Option<NaiveDate>,
    pub closing_date: Option<NaiveDate>,
}

/// A request's content, checked: what providers are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContent {
    pub needs_summary: String,
    pub service_types: Vec<String>,
    pub locality: String,
    pub amount: Amount,
    pub start_date: NaiveDate,
    pub closing_date: NaiveDate,
}

impl RequestContent {
    /// Checks `input`, published on `today`. Field names are the request's.
    pub fn new(input: RequestInput, today: NaiveDate) -> Result<RequestContent, Invalid> {
        let needs_summary =
            optional_paragraphs("needs_summary", &input.needs_summary, MAX_SUMMARY_CHARS)?
                .ok_or_else(|| {
                    Invalid::new(
                        "needs_summary",
                        "is empty; say in a few sentences what support is needed, without saying who it is for",
                    )
                })?;
        ensure_anonymous("needs_summary", &needs_summary)?;
        let service_types = service_types(&input.service_types)?;
        let locality = name("locality", &input.locality)?;
        ensure_anonymous("locality", &locality)?;
        let amount = amount(input.hours_per_week, input.weekly_budget)?;
        let start_date = input.start_date.ok_or_else(|| {
            Invalid::new(
                "start_date",
                "is missing; give the day support should start",
            )
        })?;
        let latest = today.checked_add_days(Days::new(MAX_DAYS_AHEAD));
        if start_date < today || latest.is_some_and(|latest| start_date > latest) {
            return Err(Invalid::new(
                "start_date",
                format!("is {start_date}; support starts between today ({today}) and a year ahead"),
            ));
        }
        let closing_date = input.closing_date.ok_or_else(|| {
            Invalid::new(
                "closing_date",
                "is missing; give the last day providers may offer",
            )
        })?;
        if closing_date < today || closing_date > start_date {
            return Err(Invalid::new(
                "closing_date",
                format!(
                    "is {closing_date}; offers close between today ({today}) and the start date ({start_date})"
                ),
            ));
        }
        Ok(RequestContent {
            needs_summary,
            service_types,
            locality,
            amount,
            start_date,
            closing_date,
        })
    }
}

/// A service type or locality: trimmed, not empty, not too long, plain text on one line.
fn name(field: &str, raw: &str) -> Result<String, Invalid> {
    optional_text(field, raw, MAX_NAME_CHARS)?.ok_or_else(|| Invalid::new(field, "is empty"))
}

fn service_types(raw: &[String]) -> Result<Vec<String>, Invalid> {
    if raw.is_empty() || raw.len() > MAX_SERVICE_TYPES {
        return Err(Invalid::new(
            "service_types",
            format!(
                "has {}; a request names 1 to {MAX_SERVICE_TYPES} service types",
                raw.len()
            ),
        ));
    }
    let mut seen: Vec<String> = Vec::with_capacity(raw.len());
    let mut types = Vec::with_capacity(raw.len());
    for (index, service_type) in raw.iter().enumerate() {
        let field = format!("service_types[{index}]");
        let service_type = name(&field, service_type)?;
        let folded = service_type.to_lowercase();
        if seen.contains(&folded) {
            return Err(Invalid::new(
                field,
                format!("repeats {service_type:?}; name each service type once"),
            ));
        }
        seen.push(folded);
        types.push(service_type);
    }
    Ok(types)
}

fn amount(hours: Option<Decimal>, budget: Option<Money>) -> Result<Amount, Invalid> {
    match (hours, budget) {
        (Some(_), Some(_)) | (None, None) => Err(Invalid::new(
            "amount",
            "must be one of hours_per_week or weekly_budget: a request asks for hours or for a budget",
        )),
        (Some(hours), None) => {
            if hours <= Decimal::ZERO || hours > HOURS_IN_A_WEEK || hours.scale() > 2 {
                return Err(Invalid::new(
                    "hours_per_week",
                    format!(
                        "is {hours}; give hours above 0 and at most 168, to at most 2 decimal places"
                    ),
                ));
            }
            Ok(Amount::HoursPerWeek(hours.normalize()))
        }
        (None, Some(budget)) => {
            if budget <= Money::zero() {
                return Err(Invalid::new(
                    "weekly_budget",
                    format!("is {budget}; give a weekly budget above 0.00"),
                ));
            }
            Ok(Amount::WeeklyBudget(budget))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
    }

    fn good() -> RequestInput {
        RequestInput {
            needs_summary:
                "Personal care each morning and help to get out to a lunch club twice a week."
                    .to_owned(),
            service_types: vec!["Personal care".to_owned(), "Social support".to_owned()],
            locality: " Inverurie ".to_owned(),
            hours_per_week: Some(Decimal::new(1250, 2)),
            weekly_budget: None,
            start_date: NaiveDate::from_ymd_opt(2027, 1, 4),
            closing_date: NaiveDate::from_ymd_opt(2026, 12, 18),
        }
    }

    #[test]
    fn a_good_request_is_kept_trimmed() {
        let content = RequestContent::new(good(), today()).expect("a good request");
        assert_eq!(content.locality, "Inverurie");
        assert_eq!(content.amount, Amount::HoursPerWeek(Decimal::new(125, 1)));
        assert_eq!(content.service_types.len(), 2);
    }

    #[test]
    fn a_budget_instead_of_hours_is_kept() {
        let input = RequestInput {
            hours_per_week: None,
            weekly_budget: Money::parse("310.50").ok(),
            ..good()
        };
        let content = RequestContent::new(input, today()).expect("a request with a budget");
        assert_eq!(
            Some(content.amount),
            Money::parse("310.50").ok().map(Amount::WeeklyBudget)
        );
    }

    #[test]
    fn bad_requests_are_refused_naming_the_field() {
        let cases: Vec<(&str, RequestInput)> = vec![
            (
                "needs_summary",
                RequestInput {
                    needs_summary: "  ".to_owned(),
                    ..good()
                },
            ),
            (
                "needs_summary",
                RequestInput {
                    needs_summary: "x".repeat(2001),
                    ..good()
                },
            ),
            (
                "needs_summary",
                RequestInput {
                    needs_summary: "Mrs B, DOB 12/03/1941, needs help".to_owned(),
                    ..good()
                },
            ),
            (
                "service_types",
                RequestInput {
                    service_types: vec![],
                    ..good()
                },
            ),
            (
                "service_types",
                RequestInput {
                    service_types: vec!["a".to_owned(); 11],
                    ..good()
                },
            ),
            (
                "service_types[1]",
                RequestInput {
                    service_types: vec!["Respite".to_owned(), " ".to_owned()],
                    ..good()
                },
            ),
            (
                "service_types[1]",
                RequestInput {
                    service_types: vec!["Respite".to_owned(), "RESPITE".to_owned()],
                    ..good()
                },
            ),
            (
                "locality",
                RequestInput {
                    locality: String::new(),
                    ..good()
                },
            ),
            (
                "locality",
                RequestInput {
                    locality: "AB51 3XY".to_owned(),
                    ..good()
                },
            ),
            (
                "amount",
                RequestInput {
                    weekly_budget: Money::parse("10.00").ok(),
                    ..good()
                },
            ),
            (
                "amount",
                RequestInput {
                    hours_per_week: None,
                    ..good()
                },
            ),
            (
                "hours_per_week",
                RequestInput {
                    hours_per_week: Some(Decimal::ZERO),
                    ..good()
                },
            ),
            (
                "hours_per_week",
                RequestInput {
                    hours_per_week: Some(Decimal::new(169, 0)),
                    ..good()
                },
            ),
            (
                "hours_per_week",
                RequestInput {
                    hours_per_week: Some(Decimal::new(1001, 3)),
                    ..good()
                },
            ),
            (
                "weekly_budget",
                RequestInput {
                    hours_per_week: None,
                    weekly_budget: Some(Money::zero()),
                    ..good()
                },
            ),
            (
                "start_date",
                RequestInput {
                    start_date: None,
                    ..good()
                },
            ),
            (
                "start_date",
                RequestInput {
                    start_date: NaiveDate::from_ymd_opt(2026, 11, 30),
                    ..good()
                },
            ),
            (
                "start_date",
                RequestInput {
                    start_date: NaiveDate::from_ymd_opt(2028, 1, 1),
                    ..good()
                },
            ),
            (
                "closing_date",
                RequestInput {
                    closing_date: None,
                    ..good()
                },
            ),
            (
                "closing_date",
                RequestInput {
                    closing_date: NaiveDate::from_ymd_opt(2026, 11, 30),
                    ..good()
                },
            ),
            (
                "closing_date",
                RequestInput {
                    closing_date: NaiveDate::from_ymd_opt(2027, 1, 5),
                    ..good()
                },
            ),
        ];
        for (field, input) in cases {
            let refused = RequestContent::new(input.clone(), today())
                .expect_err(&format!("{field}: {input:?}"));
            assert_eq!(refused.field(), field, "{refused}");
        }
    }

    #[test]
    fn offers_may_close_on_the_day_of_publishing_or_the_day_support_starts() {
        for closing in [
            today(),
            NaiveDate::from_ymd_opt(2027, 1, 4).unwrap_or_default(),
        ] {
            let input = RequestInput {
                closing_date: Some(closing),
                ..good()
            };
            assert!(RequestContent::new(input, today()).is_ok(), "{closing}");
        }
    }
}
