//! The compact forms the budget and plan commands take on the command line, read into the
//! request messages they stand for.
//!
//! A plan line (`plan draft --line`, `plan vary --add`):
//! `SUPPORT:AMOUNT:OPTION[:from=DATE][:to=DATE][:provider=P][:holder=H]`, such as
//! `personal-care:weekly=210.00:option2:from=2026-12-01:holder=provider`, where
//! - SUPPORT is a support type (`personal-care`, `day-support`, ...);
//! - AMOUNT is `weekly=210.00`, `annual=5200.00` or `hours=7.5@23.50`;
//! - OPTION is `option1` (direct payment), `option2` (person directed) or `option3`
//!   (authority arranged);
//! - `from=` is the line's first day (the plan's effective date when not given), `to=` its
//!   last (open-ended when not given);
//! - `provider=` is a directory id or a Care Inspectorate number (option 2 or 3);
//! - `holder=` is `third-party=ORG_ID`, `provider` or `authority` (option 2).
//!
//! A change to a line (`plan vary --change`): `N:PART[:PART...]`, each PART an AMOUNT, an
//! OPTION (with its `provider=`/`holder=`) or a SUPPORT, such as `2:weekly=280.00`.
//!
//! Budget inputs: `--answer code=score` and `--hours "description=7.5@23.50"` (`@RATE`
//! left out for the policy's standard rate).
//!
//! What must stay true: a spec is refused here only for its shape, with a message naming the
//! part and what is accepted; values inside a well-formed part (amounts, dates, ids) go to
//! the server as given, so that its validation stays the one judge of them.

use anyhow::{Context, anyhow, bail};
use sds_assessment::domain::{FundHoldingModel, SupportType};
use sds_proto::v1::{
    Arrangement, AuthorityArranged, Date, DirectPayment, HoursAtRate, HoursItem, LineAmount,
    LineChangeUpdate, Money, NewPlanLine, PersonDirected, RasAnswer, arrangement, line_amount,
};
use sds_vocabulary::NamedEnum;
use sds_vocabulary::named_enum::WireEnum as _;

const AMOUNTS: &str = "weekly=AMOUNT, annual=AMOUNT or hours=HOURS@RATE";
const OPTIONS: &str =
    "option1 (direct payment), option2 (person directed) or option3 (authority arranged)";
const HOLDERS: &str = "third-party=ORG_ID, provider or authority";

fn money(amount: &str) -> Money {
    Money {
        amount: amount.to_owned(),
    }
}

fn support_names() -> String {
    let names: Vec<String> = SupportType::ALL.iter().map(|s| s.cli_name()).collect();
    names.join(", ")
}

fn support_type(part: &str) -> Option<SupportType> {
    SupportType::parse("support type", part).ok()
}

/// `weekly=210.00`, `annual=5200.00` or `hours=7.5@23.50`; None when `part` is not an amount.
fn amount(part: &str) -> anyhow::Result<Option<LineAmount>> {
    let Some((key, value)) = part.split_once('=') else {
        return Ok(None);
    };
    let amount = match key {
        "weekly" => line_amount::Amount::Weekly(money(value)),
        "annual" => line_amount::Amount::Annual(money(value)),
        "hours" => {
            let Some((hours, rate)) = value.split_once('@') else {
                bail!("amount {part:?}: hours needs a rate, as hours=7.5@23.50");
            };
            line_amount::Amount::HoursAtRate(HoursAtRate {
                hours_per_week: hours.to_owned(),
                hourly_rate: Some(money(rate)),
            })
        }
        _ => return Ok(None),
    };
    if value.is_empty() {
        bail!("amount {part:?} has no value; accepted: {AMOUNTS}");
    }
    Ok(Some(LineAmount {
        amount: Some(amount),
    }))
}

/// Which option a part names: 1, 2 or 3.
fn option(part: &str) -> Option<u8> {
    match part {
        "option1" => Some(1),
        "option2" => Some(2),
        "option3" => Some(3),
        _ => None,
    }
}

/// The options given as `provider=`/`holder=` parts, gathered before the arrangement is
/// built because they may come in any order.
#[derive(Default)]
struct ArrangementParts {
    option: Option<u8>,
    provider: Option<String>,
    holder: Option<(FundHoldingModel, String)>,
}

