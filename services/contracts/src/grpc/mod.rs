//! The `sds.v1.ContractsService` handlers. Each one reads the caller from the request,
//! converts the message into domain types (refusing bad input), asks `domain::access`
//! whether the caller may, and only then opens a transaction. The handlers themselves live
//! with their concept ([`defaults`], [`rates`], [`agreements`], [`signing`], [`changes`],
//! [`summary`], [`reads`]); this module only routes to them. Every read of an agreement
//! leaves its entry in the read audit trail, which `ListReadAudit` lists.

pub(crate) mod agreement_convert;
mod agreements;
mod changes;
pub mod convert;
mod defaults;
mod rates;
mod reads;
mod signing;
mod summary;

use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_proto::v1::contracts_service_server::ContractsService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::directory::Directory;

/// The contracts service over its PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct ContractsApi {
    pool: PgPool,
    /// The one "today" agreements are recorded and signed on.
    clock: Clock,
    /// Asked about the provider before an agreement becomes active.
    directory: Directory,
}

impl ContractsApi {
    pub fn new(pool: PgPool, clock: Clock, directory: Directory) -> ContractsApi {
        ContractsApi {
            pool,
            clock,
            directory,
        }
    }
}

/// The verified caller and the message.
fn caller<T>(request: Request<T>) -> Result<(Principal, T), Status> {
    let principal = Principal::of(&request)?.clone();
    Ok((principal, request.into_inner()))
}

#[tonic::async_trait]
impl ContractsService for ContractsApi {
    async fn set_contract_defaults(
        &self,
        request: Request<proto::SetContractDefaultsRequest>,
    ) -> Result<Response<proto::ContractDefaults>, Status> {
        let (principal, request) = caller(request)?;
        defaults::set(&self.pool, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_contract_defaults(
        &self,
        request: Request<proto::GetContractDefaultsRequest>,
    ) -> Result<Response<proto::ContractDefaults>, Status> {
        let (principal, request) = caller(request)?;
        defaults::get(&self.pool, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn set_rate_card(
        &self,
        request: Request<proto::SetRateCardRequest>,
    ) -> Result<Response<proto::RateCard>, Status> {
        let (principal, request) = caller(request)?;
        rates::set(
            &self.pool,
            &self.clock,
            &self.directory,
            &principal,
            &request,
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn schedule_uplift(
        &self,
        request: Request<proto::ScheduleUpliftRequest>,
    ) -> Result<Response<proto::RateCard>, Status> {
        let (principal, request) = caller(request)?;
        rates::schedule_uplift(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_rate_card(
        &self,
        request: Request<proto::GetRateCardRequest>,
    ) -> Result<Response<proto::RateCard>, Status> {
        let (principal, request) = caller(request)?;
        rates::get(&self.pool, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn draft_agreement(
        &self,
        request: Request<proto::DraftAgreementRequest>,
    ) -> Result<Response<proto::Agreement>, Status> {
        let (principal, request) = caller(request)?;
        agreements::draft(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn update_agreement_draft(
        &self,
        request: Request<proto::UpdateAgreementDraftRequest>,
    ) -> Result<Response<proto::Agreement>, Status> {
        let (principal, request) = caller(request)?;
        agreements::update_draft(&self.pool, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_agreement(
        &self,
        request: Request<proto::GetAgreementRequest>,
    ) -> Result<Response<proto::Agreement>, Status> {
        let (principal, request) = caller(request)?;
        reads::get(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_agreements(
        &self,
        request: Request<proto::ListAgreementsRequest>,
    ) -> Result<Response<proto::ListAgreementsResponse>, Status> {
        let (principal, request) = caller(request)?;
        agreements::list(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn sign_agreement(
        &self,
        request: Request<proto::SignAgreementRequest>,
    ) -> Result<Response<proto::Agreement>, Status> {
        let (principal, request) = caller(request)?;
        signing::sign(
            &self.pool,
            &self.clock,
            &self.directory,
            &principal,
            &request,
        )
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn vary_agreement(
        &self,
        request: Request<proto::VaryAgreementRequest>,
    ) -> Result<Response<proto::Agreement>, Status> {
        let (principal, request) = caller(request)?;
        changes::vary(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn end_agreement(
        &self,
        request: Request<proto::EndAgreementRequest>,
    ) -> Result<Response<proto::Agreement>, Status> {
        let (principal, request) = caller(request)?;
        changes::end(&self.pool, &self.clock, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn get_agreement_summary(
        &self,
        request: Request<proto::GetAgreementSummaryRequest>,
    ) -> Result<Response<proto::AgreementSummary>, Status> {
        let (principal, request) = caller(request)?;
        summary::get(&self.pool, &self.clock, &principal, &request)
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
