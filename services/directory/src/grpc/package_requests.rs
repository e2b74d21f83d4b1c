//! Package requests over gRPC: publishing one, and listing and reading them as the caller may
//! see them (answering, ranking and accepting are in `package_offers`).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::{AuthorityId, Invalid};
use tracing::info;
use uuid::Uuid;

use super::convert::{date_field, date_message};
use super::package_offers::answer_message;
use super::plan_check::Credentials;
use crate::domain::access;
use crate::domain::package_access::{self, Audience, Shown, Viewer};
use crate::domain::package_request::{Amount, RequestContent, RequestInput, RequestStatus};
use crate::domain::plan_line;
use crate::domain::search::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::DirectoryError;
use crate::events;
use crate::store::package_offers::{self, StoredAnswer};
use crate::store::package_requests::{
    self, ListPage, ListedFor, NewRequest, PlanLine, StoredRequest,
};
use sds_vocabulary::named_enum::WireEnum as _;

pub(super) fn uuid(field: &str, raw: &str) -> Result<Uuid, Invalid> {
    Uuid::parse_str(raw.trim())
        .ok()
        .filter(|id| !id.is_nil())
        .ok_or_else(|| {
            Invalid::new(
                field,
                format!("is {}; give a UUID", sds_vocabulary::shown(raw)),
            )
        })
}

pub(super) fn optional_date(
    field: &str,
    raw: Option<&proto::Date>,
) -> Result<Option<NaiveDate>, Invalid> {
    match raw {
        Some(date) if !date.iso.is_empty() => date_field(field, Some(date)).map(Some),
        _ => Ok(None),
    }
}

/// The content as given, checked for shape (the rules are [`RequestContent::new`]'s).
fn input(content: &proto::PackageRequestContent) -> Result<RequestInput, Invalid> {
    let (hours_per_week, weekly_budget) = match &content.amount {
        Some(proto::package_request_content::Amount::HoursPerWeek(hours)) => {
            let written = hours.trim();
            // Digits and one point only: no exponent, sign or separator.
            let plain = !written.is_empty()
                && written.chars().all(|c| c.is_ascii_digit() || c == '.')
                && written.matches('.').count() <= 1;
            let hours: Decimal = written.parse().ok().filter(|_| plain).ok_or_else(|| {
                Invalid::new(
                    "content.hours_per_week",
                    format!(
                        "is {}; give hours as a plain number such as 12.5",
                        sds_vocabulary::shown(hours)
                    ),
                )
            })?;
            (Some(hours), None)
        }
        Some(proto::package_request_content::Amount::WeeklyBudget(budget)) => {
            let budget = Money::parse(&budget.amount)
                .map_err(|error| Invalid::new("content.weekly_budget", error.to_string()))?;
            (None, Some(budget))
        }
        None => (None, None),
    };
    Ok(RequestInput {
        needs_summary: content.needs_summary.clone(),
        service_types: content.service_types.clone(),
        locality: content.locality.clone(),
        hours_per_week,
        weekly_budget,
        start_date: optional_date("content.start_date", content.start_date.as_ref())?,
        closing_date: optional_date("content.closing_date", content.closing_date.as_ref())?,
    })
}

pub fn content_message(content: &RequestContent) -> proto::PackageRequestContent {
    proto::PackageRequestContent {
        needs_summary: content.needs_summary.clone(),
        service_types: content.service_types.clone(),
        locality: content.locality.clone(),
        amount: Some(match content.amount {
            Amount::HoursPerWeek(hours) => {
                proto::package_request_content::Amount::HoursPerWeek(hours.to_string())
            }
            Amount::WeeklyBudget(budget) => {
                proto::package_request_content::Amount::WeeklyBudget(proto::Money {
                    amount: budget.to_string(),
                })
            }
        }),
        start_date: Some(date_message(content.start_date)),
        closing_date: Some(date_message(content.closing_date)),
    }
}