impl ArrangementParts {
    /// Takes `part` when it is an option, `provider=` or `holder=`; false otherwise.
    fn take(&mut self, part: &str) -> anyhow::Result<bool> {
        if let Some(number) = option(part) {
            if self.option.replace(number).is_some() {
                bail!("option {part:?} is the second option given; give one of {OPTIONS}");
            }
            return Ok(true);
        }
        if let Some(provider) = part.strip_prefix("provider=") {
            self.provider = Some(provider.to_owned());
            return Ok(true);
        }
        if let Some(holder) = part.strip_prefix("holder=") {
            let (model, organisation) = holder.split_once('=').unwrap_or((holder, ""));
            let model = FundHoldingModel::parse("holder", model)
                .map_err(|_| anyhow!("holder {holder:?}: accepted: {HOLDERS}"))?;
            if (model == FundHoldingModel::ThirdParty) == organisation.is_empty() {
                bail!("holder {holder:?}: accepted: {HOLDERS} (only third-party takes an id)");
            }
            self.holder = Some((model, organisation.to_owned()));
            return Ok(true);
        }
        Ok(false)
    }

    fn arrangement(self) -> anyhow::Result<Option<Arrangement>> {
        let Some(option) = self.option else {
            if self.provider.is_some() || self.holder.is_some() {
                bail!("provider= and holder= need an option; accepted: {OPTIONS}");
            }
            return Ok(None);
        };
        let arrangement = match option {
            1 => {
                if self.provider.is_some() || self.holder.is_some() {
                    bail!("option1 (direct payment) takes no provider= or holder=");
                }
                arrangement::Arrangement::DirectPayment(DirectPayment {})
            }
            2 => {
                let (model, holder) = self.holder.unzip();
                arrangement::Arrangement::PersonDirected(PersonDirected {
                    provider: self.provider.unwrap_or_default(),
                    holding_model: model.map_or(0, |model| model.wire_number()),
                    holder: holder.unwrap_or_default(),
                })
            }
            _ => {
                if self.holder.is_some() {
                    bail!("option3 (authority arranged) takes no holder=; only option2 does");
                }
                arrangement::Arrangement::AuthorityArranged(AuthorityArranged {
                    provider: self.provider.unwrap_or_default(),
                })
            }
        };
        Ok(Some(Arrangement {
            arrangement: Some(arrangement),
        }))
    }
}

/// Reads a plan line, `SUPPORT:AMOUNT:OPTION[:from=DATE][:to=DATE][:provider=P][:holder=H]`;
/// a line with no `from=` starts on `effective_from`.
pub fn plan_line(spec: &str, effective_from: &str) -> anyhow::Result<NewPlanLine> {
    read_plan_line(spec, effective_from).with_context(|| format!("line {spec:?}"))
}

fn read_plan_line(spec: &str, effective_from: &str) -> anyhow::Result<NewPlanLine> {
    let mut parts = spec.split(':');
    let support = parts.next().unwrap_or_default();
    let support = support_type(support).ok_or_else(|| {
        anyhow!(
            "support type {support:?} is not known; accepted: {}",
            support_names()
        )
    })?;
    let amount_part = parts
        .next()
        .ok_or_else(|| anyhow!("no amount after the support type; accepted: {AMOUNTS}"))?;
    let amount = amount(amount_part)?
        .ok_or_else(|| anyhow!("amount {amount_part:?} is not one of {AMOUNTS}"))?;
    let option_part = parts
        .next()
        .ok_or_else(|| anyhow!("no option after the amount; accepted: {OPTIONS}"))?;
    let mut arrangement = ArrangementParts::default();
    if option(option_part).is_none() {
        bail!("option {option_part:?} is not one of {OPTIONS}");
    }
    arrangement.take(option_part)?;
    let (mut start, mut end) = (effective_from.to_owned(), None);
    for part in parts {
        if let Some(date) = part.strip_prefix("from=") {
            date.clone_into(&mut start);
        } else if let Some(date) = part.strip_prefix("to=") {
            end = Some(date.to_owned());
        } else if option(part).is_some() || !arrangement.take(part)? {
            bail!(
                "part {part:?} is not known; after the option come from=DATE, to=DATE, \
                 provider=ID and holder=({HOLDERS})"
            );
        }
    }
    Ok(NewPlanLine {
        support_type: support.wire_number(),
        amount: Some(amount),
        arrangement: arrangement.arrangement()?,
        start: Some(Date { iso: start }),
        end: end.map(|iso| Date { iso }),
    })
}

/// Reads a change to line N, `N:PART[:PART...]`; each PART an amount, an option with its
/// `provider=`/`holder=`, or a support type. What is not given stays as it was.
pub fn line_change(spec: &str) -> anyhow::Result<LineChangeUpdate> {
    read_line_change(spec).with_context(|| format!("change {spec:?}"))
}

