//! A fund's terms beyond its authority's defaults, drawn from a stream of its own
//! (`fund-terms`): a management fee of its own (agreed by varying the agreement's terms on
//! the day it is signed), the provider's reports of actual delivery (inside and outside the
//! flex tolerance) where the agreement is paid on actuals, and an option 2 line given as
//! hours a week, priced on the provider's rate card and following its uplifts.
//!
//! Agreements are paid on actuals where their authority pays in arrears (the only timing
//! actuals are allowed under): its contract defaults say so. Not by varying one
//! agreement's terms: payments keeps the basis an agreement was first signed with.
//!
//! What must stay true: a pure function of the seed and the fund's number, so one more
//! fund leaves every other fund as it was; a fund that reports or is on the rate card has
//! no variations (its reports and its card name its one line, line 1), and one that reports
//! no ending either (every period it reports is a whole period of support).

use chrono::NaiveDate;

use super::rng::Rng;
use super::workload::{
    AuthorityPlan, FundPlan, Held, PLAN_START_BEFORE_ACCEPTANCE, Timing, minus, plus, run_calendar,
};

/// The five forms of management fee (`ManagementFeeKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeKind {
    None,
    FlatWeekly,
    Percentage,
    AdminHours,
    IncludedInHourlyRate,
}

pub const FEE_KINDS: [FeeKind; 5] = [
    FeeKind::None,
    FeeKind::FlatWeekly,
    FeeKind::Percentage,
    FeeKind::AdminHours,
    FeeKind::IncludedInHourlyRate,
];

/// The fund's own terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FundTerms {
    /// A fee other than the authority's default, agreed on the day of signing.
    pub fee: Option<FeeKind>,
    /// The provider's reports of delivery (its authority pays on actuals).
    pub actuals: Option<Vec<Actual>>,
    /// The option 2 line is 10 hours a week, priced on the provider's rate card.
    pub hours: bool,
}

impl FundTerms {
    /// Whether the agreement's terms are varied on the day it is signed.
    pub fn varied(&self) -> bool {
        self.fee.is_some()
    }
}

/// The provider's report of one ended period, made on day `on`: `percent` of the plan's
/// amount for the days of the period the line ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actual {
    pub on: NaiveDate,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub percent: u64,
}

/// The flex tolerance every simulated authority's contract defaults give (percent).
pub const FLEX_TOLERANCE_PERCENT: u64 = 10;

/// Draws `fund`'s own terms (fund number `index`, of authority `plan`) for a run of the days
/// `start` to `last_day`, setting aside what they exclude.
pub fn draw(
    seed: u64,
    index: usize,
    plan: &AuthorityPlan,
    fund: &mut FundPlan,
    start: NaiveDate,
    last_day: NaiveDate,
) {
    let mut rng = Rng::stream(seed, "fund-terms", index as u64);
    let hours = rng.chance(25);
    let fee_chance = rng.chance(15);
    let fee_kind = FEE_KINDS[usize::try_from(rng.below(FEE_KINDS.len() as u64)).unwrap_or(0)];
    let actuals_chance = rng.chance(35);
    // An authority holding the fund itself charges no fee for holding it; a fee the
    // defaults already give is no variation.
    if fee_chance && fund.held != Held::Authority && fee_kind != plan.fee {
        fund.terms.fee = Some(fee_kind);
    }
    if let Timing::Arrears { lag_days } = plan.timing
        && actuals_chance
        && !hours
    {
        fund.terms.actuals = Some(draw_reports(
            &mut rng, plan, fund, lag_days, start, last_day,
        ));
        fund.variations.clear();
        fund.ending = None;
        fund.plan_end = None;
    }
    if hours {
        fund.terms.hours = true;
        fund.variations.clear();
    }
}

