//! The open data query: which providers the public directory publishes, one page at a time.
//! As for search, one statement counts every match and picks the ids of one page, so the
//! total and the page come from the same snapshot; paging stays in PostgreSQL so that a
//! national directory of thousands of providers is never read whole to serve one page.

use chrono::{DateTime, Utc};
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{CareServiceStatus, ProviderId, ProviderKind};
use crate::error::DirectoryError;

/// What a harvester may narrow the published directory to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishedFilters {
    /// Full text over name, service types and localities, as search reads it.
    pub text: Option<String>,
    /// One organization (a provider id).
    pub organization_id: Option<ProviderId>,
    /// Providers changed at or after this instant.
    pub modified_after: Option<DateTime<Utc>>,
}

/// The ids of the published providers matching `filters`, ordered by name then id (so a
/// harvester paging through sees a stable order), `limit` of them after `offset`, and how
/// many match in all.
///
/// Published means what `open_data::publication::is_published` says, written again here
/// in SQL so that paging counts only what will be shown: not a self-employed personal
/// assistant, and not an inactive Care Inspectorate service.
pub async fn published_page(
    connection: &mut PgConnection,
    filters: &PublishedFilters,
    limit: u32,
    offset: u64,
) -> Result<(u64, Vec<ProviderId>), DirectoryError> {
    let offset = i64::try_from(offset).map_err(|error| DirectoryError::Internal(error.into()))?;
    let (total_matches, page_ids): (i64, Vec<Uuid>) = sqlx::query_as(
        "WITH wanted AS ( \
             SELECT CASE WHEN $1::text IS NULL THEN NULL \
                         ELSE websearch_to_tsquery('english', $1::text) END AS words \
         ), published AS ( \
             SELECT p.id, p.name \
             FROM provider p CROSS JOIN wanted \
             WHERE p.kind <> $2::text \
               AND p.care_service_status <> $3::text \
               AND (wanted.words IS NULL OR numnode(wanted.words) = 0 \
                    OR p.search_document @@ wanted.words) \
               AND ($4::uuid IS NULL OR p.id = $4::uuid) \
               AND ($5::timestamptz IS NULL OR p.updated_at >= $5::timestamptz) \
         ) \
         SELECT (SELECT count(*) FROM published), \
                ARRAY(SELECT id FROM published ORDER BY name, id LIMIT $6 OFFSET $7)",
    )
    .bind(filters.text.as_deref())
    .bind(ProviderKind::SelfEmployedPersonalAssistant.name())
    .bind(CareServiceStatus::Inactive.name())
    .bind(filters.organization_id.map(ProviderId::as_uuid))
    .bind(filters.modified_after)
    .bind(i64::from(limit))
    .bind(offset)
    .fetch_one(&mut *connection)
    .await
    .operation("select a page of published providers")?;
    let total_matches =
        u64::try_from(total_matches).map_err(|error| DirectoryError::Internal(error.into()))?;
    Ok((
        total_matches,
        page_ids.into_iter().map(ProviderId::from_uuid).collect(),
    ))
}
