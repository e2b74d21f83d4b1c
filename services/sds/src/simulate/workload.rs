//! What happens in a simulated run, drawn in full from the seed before the first day:
//! each authority's payment terms, default management fee and providers, and for each fund
//! the day its person's offer is accepted, who holds the fund, the lines of other options
//! beside its option 2 line, its variations (some backdated across paid periods), its
//! agreement's end with notice or its plan's end. The fund's further terms (a fee of its
//! own, payment on actuals and the provider's reports, hours priced on the rate card) are
//! drawn in [`super::terms`] from a stream of their own.
//!
//! What must stay true: the workload is a pure function of the settings (seed, funds, days,
//! authorities, start), drawn from streams of its own per authority and per fund, so the
//! same seed lays down the same history whatever order the platform happens to serve it in,
//! and one more fund leaves every other fund's history as it was.

use std::collections::BTreeSet;

use chrono::{Datelike as _, Days, NaiveDate};

use super::rng::Rng;
pub use super::terms::{FEE_KINDS, FeeKind};

/// How an authority pays its agreements (its contract defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    FourWeekly,
    Quarterly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Advance,
    Arrears { lag_days: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityPlan {
    /// `sim-1`, `sim-2`, ...
    pub id: String,
    pub frequency: Frequency,
    pub timing: Timing,
    /// How many providers it has on its framework.
    pub providers: usize,
    /// The management fee of its contract defaults.
    pub fee: FeeKind,
}

/// A plan line beside the option 2 line: option 1 (a direct payment) or option 3 (the
/// authority arranges it), which make the plan an option 4 mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherOption {
    DirectPayment,
    AuthorityArranged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherLine {
    pub option: OtherOption,
    pub weekly_pence: i64,
}

/// The option 2 line varied on day `on` to `weekly_pence` a week from `from` (before `on`
/// when backdated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variation {
    pub on: NaiveDate,
    pub from: NaiveDate,
    pub weekly_pence: i64,
}

/// The agreement ended on day `on`, its last day of support at least the notice away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub on: NaiveDate,
    pub last_day: NaiveDate,
}

/// Who holds the person's fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Provider,
    /// The authority's third-party holder.
    ThirdParty,
    Authority,
}

/// The plan ended on day `on` (by a variation ending the whole plan), its lines' last day
/// the day before `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanEnd {
    pub on: NaiveDate,
    pub from: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundPlan {
    /// 1, 2, ...; the case reference is made from it.
    pub number: usize,
    /// Index into [`Workload::authorities`].
    pub authority: usize,
    /// Index into the authority's providers.
    pub provider: usize,
    pub accepted_on: NaiveDate,
    pub others: Vec<OtherLine>,
    pub variations: Vec<Variation>,
    pub ending: Option<Ending>,
    pub held: Held,
    pub plan_end: Option<PlanEnd>,
    /// Terms of its own, payment on actuals, a line priced on the card.
    pub terms: super::terms::FundTerms,
    /// What its holder, its family and finance staff move in the fund.
    pub ledger: Vec<super::ledger_steps::Movement>,
    /// Where its person lives and the client group they are assessed under.
    pub person: super::people::PersonPlan,
}

impl FundPlan {
    pub fn case_reference(&self) -> String {
        format!("SIM-{:06}", self.number)
    }
}

/// The notice every simulated authority's contract defaults give (days).
pub const NOTICE_DAYS: u64 = 28;

/// The option 2 line's weekly amount when the offer is accepted (the flow's amount).
pub const FIRST_WEEKLY_PENCE: i64 = 21_000;

/// How far back a variation may reach: inside the authorities' 90 days of backdating.
const FURTHEST_BACKDATING_DAYS: u64 = 70;

/// The plan's first day relative to the acceptance ([`crate::flow::Calendar::plan_start`]).
pub(super) const PLAN_START_BEFORE_ACCEPTANCE: u64 = 58;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub authorities: Vec<AuthorityPlan>,
    pub funds: Vec<FundPlan>,
    /// Every 1 April of the run: each rate card's Scottish Living Wage uplift.
    pub uplifts: Vec<NaiveDate>,
}

pub(super) fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