fn read_line_change(spec: &str) -> anyhow::Result<LineChangeUpdate> {
    let mut parts = spec.split(':');
    let number = parts.next().unwrap_or_default();
    let number: u32 = number
        .parse()
        .map_err(|_| anyhow!("line number {number:?} is not a number; as 2:weekly=280.00"))?;
    let mut change = LineChangeUpdate {
        number,
        ..LineChangeUpdate::default()
    };
    let mut arrangement = ArrangementParts::default();
    let mut any = false;
    for part in parts {
        any = true;
        if let Some(amount) = amount(part)? {
            change.amount = Some(amount);
        } else if let Some(support) = support_type(part) {
            change.support_type = support.wire_number();
        } else if !arrangement.take(part)? {
            bail!(
                "part {part:?} is not known; accepted: {AMOUNTS}, {OPTIONS} (with provider= \
                 and holder=), or a support type: {}",
                support_names()
            );
        }
    }
    if !any {
        bail!("nothing to change; give an amount, an option or a support type, as 2:weekly=280.00");
    }
    change.arrangement = arrangement.arrangement()?;
    Ok(change)
}

/// Reads a RAS answer, `code=score`.
pub fn ras_answer(spec: &str) -> anyhow::Result<RasAnswer> {
    let (code, score) = spec
        .split_once('=')
        .ok_or_else(|| anyhow!("answer {spec:?} is not code=score, as personal_care=6"))?;
    let score = score
        .parse()
        .map_err(|_| anyhow!("answer {spec:?}: the score {score:?} is not a whole number"))?;
    Ok(RasAnswer {
        code: code.to_owned(),
        score,
    })
}

/// Reads hours at a rate, `description=HOURS[@RATE]`; no rate is the policy's standard rate.
pub fn hours_item(spec: &str) -> anyhow::Result<HoursItem> {
    // The description is free text, so the last `=` splits it from the hours.
    let (description, hours) = spec.rsplit_once('=').ok_or_else(|| {
        anyhow!("hours {spec:?} is not description=HOURS[@RATE], as \"personal care=7.5@23.50\"")
    })?;
    let (hours, rate) = match hours.split_once('@') {
        Some((hours, rate)) => (hours, Some(money(rate))),
        None => (hours, None),
    };
    Ok(HoursItem {
        description: description.to_owned(),
        hours_per_week: hours.to_owned(),
        hourly_rate: rate,
    })
}

#[cfg(test)]
mod tests {
    use sds_proto::v1 as proto;

    use super::*;

    fn error(result: anyhow::Result<impl std::fmt::Debug>) -> String {
        format!("{:#}", result.unwrap_err())
    }

    #[test]
    fn an_option_2_line_reads_every_part_into_its_field() {
        let line = plan_line(
            "personal-care:weekly=210.00:option2:from=2026-12-01:to=2027-03-31:provider=CS2004071234:holder=third-party=0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
            "2026-11-01",
        )
        .unwrap();
        assert_eq!(
            line,
            NewPlanLine {
                support_type: proto::SupportType::PersonalCare as i32,
                amount: Some(LineAmount {
                    amount: Some(line_amount::Amount::Weekly(money("210.00")))
                }),
                arrangement: Some(Arrangement {
                    arrangement: Some(arrangement::Arrangement::PersonDirected(PersonDirected {
                        provider: "CS2004071234".into(),
                        holding_model: proto::FundHoldingModel::ThirdParty as i32,
                        holder: "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b".into(),
                    }))
                }),
                start: Some(Date {
                    iso: "2026-12-01".into()
                }),
                end: Some(Date {
                    iso: "2027-03-31".into()
                }),
            }
        );
    }

    #[test]
    fn a_line_without_from_starts_on_the_plans_effective_date_and_is_open_ended() {
        let line = plan_line("day_support:hours=7.5@23.50:option3", "2026-11-01").unwrap();
        assert_eq!(line.support_type, proto::SupportType::DaySupport as i32);
        assert_eq!(
            line.amount.unwrap().amount,
            Some(line_amount::Amount::HoursAtRate(HoursAtRate {
                hours_per_week: "7.5".into(),
                hourly_rate: Some(money("23.50")),
            }))
        );
        assert_eq!(
            line.arrangement.unwrap().arrangement,
            Some(arrangement::Arrangement::AuthorityArranged(
                AuthorityArranged::default()
            ))
        );
        assert_eq!(line.start.unwrap().iso, "2026-11-01");
        assert_eq!(line.end, None);

        let line = plan_line("equipment:annual=520.00:option1", "2026-11-01").unwrap();
        assert_eq!(
            line.amount.unwrap().amount,
            Some(line_amount::Amount::Annual(money("520.00")))
        );
        let line = plan_line("other:weekly=1:option2:holder=provider", "2026-11-01").unwrap();
        let Some(arrangement::Arrangement::PersonDirected(directed)) =
            line.arrangement.unwrap().arrangement
        else {
            panic!("not option 2");
        };
        assert_eq!(
            directed.holding_model,
            proto::FundHoldingModel::Provider as i32
        );
        assert_eq!(directed.holder, "");
    }