impl super::DirectoryApi {
    pub(super) async fn publish_package_request(
        &self,
        principal: &Principal,
        credentials: &Credentials,
        request: proto::PublishPackageRequestRequest,
    ) -> Result<proto::PackageRequest, DirectoryError> {
        let authority = AuthorityId::parse("authority", &request.authority)?;
        access::ensure_may_publish_request(principal, &authority)?;
        let line = PlanLine {
            person_id: uuid("person_id", &request.person_id)?,
            plan_id: uuid("plan_id", &request.plan_id)?,
            line_number: match request.line_number {
                0 => {
                    return Err(Invalid::new(
                        "line_number",
                        "is 0; plan lines are numbered from 1",
                    )
                    .into());
                }
                number if i32::try_from(number).is_err() => {
                    return Err(Invalid::new(
                        "line_number",
                        format!("is {number}; a plan has far fewer lines"),
                    )
                    .into());
                }
                number => number,
            },
        };
        let today = self.clock.today();
        let given = request
            .content
            .as_ref()
            .ok_or_else(|| Invalid::new("content", "is missing; give what providers are shown"))?;
        let content = RequestContent::new(input(given)?, today).map_err(|invalid| {
            Invalid::new(format!("content.{}", invalid.field()), invalid.problem())
        })?;
        let plan = self
            .plans
            .approved_plan(credentials, &authority, line.person_id)
            .await?;
        plan_line::ensure_line_may_be_requested(&plan, line.line_number, &content)?;
        let id = Uuid::now_v7();
        let now = self.clock.now();
        let mut transaction = self.pool.begin().await?;
        package_requests::insert_request(
            &mut transaction,
            &NewRequest {
                id,
                authority: &authority,
                line,
                content: &content,
                by: &principal.org_id,
                at: now,
                on: today,
            },
        )
        .await?;
        events::publish(
            &mut transaction,
            events::package_requested(&authority, id, content_message(&content)),
        )
        .await?;
        transaction.commit().await?;
        info!(request_id = %id, authority = %authority, "package request published");
        let stored = package_requests::load_request(&mut *self.pool.acquire().await?, id, false)
            .await?
            .ok_or(DirectoryError::RequestNotFound(id))?;
        Ok(request_message(&stored, Shown::Full, None))
    }
}

/// A request as `shown` to the caller; `your_answer` is a provider's own answer.
pub fn request_message(
    request: &StoredRequest,
    shown: Shown,
    your_answer: Option<proto::PackageOffer>,
) -> proto::PackageRequest {
    let full = shown == Shown::Full;
    let accepted = request.accepted.as_ref().filter(|_| full);
    proto::PackageRequest {
        id: request.id.to_string(),
        authority: request.authority.as_str().to_owned(),
        content: Some(content_message(&request.content)),
        status: request.status.wire_number(),
        person_id: if full {
            request.line.person_id.to_string()
        } else {
            String::new()
        },
        plan_id: if full {
            request.line.plan_id.to_string()
        } else {
            String::new()
        },
        line_number: if full { request.line.line_number } else { 0 },
        accepted_offer_id: accepted.map(|a| a.offer_id.to_string()).unwrap_or_default(),
        published_at: request.published_at.to_rfc3339(),
        // Every answer raises the version: shown to a provider it would count its
        // competitors' offers.
        version: if full { request.version } else { 0 },
        your_answer,
        holding_model: accepted.map_or(0, |a| a.holding_model.wire_number()),
        holder: accepted.and_then(|a| a.holder.clone()).unwrap_or_default(),
    }
}

/// What `viewer`'s visibility of `request` depends on; `answered` says whether a provider
/// viewer has answered it, `matches` whether it matches the provider.
fn audience(
    request: &StoredRequest,
    today: NaiveDate,
    matches: bool,
    answered: bool,
) -> Audience<'_> {
    Audience {
        authority: &request.authority,
        person_id: request.line.person_id,
        taking_offers: request.taking_offers(today),
        matches_provider: matches,
        answered_by_provider: answered,
        accepted_provider: request
            .accepted
            .as_ref()
            .map(|accepted| accepted.provider_id),
    }
}

fn page_size(raw: u32) -> Result<u32, Invalid> {
    match raw {
        0 => Ok(DEFAULT_PAGE_SIZE),
        size if size > MAX_PAGE_SIZE => Err(Invalid::new(
            "page.page_size",
            format!(
                "is {size}; at most {MAX_PAGE_SIZE} are accepted (0 means {DEFAULT_PAGE_SIZE})"
            ),
        )),
        size => Ok(size),
    }
}