pub(super) fn minus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(days)).unwrap_or(day)
}

impl Workload {
    /// The workload of `funds` funds over `days` days from `start` across `authorities`
    /// authorities, all drawn from `seed`.
    pub fn draw(
        seed: u64,
        funds: usize,
        days: u64,
        authorities: usize,
        start: NaiveDate,
    ) -> Workload {
        // Every pairing of frequency and timing appears once there are four authorities;
        // which authority has which, and the arrears lag, are drawn.
        let mut shuffle = Rng::stream(seed, "terms", 0);
        let mut terms = [
            (Frequency::FourWeekly, false),
            (Frequency::Quarterly, true),
            (Frequency::FourWeekly, true),
            (Frequency::Quarterly, false),
        ];
        for index in (1..terms.len()).rev() {
            let other = usize::try_from(shuffle.below(index as u64 + 1)).unwrap_or(0);
            terms.swap(index, other);
        }
        // Every fee kind is some authority's default once there are five; which is drawn.
        let fee_offset = Rng::stream(seed, "fees", 0).below(FEE_KINDS.len() as u64);
        let authorities = (0..authorities)
            .map(|index| {
                let mut rng = Rng::stream(seed, "authority", index as u64);
                let (frequency, arrears) = terms[index % terms.len()];
                let timing = if arrears {
                    Timing::Arrears {
                        lag_days: u32::try_from(rng.between(0, 21)).unwrap_or(14),
                    }
                } else {
                    Timing::Advance
                };
                AuthorityPlan {
                    id: format!("sim-{}", index + 1),
                    frequency,
                    timing,
                    providers: usize::try_from(rng.between(2, 6)).unwrap_or(2),
                    fee: FEE_KINDS
                        [usize::try_from(fee_offset + index as u64).unwrap_or(0) % FEE_KINDS.len()],
                }
            })
            .collect::<Vec<_>>();
        let last_day = plus(start, days.saturating_sub(1));
        // Acceptances fill the first three quarters of the run, so most funds are paid.
        let acceptance_span = (days * 3 / 4).max(1);
        let funds = (0..funds)
            .map(|index| {
                let mut rng = Rng::stream(seed, "fund", index as u64);
                let authority = usize::try_from(rng.below(authorities.len() as u64)).unwrap_or(0);
                let providers = authorities.get(authority).map_or(1, |plan| plan.providers);
                let provider = usize::try_from(rng.below(providers as u64)).unwrap_or(0);
                let accepted_on = plus(start, rng.below(acceptance_span));
                let others = draw_others(&mut rng);
                let ending = rng.chance(15).then(|| {
                    let on = plus(accepted_on, rng.between(1, 120));
                    Ending {
                        on,
                        last_day: plus(on, NOTICE_DAYS + rng.between(0, 28)),
                    }
                });
                let ending = ending.filter(|ending| ending.on <= last_day);
                let stop = ending.map_or(last_day, |ending| minus(ending.on, 1));
                let variations = draw_variations(&mut rng, accepted_on, stop, &others);
                // Drawn from a stream of their own, so the draws above are as they were.
                let mut more = Rng::stream(seed, "fund-more", index as u64);
                let held = match more.below(100) {
                    0..50 => Held::Provider,
                    50..75 => Held::ThirdParty,
                    _ => Held::Authority,
                };
                // Two endings in five are the plan's end rather than the agreement's notice.
                let (ending, plan_end) = match ending {
                    Some(ending) if more.chance(40) => (
                        None,
                        Some(PlanEnd {
                            on: ending.on,
                            from: plus(ending.on, more.below(29)),
                        }),
                    ),
                    other => (other, None),
                };
                let mut fund = FundPlan {
                    number: index + 1,
                    authority,
                    provider,
                    accepted_on,
                    others,
                    variations,
                    ending,
                    held,
                    plan_end,
                    terms: super::terms::FundTerms::default(),
                    ledger: Vec::new(),
                    person: super::people::PersonPlan::draw(seed, index),
                };
                if let Some(plan) = authorities.get(authority) {
                    super::terms::draw(seed, index, plan, &mut fund, start, last_day);
                }
                let stop = [
                    fund.ending.map(|ending| ending.on),
                    fund.plan_end.map(|end| end.on),
                ]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(plus(last_day, 1));
                fund.ledger = super::ledger_steps::draw(seed, index, &fund, stop);
                fund
            })
            .collect();
        let uplifts = (start.year()..=last_day.year())
            .filter_map(|year| NaiveDate::from_ymd_opt(year, 4, 1))
            .filter(|first| *first >= start && *first <= last_day)
            .collect();
        Workload {
            authorities,
            funds,
            uplifts,
        }
    }
}

