//! Watching a fund's balance: a surplus when it rises above a number of weeks of the fund's
//! budget (money piling up unspent, which the authority may recover), a low balance when it
//! falls below a smaller number (support at risk of not being paid).
//!
//! What must stay true: each is told once per crossing, by the change that crosses it (the
//! balance before and after one transaction, under its locks), and again only after the
//! balance has gone back; a fund without a budget has no thresholds.

/// The thresholds, in weeks of a fund's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    pub surplus_weeks: u32,
    pub low_balance_weeks: u32,
}

/// A threshold a change crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// Rose above `threshold` pence.
    Surplus { threshold: i64 },
    /// Fell below `threshold` pence.
    LowBalance { threshold: i64 },
}

impl Watch {
    /// What a change of the fund's balance from `before` to `after` (pence) crossed, given
    /// its weekly budget (pence).
    pub fn crossings(self, weekly_budget: i64, before: i64, after: i64) -> Vec<Crossing> {
        if weekly_budget <= 0 {
            return Vec::new();
        }
        let surplus = weekly_budget.saturating_mul(i64::from(self.surplus_weeks));
        let low = weekly_budget.saturating_mul(i64::from(self.low_balance_weeks));
        let mut crossed = Vec::new();
        if before <= surplus && after > surplus {
            crossed.push(Crossing::Surplus { threshold: surplus });
        }
        if before >= low && after < low {
            crossed.push(Crossing::LowBalance { threshold: low });
        }
        crossed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WATCH: Watch = Watch {
        surplus_weeks: 4,
        low_balance_weeks: 1,
    };

    #[test]
    fn a_surplus_is_told_as_the_balance_rises_past_four_weeks_and_not_while_it_stays_there() {
        // 100.00 a week: the surplus threshold is 400.00, the low one 100.00.
        assert_eq!(
            WATCH.crossings(10_000, 30_000, 40_001),
            vec![Crossing::Surplus { threshold: 40_000 }]
        );
        assert_eq!(
            WATCH.crossings(10_000, 30_000, 40_000),
            vec![],
            "at it, not above"
        );
        assert_eq!(
            WATCH.crossings(10_000, 40_001, 90_000),
            vec![],
            "already above"
        );
        assert_eq!(WATCH.crossings(10_000, 90_000, 20_000), vec![], "back down");
        assert_eq!(
            WATCH.crossings(10_000, 20_000, 50_000),
            vec![Crossing::Surplus { threshold: 40_000 }],
            "and up again: told again"
        );
    }

    #[test]
    fn a_low_balance_is_told_as_it_falls_below_a_week_and_both_can_cross_at_once() {
        assert_eq!(
            WATCH.crossings(10_000, 10_000, 9_999),
            vec![Crossing::LowBalance { threshold: 10_000 }]
        );
        assert_eq!(WATCH.crossings(10_000, 9_999, 0), vec![], "already low");
        assert_eq!(WATCH.crossings(10_000, 9_000, 12_000), vec![], "recovering");
        assert_eq!(
            WATCH.crossings(10_000, 50_000, -500),
            vec![Crossing::LowBalance { threshold: 10_000 }]
        );
        assert_eq!(
            WATCH.crossings(0, 0, 1_000_000),
            vec![],
            "no budget, no thresholds"
        );
    }
}