/// One report for each period of the authority's calendar that the line ran in and that
/// ended before the run's last day: some before the period's due date, some after it (put
/// right on the next instalment); seven in ten inside the tolerance, the rest beyond it.
fn draw_reports(
    rng: &mut Rng,
    plan: &AuthorityPlan,
    fund: &FundPlan,
    lag_days: u32,
    start: NaiveDate,
    last_day: NaiveDate,
) -> Vec<Actual> {
    let plan_start = minus(fund.accepted_on, PLAN_START_BEFORE_ACCEPTANCE);
    // Reported once the terms say actuals: the day after the signing at the earliest.
    let earliest = plus(fund.accepted_on, 1);
    let mut reports = Vec::new();
    // The first period holds the plan's start, so the line ran in part of it only.
    for period in run_calendar(plan).periods(plan_start, last_day).skip(1) {
        if period.end >= last_day {
            continue;
        }
        let on = plus(period.end, 1 + rng.below(u64::from(lag_days) + 7)).max(earliest);
        let tolerance = FLEX_TOLERANCE_PERCENT;
        let percent = if rng.chance(70) {
            rng.between(100 - tolerance + 2, 100 + tolerance - 2)
        } else if rng.chance(50) {
            rng.between(60, 100 - tolerance - 2)
        } else {
            rng.between(100 + tolerance + 2, 140)
        };
        if on <= last_day && on >= start {
            reports.push(Actual {
                on,
                period_start: period.start,
                period_end: period.end,
                percent,
            });
        }
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::super::workload::{FEE_KINDS, Held, Workload};
    use super::*;

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default()
    }

    #[test]
    fn every_holding_model_and_every_fee_kind_is_drawn() {
        let workload = Workload::draw(7, 500, 120, 4, start());
        for held in [Held::Provider, Held::ThirdParty, Held::Authority] {
            assert!(
                workload.funds.iter().any(|fund| fund.held == held),
                "{held:?}"
            );
        }
        for kind in FEE_KINDS {
            let by_default = workload.authorities.iter().any(|plan| plan.fee == kind);
            let own = workload
                .funds
                .iter()
                .any(|fund| fund.terms.fee == Some(kind));
            assert!(by_default || own, "{kind:?}");
        }
        for fund in &workload.funds {
            let default = workload.authorities[fund.authority].fee;
            assert!(fund.terms.fee.is_none_or(|kind| kind != default));
            assert!(fund.held != Held::Authority || fund.terms.fee.is_none());
        }
    }

    #[test]
    fn reports_come_only_where_the_authority_pays_in_arrears_inside_and_beyond_tolerance() {
        let days = 120;
        let last = plus(start(), days - 1);
        let workload = Workload::draw(7, 500, days, 4, start());
        let (mut inside, mut beyond) = (0, 0);
        for fund in &workload.funds {
            let Some(reports) = &fund.terms.actuals else {
                continue;
            };
            let plan = &workload.authorities[fund.authority];
            assert!(matches!(plan.timing, Timing::Arrears { .. }));
            assert!(fund.variations.is_empty() && fund.ending.is_none());
            assert!(fund.plan_end.is_none() && !fund.terms.hours);
            for report in reports {
                assert!(report.on > report.period_end && report.on <= last);
                assert!(report.on > fund.accepted_on);
                if report.percent.abs_diff(100) <= FLEX_TOLERANCE_PERCENT {
                    inside += 1;
                } else {
                    beyond += 1;
                }
            }
        }
        assert!(
            inside > 10 && beyond > 5,
            "{inside} inside, {beyond} beyond"
        );
    }

    #[test]
    fn plan_ends_replace_notices_and_lines_on_the_card_are_not_varied() {
        let workload = Workload::draw(11, 2_000, 365, 4, start());
        let mut plan_ends = 0;
        for fund in &workload.funds {
            if let Some(end) = fund.plan_end {
                plan_ends += 1;
                assert!(fund.ending.is_none());
                assert!(end.on > fund.accepted_on && end.from >= end.on);
                assert!(
                    fund.variations
                        .iter()
                        .all(|variation| variation.on < end.on)
                );
            }
            if fund.terms.hours {
                assert!(fund.variations.is_empty());
            }
        }
        assert!(plan_ends > 20, "{plan_ends} plan ends");
        assert!(workload.funds.iter().any(|fund| fund.terms.hours));
        assert!(workload.funds.iter().any(|fund| fund.ending.is_some()));
    }

    #[test]
    fn every_first_of_april_the_run_crosses_is_an_uplift() {
        assert_eq!(Workload::draw(7, 1, 120, 4, start()).uplifts, vec![start()]);
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default();
        let uplifts = Workload::draw(7, 1, 400, 4, autumn).uplifts;
        assert_eq!(
            uplifts,
            vec![NaiveDate::from_ymd_opt(2027, 4, 1).unwrap_or_default()]
        );
        assert!(Workload::draw(7, 1, 120, 4, autumn).uplifts.is_empty());
    }
}
