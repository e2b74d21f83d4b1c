//! Which SDS option a plan line is, derived from the facts of how it is arranged rather than
//! ticked in a box.
//!
//! What must stay true: option 1 is a direct payment to the person; option 2 is support the
//! person chose, paid from a fund someone else holds on their behalf; option 3 is support the
//! authority arranged, and a line the authority arranged is never option 2 whoever holds
//! the money. An option 2 line names its provider (a directory id or a Care Inspectorate
//! number) and its fund holder; until the person has chosen, the line is "option 2, choice
//! pending": it may be approved, but no agreement can start, and it says what is missing.

use std::fmt;

use uuid::Uuid;

pub use sds_directory::domain::{CareInspectorateNumber, ProviderId};
use sds_vocabulary::{AuthorityId, Invalid, shown};

/// The SDS option of a line, or of a plan whose lines differ (option 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SdsOption {
    /// Option 1: a direct payment; the person holds the money and arranges support.
    DirectPayment,
    /// Option 2: an Individual Service Fund; the person chooses, someone else holds.
    IndividualServiceFund,
    /// Option 3: the authority chooses and arranges.
    Arranged,
    /// Option 4: a mix of the above across lines.
    Mix,
}

impl SdsOption {
    /// The options in number order.
    pub const ALL: [SdsOption; 4] = [
        SdsOption::DirectPayment,
        SdsOption::IndividualServiceFund,
        SdsOption::Arranged,
        SdsOption::Mix,
    ];

    /// 1, 2, 3 or 4, as the Act and the statistics number them.
    pub fn number(self) -> u8 {
        match self {
            SdsOption::DirectPayment => 1,
            SdsOption::IndividualServiceFund => 2,
            SdsOption::Arranged => 3,
            SdsOption::Mix => 4,
        }
    }

    /// The single option of a set of line options, `Mix` when they differ, `None` when the
    /// set is empty.
    pub fn of_lines(options: impl IntoIterator<Item = SdsOption>) -> Option<SdsOption> {
        let mut combined: Option<SdsOption> = None;
        for option in options {
            combined = match combined {
                None => Some(option),
                Some(earlier) if earlier == option => Some(earlier),
                Some(_) => Some(SdsOption::Mix),
            };
        }
        combined
    }
}

impl fmt::Display for SdsOption {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "option {}", self.number())
    }
}

sds_vocabulary::wire_enum! {
    /// Who holds an Individual Service Fund on the person's behalf.
    pub enum FundHoldingModel("fund holding model") => sds_proto::v1::FundHoldingModel {
        /// An organisation contracted to hold funds, which pays the providers.
        ThirdParty = "third_party",
        /// The chosen provider holds the fund and draws its own charges.
        Provider = "provider",
        /// The authority holds it as a ring-fenced account and pays providers directly.
        Authority = "authority",
    }
}

/// The provider a person chose: by its directory id, or by its Care Inspectorate service
/// number when it is not (yet) in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProviderRef {
    Directory(ProviderId),
    CareInspectorate(CareInspectorateNumber),
}

impl ProviderRef {
    /// Reads a directory id (a UUID) or a Care Inspectorate number (`CS` and 10 digits).
    pub fn parse(field: &str, raw: &str) -> Result<ProviderRef, Invalid> {
        let text = raw.trim();
        if text.to_ascii_uppercase().starts_with("CS") {
            return CareInspectorateNumber::parse(field, text).map(ProviderRef::CareInspectorate);
        }
        if let Ok(uuid) = Uuid::parse_str(text) {
            return Ok(ProviderRef::Directory(ProviderId::from_uuid(uuid)));
        }
        Err(Invalid::new(
            field,
            format!(
                "{} is not a provider; give its directory id (a UUID) or its Care Inspectorate number, CS and 10 digits such as CS2004071234",
                shown(raw)
            ),
        ))
    }
}

impl fmt::Display for ProviderRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderRef::Directory(id) => write!(formatter, "provider {id}"),
            ProviderRef::CareInspectorate(number) => write!(formatter, "care service {number}"),
        }
    }
}

/// Who holds the fund: the model and the holder, which only a third party needs named (a
/// provider-held fund is held by the chosen provider, an authority-held one by the
/// authority whose plan it is).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FundHolder {
    /// The organisation id of the third-party holder.
    ThirdParty {
        holder: Uuid,
    },
    Provider,
    Authority {
        authority: AuthorityId,
    },
}

impl FundHolder {
    pub fn model(&self) -> FundHoldingModel {
        match self {
            FundHolder::ThirdParty { .. } => FundHoldingModel::ThirdParty,
            FundHolder::Provider => FundHoldingModel::Provider,
            FundHolder::Authority { .. } => FundHoldingModel::Authority,
        }
    }
}

/// What the person has chosen for an option 2 line so far. Both parts are needed before an
/// agreement can start.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PersonsChoice {
    pub provider: Option<ProviderRef>,
    pub holder: Option<FundHolder>,
}

/// How a line is arranged: the facts the option follows from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arrangement {
    /// The person receives the money and arranges support themselves (option 1).
    DirectPayment,
    /// The person directs the support and someone else holds the fund (option 2).
    PersonDirected(PersonsChoice),
    /// The authority chose and arranges the support (option 3), with the provider it chose
    /// when one is recorded.
    AuthorityArranged { provider: Option<ProviderRef> },
}

/// Why an option 2 line cannot start an agreement yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option 2, choice pending: {}", missing.join(" and "))]
pub struct ChoicePending {
    /// Plain-language descriptions of what is still missing.
    pub missing: Vec<&'static str>,
}

