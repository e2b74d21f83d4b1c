//! The border between the wire and the domain. Protobuf messages become domain types only
//! through the validating conversions here, which refuse bad input with an [`Invalid`]
//! naming the field by its path in the request; domain types become messages through the
//! plain functions at the end. Nothing past this module sees a prost type.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_proto::v1 as proto;
use sds_vocabulary::date::{date, iso};
use sds_vocabulary::decimal::decimal;
use sds_vocabulary::named_enum::WireEnum;
use sds_vocabulary::text::{MAX_TEXT_CHARS, required_text};
use sds_vocabulary::{AuthorityId, Invalid, NamedEnum, shown};
use uuid::Uuid;

use crate::domain::{
    DefaultTerms, DefaultTermsDraft, FeeKind, FeePlacement, Frequency, ManagementFee, PaymentBasis,
    PaymentTiming, RateCard, RateComponent, Terms, TermsDraft, Uplift,
};
use crate::store::{DefaultsRecord, RateCardRecord};

/// Most components one card or one uplift may name: each component at most once.
const MAX_COMPONENTS: usize = 7;

// ---- requests, validated ------------------------------------------------------------

pub fn authority(field: &str, raw: &str) -> Result<AuthorityId, Invalid> {
    AuthorityId::parse(field, raw)
}

pub use sds_vocabulary::id::id;

pub(super) fn date_field(field: &str, raw: Option<&proto::Date>) -> Result<NaiveDate, Invalid> {
    date(
        field,
        raw.map(|value| value.iso.as_str()).unwrap_or_default(),
    )
}

/// Money as the wire carries it: at most 2 decimal places, never negative.
fn money(field: &str, raw: Option<&proto::Money>) -> Result<Money, Invalid> {
    let raw = raw
        .map(|money| money.amount.as_str())
        .filter(|amount| !amount.trim().is_empty())
        .ok_or_else(|| Invalid::new(field, "is missing; give an amount such as \"12.60\""))?;
    let amount = Money::parse(raw.trim())
        .map_err(|error| Invalid::new(field, format!("is not valid: {error}")))?;
    if amount.is_negative() {
        return Err(Invalid::new(
            field,
            format!("is {}; it must be 0.00 or more", shown(raw)),
        ));
    }
    Ok(amount)
}

/// An amount field the sender filled in.
fn is_given(raw: Option<&proto::Money>) -> bool {
    raw.is_some_and(|money| !money.amount.trim().is_empty())
}

fn timing(field: &str, raw: Option<&proto::PaymentTiming>) -> Result<PaymentTiming, Invalid> {
    match raw.and_then(|timing| timing.timing.as_ref()) {
        Some(proto::payment_timing::Timing::Advance(_)) => Ok(PaymentTiming::Advance),
        Some(proto::payment_timing::Timing::Arrears(arrears)) => Ok(PaymentTiming::Arrears {
            lag_days: arrears.lag_days,
        }),
        None => Err(Invalid::new(
            field,
            "is missing; give advance, or arrears with its lag in days",
        )),
    }
}

/// How payment is made, as agreed terms and an authority's defaults both give it.
struct PaymentParts<'a> {
    frequency: i32,
    timing: Option<&'a proto::PaymentTiming>,
    basis: i32,
    flex_tolerance_percent: &'a str,
    fee: Option<&'a proto::AgreementFee>,
}

impl PaymentParts<'_> {
    /// Each part read under `field`; refusals name `field.<part>`.
    fn read(
        self,
        field: &str,
    ) -> Result<
        (
            Frequency,
            PaymentTiming,
            PaymentBasis,
            Decimal,
            ManagementFee,
        ),
        Invalid,
    > {
        let at = |name: &str| format!("{field}.{name}");
        Ok((
            Frequency::from_wire(&at("frequency"), self.frequency)?,
            timing(&at("timing"), self.timing)?,
            PaymentBasis::from_wire(&at("basis"), self.basis)?,
            decimal(
                &at("flex_tolerance_percent"),
                self.flex_tolerance_percent,
                2,
            )?,
            fee(&at("fee"), self.fee)?,
        ))
    }
}