/// Lines of options 1 and 3 beside the option 2 line, on one plan in three.
fn draw_others(rng: &mut Rng) -> Vec<OtherLine> {
    if !rng.chance(33) {
        return Vec::new();
    }
    let option = if rng.chance(50) {
        OtherOption::DirectPayment
    } else {
        OtherOption::AuthorityArranged
    };
    vec![OtherLine {
        option,
        weekly_pence: i64::try_from(rng.between(1_000, 4_000)).unwrap_or(2_000),
    }]
}

/// None, one or two variations between the day after the acceptance and `stop`, each
/// from a day after the running line's start, half of them backdated. The weekly amounts
/// keep the whole plan within a practitioner's approval limit for an adult (375.00).
fn draw_variations(
    rng: &mut Rng,
    accepted_on: NaiveDate,
    stop: NaiveDate,
    others: &[OtherLine],
) -> Vec<Variation> {
    let count = match rng.below(100) {
        0..45 => 0,
        45..85 => 1,
        _ => 2,
    };
    let other_pence: i64 = others.iter().map(|line| line.weekly_pence).sum();
    let mut variations = Vec::new();
    let mut earliest_on = plus(accepted_on, 1);
    let mut running_since = minus(accepted_on, PLAN_START_BEFORE_ACCEPTANCE);
    for _ in 0..count {
        if earliest_on > stop {
            break;
        }
        let span = u64::try_from((stop - earliest_on).num_days()).unwrap_or(0);
        let on = plus(earliest_on, rng.below(span.min(90) + 1));
        let back = if rng.chance(50) {
            rng.between(1, FURTHEST_BACKDATING_DAYS)
        } else {
            0
        };
        let from = minus(on, back).max(plus(running_since, 1));
        if from > on {
            break;
        }
        let weekly_pence = i64::try_from(rng.between(15_000, 33_000)).unwrap_or(FIRST_WEEKLY_PENCE);
        variations.push(Variation {
            on,
            from,
            weekly_pence: weekly_pence.min(37_500 - other_pence),
        });
        earliest_on = plus(on, 1);
        running_since = from;
    }
    variations
}

/// The authority's period calendar (the payments anchor is the flow's).
pub fn run_calendar(plan: &AuthorityPlan) -> sds_money::Calendar {
    match plan.frequency {
        Frequency::FourWeekly => sds_money::Calendar::FourWeekly {
            anchor: sds::flow::ANCHOR,
        },
        Frequency::Quarterly => sds_money::Calendar::Quarterly,
    }
}

