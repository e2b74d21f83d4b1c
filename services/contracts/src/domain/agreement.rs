//! The agreement between the person (or someone acting for them), the provider, the
//! authority and, when someone else holds the fund, the holder: the plan lines it funds, a
//! short summary of outcomes, and the terms. Each version is signed by every party before
//! it counts; the first becomes active once all have signed (and the provider's standing
//! allows it), a variation becomes effective on its own date.
//!
//! What must stay true: a party signs only as itself and only once per version (signing
//! again changes nothing); a version is immutable once agreed; an uplift is agreed in
//! advance by the rate-and-uplift terms, so its variation needs no new signatures; the
//! weekly money of a version is the sum of its lines and the fee's split of that sum.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_vocabulary::{AuthorityId, Invalid, NamedEnum as _};
use uuid::Uuid;

use super::fee::{FeeError, WeeklySplit};
use super::terms::{Payee, Terms};
use super::variation::VersionCause;

/// The most lines one agreement funds.
pub const MAX_LINES: usize = 50;
/// The outcomes summary is short: it is read in the agreement's two minutes.
pub const MAX_OUTCOMES_CHARS: usize = 600;

sds_vocabulary::wire_enum! {
    /// A party to an agreement, by the part it plays.
    pub enum PartyRole("party") => sds_proto::v1::AgreementParty {
        Person = "person",
        Provider = "provider",
        Authority = "authority",
        Holder = "holder",
    }
}

sds_vocabulary::wire_enum! {
    /// In what capacity someone signs for the person.
    pub enum Capacity("capacity") => sds_proto::v1::SigningCapacity {
        /// The person signs for themselves.
        Themselves = "themselves",
        WelfarePowerOfAttorney = "welfare_power_of_attorney",
        WelfareGuardian = "welfare_guardian",
        Intervener = "intervener",
        /// A parent or someone with parental responsibilities for a child.
        Parent = "parent",
    }
}

/// Someone acting for the person, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representative {
    pub name: String,
    pub capacity: Capacity,
}

/// Who the agreement is between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties {
    pub person_id: Uuid,
    pub representative: Option<Representative>,
    pub provider_id: Uuid,
    pub authority: AuthorityId,
    /// The third party holding the fund, when someone other than the provider or the
    /// authority holds it.
    pub holder_id: Option<Uuid>,
}

impl Parties {
    /// Every party that signs, in a fixed order.
    pub fn signatories(&self) -> Vec<PartyRole> {
        let mut roles = vec![PartyRole::Person, PartyRole::Provider, PartyRole::Authority];
        if self.holder_id.is_some() {
            roles.push(PartyRole::Holder);
        }
        roles
    }
}

/// A plan line the agreement funds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundedLine {
    /// The line's number in the person's plan.
    pub plan_line: u32,
    /// The support type's name, as the plan gives it.
    pub support_type: String,
    /// Whole pence a week.
    pub weekly: Money,
    /// Hours a week, when the amount is hours at the provider's rate.
    pub hours_per_week: Option<Decimal>,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// The rate card version a line's hours are priced at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateReference {
    pub rate_card_id: Uuid,
    pub version: u32,
}

/// What a version of an agreement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementContent {
    pub parties: Parties,
    pub lines: Vec<FundedLine>,
    pub outcomes: String,
    pub terms: Terms,
    pub payee: Payee,
    pub rate: Option<RateReference>,
}

