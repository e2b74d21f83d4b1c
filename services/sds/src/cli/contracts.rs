//! `sds contracts ...`: an authority's default contract terms, providers' rate cards with
//! their scheduled uplifts, and agreements ([`agreements`]).
//!
//! Flags read compactly and are checked for shape before anything is sent (`--timing
//! arrears:14`, `--fee percentage:7.5:within-budget`, `--component care-worker-wage=12.60`);
//! whether the values are sound (a tolerance within 0-100, an uplift after the latest
//! version) is the server's to say, in its own `InvalidArgument` or `FailedPrecondition`.

mod agreements;
mod changes;

use anyhow::{Context as _, bail};
use sds_contracts::domain::{FeePlacement, Frequency, PaymentBasis, RateComponent};
use sds_proto::v1::contracts_service_client::ContractsServiceClient;
use sds_proto::v1::{
    self as proto, AgreementFee, ContractDefaultTerms, Date, GetContractDefaultsRequest,
    GetRateCardRequest, ManagementFeeKind, Money, RateAmount, ScheduleUpliftRequest,
    SetContractDefaultsRequest, SetRateCardRequest,
};
use sds_vocabulary::NamedEnum as _;
use sds_vocabulary::named_enum::WireEnum as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use super::enum_arg::EnumArg;
use super::output::{OutputFormat, Table, print_json};
use super::{Bearer, ClientArgs, connect, status_error};

#[derive(Debug, clap::Subcommand)]
pub enum ContractsCommand {
    /// The terms an authority's agreements are drafted with.
    #[command(subcommand)]
    Defaults(DefaultsCommand),
    /// A provider's rate card for a service type, and its uplifts.
    #[command(subcommand, name = "rate-card")]
    RateCard(RateCardCommand),
    /// Agreements: drafted, read, listed, signed by each party, summarised.
    #[command(subcommand)]
    Agreement(agreements::AgreementCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum DefaultsCommand {
    /// Sets the authority's default terms (commissioning staff of the authority).
    Set(DefaultsArgs),
    /// The authority's default terms.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        authority: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct DefaultsArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[arg(long)]
    authority: String,
    #[arg(long, value_parser = EnumArg::<Frequency>::new())]
    frequency: Frequency,
    /// `advance`, or `arrears:LAG_DAYS` (paid LAG_DAYS after the period ends).
    #[arg(long)]
    timing: String,
    /// What a period's payment follows: the schedule, or reported delivery (arrears only).
    #[arg(long, value_parser = EnumArg::<PaymentBasis>::new())]
    basis: PaymentBasis,
    /// How far delivery may differ from the plan in a period without query, in percent.
    #[arg(long)]
    tolerance: String,
    /// `none`, `flat:AMOUNT` (a week, on top), `percentage:P:on-top` or
    /// `percentage:P:within-budget`, `admin-hours:HOURS@RATE` (on top), or `included` (in
    /// the hourly rate).
    #[arg(long)]
    fee: String,
    #[arg(long)]
    notice_days: u32,
    /// The first review this many months after an agreement starts.
    #[arg(long)]
    review_after_months: u32,
}

#[derive(Debug, clap::Subcommand)]
pub enum RateCardCommand {
    /// Sets a provider's rate card for a service type from a date (the provider itself or
    /// commissioning staff); a later one for the same service type takes over from its date.
    Set {
        #[command(flatten)]
        client: ClientArgs,
        /// The provider's directory id.
        #[arg(long)]
        provider: String,
        #[arg(long)]
        service_type: String,
        /// The first day it applies.
        #[arg(long = "from")]
        effective_from: String,
        /// `COMPONENT=HOURLY`, such as `care-worker-wage=12.60`; repeat for each.
        #[arg(long = "component", required = true)]
        components: Vec<String>,
    },
    /// Schedules an uplift from a date: `--percent P` on every component, or new values.
    Uplift {
        #[command(flatten)]
        client: ClientArgs,
        rate_card_id: String,
        #[arg(long = "from")]
        effective_from: String,
        /// Every component raised by this percentage, such as 3.5.
        #[arg(long, conflicts_with = "components")]
        percent: Option<String>,
        /// New hourly values, `COMPONENT=HOURLY`; the components not named stay.
        #[arg(long = "component")]
        components: Vec<String>,
    },
    /// A rate card with every version: a table, or `--json`.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        rate_card_id: String,
        #[command(flatten)]
        output: OutputFormat,
    },
}

type Client = ContractsServiceClient<InterceptedService<Channel, Bearer>>;

async fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let bearer = Bearer::from_args(args)?;
    Ok(ContractsServiceClient::with_interceptor(
        connect(&args.server).await?,
        bearer,
    ))
}

