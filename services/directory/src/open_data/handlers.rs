//! The HTTP side of the feed: read the request strictly, ask the store for one page, map
//! it, and answer JSON with headers that suit open data (anyone may cache it for a few
//! minutes, any web page may fetch it).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::hsds::{self, Detail};
use super::page::Page;
use super::parameters::{BadParameter, ListKind, read_list_request};
use super::publication::is_published;
use super::{HSDS_OPENAPI_URL, HSDS_PROFILE_URL, Publisher};
use crate::domain::{ProviderId, ProviderRecord};
use crate::error::DirectoryError;
use crate::store;

/// What every route shares.
#[derive(Debug, Clone)]
pub(super) struct Feed {
    pub pool: PgPool,
    pub publisher: Publisher,
}

/// The directory changes a few times a day; five minutes of caching spares the database
/// a harvester's repeats without leaving a change unseen for long.
const CACHE_SUCCESS: &str = "public, max-age=300";
/// A refusal or a missing id may be put right at once, so it is not cached.
const CACHE_REFUSAL: &str = "no-store";

type Answer = Result<Response, Response>;

/// A query string as `(name, value)` pairs; one that cannot be decoded at all is refused
/// as JSON like any other bad parameter.
type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn pairs_of(query: Pairs) -> Result<Vec<(String, String)>, Response> {
    query.map(|Query(pairs)| pairs).map_err(|rejection| {
        bad_parameter(BadParameter {
            parameter: "query".to_owned(),
            message: format!(
                "the query string cannot be read ({rejection}); give name=value pairs joined by &, percent-encoded as UTF-8"
            ),
        })
    })
}

pub(super) async fn meta(State(feed): State<Feed>) -> Response {
    let publisher = &feed.publisher;
    let mut publisher_json = json!({ "name": publisher.name });
    if let Some(website) = &publisher.website {
        publisher_json["website"] = json!(website);
    }
    if let Some(email) = &publisher.email {
        publisher_json["email"] = json!(email);
    }
    let body = json!({
        "version": "3.0",
        "profile": HSDS_PROFILE_URL,
        "openapi_url": HSDS_OPENAPI_URL,
        "description": super::DESCRIPTION,
        "publisher": publisher_json,
    });
    success(&body)
}

pub(super) async fn services(State(feed): State<Feed>, query: Pairs) -> Response {
    answer(
        list(&feed, ListKind::Services, query, |record| {
            hsds::service(record, Detail::Listed)
        })
        .await,
    )
}

pub(super) async fn organizations(State(feed): State<Feed>, query: Pairs) -> Response {
    answer(
        list(
            &feed,
            ListKind::Organizations,
            query,
            hsds::organization_listed,
        )
        .await,
    )
}

/// Always an empty page: the directory records no addresses, so there is no service at a
/// location to list. The parameters are still read, so a harvester's mistakes are told.
pub(super) async fn service_at_locations(query: Pairs) -> Response {
    answer(pairs_of(query).and_then(|pairs| {
        read_list_request(ListKind::Services, &pairs)
            .map_err(bad_parameter)
            .map(|request| success(&Page::<serde_json::Value>::new(request.page, 0, Vec::new())))
    }))
}

pub(super) async fn service(State(feed): State<Feed>, Path(id): Path<String>) -> Response {
    answer(
        one(&feed, "service", &id)
            .await
            .map(|record| success(&hsds::service(&record, Detail::Full))),
    )
}

pub(super) async fn organization(State(feed): State<Feed>, Path(id): Path<String>) -> Response {
    answer(
        one(&feed, "organization", &id)
            .await
            .map(|record| success(&hsds::organization_full(&record))),
    )
}

pub(super) async fn service_at_location(Path(id): Path<String>) -> Response {
    answer(read_id("service_at_location", &id).and_then(|_| {
        Err(refusal(
            StatusCode::NOT_FOUND,
            json!({
                "error": "not_found",
                "parameter": "id",
                "message": format!(
                    "no service_at_location has id {id}; this directory records no addresses, so it publishes no locations (see /open-data/hsds/services for services and their service_areas)"
                ),
            }),
        ))
    }))
}