    #[test]
    fn a_bad_line_is_refused_naming_the_part_and_what_is_accepted() {
        let cases = [
            (
                "care:weekly=1:option1",
                "support type \"care\" is not known; accepted: personal-care, day-support",
            ),
            (
                "personal-care",
                "no amount after the support type; accepted: weekly=AMOUNT",
            ),
            (
                "personal-care:fortnightly=1:option1",
                "amount \"fortnightly=1\" is not one of weekly=AMOUNT, annual=AMOUNT or hours=HOURS@RATE",
            ),
            ("personal-care:hours=7.5:option1", "hours needs a rate"),
            (
                "personal-care:weekly=:option1",
                "amount \"weekly=\" has no value",
            ),
            (
                "personal-care:weekly=1",
                "no option after the amount; accepted: option1 (direct payment)",
            ),
            (
                "personal-care:weekly=1:option4",
                "option \"option4\" is not one of option1",
            ),
            (
                "personal-care:weekly=1:option2:until=2027-01-01",
                "part \"until=2027-01-01\" is not known; after the option come from=DATE",
            ),
            (
                "personal-care:weekly=1:option2:option3",
                "part \"option3\" is not known",
            ),
            (
                "personal-care:weekly=1:option2:holder=bank",
                "holder \"bank\": accepted: third-party=ORG_ID, provider or authority",
            ),
            (
                "personal-care:weekly=1:option2:holder=third-party",
                "only third-party takes an id",
            ),
            (
                "personal-care:weekly=1:option2:holder=provider=x",
                "only third-party takes an id",
            ),
            (
                "personal-care:weekly=1:option1:provider=CS2004071234",
                "option1 (direct payment) takes no provider= or holder=",
            ),
            (
                "personal-care:weekly=1:option3:holder=authority",
                "option3 (authority arranged) takes no holder=",
            ),
        ];
        for (spec, expected) in cases {
            let message = error(plan_line(spec, "2026-11-01"));
            assert!(
                message.starts_with(&format!("line {spec:?}: ")),
                "{spec}: {message}"
            );
            assert!(message.contains(expected), "{spec}: {message}");
        }
    }

    #[test]
    fn a_change_carries_only_the_parts_given() {
        let change = line_change("2:weekly=280.00").unwrap();
        assert_eq!(
            change,
            LineChangeUpdate {
                number: 2,
                support_type: 0,
                amount: Some(LineAmount {
                    amount: Some(line_amount::Amount::Weekly(money("280.00")))
                }),
                arrangement: None,
            }
        );
        let change = line_change("1:social-support:option2:provider=CS2004071234").unwrap();
        assert_eq!(
            change.support_type,
            proto::SupportType::SocialSupport as i32
        );
        assert_eq!(change.amount, None);
        assert!(matches!(
            change.arrangement.unwrap().arrangement,
            Some(arrangement::Arrangement::PersonDirected(PersonDirected { provider, .. }))
                if provider == "CS2004071234"
        ));
    }

    #[test]
    fn a_bad_change_is_refused_naming_the_part() {
        let cases = [
            ("two:weekly=1", "line number \"two\" is not a number"),
            ("2", "nothing to change"),
            (
                "2:weekly=1:soon",
                "part \"soon\" is not known; accepted: weekly=AMOUNT",
            ),
            (
                "2:provider=CS2004071234",
                "provider= and holder= need an option",
            ),
        ];
        for (spec, expected) in cases {
            let message = error(line_change(spec));
            assert!(
                message.starts_with(&format!("change {spec:?}: ")),
                "{message}"
            );
            assert!(message.contains(expected), "{spec}: {message}");
        }
    }

    #[test]
    fn budget_answers_and_hours_read_their_compact_forms() {
        assert_eq!(
            ras_answer("personal_care=6").unwrap(),
            RasAnswer {
                code: "personal_care".into(),
                score: 6
            }
        );
        assert!(error(ras_answer("personal_care")).contains("is not code=score"));
        assert!(error(ras_answer("personal_care=six")).contains("\"six\" is not a whole number"));

        assert_eq!(
            hours_item("wash=dress=7.5@23.50").unwrap(),
            HoursItem {
                description: "wash=dress".into(),
                hours_per_week: "7.5".into(),
                hourly_rate: Some(money("23.50")),
            }
        );
        assert_eq!(hours_item("sitting=3").unwrap().hourly_rate, None);
        assert!(error(hours_item("sitting 3 hours")).contains("is not description=HOURS[@RATE]"));
    }
}
