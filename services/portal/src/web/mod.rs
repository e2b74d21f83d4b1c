//! The portal's web pages, served by the process's web listener under `/portal`:
//! sign-in by token, the provider's dashboard and the person's page. Server-rendered HTML
//! that needs no script, with the same authorisation as gRPC: who sees what follows from
//! the verified token alone, never from what a URL asks for.
//!
//! Modules: [`session`] (the cookie and CSRF), [`sign_in`], [`dashboard`], [`requests`]
//! (open requests and the answer form), [`packages`] (active packages and their next
//! payments), [`remittances`], [`actuals`] and [`actuals_upload`] (reports of delivery),
//! [`person`] with [`person_page`], [`statement`] and
//! [`chart`] (the person's page), [`calls`] (gRPC to other services), [`notices`]
//! (notifications in words), [`html`] (escaping and the page frame), [`words`] (money and
//! dates as people write them) and [`respond`] (headers and the refusal pages).

pub mod access;
pub mod actuals;
pub mod actuals_upload;
pub mod calls;
pub mod chart;
pub mod dashboard;
pub mod draws;
pub mod html;
pub mod notices;
pub mod packages;
pub mod person;
pub mod person_page;
pub mod remittances;
pub mod requests;
pub mod respond;
pub mod session;
pub mod sign_in;
pub mod statement;
pub mod words;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse as _;
use axum::routing::{get, post};
use sds_platform::{Authenticator, Clock};
use sds_runtime::Context;
use sqlx::PgPool;

/// What every page handler works with.
#[derive(Debug, Clone)]
pub struct WebState {
    pub authenticator: Authenticator,
    pub pool: PgPool,
    pub clock: Clock,
    pub services: calls::Services,
}

const STYLESHEET: &str = include_str!("style.css");

/// The value a posted form gives `name` (its first), trimmed; empty when it gives none.
pub fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
        .unwrap_or_default()
}

/// The portal's routes, every one under `/portal`.
pub fn routes(context: &Context) -> Router {
    let state = WebState {
        authenticator: context.authenticator.clone(),
        pool: context.pool.clone(),
        clock: context.clock.clone(),
        services: calls::Services::new(context),
    };
    Router::new()
        .route("/portal", get(sign_in::start))
        .route("/portal/sign-in", get(sign_in::show).post(sign_in::submit))
        .route("/portal/sign-out", post(sign_in::sign_out))
        .route("/portal/provider", get(dashboard::own))
        .route("/portal/providers/{provider_id}", get(dashboard::of))
        .route("/portal/provider/answers", post(requests::answer))
        .route("/portal/provider/actuals", post(actuals::report))
        .route("/portal/provider/draws", post(draws::record))
        .route(
            "/portal/provider/actuals/upload",
            post(actuals_upload::upload),
        )
        .route("/portal/me", get(person::own))
        .route("/portal/people/{person_id}", get(person::of))
        .route("/portal/style.css", get(stylesheet))
        .with_state(state)
}

async fn stylesheet() -> axum::response::Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}