pub async fn run(command: ContractsCommand) -> anyhow::Result<()> {
    match command {
        ContractsCommand::Agreement(command) => agreements::run(command).await,
        ContractsCommand::Defaults(DefaultsCommand::Set(args)) => {
            let terms = ContractDefaultTerms {
                frequency: args.frequency.wire_number(),
                timing: Some(timing(&args.timing)?),
                basis: args.basis.wire_number(),
                flex_tolerance_percent: args.tolerance.clone(),
                fee: Some(fee(&args.fee)?),
                notice_days: args.notice_days,
                review_after_months: args.review_after_months,
            };
            let defaults = client(&args.client)
                .await?
                .set_contract_defaults(SetContractDefaultsRequest {
                    authority: args.authority,
                    terms: Some(terms),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&defaults)
        }
        ContractsCommand::Defaults(DefaultsCommand::Get {
            client: args,
            authority,
        }) => {
            let defaults = client(&args)
                .await?
                .get_contract_defaults(GetContractDefaultsRequest { authority })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&defaults)
        }
        ContractsCommand::RateCard(RateCardCommand::Set {
            client: args,
            provider,
            service_type,
            effective_from,
            components,
        }) => {
            let request = SetRateCardRequest {
                provider_id: provider,
                service_type,
                effective_from: Some(Date {
                    iso: effective_from,
                }),
                components: rate_amounts(&components)?,
            };
            let card = client(&args)
                .await?
                .set_rate_card(request)
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&card)
        }
        ContractsCommand::RateCard(RateCardCommand::Uplift {
            client: args,
            rate_card_id,
            effective_from,
            percent,
            components,
        }) => {
            let uplift = match percent {
                Some(percent) => proto::schedule_uplift_request::Uplift::Percentage(percent),
                None if !components.is_empty() => {
                    proto::schedule_uplift_request::Uplift::NewValues(proto::NewRateValues {
                        components: rate_amounts(&components)?,
                    })
                }
                None => {
                    bail!("give --percent P, or the new values with --component COMPONENT=HOURLY")
                }
            };
            let card = client(&args)
                .await?
                .schedule_uplift(ScheduleUpliftRequest {
                    rate_card_id,
                    effective_from: Some(Date {
                        iso: effective_from,
                    }),
                    uplift: Some(uplift),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&card)
        }
        ContractsCommand::RateCard(RateCardCommand::Get {
            client: args,
            rate_card_id,
            output,
        }) => {
            let card = client(&args)
                .await?
                .get_rate_card(GetRateCardRequest { rate_card_id })
                .await
                .map_err(status_error)?
                .into_inner();
            output.print_list(&card, rate_card_table)
        }
    }
}

/// `advance` or `arrears:LAG_DAYS`.
fn timing(spec: &str) -> anyhow::Result<proto::PaymentTiming> {
    let timing = match spec.trim().split_once(':') {
        None if spec.trim().eq_ignore_ascii_case("advance") => {
            proto::payment_timing::Timing::Advance(proto::InAdvance {})
        }
        Some((kind, lag)) if kind.eq_ignore_ascii_case("arrears") => {
            proto::payment_timing::Timing::Arrears(proto::InArrears {
                lag_days: lag.trim().parse().with_context(|| {
                    format!("--timing {spec:?}: the lag {lag:?} is not a whole number of days")
                })?,
            })
        }
        _ => bail!("--timing {spec:?} is not advance or arrears:LAG_DAYS (such as arrears:14)"),
    };
    Ok(proto::PaymentTiming {
        timing: Some(timing),
    })
}

/// The fee spec of `--fee`.
fn fee(spec: &str) -> anyhow::Result<AgreementFee> {
    let refuse = || {
        anyhow::anyhow!(
            "--fee {spec:?} is not one of none, flat:AMOUNT, percentage:P:on-top, percentage:P:within-budget, admin-hours:HOURS@RATE, included"
        )
    };
    let parts: Vec<&str> = spec.trim().split(':').collect();
    let money = |amount: &str| {
        Some(Money {
            amount: amount.trim().to_owned(),
        })
    };
    let mut fee = AgreementFee::default();
    match parts.as_slice() {
        ["none"] => fee.kind = ManagementFeeKind::None as i32,
        ["included"] => fee.kind = ManagementFeeKind::IncludedInHourlyRate as i32,
        ["flat", amount] => {
            fee.kind = ManagementFeeKind::FlatWeekly as i32;
            fee.flat_weekly = money(amount);
        }
        ["percentage", percent, placement] => {
            fee.kind = ManagementFeeKind::Percentage as i32;
            fee.percentage = percent.trim().to_owned();
            fee.placement = FeePlacement::parse("placement", placement)
                .map_err(|_| refuse())?
                .wire_number();
        }
        ["admin-hours", hours_at_rate] => {
            let (hours, rate) = hours_at_rate.split_once('@').ok_or_else(refuse)?;
            fee.kind = ManagementFeeKind::AdminHours as i32;
            fee.admin_hours_per_week = hours.trim().to_owned();
            fee.admin_hourly_rate = money(rate);
        }
        _ => return Err(refuse()),
    }
    Ok(fee)
}

