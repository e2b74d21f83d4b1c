//! How a provider charges for holding an Individual Service Fund. Every form seen across
//! Scottish authorities is expressible, and only the amounts of the chosen form exist.

use rust_decimal::Decimal;
use sds_money::Money;

use sds_vocabulary::decimal::decimal;
use sds_vocabulary::{Invalid, NamedEnum, shown};

/// Admin hours are a number of hours in one week.
const HOURS_IN_A_WEEK: i64 = 168;

sds_vocabulary::wire_enum! {
    /// How a provider charges for holding a fund; the amounts of each form live in [`ManagementFeePolicy`].
    pub enum ManagementFeeKind("management fee kind") => sds_proto::v1::ManagementFeeKind {
        None = "none",
        FlatWeekly = "flat_weekly",
        Percentage = "percentage",
        AdminHours = "admin_hours",
        IncludedInHourlyRate = "included_in_hourly_rate",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagementFeePolicy {
    /// No management fee for holding an ISF.
    None,
    /// A flat amount per week added on top of the budget.
    FlatWeekly { per_week: Money },
    /// A percentage of the budget, 0 to 100 with at most 2 decimal places.
    Percentage { percent: Decimal },
    /// Admin hours per week (more than 0, at most 168) at an hourly rate.
    AdminHours {
        hours_per_week: Decimal,
        hourly_rate: Money,
    },
    /// Built into a consolidated hourly rate; nothing is charged separately.
    IncludedInHourlyRate,
}

/// The fee fields as they arrive, before they are known to fit together.
#[derive(Debug, Clone, Copy, Default)]
pub struct FeeFields<'a> {
    pub flat_weekly: Option<&'a str>,
    pub percentage: &'a str,
    pub admin_hours_per_week: &'a str,
    pub admin_hourly_rate: Option<&'a str>,
}

impl ManagementFeePolicy {
    pub fn kind(&self) -> ManagementFeeKind {
        match self {
            ManagementFeePolicy::None => ManagementFeeKind::None,
            ManagementFeePolicy::FlatWeekly { .. } => ManagementFeeKind::FlatWeekly,
            ManagementFeePolicy::Percentage { .. } => ManagementFeeKind::Percentage,
            ManagementFeePolicy::AdminHours { .. } => ManagementFeeKind::AdminHours,
            ManagementFeePolicy::IncludedInHourlyRate => ManagementFeeKind::IncludedInHourlyRate,
        }
    }

    /// Builds the policy of `kind` from its fields, refusing missing amounts and any field
    /// that belongs to another kind. Field names in errors are relative to the policy.
    pub fn from_fields(
        kind: ManagementFeeKind,
        fields: FeeFields<'_>,
    ) -> Result<ManagementFeePolicy, Invalid> {
        let given = [
            ("flat_weekly", fields.flat_weekly.is_some()),
            ("percentage", !fields.percentage.is_empty()),
            (
                "admin_hours_per_week",
                !fields.admin_hours_per_week.is_empty(),
            ),
            ("admin_hourly_rate", fields.admin_hourly_rate.is_some()),
        ];
        let belongs_to_kind: &[&str] = match kind {
            ManagementFeeKind::None | ManagementFeeKind::IncludedInHourlyRate => &[],
            ManagementFeeKind::FlatWeekly => &["flat_weekly"],
            ManagementFeeKind::Percentage => &["percentage"],
            ManagementFeeKind::AdminHours => &["admin_hours_per_week", "admin_hourly_rate"],
        };
        for (field, is_given) in given {
            if is_given && !belongs_to_kind.contains(&field) {
                let expected = if belongs_to_kind.is_empty() {
                    "none of the amounts".to_owned()
                } else {
                    belongs_to_kind.join(" and ")
                };
                return Err(Invalid::new(
                    field,
                    format!(
                        "is set but the fee kind is {}, which takes {expected}; leave it unset",
                        kind.name()
                    ),
                ));
            }
        }
        let policy = match kind {
            ManagementFeeKind::None => ManagementFeePolicy::None,
            ManagementFeeKind::IncludedInHourlyRate => ManagementFeePolicy::IncludedInHourlyRate,
            ManagementFeeKind::FlatWeekly => ManagementFeePolicy::FlatWeekly {
                per_week: amount("flat_weekly", fields.flat_weekly, kind)?,
            },
            ManagementFeeKind::Percentage => {
                if fields.percentage.is_empty() {
                    return Err(missing("percentage", kind, "such as 7.5"));
                }
                let percent = decimal("percentage", fields.percentage, 2)?;
                if percent > Decimal::ONE_HUNDRED {
                    return Err(Invalid::new(
                        "percentage",
                        format!("is {percent}; a percentage runs from 0 to 100"),
                    ));
                }
                ManagementFeePolicy::Percentage { percent }
            }
            ManagementFeeKind::AdminHours => {
                if fields.admin_hours_per_week.is_empty() {
                    return Err(missing("admin_hours_per_week", kind, "such as 1.5"));
                }
                let hours_per_week =
                    decimal("admin_hours_per_week", fields.admin_hours_per_week, 2)?;
                if hours_per_week.is_zero() || hours_per_week > Decimal::from(HOURS_IN_A_WEEK) {
                    return Err(Invalid::new(
                        "admin_hours_per_week",
                        format!(
                            "is {hours_per_week}; it must be more than 0 and at most {HOURS_IN_A_WEEK} (the hours in a week)"
                        ),
                    ));
                }
                ManagementFeePolicy::AdminHours {
                    hours_per_week,
                    hourly_rate: amount("admin_hourly_rate", fields.admin_hourly_rate, kind)?,
                }
            }
        };
        Ok(policy)
    }
}

fn missing(field: &str, kind: ManagementFeeKind, example: &str) -> Invalid {
    Invalid::new(
        field,
        format!(
            "is missing; the fee kind {} needs it, {example}",
            kind.name()
        ),
    )
}

/// Money that a fee is charged in: at most 2 decimal places, never negative.
fn amount(field: &str, raw: Option<&str>, kind: ManagementFeeKind) -> Result<Money, Invalid> {
    let raw = raw.ok_or_else(|| missing(field, kind, "such as \"25.00\""))?;
    let money = Money::parse(raw.trim())
        .map_err(|error| Invalid::new(field, format!("is not valid: {error}")))?;
    if money.is_negative() {
        return Err(Invalid::new(
            field,
            format!("is {}; a fee cannot be negative", shown(raw)),
        ));
    }
    Ok(money)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fee_kind_reads_back_from_its_name_and_its_wire_number() {
        sds_vocabulary::named_enum::assert_names_follow_the_wire::<ManagementFeeKind>();
    }

    fn fields() -> FeeFields<'static> {
        FeeFields::default()
    }

    #[test]
    fn each_kind_takes_only_its_own_amounts() {
        let flat = ManagementFeePolicy::from_fields(
            ManagementFeeKind::FlatWeekly,
            FeeFields {
                flat_weekly: Some("25.00"),
                ..fields()
            },
        )
        .unwrap();
        assert_eq!(flat.kind(), ManagementFeeKind::FlatWeekly);

        let error = ManagementFeePolicy::from_fields(
            ManagementFeeKind::FlatWeekly,
            FeeFields {
                flat_weekly: Some("25.00"),
                percentage: "5",
                ..fields()
            },
        )
        .unwrap_err();
        assert_eq!(error.field(), "percentage");
        assert!(error.problem().contains("flat_weekly"), "{error}");

        let error = ManagementFeePolicy::from_fields(
            ManagementFeeKind::None,
            FeeFields {
                admin_hourly_rate: Some("12.00"),
                ..fields()
            },
        )
        .unwrap_err();
        assert!(error.problem().contains("none of the amounts"), "{error}");
    }

    #[test]
    fn missing_and_malformed_amounts_are_refused() {
        let error =
            ManagementFeePolicy::from_fields(ManagementFeeKind::FlatWeekly, fields()).unwrap_err();
        assert_eq!(error.field(), "flat_weekly");
        let error = ManagementFeePolicy::from_fields(
            ManagementFeeKind::FlatWeekly,
            FeeFields {
                flat_weekly: Some("25.001"),
                ..fields()
            },
        )
        .unwrap_err();
        assert!(error.problem().contains("3 decimal places"), "{error}");
        let error = ManagementFeePolicy::from_fields(
            ManagementFeeKind::FlatWeekly,
            FeeFields {
                flat_weekly: Some("-1.00"),
                ..fields()
            },
        )
        .unwrap_err();
        assert!(error.problem().contains("negative"), "{error}");
    }

    #[test]
    fn percentages_run_from_0_to_100_and_admin_hours_fit_in_a_week() {
        let too_much = ManagementFeePolicy::from_fields(
            ManagementFeeKind::Percentage,
            FeeFields {
                percentage: "100.01",
                ..fields()
            },
        );
        assert!(too_much.is_err());
        let hours = ManagementFeePolicy::from_fields(
            ManagementFeeKind::AdminHours,
            FeeFields {
                admin_hours_per_week: "169",
                admin_hourly_rate: Some("15.00"),
                ..fields()
            },
        );
        assert!(hours.unwrap_err().problem().contains("168"));
        let hours = ManagementFeePolicy::from_fields(
            ManagementFeeKind::AdminHours,
            FeeFields {
                admin_hours_per_week: "1.5",
                ..fields()
            },
        );
        assert_eq!(hours.unwrap_err().field(), "admin_hourly_rate");
    }
}
