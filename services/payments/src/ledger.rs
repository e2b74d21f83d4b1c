//! The ledger as payments uses it: the funds a run pays into, and the bulk posting of a
//! run's transfers. Calls go over gRPC with a service identity of payments' own, finance
//! staff of the run's authority (which may open funds and post), signed with the process's
//! service key and short-lived, like contracts' calls to the directory.
//!
//! What must stay true: every call is safe to repeat. A fund is opened under an id derived
//! from its person and holder, so a run that died after opening it opens the same one again;
//! transfers carry ids derived from their instalment, so the ledger records each once
//! however often a run sends them.

use sds_platform::server::ServiceReach;
use std::time::Duration;

use anyhow::anyhow;
use sds_platform::TokenIssuer;
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_client::LedgerServiceClient;
use sds_vocabulary::AuthorityId;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use uuid::Uuid;

use crate::calls::ServiceCalls;
use crate::error::PaymentsError;

/// A bulk posting of a large run takes a while; ordinary calls answer within seconds.
const CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// The ledger's cap on a chunk of a bulk posting.
pub const MAX_CHUNK: usize = 10_000;

/// A client of the ledger, cheap to clone; it connects when first used.
#[derive(Debug, Clone)]
pub struct Ledger {
    calls: ServiceCalls,
}

impl Ledger {
    /// A client of the ledger at `url`, or, when none is configured, of the ledger in this
    /// process, reached as `reach` says.
    pub fn new(url: Option<&str>, reach: &ServiceReach, tokens: Option<TokenIssuer>) -> Ledger {
        Ledger {
            calls: ServiceCalls::new("ledger", url, reach, tokens, CALL_TIMEOUT),
        }
    }

    fn client(&self) -> Result<LedgerServiceClient<Channel>, PaymentsError> {
        Ok(LedgerServiceClient::new(self.calls.channel()?)
            .max_decoding_message_size(64 * 1024 * 1024))
    }

    fn request<T>(&self, authority: &AuthorityId, message: T) -> Result<Request<T>, PaymentsError> {
        self.calls.request(authority, message)
    }

    /// Opens the fund `request` describes, or finds it: the same fund id again returns it
    /// (also when an earlier open under that id recorded another weekly budget), and when the
    /// person already has an open fund with this holder (opened by staff under another id)
    /// that fund is the one used.
    pub async fn open_fund(
        &self,
        authority: &AuthorityId,
        request: proto::OpenFundRequest,
    ) -> Result<proto::Fund, PaymentsError> {
        let own_id = Uuid::parse_str(&request.fund_id).map_err(anyhow::Error::new)?;
        let person_id = request.person_id.clone();
        let answer = self
            .client()?
            .open_fund(self.request(authority, request)?)
            .await;
        match answer {
            Ok(fund) => Ok(fund.into_inner()),
            Err(status)
                if matches!(
                    status.code(),
                    Code::AlreadyExists | Code::FailedPrecondition
                ) =>
            {
                let fund_id = existing_fund(status.message()).unwrap_or(own_id);
                let fund = self.get_fund(authority, fund_id).await?;
                if fund.person_id == person_id && fund.authority == authority.as_str() {
                    Ok(fund)
                } else {
                    Err(unexpected("OpenFund", &status))
                }
            }
            Err(status) => Err(refused("OpenFund", &status)),
        }
    }

    pub async fn get_fund(
        &self,
        authority: &AuthorityId,
        fund_id: Uuid,
    ) -> Result<proto::Fund, PaymentsError> {
        self.client()?
            .get_fund(self.request(
                authority,
                proto::GetFundRequest {
                    fund_id: fund_id.to_string(),
                },
            )?)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| refused("GetFund", &status))
    }

    /// Gives the fund a payable account for `payee` (the fund as it is when it has one).
    pub async fn add_payee(
        &self,
        authority: &AuthorityId,
        fund_id: Uuid,
        payee: Uuid,
    ) -> Result<proto::Fund, PaymentsError> {
        self.client()?
            .add_payee(self.request(
                authority,
                proto::AddPayeeRequest {
                    fund_id: fund_id.to_string(),
                    payee_id: payee.to_string(),
                },
            )?)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| refused("AddPayee", &status))
    }

    /// Posts `transfers` in chunks of at most [`MAX_CHUNK`], each all or nothing.
    pub async fn post_bulk(
        &self,
        authority: &AuthorityId,
        transfers: Vec<proto::NewTransfer>,
    ) -> Result<proto::PostBulkResponse, PaymentsError> {
        let mut chunks = Vec::with_capacity(transfers.len().div_ceil(MAX_CHUNK));
        let mut transfers = transfers.into_iter().peekable();
        while transfers.peek().is_some() {
            chunks.push(proto::PostBulkChunk {
                transfers: transfers.by_ref().take(MAX_CHUNK).collect(),
            });
        }
        self.client()?
            .post_bulk(self.request(authority, tokio_stream::iter(chunks))?)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| refused("PostBulk", &status))
    }
}

/// The fund named by the ledger's refusal of a second open fund for a person and holder
/// ("this person already has an open fund with this holder: ID; ...").
fn existing_fund(message: &str) -> Option<Uuid> {
    let (_, after) = message.split_once("already has an open fund with this holder: ")?;
    let id = after.split(';').next()?.trim();
    Uuid::parse_str(id).ok()
}

fn refused(call: &str, status: &Status) -> PaymentsError {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Aborted => {
            PaymentsError::LedgerUnavailable(format!("{call}: {}", status.message()))
        }
        _ => unexpected(call, status),
    }
}

/// Anything else is this deployment's or this code's mistake, not the caller's: logged in
/// full, hidden from them.
fn unexpected(call: &str, status: &Status) -> PaymentsError {
    PaymentsError::Internal(anyhow!(
        "the ledger refused payments' {call}: {:?} {}",
        status.code(),
        status.message()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fund_a_refused_open_names_is_read_from_the_ledgers_words() {
        let id = Uuid::from_u128(7);
        let message = format!(
            "this person already has an open fund with this holder: {id}; a person has one open fund per holder with an authority"
        );
        assert_eq!(existing_fund(&message), Some(id));
        assert_eq!(existing_fund("fund_id: not a UUID"), None);
    }
}
