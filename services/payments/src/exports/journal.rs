//! The run's journal for the authority's finance system, as CSV: for each instalment paid,
//! a debit to the authority's expense code and a credit to its bank code, under its cost
//! centre, so the journal balances and each line traces to a schedule and a period.
//!
//! The columns are a contract finance systems import; they do not change:
//! `run_id,run_date,line,account_code,cost_centre,debit,credit,payee_id,person_id,agreement_id,period_start,period_end,reference`.
//! Every value is an id, a date, an amount or a code of letters, digits and `._/-`, so no
//! value needs quoting and none starts with a character a spreadsheet reads as a formula.

use chrono::NaiveDate;
use sds_money::Money;
use uuid::Uuid;

pub const HEADER: &str = "run_id,run_date,line,account_code,cost_centre,debit,credit,payee_id,person_id,agreement_id,period_start,period_end,reference";

/// The authority's codes; empty when its finance staff have set none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerCodes {
    pub expense: String,
    pub bank: String,
    pub cost_centre: String,
}

/// One instalment the run paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidItem {
    pub agreement_id: Uuid,
    pub person_id: Uuid,
    pub payee_id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub amount: Money,
}

/// Writes the journal lines of `items`, numbering on from `line` (the number of lines
/// already written); returns the next line number.
pub fn write_lines(
    out: &mut impl std::io::Write,
    run_id: Uuid,
    run_date: NaiveDate,
    codes: &LedgerCodes,
    items: &[PaidItem],
    mut line: u64,
) -> std::io::Result<u64> {
    for item in items {
        let reference = format!("instalment {} to {}", item.period_start, item.period_end);
        for (account, debit, credit) in [
            (&codes.expense, item.amount.to_string(), String::new()),
            (&codes.bank, String::new(), item.amount.to_string()),
        ] {
            line += 1;
            writeln!(
                out,
                "{run_id},{run_date},{line},{account},{},{debit},{credit},{},{},{},{},{},{reference}",
                codes.cost_centre,
                item.payee_id,
                item.person_id,
                item.agreement_id,
                item.period_start,
                item.period_end,
            )?;
        }
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instalment_is_a_debit_to_expense_and_a_credit_to_bank_that_balance() {
        let codes = LedgerCodes {
            expense: "5120".to_owned(),
            bank: "9001".to_owned(),
            cost_centre: "SDS-OPT2".to_owned(),
        };
        let item = PaidItem {
            agreement_id: Uuid::from_u128(1),
            person_id: Uuid::from_u128(2),
            payee_id: Uuid::from_u128(3),
            period_start: "2026-06-29".parse().unwrap(),
            period_end: "2026-07-26".parse().unwrap(),
            amount: Money::parse("1540.00").unwrap(),
        };
        let mut out = Vec::new();
        let next = write_lines(
            &mut out,
            Uuid::from_u128(9),
            "2026-06-29".parse().unwrap(),
            &codes,
            &[item],
            4,
        )
        .unwrap();
        assert_eq!(next, 6);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            vec![
                "00000000-0000-0000-0000-000000000009,2026-06-29,5,5120,SDS-OPT2,1540.00,,00000000-0000-0000-0000-000000000003,00000000-0000-0000-0000-000000000002,00000000-0000-0000-0000-000000000001,2026-06-29,2026-07-26,instalment 2026-06-29 to 2026-07-26",
                "00000000-0000-0000-0000-000000000009,2026-06-29,6,9001,SDS-OPT2,,1540.00,00000000-0000-0000-0000-000000000003,00000000-0000-0000-0000-000000000002,00000000-0000-0000-0000-000000000001,2026-06-29,2026-07-26,instalment 2026-06-29 to 2026-07-26",
            ]
        );
        assert_eq!(HEADER.split(',').count(), lines[0].split(',').count());
    }
}
