//! Agreements, terms and rate cards that the pure tests of variations and rate following
//! share.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sds_money::Money;
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use super::agreement::{AgreementContent, AgreementVersion, FundedLine, Parties, RateReference};
use super::fee::ManagementFee;
use super::rate::{RateCard, RateComponent};
use super::rate_following::CardTimeline;
use super::terms::{Frequency, Payee, PaymentBasis, PaymentTiming, Terms, TermsDraft};
use super::variation::VersionCause;

pub fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

pub fn money(text: &str) -> Money {
    Money::parse(text).expect("money")
}

pub const CARD: Uuid = Uuid::from_u128(7);
pub const PROVIDER: Uuid = Uuid::from_u128(2);

pub fn terms(end: Option<&str>) -> Terms {
    Terms::new(
        "terms",
        TermsDraft {
            frequency: Frequency::FourWeekly,
            timing: PaymentTiming::Advance,
            basis: PaymentBasis::Scheduled,
            flex_tolerance_percent: dec!(10),
            fee: ManagementFee::None,
            notice_days: 28,
            review_on: day("2027-06-01"),
            start: day("2026-12-01"),
            end: end.map(day),
        },
    )
    .expect("terms")
}

/// 10 hours a week priced on the card.
pub fn content(
    weekly: &str,
    hours: Option<Decimal>,
    rate_version: Option<u32>,
) -> AgreementContent {
    AgreementContent {
        parties: Parties {
            person_id: Uuid::from_u128(1),
            representative: None,
            provider_id: PROVIDER,
            authority: AuthorityId::parse("authority", "fife").expect("authority"),
            holder_id: None,
        },
        lines: vec![FundedLine {
            plan_line: 1,
            support_type: "personal_care".into(),
            weekly: money(weekly),
            hours_per_week: hours,
            start: day("2026-12-01"),
            end: None,
        }],
        outcomes: "Stay at home".into(),
        terms: terms(None),
        payee: Payee::Provider {
            provider_id: PROVIDER,
        },
        rate: rate_version.map(|version| RateReference {
            rate_card_id: CARD,
            version,
        }),
    }
}

pub fn card_of(wage: &str) -> RateCard {
    RateCard::new("card", &[(RateComponent::CareWorkerWage, money(wage))]).expect("card")
}

/// 20.00 an hour from April 2026, 21.00 from April 2027.
pub fn timeline() -> CardTimeline {
    CardTimeline {
        rate_card_id: CARD,
        versions: vec![
            (1, day("2026-04-01"), card_of("20.00")),
            (2, day("2027-04-01"), card_of("21.00")),
        ],
    }
}

pub fn agreed(version: u32, content: AgreementContent, from: &str) -> AgreementVersion {
    let mut made = AgreementVersion::variation(
        version,
        content,
        day(from),
        day("2026-11-28"),
        VersionCause::RateChanged,
    );
    made.cause = VersionCause::Drafted;
    made
}

pub fn weekly_of(version: &AgreementVersion) -> String {
    version.content.lines[0].weekly.to_string()
}