/// `COMPONENT=HOURLY` specs, in the order given.
fn rate_amounts(specs: &[String]) -> anyhow::Result<Vec<RateAmount>> {
    specs
        .iter()
        .map(|spec| {
            let (name, hourly) = spec.split_once('=').ok_or_else(|| {
                anyhow::anyhow!(
                    "--component {spec:?} is not COMPONENT=HOURLY, such as care-worker-wage=12.60"
                )
            })?;
            let component = RateComponent::parse("component", name).map_err(|_| {
                anyhow::anyhow!(
                    "--component {spec:?}: {name:?} is not a rate component; accepted: {}",
                    RateComponent::ALL
                        .iter()
                        .map(|component| component.cli_name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            Ok(RateAmount {
                component: component.wire_number(),
                hourly: Some(Money {
                    amount: hourly.trim().to_owned(),
                }),
            })
        })
        .collect()
}

/// One row per version: its date, cause, hourly rate and each component.
fn rate_card_table(card: &proto::RateCard) -> Table {
    let names: Vec<String> = RateComponent::ALL
        .iter()
        .map(|component| component.cli_name())
        .collect();
    let mut headers = vec!["version", "from", "cause", "hourly rate"];
    headers.extend(names.iter().map(String::as_str));
    let mut table = Table::new(&headers);
    for version in &card.versions {
        let mut row = vec![
            version.version.to_string(),
            version
                .effective_from
                .as_ref()
                .map(|date| date.iso.clone())
                .unwrap_or_default(),
            version.cause.clone(),
            version
                .hourly_rate
                .as_ref()
                .map(|money| money.amount.clone())
                .unwrap_or_default(),
        ];
        for component in RateComponent::ALL {
            let amount = version
                .components
                .iter()
                .find(|given| given.component == component.wire_number())
                .and_then(|given| given.hourly.as_ref())
                .map_or_else(|| "0.00".to_owned(), |money| money.amount.clone());
            row.push(amount);
        }
        table.push_row(row);
    }
    table.push_footer(format!(
        "rate card {} of provider {} for {:?}",
        card.id, card.provider_id, card.service_type
    ));
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_specs_read_every_form_and_refuse_the_rest() {
        assert_eq!(fee("none").unwrap().kind, ManagementFeeKind::None as i32);
        let flat = fee("flat:12.50").unwrap();
        assert_eq!(flat.flat_weekly.unwrap().amount, "12.50");
        let within = fee("percentage:7.5:within-budget").unwrap();
        assert_eq!(within.percentage, "7.5");
        assert_eq!(within.placement, proto::FeePlacement::WithinBudget as i32);
        let admin = fee("admin-hours:1.5@22.00").unwrap();
        assert_eq!(admin.admin_hours_per_week, "1.5");
        assert_eq!(admin.admin_hourly_rate.unwrap().amount, "22.00");
        assert_eq!(
            fee("included").unwrap().kind,
            ManagementFeeKind::IncludedInHourlyRate as i32
        );
        for bad in [
            "",
            "flat",
            "percentage:7.5",
            "percentage:7.5:sideways",
            "admin-hours:1.5",
            "tithe",
        ] {
            assert!(fee(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timing_and_component_specs_read_and_refuse_by_shape() {
        assert!(matches!(
            timing("advance").unwrap().timing,
            Some(proto::payment_timing::Timing::Advance(_))
        ));
        assert!(matches!(
            timing("arrears:14").unwrap().timing,
            Some(proto::payment_timing::Timing::Arrears(proto::InArrears {
                lag_days: 14
            }))
        ));
        assert!(timing("arrears:two").is_err());
        assert!(timing("later").is_err());
        let amounts =
            rate_amounts(&["care-worker-wage=12.60".into(), "on_costs=3.15".into()]).unwrap();
        assert_eq!(
            amounts[0].component,
            proto::RateComponent::CareWorkerWage as i32
        );
        assert_eq!(amounts[1].hourly.as_ref().unwrap().amount, "3.15");
        let refused = rate_amounts(&["bonus=1.00".into()])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("care-worker-wage"), "{refused}");
        assert!(rate_amounts(&["care-worker-wage".into()]).is_err());
    }
}
