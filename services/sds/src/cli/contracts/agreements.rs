//! `sds contracts agreement ...`: agreements drafted by hand from the person's approved
//! plan, read, listed, signed by each party from its own token, and summarised in plain
//! language.
//!
//! `draft` and `sign` print the JSON of the agreement the server returned, as the other
//! `sds contracts` commands that change something do; `get` and `list` print a table unless
//! `--json`; `summary` prints the plain-language text, or with `--html` the HTML fragment,
//! exactly as the server wrote it (for pasting into a letter or a page).

use sds_contracts::domain::drafting::AgreementStatus;
use sds_contracts::domain::{Capacity, EndCause, FeePlacement, PartyRole};
use sds_proto::v1::{
    self as proto, AgreementRepresentative, Date, DraftAgreementRequest, GetAgreementRequest,
    GetAgreementSummaryRequest, ListAgreementsRequest, Money, PageRequest, SignAgreementRequest,
};
use sds_vocabulary::named_enum::WireEnum;

use super::client;
use crate::cli::ClientArgs;
use crate::cli::enum_arg::EnumArg;
use crate::cli::output::{OutputFormat, Table, count_of, print_json};
use crate::cli::status_error;

#[derive(Debug, clap::Subcommand)]
pub enum AgreementCommand {
    /// Drafts an agreement for lines of the person's latest approved plan (the authority's
    /// practitioners, team managers, panel or commissioning staff); terms come from the
    /// authority's defaults.
    Draft {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        authority: String,
        /// The person's id.
        #[arg(long)]
        person: String,
        /// Plan line numbers, comma-separated: option 2 lines with the same provider,
        /// holding model and holder.
        #[arg(long, value_delimiter = ',', required = true)]
        lines: Vec<u32>,
        /// A short summary of the person's outcomes, in their words.
        #[arg(long)]
        outcomes: String,
        /// Someone who signs for the person (with --capacity).
        #[arg(long, requires = "capacity")]
        representative: Option<String>,
        /// The representative's capacity.
        #[arg(long, requires = "representative", value_parser = EnumArg::<Capacity>::new())]
        capacity: Option<Capacity>,
        /// The provider's rate card to price lines given as hours a week on.
        #[arg(long = "rate-card", default_value = "")]
        rate_card_id: String,
    },
    /// The agreement's latest version: its lines as a table, with the parties, the week's
    /// money and the signatures below; or `--json`.
    Get {
        #[command(flatten)]
        client: ClientArgs,
        agreement_id: String,
        #[command(flatten)]
        output: OutputFormat,
    },
    /// The agreements the caller may see, oldest first: a table, or `--json`.
    List {
        #[command(flatten)]
        client: ClientArgs,
        /// Authority staff: the authority (required for staff of several).
        #[arg(long, default_value = "")]
        authority: String,
        /// Only this person's agreements.
        #[arg(long, default_value = "")]
        person: String,
        #[arg(long, default_value_t = 25)]
        page_size: u32,
        #[arg(long, default_value = "")]
        page_token: String,
        #[command(flatten)]
        output: OutputFormat,
    },
    /// Signs the version awaiting signatures (its number: `awaiting_version`) as the party
    /// the token shows.
    Sign {
        #[command(flatten)]
        client: ClientArgs,
        agreement_id: String,
        /// The version being signed: the one awaiting signatures.
        #[arg(long)]
        version: u32,
        /// Only when signing as the person: themselves, or the representative's capacity.
        #[arg(long, value_parser = EnumArg::<Capacity>::new())]
        capacity: Option<Capacity>,
    },
    /// Varies an active agreement's terms from a date (the authority's staff); every party
    /// signs the new version.
    Vary(super::changes::VaryArgs),
    /// Gives notice to end an agreement (any party, as itself).
    End(super::changes::EndArgs),
    /// The latest version in plain language: the text, or `--html`.
    Summary {
        #[command(flatten)]
        client: ClientArgs,
        agreement_id: String,
        /// Print the HTML fragment instead of the text.
        #[arg(long)]
        html: bool,
    },
}

