//! What a payment run pays of one schedule: every instalment due on or before the run's
//! date that no run has paid yet, with the amounts of the live schedule.
//!
//! What must stay true: the amounts are the live schedule's (the schedule rule over the
//! recorded history and what runs already paid), so what runs pay, the live schedule and
//! its preview agree to the penny; a period is paid by one run only.

use chrono::NaiveDate;
use sds_money::{Instalment, ScheduleError};

use super::history::History;
use super::live::{Paid, live_schedule};
use super::terms::ScheduleTerms;

/// The instalments of a schedule a run on `run_date` pays: due by then, and not paid (or
/// chosen) by any run yet (`paid`).
pub fn due_instalments(
    terms: &ScheduleTerms,
    history: &History,
    run_date: NaiveDate,
    paid: &Paid,
) -> Result<Vec<Instalment>, ScheduleError> {
    let schedule = live_schedule(terms, history, run_date, paid)?;
    Ok(schedule
        .instalments
        .into_iter()
        .filter(|instalment| instalment.due_date <= run_date)
        .filter(|instalment| !paid.contains_key(&instalment.period.start))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::history::{AgreedVersion, Line, LineKind};
    use crate::domain::terms::{Basis, Frequency, HoldingModel, PayeeKind, PaymentTiming};
    use rust_decimal::Decimal;
    use sds_money::Money;
    use sds_vocabulary::AuthorityId;
    use uuid::Uuid;

    fn day(iso: &str) -> NaiveDate {
        iso.parse().expect("a date")
    }

    fn terms(timing: PaymentTiming, lag: u32) -> ScheduleTerms {
        ScheduleTerms {
            agreement_id: Uuid::from_u128(1),
            authority: AuthorityId::parse("authority", "fife").expect("an id"),
            person_id: Uuid::from_u128(2),
            provider_id: Uuid::from_u128(3),
            holding_model: HoldingModel::Provider,
            holder_id: None,
            payee_kind: PayeeKind::Provider,
            payee_id: Uuid::from_u128(3),
            frequency: Frequency::Monthly,
            anchor_date: None,
            timing,
            payment_lag_days: lag,
            basis: Basis::Scheduled,
            flex_tolerance_percent: Decimal::TEN,
        }
    }

    fn history() -> History {
        History {
            versions: vec![AgreedVersion {
                version: 1,
                effective_from: day("2026-04-01"),
                recorded_on: day("2026-03-01"),
                lines: vec![Line {
                    kind: LineKind::Support,
                    plan_line: 1,
                    support_type: "personal_care".to_owned(),
                    weekly: Money::parse("70.00").expect("an amount"),
                    start: day("2026-04-01"),
                    end: None,
                    hours_per_week: None,
                }],
            }],
            endings: vec![],
            actuals: vec![],
            contributions: vec![],
        }
    }

    fn starts(instalments: &[Instalment]) -> Vec<String> {
        instalments
            .iter()
            .map(|instalment| format!("{} {}", instalment.period.start, instalment.amount))
            .collect()
    }

    #[test]
    fn a_run_pays_every_instalment_due_by_its_date_and_none_after() {
        let due = due_instalments(
            &terms(PaymentTiming::Advance, 0),
            &history(),
            day("2026-06-01"),
            &Paid::new(),
        )
        .expect("instalments");
        assert_eq!(
            starts(&due),
            vec![
                "2026-04-01 300.00",
                "2026-05-01 310.00",
                "2026-06-01 300.00"
            ]
        );
    }

    #[test]
    fn a_later_run_pays_only_what_the_earlier_ones_left() {
        let due = due_instalments(
            &terms(PaymentTiming::Advance, 0),
            &history(),
            day("2026-07-15"),
            &Paid::from([
                (day("2026-04-01"), Money::parse("300.00").unwrap()),
                (day("2026-05-01"), Money::parse("310.00").unwrap()),
                (day("2026-06-01"), Money::parse("300.00").unwrap()),
            ]),
        )
        .expect("instalments");
        assert_eq!(starts(&due), vec!["2026-07-01 310.00"]);
    }

    #[test]
    fn in_arrears_a_period_is_due_only_its_lag_after_it_ends() {
        let arrears = terms(PaymentTiming::Arrears, 14);
        let before = due_instalments(&arrears, &history(), day("2026-05-13"), &Paid::new())
            .expect("instalments");
        assert!(before.is_empty(), "{before:?}");
        let on = due_instalments(&arrears, &history(), day("2026-05-14"), &Paid::new())
            .expect("instalments");
        assert_eq!(starts(&on), vec!["2026-04-01 300.00"]);
    }
}
