//! The border between the wire and the domain. Protobuf messages become domain types only
//! through the validating conversions here, which refuse bad input with an [`Invalid`]
//! naming the field by its path in the request; domain types become messages through the
//! plain functions at the end. Nothing past this module sees a prost type.

use chrono::{NaiveDate, SecondsFormat};
use sds_proto::v1 as proto;

use crate::domain::check::MAX_REFERENCE_CHARS;
use crate::domain::fee::FeeFields;
use crate::domain::provider::{MAX_LIST_ENTRIES, contact_email, contact_phone};
use crate::domain::search::{Page, SearchFilters, requested_page};
use crate::domain::{
    AuthorityId, CareInspectorateNumber, Check, CheckKind, FrameworkMembership, FrameworkStatus,
    Grade, GradeValue, Invalid, KeyQuestion, ManagementFeeKind, ManagementFeePolicy,
    ProviderDetails, ProviderId, ProviderKind, ProviderRecord, grade,
};
use sds_vocabulary::NamedEnum;
use sds_vocabulary::date::{date, iso};
use sds_vocabulary::named_enum::WireEnum;
use sds_vocabulary::text::{MAX_TEXT_CHARS, optional_text, required_text, text_list};

// ---- requests, validated ------------------------------------------------------------

#[derive(Debug)]
pub struct UpdateProvider {
    pub id: ProviderId,
    pub details: ProviderDetails,
    pub expected_version: Option<u64>,
}

#[derive(Debug)]
pub struct SearchProviders {
    pub filters: SearchFilters,
    pub page: Page,
}

#[derive(Debug)]
pub struct RecordCheck {
    pub provider_id: ProviderId,
    pub check: Check,
}

#[derive(Debug)]
pub struct RecordGrades {
    pub provider_id: ProviderId,
    pub grades: Vec<Grade>,
}

#[derive(Debug)]
pub struct SetFrameworkStatus {
    pub provider_id: ProviderId,
    pub membership: FrameworkMembership,
}

#[derive(Debug)]
pub struct SetCareInspectorateNumber {
    pub provider_id: ProviderId,
    /// `None` clears the number.
    pub number: Option<CareInspectorateNumber>,
    pub expected_version: Option<u64>,
}

pub(super) fn required_details(
    details: Option<proto::ProviderDetails>,
) -> Result<ProviderDetails, Invalid> {
    let details = details.ok_or_else(|| Invalid::new("details", "is missing; it is required"))?;
    ProviderDetails::try_from(details).map_err(|invalid| invalid.within("details"))
}

impl TryFrom<proto::UpdateProviderRequest> for UpdateProvider {
    type Error = Invalid;

    fn try_from(request: proto::UpdateProviderRequest) -> Result<Self, Invalid> {
        Ok(UpdateProvider {
            id: ProviderId::parse("id", &request.id)?,
            details: required_details(request.details)?,
            expected_version: request.expected_version,
        })
    }
}

pub fn provider_to_get(request: &proto::GetProviderRequest) -> Result<ProviderId, Invalid> {
    ProviderId::parse("id", &request.id)
}

impl TryFrom<proto::SearchProvidersRequest> for SearchProviders {
    type Error = Invalid;

    fn try_from(request: proto::SearchProvidersRequest) -> Result<Self, Invalid> {
        let min_grade = match request.min_grade {
            0 => None,
            raw => Some(GradeValue::new("min_grade", raw).map_err(|_| {
                Invalid::new(
                    "min_grade",
                    format!("is {raw}; give a grade from 1 to 6, or 0 for no minimum"),
                )
            })?),
        };
        let framework_authority = optional_text(
            "framework_authority",
            &request.framework_authority,
            MAX_TEXT_CHARS,
        )?;
        let framework = match (framework_authority, request.framework_status) {
            (None, 0) => None,
            (Some(authority), 0) => {
                return Err(Invalid::new(
                    "framework_status",
                    format!(
                        "is unspecified but framework_authority is {authority:?}; give both to ask about a framework, or neither; accepted statuses: {}",
                        FrameworkStatus::accepted()
                    ),
                ));
            }
            (None, _) => {
                return Err(Invalid::new(
                    "framework_authority",
                    "is empty but framework_status is given; name the authority whose framework you ask about, such as aberdeenshire",
                ));
            }
            (Some(authority), status) => Some(FrameworkMembership {
                authority: AuthorityId::parse("framework_authority", &authority)?,
                status: FrameworkStatus::from_wire("framework_status", status)?,
            }),
        };
        let filters = SearchFilters {
            text: optional_text("text", &request.text, MAX_TEXT_CHARS)?,
            service_type: optional_text("service_type", &request.service_type, MAX_TEXT_CHARS)?,
            locality: optional_text("locality", &request.locality, MAX_TEXT_CHARS)?,
            min_grade,
            framework,
            holds_isfs: request.holds_isfs,
            include_inactive: request.include_inactive,
        };
        let page_request = request.page.unwrap_or_default();
        let page = requested_page(&filters, page_request.page_size, &page_request.page_token)
            .map_err(|invalid| invalid.within("page"))?;
        Ok(SearchProviders { filters, page })
    }
}