impl super::DirectoryApi {
    /// A request and how much of it `viewer` is shown, with a provider's own answer; `None`
    /// when the viewer may not see it at all.
    pub(super) async fn visible_request(
        &self,
        connection: &mut sqlx::PgConnection,
        viewer: &Viewer,
        id: Uuid,
        lock: bool,
    ) -> Result<Option<(StoredRequest, Shown, Option<StoredAnswer>)>, DirectoryError> {
        let Some(request) = package_requests::load_request(connection, id, lock).await? else {
            return Ok(None);
        };
        let (matches, answer) = match viewer {
            Viewer::Provider(provider) => (
                package_requests::provider_matches(connection, id, *provider).await?,
                package_offers::answers_of_provider(connection, *provider, &[id])
                    .await?
                    .into_iter()
                    .next(),
            ),
            _ => (false, None),
        };
        let shown = package_access::shown(
            viewer,
            &audience(&request, self.clock.today(), matches, answer.is_some()),
        );
        Ok((shown != Shown::Hidden).then_some((request, shown, answer)))
    }

    pub(super) async fn get_package_request(
        &self,
        principal: &Principal,
        request: proto::GetPackageRequestRequest,
    ) -> Result<proto::PackageRequest, DirectoryError> {
        let viewer = package_access::viewer(principal)?;
        let id = uuid("id", &request.id)?;
        let mut connection = self.pool.acquire().await?;
        let (stored, shown, answer) = self
            .visible_request(&mut connection, &viewer, id, false)
            .await?
            .ok_or(DirectoryError::RequestNotFound(id))?;
        let content = &stored.content;
        Ok(request_message(
            &stored,
            shown,
            answer.map(|answer| answer_message(&answer, content.amount)),
        ))
    }

    pub(super) async fn list_package_requests(
        &self,
        principal: &Principal,
        request: proto::ListPackageRequestsRequest,
    ) -> Result<proto::ListPackageRequestsResponse, DirectoryError> {
        let viewer = package_access::viewer(principal)?;
        let status = match request.status {
            0 => None,
            raw => Some(RequestStatus::from_wire("status", raw)?),
        };
        let page = request.page.unwrap_or_default();
        let after = match page.page_token.trim() {
            "" => None,
            token => Some(uuid("page.page_token", token).map_err(|_| {
                Invalid::new(
                    "page.page_token",
                    "is not a token this list issued; list again without a page token to start from the first page",
                )
            })?),
        };
        let size = page_size(page.page_size)?;
        let today = self.clock.today();
        let listed_for = match &viewer {
            Viewer::Staff(authorities) => {
                ListedFor::Authorities(authorities.iter().map(|a| a.as_str().to_owned()).collect())
            }
            Viewer::Person(person) => ListedFor::Person(*person),
            Viewer::Provider(id) => ListedFor::Provider { id: *id, today },
        };
        let mut connection = self.pool.acquire().await?;
        let (requests, total) = package_requests::list_requests(
            &mut connection,
            &listed_for,
            ListPage {
                status,
                after,
                size,
            },
        )
        .await?;
        let answers = match &viewer {
            Viewer::Provider(provider) => {
                let ids: Vec<Uuid> = requests.iter().map(|request| request.id).collect();
                package_offers::answers_of_provider(&mut connection, *provider, &ids).await?
            }
            _ => Vec::new(),
        };
        let mut messages = Vec::with_capacity(requests.len());
        for request in &requests {
            let answer = answers
                .iter()
                .find(|answer| answer.request_id == request.id);
            // The list's query already chose what this viewer may see; a provider's listed
            // request matches it unless the provider answered it.
            let shown =
                package_access::shown(&viewer, &audience(request, today, true, answer.is_some()));
            if shown == Shown::Hidden {
                continue;
            }
            messages.push(request_message(
                request,
                shown,
                answer.map(|answer| answer_message(answer, request.content.amount)),
            ));
        }
        let next_page_token = match requests.last() {
            Some(last) if requests.len() == size as usize => last.id.to_string(),
            _ => String::new(),
        };
        Ok(proto::ListPackageRequestsResponse {
            requests: messages,
            page: Some(proto::PageResponse {
                next_page_token,
                total_matches: total,
            }),
        })
    }
}