impl AgreementContent {
    /// Checks what terms alone cannot: lines to fund, within the agreement's span, an
    /// outcomes summary of readable length. Refusals name the field.
    pub fn checked(self) -> Result<AgreementContent, Invalid> {
        if self.lines.is_empty() {
            return Err(Invalid::new(
                "lines",
                "is empty; an agreement funds at least one plan line",
            ));
        }
        if self.lines.len() > MAX_LINES {
            return Err(Invalid::new(
                "lines",
                format!("has {} lines; at most {MAX_LINES}", self.lines.len()),
            ));
        }
        for (index, line) in self.lines.iter().enumerate() {
            let at = |part: &str| format!("lines[{index}].{part}");
            if line.weekly.is_negative() || line.weekly.is_zero() {
                return Err(Invalid::new(
                    at("weekly"),
                    format!("is {}; a funded line is above 0.00 a week", line.weekly),
                ));
            }
            if line.end.is_some_and(|end| end < line.start) {
                return Err(Invalid::new(
                    at("end"),
                    "is before the line's start; a line ends on or after it starts",
                ));
            }
            if line.start < self.terms.start() {
                return Err(Invalid::new(
                    at("start"),
                    format!(
                        "{} is before the agreement starts ({}); the agreement covers every line it funds",
                        line.start,
                        self.terms.start()
                    ),
                ));
            }
        }
        if self.lines.iter().enumerate().any(|(index, line)| {
            self.lines[..index]
                .iter()
                .any(|other| other.plan_line == line.plan_line)
        }) {
            return Err(Invalid::new(
                "lines",
                "names a plan line twice; each plan line is funded once",
            ));
        }
        let outcomes = self.outcomes.trim();
        if outcomes.is_empty() || outcomes.chars().count() > MAX_OUTCOMES_CHARS {
            return Err(Invalid::new(
                "outcomes",
                format!(
                    "has {} characters; a short summary of the person's outcomes, 1 to {MAX_OUTCOMES_CHARS} characters, in their words",
                    outcomes.chars().count()
                ),
            ));
        }
        if let Some(representative) = &self.parties.representative
            && representative.capacity == Capacity::Themselves
        {
            return Err(Invalid::new(
                "parties.representative.capacity",
                "is themselves; a representative acts for the person in another capacity (leave the representative out when the person signs)",
            ));
        }
        Ok(self)
    }

    /// The weekly budget the lines add up to on `on`: the lines active that day.
    pub fn weekly_on(&self, on: NaiveDate) -> Option<Money> {
        self.lines
            .iter()
            .filter(|line| line.start <= on && line.end.is_none_or(|end| on <= end))
            .try_fold(Money::zero(), |sum, line| sum.checked_add(line.weekly))
    }

    /// The week's money on `on`: support, fee and what the authority pays.
    pub fn weekly_split_on(&self, on: NaiveDate) -> Result<WeeklySplit, FeeError> {
        let budget = self.weekly_on(on).ok_or(FeeError::OutOfRange)?;
        self.terms.fee().weekly_split(budget)
    }
}

/// Someone's signature on a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub role: PartyRole,
    /// Who signed (the organisation or person's subject in their token).
    pub signed_by: String,
    /// For the person: themselves or a representative's capacity.
    pub capacity: Option<Capacity>,
    pub signed_on: NaiveDate,
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// Waiting for signatures.
    Awaiting,
    /// Signed by every party (or a rate change, agreed in advance) on this date.
    Agreed { on: NaiveDate },
    /// Replaced by a newer variation (or the agreement's end) before every party signed:
    /// never signed, never in force.
    Superseded,
}

/// What a signature did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// Recorded; others still have to sign.
    Recorded,
    /// This party had already signed this version: nothing changed.
    AlreadySigned,
    /// The last signature: the version is agreed.
    Completed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignRefused {
    #[error("{role} is not a party to this agreement")]
    NotAParty { role: &'static str },
    #[error("version {version} is already agreed; sign the version awaiting signatures")]
    AlreadyAgreed { version: u32 },
    #[error(
        "version {version} was replaced by a later variation; sign the version awaiting signatures"
    )]
    Superseded { version: u32 },
}

/// One version of an agreement with its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementVersion {
    pub version: u32,
    /// The day it takes effect (a variation's may be in the past).
    pub effective_from: NaiveDate,
    /// The day it was recorded.
    pub recorded_on: NaiveDate,
    pub content: AgreementContent,
    pub signatures: Vec<Signature>,
    pub state: VersionState,
    pub cause: VersionCause,
}

impl AgreementVersion {
    /// The first version, from the content's start, waiting for every signature.
    pub fn first(content: AgreementContent, recorded_on: NaiveDate) -> AgreementVersion {
        AgreementVersion {
            version: 1,
            effective_from: content.terms.start(),
            recorded_on,
            content,
            signatures: Vec::new(),
            state: VersionState::Awaiting,
            cause: VersionCause::Drafted,
        }
    }

    /// Variation number `version` from `effective_from`: signed again by every party, or,
    /// for a rate change agreed in advance, agreed as it is recorded.
    pub fn variation(
        version: u32,
        content: AgreementContent,
        effective_from: NaiveDate,
        recorded_on: NaiveDate,
        cause: VersionCause,
    ) -> AgreementVersion {
        AgreementVersion {
            version,
            effective_from,
            recorded_on,
            content,
            signatures: Vec::new(),
            state: if cause == VersionCause::RateChanged {
                VersionState::Agreed { on: recorded_on }
            } else {
                VersionState::Awaiting
            },
            cause,
        }
    }

