//! `sds contracts agreement vary|end`: the terms of an active agreement varied from a date
//! (every flag left out keeps the term in force), and notice given to end an agreement.
//! Both print the JSON of the agreement the server returned.

use sds_contracts::domain::{Frequency, PaymentBasis};
use sds_proto::v1::{
    self as proto, Date, EndAgreementRequest, GetAgreementRequest, VaryAgreementRequest,
};
use sds_vocabulary::named_enum::WireEnum as _;

use super::{client, fee, timing};
use crate::cli::ClientArgs;
use crate::cli::enum_arg::EnumArg;
use crate::cli::output::print_json;
use crate::cli::status_error;

/// New terms from a date; what is not given stays as the agreement has it.
#[derive(Debug, clap::Args)]
pub struct VaryArgs {
    #[command(flatten)]
    client: ClientArgs,
    agreement_id: String,
    /// The day the new terms take effect (may be in the past, by at most a year).
    #[arg(long = "from")]
    effective_from: String,
    #[arg(long, value_parser = EnumArg::<Frequency>::new())]
    frequency: Option<Frequency>,
    /// `advance`, or `arrears:LAG_DAYS`.
    #[arg(long)]
    timing: Option<String>,
    #[arg(long, value_parser = EnumArg::<PaymentBasis>::new())]
    basis: Option<PaymentBasis>,
    /// Flex tolerance, in percent.
    #[arg(long)]
    tolerance: Option<String>,
    /// As for `defaults set --fee`.
    #[arg(long)]
    fee: Option<String>,
    #[arg(long)]
    notice_days: Option<u32>,
    /// The next review.
    #[arg(long)]
    review_on: Option<String>,
    /// The agreement's last day; `open` for open-ended.
    #[arg(long)]
    end: Option<String>,
}

/// Notice to end an agreement.
#[derive(Debug, clap::Args)]
pub struct EndArgs {
    #[command(flatten)]
    client: ClientArgs,
    agreement_id: String,
    /// The last day of support: at least the notice period away.
    #[arg(long)]
    last_day: String,
    /// Why, in a few words; kept for the authority, never published.
    #[arg(long)]
    reason: String,
}

fn date(iso: &str) -> Option<Date> {
    Some(Date {
        iso: iso.trim().to_owned(),
    })
}

pub async fn vary(args: VaryArgs) -> anyhow::Result<()> {
    // Shapes are checked before anything is sent.
    let timing = args.timing.as_deref().map(timing).transpose()?;
    let fee = args.fee.as_deref().map(fee).transpose()?;
    let mut connection = client(&args.client).await?;
    let current = connection
        .get_agreement(GetAgreementRequest {
            agreement_id: args.agreement_id.clone(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let mut terms: proto::AgreementTerms = current.terms.unwrap_or_default();
    if let Some(frequency) = args.frequency {
        terms.frequency = frequency.wire_number();
    }
    if let Some(timing) = timing {
        terms.timing = Some(timing);
    }
    if let Some(basis) = args.basis {
        terms.basis = basis.wire_number();
    }
    if let Some(tolerance) = args.tolerance {
        terms.flex_tolerance_percent = tolerance.trim().to_owned();
    }
    if let Some(fee) = fee {
        terms.fee = Some(fee);
    }
    if let Some(notice_days) = args.notice_days {
        terms.notice_days = notice_days;
    }
    if let Some(review_on) = &args.review_on {
        terms.review_on = date(review_on);
    }
    if let Some(end) = &args.end {
        terms.end = if end.trim().eq_ignore_ascii_case("open") {
            None
        } else {
            date(end)
        };
    }
    let varied = connection
        .vary_agreement(VaryAgreementRequest {
            agreement_id: args.agreement_id,
            effective_from: date(&args.effective_from),
            terms: Some(terms),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    print_json(&varied)
}

pub async fn end(args: EndArgs) -> anyhow::Result<()> {
    let ended = client(&args.client)
        .await?
        .end_agreement(EndAgreementRequest {
            agreement_id: args.agreement_id,
            last_day: date(&args.last_day),
            reason: args.reason,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    print_json(&ended)
}