/// An agreement's complete terms, checked by the domain's rules.
pub fn agreement_terms(field: &str, raw: Option<&proto::AgreementTerms>) -> Result<Terms, Invalid> {
    let raw = raw.ok_or_else(|| Invalid::new(field, "is missing; give the complete new terms"))?;
    let at = |name: &str| format!("{field}.{name}");
    let end = match raw.end.as_ref().map(|end| end.iso.trim()) {
        None | Some("") => None,
        Some(_) => Some(date_field(&at("end"), raw.end.as_ref())?),
    };
    let (frequency, timing, basis, flex_tolerance_percent, fee) = PaymentParts {
        frequency: raw.frequency,
        timing: raw.timing.as_ref(),
        basis: raw.basis,
        flex_tolerance_percent: &raw.flex_tolerance_percent,
        fee: raw.fee.as_ref(),
    }
    .read(field)?;
    let draft = TermsDraft {
        frequency,
        timing,
        basis,
        flex_tolerance_percent,
        fee,
        notice_days: raw.notice_days,
        review_on: date_field(&at("review_on"), raw.review_on.as_ref())?,
        start: date_field(&at("start"), raw.start.as_ref())?,
        end,
    };
    Terms::new(field, draft)
}

/// The request's defaults, checked by the domain's rules.
pub fn default_terms(
    field: &str,
    raw: Option<&proto::ContractDefaultTerms>,
) -> Result<DefaultTerms, Invalid> {
    let raw = raw.ok_or_else(|| Invalid::new(field, "is missing; give the default terms"))?;
    let (frequency, timing, basis, flex_tolerance_percent, fee) = PaymentParts {
        frequency: raw.frequency,
        timing: raw.timing.as_ref(),
        basis: raw.basis,
        flex_tolerance_percent: &raw.flex_tolerance_percent,
        fee: raw.fee.as_ref(),
    }
    .read(field)?;
    let draft = DefaultTermsDraft {
        frequency,
        timing,
        basis,
        flex_tolerance_percent,
        fee,
        notice_days: raw.notice_days,
        review_after_months: raw.review_after_months,
    };
    DefaultTerms::new(field, draft)
}

