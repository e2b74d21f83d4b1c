//! What the payment-run tests share: the agreement they pay, and ways to run payments and
//! read the person's fund in the ledger.

#![allow(dead_code)]

use sds_payments::runs::fund_id;
use sds_proto::v1::{self as proto, PaymentFrequency};
use sds_vocabulary::AuthorityId;
use tonic::Status;
use uuid::Uuid;

use crate::support::*;

pub fn four_weekly_advance() -> proto::AgreementTerms {
    terms(PaymentFrequency::FourWeekly, None, "2026-04-20")
}

/// 210.00 a week from 20 April 2026, agreed on 1 April (DOMAIN.md's first worked example).
pub fn first_version() -> proto::Agreement {
    agreement(
        1,
        "2026-04-20",
        "2026-04-01",
        four_weekly_advance(),
        vec![line(1, "210.00", "2026-04-20", None)],
    )
}

/// ...from 18 May it is 280.00 a week, recorded on 10 June.
pub fn backdated_increase() -> proto::Agreement {
    agreement(
        2,
        "2026-05-18",
        "2026-06-10",
        four_weekly_advance(),
        vec![line(1, "280.00", "2026-05-18", None)],
    )
}

pub fn authority_held(mut agreement: proto::Agreement) -> proto::Agreement {
    agreement.holding_model = proto::FundHoldingModel::Authority as i32;
    agreement
}

pub struct Ran {
    pub progress: Vec<proto::RunProgress>,
    pub summary: proto::PaymentRunSummary,
}

impl TestApp {
    pub async fn run_payments(
        &self,
        token: &str,
        authority: &str,
        run_date: &str,
    ) -> Result<Ran, Status> {
        let mut stream = self
            .client()
            .run_payments(sds_testkit::bearer(
                token,
                proto::RunPaymentsRequest {
                    authority: authority.to_owned(),
                    run_date: Some(date(run_date)),
                },
            ))
            .await?
            .into_inner();
        let mut progress = Vec::new();
        while let Some(message) = stream.message().await? {
            progress.push(message);
        }
        let summary = progress
            .last()
            .and_then(|last| last.completed.clone())
            .expect("the last message carries the completed run");
        Ok(Ran { progress, summary })
    }

    /// The person's fund with `holder_key` (the provider's id, the holder's, or "" when the
    /// authority holds it), as the ledger shows it.
    pub async fn fund(&self, holder_key: &str) -> proto::Fund {
        let id = fund_id(
            &AuthorityId::parse("authority", AUTHORITY).unwrap(),
            Uuid::parse_str(PERSON).unwrap(),
            holder_key,
        );
        self.ledger
            .clone()
            .get_fund(sds_testkit::bearer(
                &finance(AUTHORITY),
                proto::GetFundRequest {
                    fund_id: id.to_string(),
                },
            ))
            .await
            .expect("the fund")
            .into_inner()
    }
}

pub fn balance(fund: &proto::Fund, kind: proto::LedgerAccountKind) -> String {
    fund.accounts
        .iter()
        .find(|account| account.kind == kind as i32)
        .and_then(|account| account.balance.clone())
        .map(|money| money.amount)
        .expect("the account")
}

pub fn figures(summary: &proto::PaymentRunSummary) -> (u64, u64, String) {
    (
        summary.instalments,
        summary.payees,
        summary.total.clone().expect("a total").amount,
    )
}
