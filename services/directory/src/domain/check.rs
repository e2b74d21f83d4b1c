//! Basic checks recorded for providers, especially those off framework: registration, PVG
//! membership, proof of self-employment and public liability insurance, each with the date
//! it was checked and the date it expires. Status is never stored: it follows from the
//! expiry date and today's date whenever the check is shown.

use chrono::NaiveDate;

use sds_vocabulary::Invalid;

/// A check expiring within this many days shows as expiring, so it can be renewed in time.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;
/// Certificate, membership and policy numbers are at most this long.
pub const MAX_REFERENCE_CHARS: usize = 100;

sds_vocabulary::wire_enum! {
    /// What a check is of.
    pub enum CheckKind("check kind") => sds_proto::v1::CheckKind {
        Registration = "registration",
        PvgMembership = "pvg_membership",
        ProofOfSelfEmployment = "proof_of_self_employment",
        PublicLiabilityInsurance = "public_liability_insurance",
    }
}

sds_vocabulary::wire_enum! {
    /// Where a check stands on a given day.
    pub enum CheckStatus("check status") => sds_proto::v1::CheckStatus {
        Valid = "valid",
        /// Still valid, but expiring within [`EXPIRING_WITHIN_DAYS`].
        Expiring = "expiring",
        Expired = "expired",
    }
}

impl CheckKind {
    /// What the reference of a check of this kind is, for the kinds that must have one:
    /// a certificate, membership or policy someone can look up.
    pub fn required_reference(self) -> Option<&'static str> {
        match self {
            CheckKind::Registration => Some("registration number"),
            CheckKind::PvgMembership => Some("PVG membership number"),
            CheckKind::PublicLiabilityInsurance => Some("insurance policy number"),
            CheckKind::ProofOfSelfEmployment => None,
        }
    }
}

/// A check as recorded. Its expiry is never before the day it was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    kind: CheckKind,
    reference: Option<String>,
    checked_on: NaiveDate,
    expires_on: NaiveDate,
}

impl Check {
    /// Field names in errors are relative to the check.
    pub fn new(
        kind: CheckKind,
        reference: Option<String>,
        checked_on: NaiveDate,
        expires_on: NaiveDate,
    ) -> Result<Check, Invalid> {
        if expires_on < checked_on {
            return Err(Invalid::new(
                "expires_on",
                format!(
                    "{expires_on} is before checked_on {checked_on}; a check cannot expire before it was made"
                ),
            ));
        }
        Ok(Check {
            kind,
            reference,
            checked_on,
            expires_on,
        })
    }

    pub fn kind(&self) -> CheckKind {
        self.kind
    }

    /// A check is recorded once it has been made: not dated after `today`. (Checked on
    /// input only: a stored check stays readable whatever the clock says.)
    pub fn ensure_made_by(&self, today: NaiveDate) -> Result<(), Invalid> {
        if self.checked_on > today {
            return Err(Invalid::new(
                "checked_on",
                format!(
                    "{} is after today ({today}); record a check once it has been made",
                    self.checked_on
                ),
            ));
        }
        Ok(())
    }

    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }

    pub fn checked_on(&self) -> NaiveDate {
        self.checked_on
    }

    pub fn expires_on(&self) -> NaiveDate {
        self.expires_on
    }

    /// A check holds up to and including its expiry date, and expires the day after.
    pub fn status_on(&self, today: NaiveDate) -> CheckStatus {
        let days_left = (self.expires_on - today).num_days();
        if days_left < 0 {
            CheckStatus::Expired
        } else if days_left <= EXPIRING_WITHIN_DAYS {
            CheckStatus::Expiring
        } else {
            CheckStatus::Valid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_status_reads_back_from_its_name_and_its_wire_number() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<CheckKind>();
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<CheckStatus>();
    }

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn insurance_expiring_on(expires_on: NaiveDate) -> Check {
        Check::new(
            CheckKind::PublicLiabilityInsurance,
            Some("PL-1".into()),
            day(2020, 1, 1),
            expires_on,
        )
        .unwrap()
    }

    #[test]
    fn status_follows_the_expiry_date() {
        let today = day(2026, 3, 1);
        assert_eq!(
            insurance_expiring_on(day(2026, 4, 1)).status_on(today),
            CheckStatus::Valid
        );
        assert_eq!(
            insurance_expiring_on(day(2026, 3, 31)).status_on(today),
            CheckStatus::Expiring
        );
        assert_eq!(
            insurance_expiring_on(day(2026, 3, 1)).status_on(today),
            CheckStatus::Expiring
        );
        assert_eq!(
            insurance_expiring_on(day(2026, 2, 28)).status_on(today),
            CheckStatus::Expired
        );
    }

    #[test]
    fn a_check_cannot_expire_before_it_was_made() {
        let error = Check::new(
            CheckKind::Registration,
            None,
            day(2026, 3, 1),
            day(2026, 2, 1),
        )
        .unwrap_err();
        assert_eq!(error.field(), "expires_on");
    }
}
