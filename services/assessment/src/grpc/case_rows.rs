//! The rows of a case-system export as the import reads them: each cell checked and named
//! by its column when refused, and the rows of one person checked to agree on who they are.
//!
//! What must stay true: a row is good only when every cell is; a refusal names the column
//! first, as the rejection line shows it to the person fixing the export.

use chrono::NaiveDate;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_vocabulary::text::{MAX_TEXT_CHARS, required_text};
use sds_vocabulary::{AuthorityId, Invalid, NamedEnum as _, shown};
use uuid::Uuid;

use crate::domain::eligibility::EligibilityLevel;
use crate::domain::option::{
    Arrangement, FundHolder, FundHoldingModel, PersonsChoice, ProviderRef,
};
use crate::domain::person::{ClientGroup, ClientGroups};
use crate::domain::plan::NewLine;
use crate::domain::record::{
    CaseReference, PersonDetails, ensure_plausible_date_of_birth, ensure_some_client_group,
};
use crate::domain::{LineAmount, LineSpan, SupportType};

/// A row whose every cell was read.
#[derive(Debug, Clone)]
pub(super) struct GoodRow {
    pub line: u32,
    pub details: PersonDetails,
    pub eligibility: EligibilityLevel,
    pub plan_line: NewLine,
}

pub(super) fn rejection(line: u32, reason: String) -> proto::CaseRecordRejection {
    proto::CaseRecordRejection { line, reason }
}

/// Every row of a person whose details or eligibility differ from their first row's.
pub(super) fn disagreements(rows: &[GoodRow]) -> Vec<proto::CaseRecordRejection> {
    let first = &rows[0];
    rows[1..]
        .iter()
        .filter_map(|row| {
            let field = if row.details.display_name != first.details.display_name {
                "display_name"
            } else if row.details.date_of_birth != first.details.date_of_birth {
                "date_of_birth"
            } else if row.details.locality != first.details.locality {
                "locality"
            } else if row.details.client_groups != first.details.client_groups {
                "client_groups"
            } else if row.eligibility != first.eligibility {
                "eligibility"
            } else {
                return None;
            };
            Some(rejection(
                row.line,
                format!(
                    "{field} differs from line {} of case_reference {}; one person has one {field}",
                    first.line, first.details.case_reference
                ),
            ))
        })
        .collect()
}

fn optional(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|text| !text.is_empty())
}