async fn list<T: Serialize>(
    feed: &Feed,
    kind: ListKind,
    query: Pairs,
    map: impl Fn(&ProviderRecord) -> T,
) -> Answer {
    let pairs = pairs_of(query)?;
    let request = read_list_request(kind, &pairs).map_err(bad_parameter)?;
    let mut connection = feed
        .pool
        .acquire()
        .await
        .map_err(|error| internal(DirectoryError::Database(error)))?;
    let (total, ids) = store::open_data::published_page(
        &mut connection,
        &request.filters,
        request.page.per_page,
        request.page.offset(),
    )
    .await
    .map_err(internal)?;
    let records = store::load_providers(&mut connection, &ids)
        .await
        .map_err(internal)?;
    // A provider made inactive between the two reads is left out rather than shown.
    let contents: Vec<T> = records
        .iter()
        .filter(|record| is_published(record))
        .map(map)
        .collect();
    Ok(success(&Page::new(request.page, total, contents)))
}

/// The published provider `id` names; what it is called (`entity`) only words the 404.
async fn one(feed: &Feed, entity: &str, id: &str) -> Result<ProviderRecord, Response> {
    let uuid = read_id(entity, id)?;
    let mut connection = feed
        .pool
        .acquire()
        .await
        .map_err(|error| internal(DirectoryError::Database(error)))?;
    let record = store::load_provider(&mut connection, ProviderId::from_uuid(uuid))
        .await
        .map_err(internal)?;
    // Unpublished providers answer exactly as unknown ids do, so the feed does not tell
    // that a personal assistant is in the directory.
    match record.filter(is_published) {
        Some(record) => Ok(record),
        None => Err(refusal(
            StatusCode::NOT_FOUND,
            json!({
                "error": "not_found",
                "parameter": "id",
                "message": format!("no {entity} has id {uuid} in this feed"),
            }),
        )),
    }
}

fn read_id(entity: &str, raw: &str) -> Result<Uuid, Response> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        refusal(
            StatusCode::BAD_REQUEST,
            json!({
                "error": "bad_parameter",
                "parameter": "id",
                "message": format!(
                    "id is {}; a {entity} id in this feed is a UUID such as 0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b",
                    sds_vocabulary::shown(raw)
                ),
            }),
        )
    })
}

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(|refused| refused)
}

fn success<T: Serialize>(body: &T) -> Response {
    with_headers(StatusCode::OK, body, CACHE_SUCCESS)
}

fn refusal(status: StatusCode, body: serde_json::Value) -> Response {
    with_headers(status, &body, CACHE_REFUSAL)
}

fn bad_parameter(refused: BadParameter) -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        json!({
            "error": "bad_parameter",
            "parameter": refused.parameter,
            "message": refused.message,
        }),
    )
}

/// Logged once here with its chain; the caller learns only that it failed. The chain names
/// the operation and the database's words, never a provider's details.
fn internal(error: DirectoryError) -> Response {
    let unavailable = match &error {
        DirectoryError::Store(store) => store.is_unavailable(),
        DirectoryError::Database(database) => matches!(
            database,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
        ),
        _ => false,
    };
    if unavailable {
        // The database is away, not broken: a harvester should come back, not give up.
        let mut response = refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "error": "unavailable",
                "message": "The directory is not answering just now. Please try again in a moment.",
            }),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return response;
    }
    tracing::error!(error = %format!("{:#}", anyhow::Error::new(error)), "open data request failed");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({
            "error": "internal",
            "message": "The directory could not answer just now. Please try again in a moment.",
        }),
    )
}

fn with_headers<T: Serialize>(status: StatusCode, body: &T, cache: &'static str) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Open data: any web page may read it, as none of it is behind a token.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    // Provider names are data, never markup: no browser may sniff the JSON as a page.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