pub async fn run(command: AgreementCommand) -> anyhow::Result<()> {
    match command {
        AgreementCommand::Draft {
            client: args,
            authority,
            person,
            lines,
            outcomes,
            representative,
            capacity,
            rate_card_id,
        } => {
            let representative =
                representative
                    .zip(capacity)
                    .map(|(name, capacity)| AgreementRepresentative {
                        name,
                        capacity: capacity.wire_number(),
                    });
            let agreement = client(&args)
                .await?
                .draft_agreement(DraftAgreementRequest {
                    authority,
                    person_id: person,
                    plan_lines: lines,
                    outcomes,
                    representative,
                    rate_card_id,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&agreement)
        }
        AgreementCommand::Get {
            client: args,
            agreement_id,
            output,
        } => {
            let agreement = client(&args)
                .await?
                .get_agreement(GetAgreementRequest { agreement_id })
                .await
                .map_err(status_error)?
                .into_inner();
            output.print_list(&agreement, agreement_table)
        }
        AgreementCommand::List {
            client: args,
            authority,
            person,
            page_size,
            page_token,
            output,
        } => {
            let listed = client(&args)
                .await?
                .list_agreements(ListAgreementsRequest {
                    authority,
                    person_id: person,
                    page: Some(PageRequest {
                        page_size,
                        page_token,
                    }),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            output.print_list(&listed, list_table)
        }
        AgreementCommand::Sign {
            client: args,
            agreement_id,
            version,
            capacity,
        } => {
            let agreement = client(&args)
                .await?
                .sign_agreement(SignAgreementRequest {
                    agreement_id,
                    version,
                    capacity: capacity.map_or(0, Capacity::wire_number),
                })
                .await
                .map_err(status_error)?
                .into_inner();
            print_json(&agreement)
        }
        AgreementCommand::Vary(args) => super::changes::vary(args).await,
        AgreementCommand::End(args) => super::changes::end(args).await,
        AgreementCommand::Summary {
            client: args,
            agreement_id,
            html,
        } => {
            let summary = client(&args)
                .await?
                .get_agreement_summary(GetAgreementSummaryRequest { agreement_id })
                .await
                .map_err(status_error)?
                .into_inner();
            // Both end in a newline already.
            print!("{}", if html { summary.html } else { summary.text });
            Ok(())
        }
    }
}

fn iso(date: Option<&Date>) -> String {
    date.map(|date| date.iso.clone()).unwrap_or_default()
}

fn amount(money: Option<&Money>) -> String {
    money.map(|money| money.amount.clone()).unwrap_or_default()
}

/// An enum number by its command-line name, or the bare number when this build does not
/// know it.
fn named<E: WireEnum>(raw: i32) -> String {
    E::from_wire("", raw).map_or_else(|_| raw.to_string(), |value| value.cli_name())
}

fn parties(roles: &[i32]) -> String {
    roles
        .iter()
        .map(|role| named::<PartyRole>(*role))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The agreement for people to read: one row a funded line, then the version, parties,
/// the week's money and who has signed.
fn agreement_table(agreement: &proto::Agreement) -> Table {
    let mut table = Table::new(&["line", "support", "weekly", "start", "end"]);
    for line in &agreement.lines {
        table.push_row(vec![
            line.plan_line.to_string(),
            line.support_type.replace('_', "-"),
            amount(line.weekly.as_ref()),
            iso(line.start.as_ref()),
            iso(line.end.as_ref()),
        ]);
    }
    let state = proto::AgreementVersionState::try_from(agreement.state).map_or_else(
        |_| agreement.state.to_string(),
        |state| {
            state
                .as_str_name()
                .trim_start_matches("AGREEMENT_VERSION_STATE_")
                .to_lowercase()
        },
    );
    table.push_footer(format!(
        "agreement {} ({}), version {} ({state}) from {}",
        agreement.id,
        named::<AgreementStatus>(agreement.status),
        agreement.version,
        iso(agreement.effective_from.as_ref()),
    ));
    let mut between = format!(
        "person {}, provider {}, authority {}",
        agreement.person_id, agreement.provider_id, agreement.authority
    );
    if !agreement.holder_id.is_empty() {
        between.push_str(&format!(", holder {}", agreement.holder_id));
    }
    if let Some(representative) = &agreement.representative {
        between.push_str(&format!(
            "; signed for the person by {} ({})",
            representative.name,
            named::<Capacity>(representative.capacity)
        ));
    }
    table.push_footer(between);
    if let Some(weekly) = &agreement.weekly {
        table.push_footer(format!(
            "a week: support {} + fee {} ({}) = {}",
            amount(weekly.support.as_ref()),
            amount(weekly.fee.as_ref()),
            named::<FeePlacement>(weekly.fee_placement),
            amount(weekly.total.as_ref()),
        ));
    }
    let signed: Vec<String> = agreement
        .signatures
        .iter()
        .map(|signature| {
            let capacity = if signature.capacity == 0 {
                String::new()
            } else {
                format!(" as {}", named::<Capacity>(signature.capacity))
            };
            format!(
                "{}{capacity} on {}",
                named::<PartyRole>(signature.role),
                iso(signature.signed_on.as_ref())
            )
        })
        .collect();
    if agreement.awaiting_version != 0 && agreement.awaiting_version != agreement.version {
        table.push_footer(format!(
            "version {} awaits signatures",
            agreement.awaiting_version
        ));
    }
    if let Some(last_day) = &agreement.last_day {
        table.push_footer(format!(
            "ended: the last day of support is {} ({})",
            last_day.iso,
            named::<EndCause>(agreement.end_cause)
        ));
    }
    if agreement.cause == proto::AgreementVersionCause::RateChanged as i32 {
        table.push_footer(
            "a rate change from the provider's rate card: agreed in advance, nobody signs it"
                .to_owned(),
        );
        return table;
    }
    table.push_footer(format!(
        "signed: {}; to sign: {}",
        if signed.is_empty() {
            "nobody yet".to_owned()
        } else {
            signed.join(", ")
        },
        if agreement.unsigned.is_empty() {
            "nobody".to_owned()
        } else {
            parties(&agreement.unsigned)
        }
    ));
    table
}

/// One agreement a row, then the total and where the next page starts.
fn list_table(response: &proto::ListAgreementsResponse) -> Table {
    let mut table = Table::new(&[
        "id", "person", "provider", "status", "version", "weekly", "to sign",
    ]);
    for agreement in &response.agreements {
        table.push_row(vec![
            agreement.id.clone(),
            agreement.person_id.clone(),
            agreement.provider_id.clone(),
            named::<AgreementStatus>(agreement.status),
            agreement.version.to_string(),
            amount(
                agreement
                    .weekly
                    .as_ref()
                    .and_then(|weekly| weekly.total.as_ref()),
            ),
            parties(&agreement.unsigned),
        ]);
    }
    let page = response.page.clone().unwrap_or_default();
    let mut footer = count_of(page.total_matches, "agreement", "agreements");
    if !page.next_page_token.is_empty() {
        footer.push_str(&format!(
            "; next page: --page-token {}",
            page.next_page_token
        ));
    }
    table.push_footer(footer);
    table
}