impl TryFrom<proto::RecordCheckRequest> for RecordCheck {
    type Error = Invalid;

    fn try_from(request: proto::RecordCheckRequest) -> Result<Self, Invalid> {
        let provider_id = ProviderId::parse("provider_id", &request.provider_id)?;
        let check = request
            .check
            .ok_or_else(|| Invalid::new("check", "is missing; it is required"))?;
        let check = Check::try_from(check).map_err(|invalid| invalid.within("check"))?;
        Ok(RecordCheck { provider_id, check })
    }
}

impl TryFrom<proto::RecordGradesRequest> for RecordGrades {
    type Error = Invalid;

    fn try_from(request: proto::RecordGradesRequest) -> Result<Self, Invalid> {
        let provider_id = ProviderId::parse("provider_id", &request.provider_id)?;
        if request.grades.is_empty() {
            return Err(Invalid::new(
                "grades",
                "is empty; give the grade of at least one key question",
            ));
        }
        let grades = grade_list("grades", request.grades)?;
        Ok(RecordGrades {
            provider_id,
            grades,
        })
    }
}

impl TryFrom<proto::SetFrameworkStatusRequest> for SetFrameworkStatus {
    type Error = Invalid;

    fn try_from(request: proto::SetFrameworkStatusRequest) -> Result<Self, Invalid> {
        Ok(SetFrameworkStatus {
            provider_id: ProviderId::parse("provider_id", &request.provider_id)?,
            membership: FrameworkMembership {
                authority: AuthorityId::parse("authority", &request.authority)?,
                status: FrameworkStatus::from_wire("status", request.status)?,
            },
        })
    }
}

/// An empty number clears it.
impl TryFrom<proto::SetCareInspectorateNumberRequest> for SetCareInspectorateNumber {
    type Error = Invalid;

    fn try_from(request: proto::SetCareInspectorateNumberRequest) -> Result<Self, Invalid> {
        Ok(SetCareInspectorateNumber {
            provider_id: ProviderId::parse("provider_id", &request.provider_id)?,
            number: optional_care_inspectorate_number(
                "care_inspectorate_number",
                &request.care_inspectorate_number,
            )?,
            expected_version: request.expected_version,
        })
    }
}

// ---- parts of requests ---------------------------------------------------------------

/// A service number, or `None` when the field is empty or blank.
pub(super) fn optional_care_inspectorate_number(
    field: &str,
    raw: &str,
) -> Result<Option<CareInspectorateNumber>, Invalid> {
    match raw.trim() {
        "" => Ok(None),
        number => CareInspectorateNumber::parse(field, number).map(Some),
    }
}

impl TryFrom<proto::ProviderDetails> for ProviderDetails {
    type Error = Invalid;

    fn try_from(raw: proto::ProviderDetails) -> Result<Self, Invalid> {
        let care_inspectorate_number = optional_care_inspectorate_number(
            "care_inspectorate_number",
            &raw.care_inspectorate_number,
        )?;
        let capacity = raw
            .capacity
            .map(|places| {
                u32::try_from(places).map_err(|_| {
                    Invalid::new("capacity", format!("is {places}; it must be 0 or more"))
                })
            })
            .transpose()?;
        let management_fee = raw
            .management_fee
            .map(ManagementFeePolicy::try_from)
            .transpose()
            .map_err(|invalid| invalid.within("management_fee"))?;
        Ok(ProviderDetails {
            name: required_text("name", &raw.name, MAX_TEXT_CHARS)?,
            kind: ProviderKind::from_wire("kind", raw.kind)?,
            care_inspectorate_number,
            service_types: text_list(
                "service_types",
                &raw.service_types,
                MAX_LIST_ENTRIES,
                MAX_TEXT_CHARS,
            )?,
            localities: text_list(
                "localities",
                &raw.localities,
                MAX_LIST_ENTRIES,
                MAX_TEXT_CHARS,
            )?,
            capacity,
            holds_isfs: raw.holds_isfs,
            management_fee,
            contact_email: contact_email("contact_email", &raw.contact_email)?,
            contact_phone: contact_phone("contact_phone", &raw.contact_phone)?,
        })
    }
}