impl Arrangement {
    /// The option this arrangement is, whatever anyone ticked.
    pub fn option(&self) -> SdsOption {
        match self {
            Arrangement::DirectPayment => SdsOption::DirectPayment,
            Arrangement::PersonDirected(_) => SdsOption::IndividualServiceFund,
            Arrangement::AuthorityArranged { .. } => SdsOption::Arranged,
        }
    }

    /// What is still missing before an agreement can start; `Ok` for options 1 and 3,
    /// which need no choice of provider by the person.
    pub fn ready_for_agreement(&self) -> Result<(), ChoicePending> {
        let Arrangement::PersonDirected(choice) = self else {
            return Ok(());
        };
        let mut missing = Vec::new();
        if choice.provider.is_none() {
            missing.push("the person has not yet chosen a provider");
        }
        if choice.holder.is_none() {
            missing.push("no fund holder is recorded");
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ChoicePending { missing })
        }
    }

    /// A short status a practitioner reads on the line.
    pub fn status(&self) -> String {
        match self.ready_for_agreement() {
            Err(pending) => pending.to_string(),
            Ok(()) => match self {
                Arrangement::DirectPayment => "option 1, direct payment".to_owned(),
                Arrangement::PersonDirected(PersonsChoice {
                    provider: Some(provider),
                    holder: Some(holder),
                }) => format!(
                    "option 2, {provider} chosen, fund held by {}",
                    holder_words(holder)
                ),
                Arrangement::PersonDirected(_) => "option 2".to_owned(),
                Arrangement::AuthorityArranged {
                    provider: Some(provider),
                } => {
                    format!("option 3, arranged by the authority with {provider}")
                }
                Arrangement::AuthorityArranged { provider: None } => {
                    "option 3, arranged by the authority".to_owned()
                }
            },
        }
    }
}

fn holder_words(holder: &FundHolder) -> String {
    match holder {
        FundHolder::ThirdParty { holder } => format!("third party {holder}"),
        FundHolder::Provider => "the provider".to_owned(),
        FundHolder::Authority { authority } => format!("the authority ({authority})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> ProviderRef {
        ProviderRef::parse("provider", "CS2004071234").unwrap()
    }

    #[test]
    fn the_option_follows_from_who_chose_and_who_holds() {
        let chosen = PersonsChoice {
            provider: Some(provider()),
            holder: Some(FundHolder::Provider),
        };
        let cases = [
            (Arrangement::DirectPayment, SdsOption::DirectPayment),
            (
                Arrangement::PersonDirected(chosen),
                SdsOption::IndividualServiceFund,
            ),
            (
                Arrangement::PersonDirected(PersonsChoice::default()),
                SdsOption::IndividualServiceFund,
            ),
            // The authority arranged it, so it is option 3 even with a chosen provider.
            (
                Arrangement::AuthorityArranged {
                    provider: Some(provider()),
                },
                SdsOption::Arranged,
            ),
        ];
        for (arrangement, option) in cases {
            assert_eq!(arrangement.option(), option, "{arrangement:?}");
        }
    }

    #[test]
    fn an_option_2_line_without_a_provider_or_holder_says_what_is_missing() {
        let nothing = Arrangement::PersonDirected(PersonsChoice::default());
        assert_eq!(
            nothing.ready_for_agreement().unwrap_err().to_string(),
            "option 2, choice pending: the person has not yet chosen a provider and no fund holder is recorded"
        );
        let provider_only = Arrangement::PersonDirected(PersonsChoice {
            provider: Some(provider()),
            holder: None,
        });
        assert_eq!(
            provider_only.status(),
            "option 2, choice pending: no fund holder is recorded"
        );
        let complete = Arrangement::PersonDirected(PersonsChoice {
            provider: Some(provider()),
            holder: Some(FundHolder::Authority {
                authority: AuthorityId::parse("authority", "falkirk").unwrap(),
            }),
        });
        assert!(complete.ready_for_agreement().is_ok());
        assert_eq!(
            complete.status(),
            "option 2, care service CS2004071234 chosen, fund held by the authority (falkirk)"
        );
        assert!(Arrangement::DirectPayment.ready_for_agreement().is_ok());
    }

    #[test]
    fn the_holder_gives_the_fund_holding_model() {
        assert_eq!(FundHolder::Provider.model(), FundHoldingModel::Provider);
        assert_eq!(
            FundHolder::ThirdParty {
                holder: Uuid::nil()
            }
            .model(),
            FundHoldingModel::ThirdParty
        );
    }

    #[test]
    fn lines_of_one_option_keep_it_and_lines_that_differ_are_option_4() {
        use SdsOption::*;
        assert_eq!(SdsOption::of_lines([]), None);
        assert_eq!(
            SdsOption::of_lines([IndividualServiceFund, IndividualServiceFund]),
            Some(IndividualServiceFund)
        );
        assert_eq!(SdsOption::of_lines([DirectPayment, Arranged]), Some(Mix));
        assert_eq!(
            SdsOption::of_lines([Arranged, Arranged, DirectPayment, Arranged]),
            Some(Mix)
        );
    }

    #[test]
    fn a_provider_is_named_by_a_directory_id_or_a_care_inspectorate_number() {
        assert!(matches!(
            ProviderRef::parse("provider", " cs2004071234 "),
            Ok(ProviderRef::CareInspectorate(_))
        ));
        assert!(matches!(
            ProviderRef::parse("provider", "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b"),
            Ok(ProviderRef::Directory(_))
        ));
        for bad in ["CS12345", "Acme Care", ""] {
            let error = ProviderRef::parse("lines[0].provider", bad).unwrap_err();
            assert_eq!(error.field(), "lines[0].provider");
        }
    }
}
