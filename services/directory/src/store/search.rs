//! The search query: one statement counts every match and picks the ids of one page, so
//! the total and the page come from the same snapshot. The next page is another statement
//! and another snapshot, so pages can overlap or leave gaps when the directory changes in
//! between (see `domain::search`).

use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::search::{Page, SearchFilters};
use crate::domain::{CareServiceStatus, FrameworkStatus, ProviderId};
use crate::error::DirectoryError;

/// The ids on `page` of the providers matching `filters`, in search order, and how many
/// match in all.
///
/// Relevance is PostgreSQL full-text rank of the search text over name, service types and
/// localities (see `provider_search_document` in the migrations); text made only of words
/// too common to index matches everything. Off framework matches providers that an
/// authority marked so and those it has recorded nothing about. Inactive Care Inspectorate
/// services match only when the filters include them.
pub async fn search(
    connection: &mut PgConnection,
    filters: &SearchFilters,
    page: Page,
) -> Result<(u64, Vec<ProviderId>), DirectoryError> {
    let limit = i64::from(page.size);
    let offset =
        i64::try_from(page.offset).map_err(|error| DirectoryError::Internal(error.into()))?;
    let (authority, status) = match &filters.framework {
        Some(membership) => (
            Some(membership.authority.as_str()),
            Some(membership.status.name()),
        ),
        None => (None, None),
    };
    let (total_matches, page_ids): (i64, Vec<Uuid>) = sqlx::query_as(
        "WITH wanted AS ( \
             SELECT CASE WHEN $1::text IS NULL THEN NULL \
                         ELSE websearch_to_tsquery('english', $1::text) END AS words \
         ), matches AS ( \
             SELECT p.id, p.name, p.min_grade, \
                    CASE WHEN wanted.words IS NULL THEN 0 \
                         ELSE ts_rank(p.search_document, wanted.words) END AS relevance \
             FROM provider p CROSS JOIN wanted \
             WHERE (wanted.words IS NULL OR numnode(wanted.words) = 0 \
                    OR p.search_document @@ wanted.words) \
               AND ($2::text IS NULL OR p.service_types_folded @> ARRAY[lower($2::text)]) \
               AND ($3::text IS NULL OR p.localities_folded @> ARRAY[lower($3::text)]) \
               AND ($4::smallint IS NULL OR p.min_grade >= $4::smallint) \
               AND ($5::text IS NULL OR CASE \
                     WHEN $6::text = $8::text THEN NOT EXISTS ( \
                         SELECT 1 FROM framework_membership f \
                         WHERE f.provider_id = p.id AND f.authority = $5::text AND f.status <> $8::text) \
                     ELSE EXISTS ( \
                         SELECT 1 FROM framework_membership f \
                         WHERE f.provider_id = p.id AND f.authority = $5::text AND f.status = $6::text) \
                   END) \
               AND ($7::boolean IS NULL OR p.holds_isfs = $7::boolean) \
               AND ($11::boolean OR p.care_service_status <> $12::text) \
         ) \
         SELECT (SELECT count(*) FROM matches), \
                ARRAY(SELECT id FROM matches \
                      ORDER BY relevance DESC, min_grade DESC NULLS LAST, name, id \
                      LIMIT $9 OFFSET $10)",
    )
    .bind(filters.text.as_deref())
    .bind(filters.service_type.as_deref())
    .bind(filters.locality.as_deref())
    .bind(filters.min_grade.map(|grade| i16::from(grade.get())))
    .bind(authority)
    .bind(status)
    .bind(filters.holds_isfs)
    .bind(FrameworkStatus::OffFramework.name())
    .bind(limit)
    .bind(offset)
    .bind(filters.include_inactive)
    .bind(CareServiceStatus::Inactive.name())
    .fetch_one(&mut *connection)
    .await
    .operation("search providers")?;
    let total_matches =
        u64::try_from(total_matches).map_err(|error| DirectoryError::Internal(error.into()))?;
    Ok((
        total_matches,
        page_ids.into_iter().map(ProviderId::from_uuid).collect(),
    ))
}
