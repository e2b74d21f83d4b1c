//! `sds assessment plan get`'s table: a plan's lines as a person reads them (number,
//! support, option, weekly amount, dates, what an option 2 line still lacks), with the
//! version, status, option, weekly cost and budget below.

use sds_proto::v1::{Date, Money, Plan};
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;

use crate::cli::output::Table;

fn iso(date: Option<&Date>) -> String {
    date.map(|date| date.iso.clone()).unwrap_or_default()
}

fn amount(money: Option<&Money>) -> String {
    money.map(|money| money.amount.clone()).unwrap_or_default()
}

/// The plan's lines for a person to read, with its version, status and cost below.
pub fn plan_table(plan: &Plan) -> Table {
    let mut table = Table::new(&[
        "line", "support", "option", "weekly", "start", "end", "pending",
    ]);
    for line in &plan.lines {
        let support = sds_assessment::domain::SupportType::from_wire("", line.support_type)
            .map_or_else(|_| line.support_type.to_string(), |s| s.cli_name());
        table.push_row(vec![
            line.number.to_string(),
            support,
            line.option.to_string(),
            line.weekly.clone(),
            iso(line.start.as_ref()),
            iso(line.end.as_ref()),
            line.pending.clone(),
        ]);
    }
    let status = sds_proto::v1::PlanStatus::try_from(plan.status).map_or_else(
        |_| plan.status.to_string(),
        |s| {
            s.as_str_name()
                .trim_start_matches("PLAN_STATUS_")
                .to_lowercase()
        },
    );
    table.push_footer(format!(
        "version {} ({status}) from {}: option {}, {} a week, budget {}",
        plan.version,
        iso(plan.effective_from.as_ref()),
        plan.option,
        amount(plan.weekly_cost.as_ref()),
        match amount(plan.budget.as_ref()) {
            budget if budget.is_empty() => "not set".to_owned(),
            budget => budget,
        }
    ));
    table
}
