//! The person's page: their plan in plain words, their budget, who provides what, their
//! agreement in plain words, and how the money was spent with a chart of budget against
//! spend. Printable (the stylesheet's print rules hide the forms and the header).
//!
//! Who the page is for comes from the token's `person_id` alone. Assessment shows plans to
//! staff only, so the portal asks it as staff of the person's authority for that one
//! person; contracts, payments and the ledger show a person their own records, so the
//! portal asks them with the person's own token. Nothing here is logged but ids of
//! organisations and the kind of failure: never the person's name or id.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sds_platform::OrgKind;
use sds_proto::v1 as proto;
use sds_vocabulary::AuthorityId;
use uuid::Uuid;

use super::WebState;
use super::access::{signed_in, viewer};
use super::html::page;
use super::person_page::{Gathered, render_body};
use super::respond::{forbidden, html};
use super::session::Session;
use super::statement;

/// `/portal/me`: the signed-in person's own page.
pub async fn own(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    match person_of(&session) {
        Ok((person, authority)) => render(&state, &session, person, authority).await,
        Err(refused) => refused,
    }
}

/// `/portal/people/{id}`: the same page, for the person themselves only.
pub async fn of(
    State(state): State<WebState>,
    Path(person_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let session = match signed_in(&state, &headers) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let (person, authority) = match person_of(&session) {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if Uuid::parse_str(&person_id).ok() != Some(person) {
        return forbidden(
            Some(&viewer(&session)),
            "This is another person's page. You can only see your own.",
        );
    }
    render(&state, &session, person, authority).await
}

/// The person and their authority the session speaks for, or the 403 page.
fn person_of(session: &Session) -> Result<(Uuid, AuthorityId), Response> {
    let refuse = |reason: &str| Err(forbidden(Some(&viewer(session)), reason));
    let principal = &session.principal;
    if principal.org_kind != OrgKind::Person {
        return refuse(
            "This page is only for the person the support is for. You are signed in as someone else.",
        );
    }
    let Some(person) = principal
        .person_id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
    else {
        return refuse("Your sign-in token does not say who you are. Ask for a new token.");
    };
    // A person belongs to one authority; their token names it.
    let Some(authority) = principal.authorities.first().cloned() else {
        return refuse("Your sign-in token does not name your council. Ask for a new token.");
    };
    Ok((person, authority))
}

async fn render(
    state: &WebState,
    session: &Session,
    person: Uuid,
    authority: AuthorityId,
) -> Response {
    let gathered = gather(state, session, person, &authority).await;
    html(
        StatusCode::OK,
        page(
            "Your support and your money",
            Some(&viewer(session)),
            &render_body(&gathered),
        ),
        &[],
    )
}

/// Reads what the page shows; each part that cannot be read is left out and said so on the
/// page, so one service being down does not hide the rest.
async fn gather(
    state: &WebState,
    session: &Session,
    person: Uuid,
    authority: &AuthorityId,
) -> Gathered {
    use super::calls::{CallError, Services, as_caller};
    use proto::assessment_service_client::AssessmentServiceClient;
    use proto::contracts_service_client::ContractsServiceClient;

    let services = &state.services;
    let name = async {
        let mut client = AssessmentServiceClient::new(Services::channel(&services.assessment)?);
        let found = client
            .get_person(services.as_portal(
                authority,
                proto::GetPersonRequest {
                    id: person.to_string(),
                },
            )?)
            .await
            .map_err(|status| CallError::refused("assessment", status))?;
        Ok::<_, CallError>(
            found
                .into_inner()
                .details
                .map(|details| details.display_name)
                .unwrap_or_default(),
        )
    };
    let plan = async {
        let mut client = AssessmentServiceClient::new(Services::channel(&services.assessment)?);
        let found = client
            .get_plan(services.as_portal(
                authority,
                proto::GetPlanRequest {
                    person_id: person.to_string(),
                    version: 0,
                },
            )?)
            .await
            .map_err(|status| CallError::refused("assessment", status))?;
        Ok::<_, CallError>(found.into_inner())
    };
    let agreements = async {
        let mut client = ContractsServiceClient::new(Services::channel(&services.contracts)?);
        let listed = client
            .list_agreements(as_caller(
                &session.token,
                proto::ListAgreementsRequest {
                    person_id: person.to_string(),
                    ..Default::default()
                },
            )?)
            .await
            .map_err(|status| CallError::refused("contracts", status))?;
        let mut found = Vec::new();
        for agreement in listed.into_inner().agreements {
            let summary = client
                .get_agreement_summary(as_caller(
                    &session.token,
                    proto::GetAgreementSummaryRequest {
                        agreement_id: agreement.id.clone(),
                    },
                )?)
                .await
                .map(|answer| answer.into_inner().text)
                .unwrap_or_default();
            found.push((agreement, summary));
        }
        Ok::<_, CallError>(found)
    };
    let (name, plan, agreements) = tokio::join!(name, plan, agreements);
    let log = |part: &str, error: &CallError| {
        tracing::warn!(part, error = %error, "a part of the person's page could not be read");
    };
    let name = name.inspect_err(|error| log("person", error)).ok();
    // No plan yet is NotFound: a fact for the page, not a failure.
    let plan = match plan {
        Ok(plan) => Ok(Some(plan)),
        Err(CallError::Refused {
            code: tonic::Code::NotFound,
            ..
        }) => Ok(None),
        Err(error) => {
            log("plan", &error);
            Err(())
        }
    };
    let agreements = agreements
        .inspect_err(|error| log("agreements", error))
        .map_err(|_| ());
    let today = state.clock.today();
    let months = match &agreements {
        Ok(found) => statement::months(services, session, found, today).await,
        Err(()) => Err(()),
    };
    Gathered {
        name,
        plan,
        agreements,
        months,
        today,
    }
}
