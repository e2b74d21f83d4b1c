//! The `sds.v1.LedgerService` handlers. Each one reads the caller from the request,
//! converts the message into domain types (refusing bad input before any transaction), and
//! runs its change in one transaction ([`crate::posting`]). A transaction that lost a race
//! for the same key (two retries of one transfer arriving together), or that read a fund
//! before it closed, or that assumed its transfers new and found one recorded, runs once
//! more, and then finds what the other recorded.

mod bulk;
pub mod convert;
mod funds;
mod reads;
mod statements;
mod transfers;

use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_proto::v1::ledger_service_server::LedgerService;
use sqlx::PgPool;

use crate::chain::linker::ChainBell;
use crate::domain::Watch;
use sds_events::OutboxBell;
use tonic::{Request, Response, Status};

/// Runs `$body` (an async expression over the connection `$connection`) in a transaction
/// of `$writer` and commits it; a unique violation (a concurrent request recorded the same
/// key) runs it again, up to three times in all.
macro_rules! in_transaction {
    ($writer:expr, $connection:ident => $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut transaction = $writer.pool.begin().await?;
            let $connection: &mut sqlx::PgConnection = &mut transaction;
            match $body.await {
                Ok(value) => {
                    transaction.commit().await?;
                    $writer.committed();
                    break Ok(value);
                }
                Err(error) if attempt < 3 && error.is_race() => continue,
                Err(error) => break Err(error),
            }
        }
    }};
}
pub(crate) use in_transaction;

/// Where the handlers write: the service's pool, and the bells rung after each commit, so
/// that the events and the chain link it staged go out now rather than at the next poll
/// (postings do not `NOTIFY`; see [`crate::posting`]).
#[derive(Debug, Clone)]
pub struct Writer {
    pub pool: PgPool,
    pub outbox: OutboxBell,
    pub chain: ChainBell,
}

impl Writer {
    /// Called after every commit (ringing when nothing was written costs nothing).
    pub fn committed(&self) {
        self.outbox.ring();
        self.chain.ring();
    }
}

/// The ledger service over its PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct LedgerApi {
    pool: PgPool,
    writer: Writer,
    /// The one "now" transfers are recorded at, and "today" they are dated.
    clock: Clock,
    /// The balance thresholds that make `fund.surplus` and `fund.low_balance`.
    watch: Watch,
    /// Bulk streams running at once: each holds one of the server's request slots while it
    /// streams, so they are kept to a few.
    bulk_streams: std::sync::Arc<tokio::sync::Semaphore>,
}

impl LedgerApi {
    pub fn new(writer: Writer, clock: Clock, watch: Watch) -> LedgerApi {
        LedgerApi {
            pool: writer.pool.clone(),
            writer,
            clock,
            watch,
            bulk_streams: std::sync::Arc::new(tokio::sync::Semaphore::new(bulk::MAX_BULK_STREAMS)),
        }
    }
}

/// The verified caller and the message.
fn caller<T>(request: Request<T>) -> Result<(Principal, T), Status> {
    let principal = Principal::of(&request)?.clone();
    Ok((principal, request.into_inner()))
}

#[tonic::async_trait]
impl LedgerService for LedgerApi {
    async fn open_fund(
        &self,
        request: Request<proto::OpenFundRequest>,
    ) -> Result<Response<proto::Fund>, Status> {
        let (principal, request) = caller(request)?;
        funds::open(&self.writer, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn close_fund(
        &self,
        request: Request<proto::CloseFundRequest>,
    ) -> Result<Response<proto::Fund>, Status> {
        let (principal, request) = caller(request)?;
        funds::close(&self.writer, &self.clock, self.watch, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn add_payee(
        &self,
        request: Request<proto::AddPayeeRequest>,
    ) -> Result<Response<proto::Fund>, Status> {
        let (principal, request) = caller(request)?;
        funds::add_payee(&self.writer, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_fund(
        &self,
        request: Request<proto::GetFundRequest>,
    ) -> Result<Response<proto::Fund>, Status> {
        let (principal, request) = caller(request)?;
        funds::get(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn create_transfers(
        &self,
        request: Request<proto::CreateTransfersRequest>,
    ) -> Result<Response<proto::CreateTransfersResponse>, Status> {
        let (principal, request) = caller(request)?;
        transfers::create(&self.writer, &self.clock, self.watch, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn post_bulk(
        &self,
        request: Request<tonic::Streaming<proto::PostBulkChunk>>,
    ) -> Result<Response<proto::PostBulkResponse>, Status> {
        let (principal, stream) = caller(request)?;
        bulk::post_bulk(self, principal, stream)
            .await
            .map(Response::new)
    }

    async fn post_pending(
        &self,
        request: Request<proto::ResolvePendingRequest>,
    ) -> Result<Response<proto::Transfer>, Status> {
        let (principal, request) = caller(request)?;
        transfers::resolve(
            &self.writer,
            &self.clock,
            self.watch,
            &principal,
            &request,
            crate::domain::TransferStatus::Posted,
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn void_pending(
        &self,
        request: Request<proto::ResolvePendingRequest>,
    ) -> Result<Response<proto::Transfer>, Status> {
        let (principal, request) = caller(request)?;
        transfers::resolve(
            &self.writer,
            &self.clock,
            self.watch,
            &principal,
            &request,
            crate::domain::TransferStatus::Voided,
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn reverse_transfer(
        &self,
        request: Request<proto::ReverseTransferRequest>,
    ) -> Result<Response<proto::Transfer>, Status> {
        let (principal, request) = caller(request)?;
        transfers::reverse(&self.writer, &self.clock, self.watch, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_balance(
        &self,
        request: Request<proto::GetBalanceRequest>,
    ) -> Result<Response<proto::Balance>, Status> {
        let (principal, request) = caller(request)?;
        reads::balance(&self.pool, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_transfers(
        &self,
        request: Request<proto::ListTransfersRequest>,
    ) -> Result<Response<proto::ListTransfersResponse>, Status> {
        let (principal, request) = caller(request)?;
        reads::list(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_statement(
        &self,
        request: Request<proto::GetStatementRequest>,
    ) -> Result<Response<proto::Statement>, Status> {
        let (principal, request) = caller(request)?;
        statements::get(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_read_audit(
        &self,
        request: Request<proto::ListReadAuditRequest>,
    ) -> Result<Response<proto::ListReadAuditResponse>, Status> {
        let (principal, request) = caller(request)?;
        sds_platform::read_audit::list(&self.pool, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}