impl TryFrom<proto::ManagementFeePolicy> for ManagementFeePolicy {
    type Error = Invalid;

    fn try_from(raw: proto::ManagementFeePolicy) -> Result<Self, Invalid> {
        let kind = ManagementFeeKind::from_wire("kind", raw.kind)?;
        let fields = FeeFields {
            flat_weekly: raw.flat_weekly.as_ref().map(|money| money.amount.as_str()),
            percentage: raw.percentage.trim(),
            admin_hours_per_week: raw.admin_hours_per_week.trim(),
            admin_hourly_rate: raw
                .admin_hourly_rate
                .as_ref()
                .map(|money| money.amount.as_str()),
        };
        ManagementFeePolicy::from_fields(kind, fields)
    }
}

impl TryFrom<proto::Grade> for Grade {
    type Error = Invalid;

    fn try_from(raw: proto::Grade) -> Result<Self, Invalid> {
        Ok(Grade {
            key_question: KeyQuestion::from_wire("key_question", raw.key_question)?,
            grade: GradeValue::new("grade", raw.grade)?,
            inspected_on: date_field("inspected_on", raw.inspected_on.as_ref())?,
        })
    }
}

/// The `status` of a check is computed by the directory and ignored on input.
impl TryFrom<proto::Check> for Check {
    type Error = Invalid;

    fn try_from(raw: proto::Check) -> Result<Self, Invalid> {
        let kind = CheckKind::from_wire("kind", raw.kind)?;
        let reference = optional_text("reference", &raw.reference, MAX_REFERENCE_CHARS)?;
        if let (None, Some(what)) = (&reference, kind.required_reference()) {
            return Err(Invalid::new(
                "reference",
                format!("is empty; a {kind} check needs its reference, the {what}"),
            ));
        }
        Check::new(
            kind,
            reference,
            date_field("checked_on", raw.checked_on.as_ref())?,
            date_field("expires_on", raw.expires_on.as_ref())?,
        )
    }
}

/// Grades of one inspection: each valid, each key question once.
pub(super) fn grade_list(field: &str, raw: Vec<proto::Grade>) -> Result<Vec<Grade>, Invalid> {
    let mut grades = Vec::with_capacity(raw.len());
    for (index, raw_grade) in raw.into_iter().enumerate() {
        grades.push(
            Grade::try_from(raw_grade)
                .map_err(|invalid| invalid.within(&format!("{field}[{index}]")))?,
        );
    }
    grade::ensure_each_key_question_once(field, &grades)?;
    Ok(grades)
}

pub(super) fn date_field(field: &str, raw: Option<&proto::Date>) -> Result<NaiveDate, Invalid> {
    date(
        field,
        raw.map(|value| value.iso.as_str()).unwrap_or_default(),
    )
}

// ---- responses -----------------------------------------------------------------------

