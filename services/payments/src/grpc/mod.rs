//! The `sds.v1.PaymentsService` handlers. Each reads the verified caller, converts the
//! message into domain values (refusing bad input before touching the database) and answers.

mod actuals;
pub mod bank;
mod contribution_receipts;
mod contributions;
pub(crate) mod convert;
mod preview;
mod remittances;
mod runs;
mod schedules;
mod settings;

pub use schedules::history_message;

use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_proto::v1::payments_service_server::PaymentsService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::error::PaymentsError;
use crate::ledger::Ledger;
use sds_events::OutboxBell;

/// The payments service over its PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct PaymentsApi {
    pool: PgPool,
    /// "Today", for a schedule listed without a date.
    clock: Clock,
    /// Where runs post their transfers.
    ledger: Ledger,
    /// Rung after a run commits its event, so it goes out now rather than at the next poll.
    outbox: OutboxBell,
    /// Where runs write their finance files.
    exports: std::path::PathBuf,
    /// What payees' bank details are checked against.
    modulus: std::sync::Arc<bank::ModulusSource>,
    /// Where remittances find people's case references.
    people: crate::people::People,
    /// How runs are shared out among the service's replicas.
    sharing: crate::runs::Sharing,
}

impl PaymentsApi {
    pub fn new(
        pool: PgPool,
        clock: Clock,
        ledger: Ledger,
        outbox: OutboxBell,
        exports: std::path::PathBuf,
        modulus: std::sync::Arc<bank::ModulusSource>,
        people: crate::people::People,
    ) -> PaymentsApi {
        PaymentsApi {
            pool,
            clock,
            ledger,
            outbox,
            exports,
            modulus,
            people,
            sharing: crate::runs::Sharing {
                queue: None,
                schedules_per_chunk: crate::runs::chunks::DEFAULT_SCHEDULES_PER_CHUNK,
            },
        }
    }

    /// Shares runs out among the service's replicas as `sharing` says (without it, the
    /// replica asked for a run works on all of it).
    pub fn sharing_runs(mut self, sharing: crate::runs::Sharing) -> PaymentsApi {
        self.sharing = sharing;
        self
    }
}

#[tonic::async_trait]
impl PaymentsService for PaymentsApi {
    type RunPaymentsStream = runs::RunStream;

    async fn run_payments(
        &self,
        request: Request<proto::RunPaymentsRequest>,
    ) -> Result<Response<Self::RunPaymentsStream>, Status> {
        let principal = Principal::of(&request)?.clone();
        runs::start(self, &principal, request.get_ref())
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn preview_schedule(
        &self,
        request: Request<proto::PreviewScheduleRequest>,
    ) -> Result<Response<proto::PreviewScheduleResponse>, Status> {
        // Any verified caller: the preview reads and writes nothing. Its work is bounded by
        // the preview's own limits and done off the async threads, two at a time, so a
        // burst of large previews queues rather than starving the server.
        Principal::of(&request)?;
        static PREVIEWS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
        let _turn = PREVIEWS
            .acquire()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        let request = request.into_inner();
        tokio::task::spawn_blocking(move || preview::preview_schedule(&request))
            .await
            .map_err(|error| {
                Status::from(PaymentsError::Internal(anyhow::anyhow!(
                    "preview task: {error}"
                )))
            })?
            .map(Response::new)
            .map_err(|error| Status::from(PaymentsError::from(error)))
    }

    async fn get_schedule(
        &self,
        request: Request<proto::GetScheduleRequest>,
    ) -> Result<Response<proto::Schedule>, Status> {
        let principal = Principal::of(&request)?.clone();
        schedules::get(
            &self.pool,
            self.clock.today(),
            &principal,
            request.get_ref(),
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn set_payment_settings(
        &self,
        request: Request<proto::SetPaymentSettingsRequest>,
    ) -> Result<Response<proto::PaymentSettings>, Status> {
        let principal = Principal::of(&request)?.clone();
        settings::set(&self.pool, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_payment_settings(
        &self,
        request: Request<proto::GetPaymentSettingsRequest>,
    ) -> Result<Response<proto::PaymentSettings>, Status> {
        let principal = Principal::of(&request)?.clone();
        settings::get(&self.pool, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn set_payee_bank_account(
        &self,
        request: Request<proto::SetPayeeBankAccountRequest>,
    ) -> Result<Response<proto::PayeeBankAccount>, Status> {
        let principal = Principal::of(&request)?.clone();
        bank::set(&self.pool, &self.modulus, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_payee_bank_account(
        &self,
        request: Request<proto::GetPayeeBankAccountRequest>,
    ) -> Result<Response<proto::PayeeBankAccount>, Status> {
        let principal = Principal::of(&request)?.clone();
        bank::get(&self.pool, &self.clock, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_remittance(
        &self,
        request: Request<proto::GetRemittanceRequest>,
    ) -> Result<Response<proto::Remittance>, Status> {
        let principal = Principal::of(&request)?.clone();
        remittances::get(&self.pool, &self.people, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn report_actuals(
        &self,
        request: Request<proto::ReportActualsRequest>,
    ) -> Result<Response<proto::ActualsReport>, Status> {
        let principal = Principal::of(&request)?.clone();
        actuals::report(
            &self.pool,
            &self.outbox,
            &principal,
            self.clock.today(),
            request.get_ref(),
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn import_actuals(
        &self,
        request: Request<proto::ImportActualsRequest>,
    ) -> Result<Response<proto::ImportActualsResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        actuals::import(
            &self.pool,
            &self.outbox,
            &principal,
            self.clock.today(),
            request.get_ref(),
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn set_contribution(
        &self,
        request: Request<proto::SetContributionRequest>,
    ) -> Result<Response<proto::Contribution>, Status> {
        let principal = Principal::of(&request)?.clone();
        contributions::set(
            &self.pool,
            &self.outbox,
            &principal,
            self.clock.today(),
            request.get_ref(),
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn get_contribution(
        &self,
        request: Request<proto::GetContributionRequest>,
    ) -> Result<Response<proto::Contribution>, Status> {
        let principal = Principal::of(&request)?.clone();
        contributions::get(&self.pool, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn record_contribution_receipt(
        &self,
        request: Request<proto::RecordContributionReceiptRequest>,
    ) -> Result<Response<proto::ContributionReceipt>, Status> {
        let principal = Principal::of(&request)?.clone();
        contribution_receipts::record(
            &self.pool,
            &self.ledger,
            &self.outbox,
            &principal,
            self.clock.today(),
            request.get_ref(),
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn list_read_audit(
        &self,
        request: Request<proto::ListReadAuditRequest>,
    ) -> Result<Response<proto::ListReadAuditResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        sds_platform::read_audit::list(&self.pool, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}
