//! What the plain-language summary ([`super::summary`]) says of a stored agreement version.
//!
//! Contracts knows the parties by id only: names stay with the directory and assessment,
//! and none travel in events. So the summary names them by the part they play, in words
//! that read well where the summary puts them: the person is addressed as "you"; the
//! provider and a third-party holder are "Your provider" and "Your fund holder" (the summary
//! starts sentences and list items with them) and the payee "your provider" or "your fund
//! holder" (it ends a sentence); the authority is named from its id, which is its name in
//! lower case ("east-lothian" is "East Lothian"). Only the representative's name is held,
//! and it is used as given.

use super::agreement::AgreementVersion;
use super::fee::FeeError;
use super::summary::{SummaryFacts, SummaryLine};
use super::terms::{HoldingModel, Payee, PaymentBasis};

/// How the summary addresses the person, after "You, ".
pub const PERSON: &str = "the person this support is for";
pub const PROVIDER: &str = "Your provider";
pub const HOLDER: &str = "Your fund holder";

/// The facts of `version` of an agreement whose fund is held as `holding_model` (kept on
/// the agreement, not the version): the parties by their part, the lines, terms and the
/// week's money on the first day any support runs (the version's effective date, or
/// its first line's start when that is later, so a total is never of a day without
/// support).
pub fn summary_facts(
    holding_model: HoldingModel,
    version: &AgreementVersion,
) -> Result<SummaryFacts, FeeError> {
    let content = &version.content;
    let terms = &content.terms;
    let first_support = content
        .lines
        .iter()
        .map(|line| line.start)
        .min()
        .unwrap_or(version.effective_from);
    let split = content.weekly_split_on(version.effective_from.max(first_support))?;
    Ok(SummaryFacts {
        person: PERSON.to_string(),
        representative: content.parties.representative.clone(),
        provider: PROVIDER.to_string(),
        authority: authority_name(content.parties.authority.as_str()),
        holder: content.parties.holder_id.map(|_| HOLDER.to_string()),
        holding_model,
        outcomes: content.outcomes.clone(),
        lines: content
            .lines
            .iter()
            .map(|line| SummaryLine {
                description: support_words(&line.support_type),
                weekly: line.weekly,
                from: line.start,
                to: line.end,
            })
            .collect(),
        fee: terms.fee(),
        fee_weekly: split.fee,
        weekly_total: split.total,
        frequency: terms.frequency(),
        timing: terms.timing(),
        actuals_based: terms.basis() == PaymentBasis::Actuals,
        tolerance_percent: terms.flex_tolerance_percent(),
        payee: match content.payee {
            Payee::Provider { .. } => PROVIDER.to_lowercase(),
            Payee::Holder { .. } => HOLDER.to_lowercase(),
        },
        notice_days: terms.notice_days(),
        review_on: terms.review_on(),
        start: terms.start(),
        end: terms.end(),
    })
}

/// "personal_care" as "personal care".
fn support_words(support_type: &str) -> String {
    support_type.replace(['_', '-'], " ")
}

/// "east-lothian" as "East Lothian": an authority id is its name in lower case, words
/// joined by - or _. The small words of names such as "Dumfries and Galloway" or "City of
/// Edinburgh" stay lower case after the first.
pub fn authority_name(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|word| !word.is_empty())
        .enumerate()
        .map(|(index, word)| {
            if index > 0 && matches!(word, "and" | "of" | "the") {
                word.to_string()
            } else {
                super::plain_words::capitalised(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authority_is_named_from_its_id() {
        assert_eq!(authority_name("fife"), "Fife");
        assert_eq!(authority_name("east-lothian"), "East Lothian");
        assert_eq!(
            authority_name("dumfries_and_galloway"),
            "Dumfries and Galloway"
        );
        assert_eq!(authority_name("city-of-edinburgh"), "City of Edinburgh");
        assert_eq!(support_words("personal_care"), "personal care");
    }
}