/// The message for a provider; check statuses are worked out for `today`.
pub fn provider_message(record: &ProviderRecord, today: NaiveDate) -> proto::Provider {
    proto::Provider {
        id: record.id.to_string(),
        details: Some(details_message(&record.details)),
        grades: record.grades.iter().map(grade_message).collect(),
        checks: record
            .checks
            .iter()
            .map(|check| check_message(check, today))
            .collect(),
        frameworks: record
            .frameworks
            .iter()
            .map(|membership| proto::FrameworkMembership {
                authority: membership.authority.to_string(),
                status: membership.status.wire_number(),
            })
            .collect(),
        min_grade: record.min_grade.map_or(0, |grade| u32::from(grade.get())),
        care_service_status: record.care_service_status.wire_number(),
        combined_service_number: record
            .combined_service_number
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        version: record.version,
        stewards: record.stewards.iter().map(ToString::to_string).collect(),
        registered_at: record
            .registered_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        updated_at: record
            .updated_at
            .to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

pub(super) fn details_message(details: &ProviderDetails) -> proto::ProviderDetails {
    proto::ProviderDetails {
        name: details.name.clone(),
        kind: details.kind.wire_number(),
        care_inspectorate_number: details
            .care_inspectorate_number
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        service_types: details.service_types.clone(),
        localities: details.localities.clone(),
        capacity: details
            .capacity
            .map(|places| i32::try_from(places).unwrap_or(i32::MAX)),
        holds_isfs: details.holds_isfs,
        management_fee: details.management_fee.as_ref().map(fee_message),
        contact_email: details.contact_email.clone().unwrap_or_default(),
        contact_phone: details.contact_phone.clone().unwrap_or_default(),
    }
}

fn fee_message(policy: &ManagementFeePolicy) -> proto::ManagementFeePolicy {
    let money = |amount: sds_money::Money| proto::Money {
        amount: amount.to_string(),
    };
    let kind_only = proto::ManagementFeePolicy {
        kind: policy.kind().wire_number(),
        ..proto::ManagementFeePolicy::default()
    };
    match *policy {
        ManagementFeePolicy::None | ManagementFeePolicy::IncludedInHourlyRate => kind_only,
        ManagementFeePolicy::FlatWeekly { per_week } => proto::ManagementFeePolicy {
            flat_weekly: Some(money(per_week)),
            ..kind_only
        },
        ManagementFeePolicy::Percentage { percent } => proto::ManagementFeePolicy {
            percentage: percent.normalize().to_string(),
            ..kind_only
        },
        ManagementFeePolicy::AdminHours {
            hours_per_week,
            hourly_rate,
        } => proto::ManagementFeePolicy {
            admin_hours_per_week: hours_per_week.normalize().to_string(),
            admin_hourly_rate: Some(money(hourly_rate)),
            ..kind_only
        },
    }
}

pub(super) fn grade_message(grade: &Grade) -> proto::Grade {
    proto::Grade {
        key_question: grade.key_question.wire_number(),
        grade: u32::from(grade.grade.get()),
        inspected_on: Some(date_message(grade.inspected_on)),
    }
}

fn check_message(check: &Check, today: NaiveDate) -> proto::Check {
    proto::Check {
        kind: check.kind().wire_number(),
        reference: check.reference().unwrap_or_default().to_owned(),
        checked_on: Some(date_message(check.checked_on())),
        expires_on: Some(date_message(check.expires_on())),
        status: check.status_on(today).wire_number(),
    }
}

pub(super) fn date_message(date: NaiveDate) -> proto::Date {
    proto::Date { iso: iso(date) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> proto::ProviderDetails {
        proto::ProviderDetails {
            name: "Fife Day Opportunities".into(),
            kind: proto::ProviderKind::VoluntaryOrganisation as i32,
            service_types: vec!["Day support".into()],
            localities: vec!["Fife".into()],
            ..proto::ProviderDetails::default()
        }
    }

    #[test]
    fn negative_capacity_is_named_by_its_path() {
        let error = required_details(Some(proto::ProviderDetails {
            capacity: Some(-3),
            ..details()
        }))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "details.capacity is -3; it must be 0 or more"
        );
    }

    #[test]
    fn unknown_and_unspecified_enums_list_what_is_accepted() {
        let error = ProviderDetails::try_from(proto::ProviderDetails {
            kind: 0,
            ..details()
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "kind is unspecified; accepted: registered_care_service, voluntary_organisation, micro_provider, self_employed_personal_assistant, community_group, non_care_business"
        );
        let error = ProviderDetails::try_from(proto::ProviderDetails {
            kind: 42,
            ..details()
        })
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("kind is 42, which is not a known provider kind")
        );
    }

    #[test]
    fn a_fee_with_three_decimal_places_is_refused_with_its_path() {
        let error = required_details(Some(proto::ProviderDetails {
            management_fee: Some(proto::ManagementFeePolicy {
                kind: proto::ManagementFeeKind::FlatWeekly as i32,
                flat_weekly: Some(proto::Money {
                    amount: "12.345".into(),
                }),
                ..proto::ManagementFeePolicy::default()
            }),
            ..details()
        }))
        .unwrap_err();
        assert_eq!(error.field(), "details.management_fee.flat_weekly");
        assert!(error.problem().contains("3 decimal places"), "{error}");
    }

    #[test]
    fn a_record_survives_the_round_trip_to_a_message_and_back() {
        let parsed = ProviderDetails::try_from(proto::ProviderDetails {
            care_inspectorate_number: "CS2004071234".into(),
            capacity: Some(12),
            holds_isfs: true,
            management_fee: Some(proto::ManagementFeePolicy {
                kind: proto::ManagementFeeKind::AdminHours as i32,
                admin_hours_per_week: "1.5".into(),
                admin_hourly_rate: Some(proto::Money {
                    amount: "18.5".into(),
                }),
                ..proto::ManagementFeePolicy::default()
            }),
            contact_email: "office@example.org".into(),
            ..details()
        })
        .unwrap();
        let message = details_message(&parsed);
        assert_eq!(ProviderDetails::try_from(message.clone()).unwrap(), parsed);
        let fee = message.management_fee.unwrap();
        assert_eq!(fee.admin_hourly_rate.unwrap().amount, "18.50");
        assert_eq!(fee.admin_hours_per_week, "1.5");
    }
}
