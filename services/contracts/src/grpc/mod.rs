//! The `sds.v1.ContractsService` handlers. Each one reads the caller from the request,
//! converts the message into domain types (refusing bad input), asks `domain::access`
//! whether the caller may, and only then opens a transaction. The handlers themselves live
//! with their concept ([`defaults`], [`rates`]); this module only routes to them.

pub mod convert;
mod defaults;
mod rates;

use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_proto::v1::contracts_service_server::ContractsService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

/// The contracts service over its PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct ContractsApi {
    pool: PgPool,
}

impl ContractsApi {
    pub fn new(pool: PgPool) -> ContractsApi {
        ContractsApi { pool }
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
        rates::set(&self.pool, &principal, &request)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn schedule_uplift(
        &self,
        request: Request<proto::ScheduleUpliftRequest>,
    ) -> Result<Response<proto::RateCard>, Status> {
        let (principal, request) = caller(request)?;
        rates::schedule_uplift(&self.pool, &principal, &request)
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
}
