//! Contract defaults: set by the authority's commissioning staff, read by any of its staff.

use sds_platform::Principal;
use sds_proto::v1 as proto;
use sqlx::PgPool;
use tracing::info;

use super::convert;
use crate::domain::access;
use crate::error::ContractsError;
use crate::store;

pub(super) async fn set(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::SetContractDefaultsRequest,
) -> Result<proto::ContractDefaults, ContractsError> {
    let authority = convert::authority("authority", &request.authority)?;
    let terms = convert::default_terms("terms", request.terms.as_ref())?;
    access::ensure_may_set_defaults(principal, &authority)?;
    let mut transaction = pool.begin().await?;
    let record =
        store::save_defaults(&mut transaction, &authority, &terms, &principal.org_id).await?;
    transaction.commit().await?;
    info!(%authority, version = record.version, "contract defaults set");
    Ok(convert::defaults_message(&record))
}

pub(super) async fn get(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::GetContractDefaultsRequest,
) -> Result<proto::ContractDefaults, ContractsError> {
    let authority = convert::authority("authority", &request.authority)?;
    access::ensure_may_read_defaults(principal, &authority)?;
    let mut connection = pool.acquire().await?;
    let record = store::load_defaults(&mut connection, &authority)
        .await?
        .ok_or(ContractsError::NoDefaults(authority))?;
    Ok(convert::defaults_message(&record))
}