    pub fn is_agreed(&self) -> bool {
        matches!(self.state, VersionState::Agreed { .. })
    }

    /// The parties yet to sign: none once the version is agreed (a rate change is agreed
    /// with nobody's signature) or superseded.
    pub fn unsigned(&self) -> Vec<PartyRole> {
        if self.state != VersionState::Awaiting {
            return Vec::new();
        }
        self.content
            .parties
            .signatories()
            .into_iter()
            .filter(|role| {
                !self
                    .signatures
                    .iter()
                    .any(|signature| signature.role == *role)
            })
            .collect()
    }

    /// Records `signature`. A party signs once per version; signing again is harmless.
    pub fn sign(&mut self, signature: Signature) -> Result<Signed, SignRefused> {
        if !self.content.parties.signatories().contains(&signature.role) {
            return Err(SignRefused::NotAParty {
                role: signature.role.name(),
            });
        }
        if self
            .signatures
            .iter()
            .any(|signed| signed.role == signature.role)
        {
            return Ok(Signed::AlreadySigned);
        }
        match self.state {
            VersionState::Awaiting => {}
            VersionState::Agreed { .. } => {
                return Err(SignRefused::AlreadyAgreed {
                    version: self.version,
                });
            }
            VersionState::Superseded => {
                return Err(SignRefused::Superseded {
                    version: self.version,
                });
            }
        }
        let on = signature.signed_on;
        self.signatures.push(signature);
        if self.unsigned().is_empty() {
            self.state = VersionState::Agreed { on };
            Ok(Signed::Completed)
        } else {
            Ok(Signed::Recorded)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fee::{FeePlacement, ManagementFee};
    use crate::domain::terms::{Frequency, PaymentBasis, PaymentTiming, TermsDraft};
    use rust_decimal_macros::dec;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn money(text: &str) -> Money {
        Money::parse(text).expect("money")
    }

    fn content(holder: Option<Uuid>) -> AgreementContent {
        AgreementContent {
            parties: Parties {
                person_id: Uuid::from_u128(1),
                representative: None,
                provider_id: Uuid::from_u128(2),
                authority: AuthorityId::parse("authority", "demo-shire").expect("authority"),
                holder_id: holder,
            },
            lines: vec![
                FundedLine {
                    plan_line: 1,
                    support_type: "personal_care".into(),
                    weekly: money("210.00"),
                    hours_per_week: None,
                    start: day("2026-12-01"),
                    end: None,
                },
                FundedLine {
                    plan_line: 3,
                    support_type: "social_support".into(),
                    weekly: money("45.50"),
                    hours_per_week: Some(dec!(2)),
                    start: day("2026-12-01"),
                    end: Some(day("2027-03-31")),
                },
            ],
            outcomes: "I want to stay in my own home and get to the lunch club on Fridays".into(),
            terms: Terms::new(
                "terms",
                TermsDraft {
                    frequency: Frequency::FourWeekly,
                    timing: PaymentTiming::Advance,
                    basis: PaymentBasis::Scheduled,
                    flex_tolerance_percent: dec!(10),
                    fee: ManagementFee::Percentage {
                        percent: dec!(8),
                        placement: FeePlacement::OnTop,
                    },
                    notice_days: 28,
                    review_on: day("2027-06-01"),
                    start: day("2026-12-01"),
                    end: None,
                },
            )
            .expect("terms"),
            payee: Payee::Provider {
                provider_id: Uuid::from_u128(2),
            },
            rate: None,
        }
    }

    fn signature(role: PartyRole, on: &str) -> Signature {
        Signature {
            role,
            signed_by: format!("{}-signer", role.name()),
            capacity: (role == PartyRole::Person).then_some(Capacity::Themselves),
            signed_on: day(on),
        }
    }

    #[test]
    fn a_version_is_agreed_when_every_party_has_signed_and_signing_twice_changes_nothing() {
        let mut version = AgreementVersion::first(content(None), day("2026-11-28"));
        assert_eq!(
            version.unsigned(),
            vec![PartyRole::Person, PartyRole::Provider, PartyRole::Authority]
        );
        assert_eq!(
            version.sign(signature(PartyRole::Person, "2026-11-28")),
            Ok(Signed::Recorded)
        );
        assert_eq!(
            version.sign(signature(PartyRole::Person, "2026-11-29")),
            Ok(Signed::AlreadySigned)
        );
        assert_eq!(version.signatures.len(), 1);
        assert_eq!(
            version.sign(signature(PartyRole::Provider, "2026-11-29")),
            Ok(Signed::Recorded)
        );
        assert_eq!(
            version.sign(signature(PartyRole::Holder, "2026-11-29")),
            Err(SignRefused::NotAParty { role: "holder" })
        );
        assert_eq!(
            version.sign(signature(PartyRole::Authority, "2026-11-30")),
            Ok(Signed::Completed)
        );
        assert_eq!(
            version.state,
            VersionState::Agreed {
                on: day("2026-11-30")
            }
        );
        assert_eq!(
            version.sign(signature(PartyRole::Authority, "2026-12-01")),
            Ok(Signed::AlreadySigned),
            "a retry after the last signature is harmless"
        );
    }

    #[test]
    fn parties_capacities_and_statuses_follow_the_wire() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<PartyRole>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<Capacity>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<
            crate::domain::drafting::AgreementStatus,
        >();
    }

    #[test]
    fn a_third_party_holder_signs_too() {
        let version = AgreementVersion::first(content(Some(Uuid::from_u128(9))), day("2026-11-28"));
        assert_eq!(version.unsigned().last(), Some(&PartyRole::Holder));
    }

    #[test]
    fn an_uplift_variation_is_agreed_in_advance_and_a_plan_variation_is_signed_again() {
        let mut first = AgreementVersion::first(content(None), day("2026-11-28"));
        for role in [PartyRole::Person, PartyRole::Provider, PartyRole::Authority] {
            first.sign(signature(role, "2026-11-28")).expect("signed");
        }
        let uplift = AgreementVersion::variation(
            2,
            content(None),
            day("2027-04-01"),
            day("2027-03-01"),
            VersionCause::RateChanged,
        );
        assert_eq!(uplift.version, 2);
        assert_eq!(
            uplift.state,
            VersionState::Agreed {
                on: day("2027-03-01")
            }
        );
        let varied = AgreementVersion::variation(
            3,
            content(None),
            day("2026-11-01"),
            day("2027-01-10"),
            VersionCause::PlanVaried,
        );
        assert_eq!(varied.state, VersionState::Awaiting);
        assert_eq!(varied.effective_from, day("2026-11-01"), "backdated");
        assert_eq!(varied.unsigned().len(), 3);
    }

    #[test]
    fn the_weekly_money_is_the_active_lines_and_the_fee_split_of_them() {
        let content = content(None);
        assert_eq!(content.weekly_on(day("2027-01-01")), Some(money("255.50")));
        assert_eq!(content.weekly_on(day("2027-04-01")), Some(money("210.00")));
        let split = content.weekly_split_on(day("2027-01-01")).expect("split");
        assert_eq!(split.fee, money("20.44"), "8% of 255.50");
        assert_eq!(split.total, money("275.94"));
    }

    #[test]
    fn content_that_does_not_hold_together_is_refused_naming_the_field() {
        let mut no_lines = content(None);
        no_lines.lines.clear();
        let mut twice = content(None);
        twice.lines[1].plan_line = 1;
        let mut early = content(None);
        early.lines[0].start = day("2026-11-30");
        let mut backwards = content(None);
        backwards.lines[1].end = Some(day("2026-11-30"));
        let mut zero = content(None);
        zero.lines[0].weekly = Money::zero();
        let mut blank = content(None);
        blank.outcomes = "   ".into();
        let mut as_self = content(None);
        as_self.parties.representative = Some(Representative {
            name: "Ann Innes".into(),
            capacity: Capacity::Themselves,
        });
        for (given, field) in [
            (no_lines, "lines"),
            (twice, "lines"),
            (early, "lines[0].start"),
            (backwards, "lines[1].end"),
            (zero, "lines[0].weekly"),
            (blank, "outcomes"),
            (as_self, "parties.representative.capacity"),
        ] {
            let refusal = given.checked().expect_err("refused");
            assert_eq!(refusal.field(), field, "{refusal}");
        }
        assert!(content(None).checked().is_ok());
    }
}