/// The authority's run dates from `first` to `last`: the due dates of its periods under
/// its terms (the payments anchor is the flow's).
pub fn run_dates(plan: &AuthorityPlan, first: NaiveDate, last: NaiveDate) -> BTreeSet<NaiveDate> {
    let calendar = run_calendar(plan);
    let (timing, lag) = match plan.timing {
        Timing::Advance => (sds_money::Timing::Advance, 0),
        Timing::Arrears { lag_days } => (sds_money::Timing::Arrears, lag_days),
    };
    // Periods that end before the run may still fall due in it (in arrears).
    let from = first.checked_sub_days(Days::new(200)).unwrap_or(first);
    calendar
        .periods(from, last)
        .filter_map(|period| timing.due_date(&period, lag))
        .filter(|due| *due >= first && *due <= last)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default()
    }

    fn day(iso: &str) -> NaiveDate {
        iso.parse().unwrap_or_default()
    }

    #[test]
    fn the_same_seed_draws_the_same_workload_and_another_seed_another() {
        let one = Workload::draw(7, 200, 120, 4, start());
        assert_eq!(one, Workload::draw(7, 200, 120, 4, start()));
        assert_ne!(one, Workload::draw(8, 200, 120, 4, start()));
    }

    #[test]
    fn one_more_fund_leaves_every_other_fund_as_it_was() {
        let fewer = Workload::draw(7, 50, 120, 3, start());
        let more = Workload::draw(7, 51, 120, 3, start());
        assert_eq!(fewer.funds[..], more.funds[..50]);
        assert_eq!(fewer.authorities, more.authorities);
    }

    #[test]
    fn four_authorities_cover_both_frequencies_in_advance_and_in_arrears() {
        for seed in 0..20 {
            let workload = Workload::draw(seed, 1, 30, 4, start());
            for frequency in [Frequency::FourWeekly, Frequency::Quarterly] {
                for arrears in [false, true] {
                    assert!(workload.authorities.iter().any(|authority| {
                        authority.frequency == frequency
                            && matches!(authority.timing, Timing::Arrears { .. }) == arrears
                    }));
                }
            }
        }
    }

    #[test]
    fn every_fund_lies_inside_the_run_and_its_changes_come_in_an_order_the_services_accept() {
        let days = 120;
        let last = plus(start(), days - 1);
        let workload = Workload::draw(11, 2_000, days, 4, start());
        let mut backdated = 0;
        for fund in &workload.funds {
            assert!(fund.accepted_on >= start() && fund.accepted_on <= last);
            let plan_start = minus(fund.accepted_on, PLAN_START_BEFORE_ACCEPTANCE);
            let mut previous: Option<&Variation> = None;
            for variation in &fund.variations {
                assert!(variation.on > fund.accepted_on && variation.on <= last);
                assert!(variation.from > plan_start && variation.from <= variation.on);
                assert!((variation.on - variation.from).num_days() <= 90);
                if let Some(previous) = previous {
                    assert!(variation.on > previous.on && variation.from > previous.from);
                }
                let others: i64 = fund.others.iter().map(|line| line.weekly_pence).sum();
                assert!(variation.weekly_pence + others <= 37_500);
                backdated += usize::from(variation.from < variation.on);
                previous = Some(variation);
            }
            if let Some(ending) = fund.ending {
                assert!(ending.on > fund.accepted_on && ending.on <= last);
                assert!((ending.last_day - ending.on).num_days() >= NOTICE_DAYS as i64);
                assert!(
                    fund.variations
                        .iter()
                        .all(|variation| variation.on < ending.on)
                );
            }
            assert!(fund.provider < workload.authorities[fund.authority].providers);
        }
        assert!(backdated > 100, "only {backdated} backdated variations");
        assert!(workload.funds.iter().any(|fund| fund.ending.is_some()));
        assert!(workload.funds.iter().any(|fund| !fund.others.is_empty()));
    }

    #[test]
    fn a_four_weekly_authority_in_advance_runs_on_each_period_start() {
        let plan = AuthorityPlan {
            id: "sim-1".into(),
            frequency: Frequency::FourWeekly,
            timing: Timing::Advance,
            providers: 1,
            fee: FeeKind::None,
        };
        let dates: Vec<NaiveDate> = run_dates(&plan, day("2026-04-01"), day("2026-06-30"))
            .into_iter()
            .collect();
        assert_eq!(
            dates,
            vec![
                day("2026-04-06"),
                day("2026-05-04"),
                day("2026-06-01"),
                day("2026-06-29")
            ]
        );
    }

    #[test]
    fn a_quarterly_authority_in_arrears_runs_the_lag_after_each_quarter() {
        let plan = AuthorityPlan {
            id: "sim-2".into(),
            frequency: Frequency::Quarterly,
            timing: Timing::Arrears { lag_days: 14 },
            providers: 1,
            fee: FeeKind::None,
        };
        let dates: Vec<NaiveDate> = run_dates(&plan, day("2026-04-01"), day("2027-03-31"))
            .into_iter()
            .collect();
        assert_eq!(
            dates,
            vec![
                day("2026-04-14"),
                day("2026-07-14"),
                day("2026-10-14"),
                day("2027-01-14")
            ]
        );
    }
}
