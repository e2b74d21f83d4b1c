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

/// The authority's paying account in the tests.
pub fn paying_account() -> proto::PayingAccount {
    proto::PayingAccount {
        name: "Fife HSCP".to_owned(),
        account: Some(bank_account("80-22-60", "10203040", "Fife Council SDS")),
        service_user_number: "123456".to_owned(),
    }
}

pub fn bank_account(sort_code: &str, account_number: &str, name: &str) -> proto::BankAccount {
    proto::BankAccount {
        sort_code: sort_code.to_owned(),
        account_number: account_number.to_owned(),
        account_name: name.to_owned(),
    }
}

/// The bank account each test payee is paid into.
pub fn payee_account(payee: &str) -> proto::BankAccount {
    match payee {
        PROVIDER => bank_account("40-11-62", "41234567", "Kingdom Care Ltd"),
        OTHER_PROVIDER => bank_account("83-91-04", "00762319", "O'Brien Support (Scotland)"),
        HOLDER => bank_account("60-83-01", "20001234", "Fife Independent Living & Co"),
        other => panic!("no test account for {other}"),
    }
}

#[derive(Debug)]
pub struct Ran {
    pub progress: Vec<proto::RunProgress>,
    pub summary: proto::PaymentRunSummary,
}

impl TestApp {
    /// Enters the authority's paying account and every test payee's bank account.
    pub async fn prepare_banking(&self) {
        self.prepare_banking_for(AUTHORITY).await;
    }

    /// Enters `authority`'s paying account and every test payee's bank account with it.
    pub async fn prepare_banking_for(&self, authority: &str) {
        self.client()
            .set_payment_settings(sds_testkit::bearer(
                &finance(authority),
                proto::SetPaymentSettingsRequest {
                    authority: authority.to_owned(),
                    anchor_date: Some(date("2026-04-06")),
                    journal_codes: None,
                    paying_account: Some(paying_account()),
                    contribution_arrears_periods: 0,
                },
            ))
            .await
            .expect("the paying account");
        for payee in [PROVIDER, OTHER_PROVIDER, HOLDER] {
            self.client()
                .set_payee_bank_account(sds_testkit::bearer(
                    &finance(authority),
                    proto::SetPayeeBankAccountRequest {
                        authority: authority.to_owned(),
                        payee_id: payee.to_owned(),
                        account: Some(payee_account(payee)),
                    },
                ))
                .await
                .expect("a payee account");
        }
    }

    pub async fn set_payee_account(
        &self,
        token: &str,
        payee: &str,
        account: proto::BankAccount,
    ) -> Result<proto::PayeeBankAccount, Status> {
        self.client()
            .set_payee_bank_account(sds_testkit::bearer(
                token,
                proto::SetPayeeBankAccountRequest {
                    authority: AUTHORITY.to_owned(),
                    payee_id: payee.to_owned(),
                    account: Some(account),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

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