/// A fee of its kind, refusing amounts that belong to another kind so nothing sent is
/// silently dropped.
fn fee(field: &str, raw: Option<&proto::AgreementFee>) -> Result<ManagementFee, Invalid> {
    let raw = raw.ok_or_else(|| {
        Invalid::new(
            field,
            format!(
                "is missing; give a fee kind (accepted: {})",
                FeeKind::accepted()
            ),
        )
    })?;
    let at = |name: &str| format!("{field}.{name}");
    let kind = FeeKind::from_wire(&at("kind"), raw.kind)?;
    let sent = [
        ("flat_weekly", is_given(raw.flat_weekly.as_ref())),
        ("percentage", !raw.percentage.trim().is_empty()),
        (
            "admin_hours_per_week",
            !raw.admin_hours_per_week.trim().is_empty(),
        ),
        (
            "admin_hourly_rate",
            is_given(raw.admin_hourly_rate.as_ref()),
        ),
    ];
    let belongs: &[&str] = match kind {
        FeeKind::None | FeeKind::IncludedInHourlyRate => &[],
        FeeKind::FlatWeekly => &["flat_weekly"],
        FeeKind::Percentage => &["percentage"],
        FeeKind::AdminHours => &["admin_hours_per_week", "admin_hourly_rate"],
    };
    if let Some((name, _)) = sent
        .iter()
        .find(|(name, is_sent)| *is_sent && !belongs.contains(name))
    {
        return Err(Invalid::new(
            at(name),
            format!("is given, but a {kind} fee has no {name}; leave it empty"),
        ));
    }
    let placement = match raw.placement {
        0 => None,
        number => Some(FeePlacement::from_wire(&at("placement"), number)?),
    };
    let fee = match kind {
        FeeKind::None => ManagementFee::None,
        FeeKind::IncludedInHourlyRate => ManagementFee::IncludedInHourlyRate,
        FeeKind::FlatWeekly => ManagementFee::FlatWeekly {
            per_week: money(&at("flat_weekly"), raw.flat_weekly.as_ref())?,
        },
        FeeKind::Percentage => ManagementFee::Percentage {
            percent: decimal(&at("percentage"), &raw.percentage, 2)?,
            placement: placement.ok_or_else(|| {
                Invalid::new(
                    at("placement"),
                    format!(
                        "is unspecified; a percentage fee is on top of the budget or within it (accepted: {})",
                        FeePlacement::accepted()
                    ),
                )
            })?,
        },
        FeeKind::AdminHours => ManagementFee::AdminHours {
            hours_per_week: decimal(&at("admin_hours_per_week"), &raw.admin_hours_per_week, 2)?,
            hourly_rate: money(&at("admin_hourly_rate"), raw.admin_hourly_rate.as_ref())?,
        },
    };
    if let Some(placement) = placement
        && placement != fee.placement()
    {
        return Err(Invalid::new(
            at("placement"),
            format!(
                "is {placement}, but a {kind} fee is always {}; leave it unspecified",
                fee.placement()
            ),
        ));
    }
    // The domain's field names are its own (`percent`, `per_week`); the wire's differ.
    fee.checked(field).map_err(|invalid| {
        let wire = invalid
            .field()
            .replacen(".percent", ".percentage", 1)
            .replacen(".per_week", ".flat_weekly", 1)
            .replacen(".hours_per_week", ".admin_hours_per_week", 1)
            .replacen(".hourly_rate", ".admin_hourly_rate", 1);
        Invalid::new(wire, invalid.problem())
    })
}