/// Reads one row, refusing the first bad cell by its column name.
pub(super) fn read_row(
    raw: &proto::CaseRecordRow,
    authority: &AuthorityId,
    today: NaiveDate,
) -> Result<GoodRow, Invalid> {
    let case_reference = CaseReference::parse("case_reference", &raw.case_reference)?;
    let display_name = required_text("display_name", &raw.display_name, MAX_TEXT_CHARS)?;
    let date_of_birth = sds_vocabulary::date::date("date_of_birth", raw.date_of_birth.trim())?;
    ensure_plausible_date_of_birth("date_of_birth", date_of_birth, today)?;
    let locality = required_text("locality", &raw.locality, MAX_TEXT_CHARS)?;
    let mut client_groups = ClientGroups::new();
    for name in raw
        .client_groups
        .split(';')
        .filter(|name| !name.trim().is_empty())
    {
        client_groups.insert(ClientGroup::parse("client_groups", name)?);
    }
    ensure_some_client_group("client_groups", &client_groups)?;
    let eligibility = EligibilityLevel::parse("eligibility", &raw.eligibility)?;
    let support_type = SupportType::parse("support_type", &raw.support_type)?;
    let weekly = weekly_amount(&raw.weekly_amount)?;
    let start = sds_vocabulary::date::date("start_date", raw.start_date.trim())?;
    let end = optional(&raw.end_date)
        .map(|text| sds_vocabulary::date::date("end_date", text))
        .transpose()?;
    if let Some(end) = end
        && end < start
    {
        return Err(Invalid::new(
            "end_date",
            format!("{end} is before start_date {start}; a line ends on or after it starts"),
        ));
    }
    let provider = optional(&raw.provider)
        .map(|text| ProviderRef::parse("provider", text))
        .transpose()?;
    let holding_model = optional(&raw.holding_model)
        .map(|text| FundHoldingModel::parse("holding_model", text))
        .transpose()?;
    let holder = optional(&raw.holder);
    let arrangement = match raw.option.trim() {
        "1" => {
            for (field, given) in [
                ("provider", provider.is_some()),
                ("holding_model", holding_model.is_some()),
                ("holder", holder.is_some()),
            ] {
                if given {
                    return Err(Invalid::new(
                        field,
                        "is given, but option 1 is a direct payment the person arranges themselves; leave it blank",
                    ));
                }
            }
            Arrangement::DirectPayment
        }
        "2" => {
            let provider = provider.ok_or_else(|| {
                Invalid::new(
                    "provider",
                    "is blank; option 2 needs the provider the person chose (a directory id or a Care Inspectorate number)",
                )
            })?;
            let model = holding_model.ok_or_else(|| {
                Invalid::new(
                    "holding_model",
                    format!(
                        "is blank; option 2 needs who holds the fund: {}",
                        FundHoldingModel::accepted()
                    ),
                )
            })?;
            let holder = match (model, holder) {
                (FundHoldingModel::ThirdParty, Some(text)) => FundHolder::ThirdParty {
                    holder: Uuid::parse_str(text).map_err(|_| {
                        Invalid::new(
                            "holder",
                            format!("{} is not an organisation id (a UUID)", shown(text)),
                        )
                    })?,
                },
                (FundHoldingModel::ThirdParty, None) => {
                    return Err(Invalid::new(
                        "holder",
                        "is blank; a third_party holding model needs the holder's organisation id",
                    ));
                }
                (_, Some(_)) => {
                    return Err(Invalid::new(
                        "holder",
                        "is given, but only a third_party holding model names a holder; leave it blank",
                    ));
                }
                (FundHoldingModel::Provider, None) => FundHolder::Provider,
                (FundHoldingModel::Authority, None) => FundHolder::Authority {
                    authority: authority.clone(),
                },
            };
            Arrangement::PersonDirected(PersonsChoice {
                provider: Some(provider),
                holder: Some(holder),
            })
        }
        "3" => {
            for (field, given) in [
                ("holding_model", holding_model.is_some()),
                ("holder", holder.is_some()),
            ] {
                if given {
                    return Err(Invalid::new(
                        field,
                        "is given, but option 3 is arranged by the authority; leave it blank",
                    ));
                }
            }
            Arrangement::AuthorityArranged { provider }
        }
        other => {
            return Err(Invalid::new(
                "option",
                format!(
                    "is {}, which is not an SDS option; accepted: 1, 2, 3",
                    shown(other)
                ),
            ));
        }
    };
    Ok(GoodRow {
        line: raw.source_line,
        details: PersonDetails {
            case_reference,
            display_name,
            date_of_birth,
            locality,
            client_groups,
        },
        eligibility,
        plan_line: NewLine {
            support_type,
            amount: LineAmount::per_week(weekly)
                .map_err(|invalid| Invalid::new("weekly_amount", invalid.problem().to_owned()))?,
            arrangement,
            span: LineSpan::new(start, end)?,
        },
    })
}

fn weekly_amount(raw: &str) -> Result<Money, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::new(
            "weekly_amount",
            "is blank; give the amount a week, such as 210.00",
        ));
    }
    let amount = Money::parse(text)
        .map_err(|error| Invalid::new("weekly_amount", format!("is not an amount: {error}")))?;
    if amount.is_negative() || amount.is_zero() {
        return Err(Invalid::new(
            "weekly_amount",
            format!("is {}; it must be above 0.00", shown(raw)),
        ));
    }
    Ok(amount)
}
