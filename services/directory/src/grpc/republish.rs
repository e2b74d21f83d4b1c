//! RepublishProviders: every provider published again as `provider.updated` (change
//! `republished`) at its current version, so a service that keeps its own copy of the
//! directory can rebuild it after the stream has dropped the original events.
//!
//! What must stay true: nothing of a provider changes (no version, no history row); each
//! provider is published once per call, as it is when its page is read, in pages that each
//! commit with their events, so a call cut short has published whole pages and a retry
//! publishes everything again (consumers keep the newest version, so repeats are harmless).

use sds_platform::Principal;
use sds_platform::StoreContext as _;
use sds_proto::v1 as proto;
use tracing::info;
use uuid::Uuid;

use crate::domain::{ChangeName, ProviderId, access};
use crate::error::DirectoryError;
use crate::{events, store};

use super::DirectoryApi;

/// Providers read and published per transaction.
const PAGE: i64 = 500;

impl DirectoryApi {
    pub(super) async fn republish(
        &self,
        principal: &Principal,
    ) -> Result<proto::RepublishProvidersResponse, DirectoryError> {
        access::ensure_may_republish(principal)?;
        let today = self.today();
        let mut after = Uuid::nil();
        let mut published: u64 = 0;
        loop {
            let mut transaction = self.pool.begin().await?;
            let ids: Vec<Uuid> =
                sqlx::query_scalar("SELECT id FROM provider WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(PAGE)
                    .fetch_all(&mut *transaction)
                    .await
                    .operation("page through providers")?;
            let Some(last) = ids.last() else {
                break;
            };
            after = *last;
            let ids: Vec<ProviderId> = ids.into_iter().map(ProviderId::from_uuid).collect();
            let records = store::load_providers(&mut transaction, &ids).await?;
            published += records.len() as u64;
            let batch = records
                .iter()
                .map(|record| events::updated(record, ChangeName::Republished, today))
                .collect();
            events::publish_all(&mut transaction, batch).await?;
            transaction.commit().await?;
        }
        info!(providers = published, "directory published again");
        Ok(proto::RepublishProvidersResponse {
            providers: published,
        })
    }
}