/// Components as the wire lists them, each read at its own index.
fn components(
    field: &str,
    raw: &[proto::RateAmount],
) -> Result<Vec<(RateComponent, Money)>, Invalid> {
    if raw.len() > MAX_COMPONENTS {
        return Err(Invalid::new(
            field,
            format!(
                "has {} entries; there are {MAX_COMPONENTS} components, each given at most once",
                raw.len()
            ),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(index, amount)| {
            let at = format!("{field}[{index}]");
            Ok((
                RateComponent::from_wire(&format!("{at}.component"), amount.component)?,
                money(&format!("{at}.hourly"), amount.hourly.as_ref())?,
            ))
        })
        .collect()
}

/// A new card: whose, for what, from when, and its components.
pub struct NewRateCard {
    pub provider_id: Uuid,
    pub service_type: String,
    pub effective_from: NaiveDate,
    pub card: RateCard,
}

pub fn new_rate_card(raw: &proto::SetRateCardRequest) -> Result<NewRateCard, Invalid> {
    Ok(NewRateCard {
        provider_id: id("provider_id", &raw.provider_id)?,
        service_type: required_text("service_type", &raw.service_type, MAX_TEXT_CHARS)?,
        effective_from: date_field("effective_from", raw.effective_from.as_ref())?,
        card: RateCard::new("components", &components("components", &raw.components)?)?,
    })
}

/// An uplift to schedule on a card.
pub struct NewUplift {
    pub rate_card_id: Uuid,
    pub effective_from: NaiveDate,
    pub uplift: Uplift,
}

pub fn new_uplift(raw: &proto::ScheduleUpliftRequest) -> Result<NewUplift, Invalid> {
    use proto::schedule_uplift_request::Uplift as Wire;
    let rate_card_id = id("rate_card_id", &raw.rate_card_id)?;
    let effective_from = date_field("effective_from", raw.effective_from.as_ref())?;
    let uplift = match raw.uplift.as_ref() {
        Some(Wire::Percentage(percentage)) => {
            Uplift::Percentage(decimal("percentage", percentage, 2)?)
        }
        Some(Wire::NewValues(values)) => {
            Uplift::NewValues(components("new_values.components", &values.components)?)
        }
        None => {
            return Err(Invalid::new(
                "uplift",
                "is missing; give a percentage or new values for some components",
            ));
        }
    };
    // The domain names the uplift's parts `percent` and `new_values`; the wire's are
    // `percentage` and `new_values.components`.
    let uplift = uplift.checked("uplift").map_err(|invalid| {
        let wire = invalid
            .field()
            .replacen("uplift.percent", "percentage", 1)
            .replacen("uplift.new_values", "new_values.components", 1);
        Invalid::new(wire, invalid.problem())
    })?;
    Ok(NewUplift {
        rate_card_id,
        effective_from,
        uplift,
    })
}

/// The percentage of a percentage uplift, kept with the version it made.
pub fn uplift_percent(uplift: &Uplift) -> Option<Decimal> {
    match uplift {
        Uplift::Percentage(percent) => Some(*percent),
        Uplift::NewValues(_) => None,
    }
}

// ---- domain types, as messages ------------------------------------------------------

fn money_message(amount: Money) -> proto::Money {
    proto::Money {
        amount: amount.to_string(),
    }
}

fn date_message(day: NaiveDate) -> proto::Date {
    proto::Date { iso: iso(day) }
}

pub fn defaults_message(record: &DefaultsRecord) -> proto::ContractDefaults {
    let draft = record.terms.draft();
    let timing = match draft.timing {
        PaymentTiming::Advance => proto::payment_timing::Timing::Advance(proto::InAdvance {}),
        PaymentTiming::Arrears { lag_days } => {
            proto::payment_timing::Timing::Arrears(proto::InArrears { lag_days })
        }
    };
    proto::ContractDefaults {
        authority: record.authority.as_str().to_owned(),
        terms: Some(proto::ContractDefaultTerms {
            frequency: draft.frequency.to_wire() as i32,
            timing: Some(proto::PaymentTiming {
                timing: Some(timing),
            }),
            basis: draft.basis.to_wire() as i32,
            flex_tolerance_percent: draft.flex_tolerance_percent.normalize().to_string(),
            fee: Some(fee_message(draft.fee)),
            notice_days: draft.notice_days,
            review_after_months: draft.review_after_months,
        }),
        version: u64::try_from(record.version).unwrap_or_default(),
    }
}

pub(super) fn fee_message(fee: ManagementFee) -> proto::AgreementFee {
    let mut message = proto::AgreementFee {
        kind: fee.kind().to_wire() as i32,
        placement: fee.placement().to_wire() as i32,
        ..proto::AgreementFee::default()
    };
    match fee {
        ManagementFee::None | ManagementFee::IncludedInHourlyRate => {}
        ManagementFee::FlatWeekly { per_week } => {
            message.flat_weekly = Some(money_message(per_week))
        }
        ManagementFee::Percentage { percent, .. } => {
            message.percentage = percent.normalize().to_string();
        }
        ManagementFee::AdminHours {
            hours_per_week,
            hourly_rate,
        } => {
            message.admin_hours_per_week = hours_per_week.normalize().to_string();
            message.admin_hourly_rate = Some(money_message(hourly_rate));
        }
    }
    message
}

pub fn rate_card_message(record: &RateCardRecord) -> proto::RateCard {
    proto::RateCard {
        id: record.id.to_string(),
        provider_id: record.provider_id.to_string(),
        service_type: record.service_type.clone(),
        versions: record
            .versions
            .iter()
            .map(|version| proto::RateCardVersion {
                version: version.version,
                effective_from: Some(date_message(version.effective_from)),
                components: version
                    .card
                    .components()
                    .map(|(component, hourly)| proto::RateAmount {
                        component: component.to_wire() as i32,
                        hourly: Some(money_message(hourly)),
                    })
                    .collect(),
                // Read back through the card's validation, so the sum is known to fit.
                hourly_rate: version.card.hourly_rate().ok().map(money_message),
                cause: version.cause.name().to_owned(),
            })
            .collect(),
    }
}
