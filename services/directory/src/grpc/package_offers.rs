//! Answers to package requests over gRPC: a provider offers or declines, the authority and
//! the person see the offers ranked, and the person's choice is recorded.

use chrono::NaiveDate;
use sds_money::Money;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::Invalid;
use sds_vocabulary::named_enum::WireEnum as _;
use tracing::info;
use uuid::Uuid;

use super::convert::{date_field, date_message};
use super::package_requests::{request_message, uuid};
use crate::domain::package_access::{self, Shown, Viewer};
use crate::domain::package_answer::{Answer, AnswerInput, AnswerKind, Price, weekly_cost};
use crate::domain::package_request::{Amount, HoldingModel, RequestStatus};
use crate::domain::{CheckStatus, ProviderId, ProviderRecord, offers};
use crate::error::DirectoryError;
use crate::events;
use crate::store;
use crate::store::package_offers::{self, Choice, NewAnswer, StoredAnswer};
use crate::store::package_requests::StoredRequest;

fn money(field: &str, raw: &proto::Money) -> Result<Money, Invalid> {
    Money::parse(raw.amount.trim()).map_err(|error| Invalid::new(field, error.to_string()))
}

/// The answer as given, checked for shape (the rules are [`Answer::new`]'s).
fn answer_input(request: &proto::RespondToPackageRequestRequest) -> Result<AnswerInput, Invalid> {
    let kind = match request.kind {
        0 => None,
        raw => Some(AnswerKind::from_wire("kind", raw)?),
    };
    let (weekly_price, hourly_rate) = match &request.price {
        Some(proto::respond_to_package_request_request::Price::WeeklyPrice(price)) => {
            (Some(money("weekly_price", price)?), None)
        }
        Some(proto::respond_to_package_request_request::Price::HourlyRate(rate)) => {
            (None, Some(money("hourly_rate", rate)?))
        }
        None => (None, None),
    };
    let earliest_start = match &request.earliest_start {
        Some(date) if !date.iso.is_empty() => Some(date_field(
            "earliest_start",
            request.earliest_start.as_ref(),
        )?),
        _ => None,
    };
    Ok(AnswerInput {
        kind,
        weekly_price,
        hourly_rate,
        earliest_start,
        note: request.note.clone(),
    })
}

fn money_message(amount: Money) -> proto::Money {
    proto::Money {
        amount: amount.to_string(),
    }
}

/// An answer as its provider, the authority and the person see it; ranking fields are left
/// for [`ranked_offers`] to fill.
pub fn answer_message(answer: &StoredAnswer, asked: Amount) -> proto::PackageOffer {
    let (price, earliest_start, cost) = match &answer.answer {
        Answer::Offer {
            price,
            earliest_start,
            ..
        } => (
            Some(match price {
                Price::Weekly(weekly) => {
                    proto::package_offer::Price::WeeklyPrice(money_message(*weekly))
                }
                Price::Hourly(hourly) => {
                    proto::package_offer::Price::HourlyRate(money_message(*hourly))
                }
            }),
            Some(date_message(*earliest_start)),
            weekly_cost(*price, asked).map(money_message),
        ),
        Answer::Decline { .. } => (None, None, None),
    };
    let over_budget = match (&answer.answer, asked) {
        (Answer::Offer { price, .. }, Amount::WeeklyBudget(budget)) => {
            weekly_cost(*price, asked).is_some_and(|cost| cost > budget)
        }
        _ => false,
    };
    proto::PackageOffer {
        id: answer.id.to_string(),
        request_id: answer.request_id.to_string(),
        provider_id: answer.provider_id.to_string(),
        kind: answer.answer.kind().wire_number(),
        price,
        earliest_start,
        note: answer.answer.note().to_owned(),
        offered_at: answer.offered_at.to_rfc3339(),
        rank: 0,
        min_grade: 0,
        checks_in_date: false,
        version: answer.version,
        provider_name: String::new(),
        weekly_cost: cost,
        over_budget,
        service_types_covered: 0,
    }
}

/// Whether no check the provider has recorded has lapsed on `today`.
fn checks_in_date(provider: &ProviderRecord, today: NaiveDate) -> bool {
    provider
        .checks
        .iter()
        .all(|check| check.status_on(today) != CheckStatus::Expired)
}

/// How many of the request's service types the provider offers, ignoring case.
fn service_types_covered(request: &StoredRequest, provider: &ProviderRecord) -> u32 {
    let offered: Vec<String> = provider
        .details
        .service_types
        .iter()
        .map(|service_type| service_type.to_lowercase())
        .collect();
    let covered = request
        .content
        .service_types
        .iter()
        .filter(|wanted| offered.contains(&wanted.to_lowercase()))
        .count();
    u32::try_from(covered).unwrap_or(u32::MAX)
}

/// The request's offers best first, then its declines, as [`offers::rank`] orders them.
fn ranked_offers(
    request: &StoredRequest,
    answers: &[StoredAnswer],
    providers: &[ProviderRecord],
    today: NaiveDate,
) -> Vec<proto::PackageOffer> {
    let provider_of = |id: Uuid| {
        providers
            .iter()
            .find(|provider| provider.id.as_uuid() == id)
    };
    let asked = request.content.amount;
    let mut candidates = Vec::new();
    let mut declines = Vec::new();
    for answer in answers {
        let mut message = answer_message(answer, asked);
        if let Some(provider) = provider_of(answer.provider_id) {
            message.provider_name = provider.details.name.clone();
            message.min_grade = provider.min_grade.map_or(0, |grade| u32::from(grade.get()));
            message.checks_in_date = checks_in_date(provider, today);
            message.service_types_covered = service_types_covered(request, provider);
        }
        match &answer.answer {
            Answer::Offer {
                price,
                earliest_start,
                ..
            } => {
                candidates.push((
                    offers::RankedOffer {
                        offer_id: answer.id,
                        checks_in_date: message.checks_in_date,
                        lowest_grade: provider_of(answer.provider_id)
                            .and_then(|provider| provider.min_grade),
                        earliest_start: *earliest_start,
                        service_types_covered: message.service_types_covered,
                        weekly_price_pence: weekly_cost(*price, asked)
                            .map_or(i64::MAX, Money::pence),
                        offered_seq: answer.seq,
                    },
                    message,
                ));
            }
            Answer::Decline { .. } => declines.push(message),
        }
    }
    let wanted = offers::Wanted {
        start: request.content.start_date,
        weekly_budget_pence: match asked {
            Amount::WeeklyBudget(budget) => Some(budget.pence()),
            Amount::HoursPerWeek(_) => None,
        },
    };
    let order = offers::rank(
        candidates
            .iter()
            .map(|(ranked, _)| ranked.clone())
            .collect(),
        wanted,
    );
    let mut ranked = Vec::with_capacity(answers.len());
    for (place, offer) in order.iter().enumerate() {
        if let Some((_, message)) = candidates
            .iter()
            .find(|(candidate, _)| candidate.offer_id == offer.offer_id)
        {
            let mut message = message.clone();
            message.rank = u32::try_from(place + 1).unwrap_or(u32::MAX);
            ranked.push(message);
        }
    }
    ranked.extend(declines);
    ranked
}

/// Who will hold the fund, as the request gives it.
fn holding(request: &proto::AcceptOfferRequest) -> Result<(HoldingModel, Option<String>), Invalid> {
    let model = match request.holding_model {
        0 => {
            return Err(Invalid::new(
                "holding_model",
                "is unspecified; say who will hold the fund: third_party, provider or authority",
            ));
        }
        raw => HoldingModel::from_wire("holding_model", raw)?,
    };
    let holder = request.holder.trim();
    match (model, holder.is_empty()) {
        (HoldingModel::ThirdParty, true) => Err(Invalid::new(
            "holder",
            "is empty; a third-party holding names the holder's organisation id (a UUID)",
        )),
        (HoldingModel::ThirdParty, false) => Uuid::parse_str(holder)
            .ok()
            .filter(|holder| !holder.is_nil())
            .map(|holder| (model, Some(holder.to_string())))
            .ok_or_else(|| {
                Invalid::new(
                    "holder",
                    "is not an organisation id; a third-party holder is named by its organisation id (a UUID)",
                )
            }),
        (_, true) => Ok((model, None)),
        (_, false) => Err(Invalid::new(
            "holder",
            format!("is given, but the fund is held by the {model}; name a holder only for third_party"),
        )),
    }
}

impl super::DirectoryApi {
    pub(super) async fn respond_to_package_request(
        &self,
        principal: &Principal,
        request: proto::RespondToPackageRequestRequest,
    ) -> Result<proto::PackageOffer, DirectoryError> {
        let request_id = uuid("request_id", &request.request_id)?;
        let provider_id = ProviderId::parse("provider_id", &request.provider_id)?.as_uuid();
        package_access::ensure_may_answer(principal, provider_id)?;
        let input = answer_input(&request)?;
        let today = self.clock.today();
        let viewer = Viewer::Provider(provider_id);
        let mut transaction = self.pool.begin().await?;
        let (stored, _, _) = self
            .visible_request(&mut transaction, &viewer, request_id, true)
            .await?
            .ok_or(DirectoryError::RequestNotFound(request_id))?;
        let answer = Answer::new(input, stored.content.amount, today)?;
        if !stored.taking_offers(today) {
            return Err(DirectoryError::RequestNotOpen {
                request_id,
                why: match stored.status {
                    RequestStatus::Open => format!(
                        "stopped taking answers after {}, its closing date",
                        stored.content.closing_date
                    ),
                    RequestStatus::Accepted => "is accepted: the person chose an offer".into(),
                    RequestStatus::Closed => "was closed by the authority".into(),
                },
            });
        }
        if !store::package_requests::provider_matches(&mut transaction, request_id, provider_id)
            .await?
        {
            // It answered before and has since left the request's area or service types.
            return Err(DirectoryError::RequestNotOpen {
                request_id,
                why: "is no longer in your localities and service types; update your record to answer it".into(),
            });
        }
        let (recorded, changed) = package_offers::record_answer(
            &mut transaction,
            &NewAnswer {
                request_id,
                provider_id,
                answer: &answer,
                by: &principal.org_id,
                at: self.clock.now(),
            },
        )
        .await?;
        if !changed {
            // The same answer again: a retry, or a provider pressing send twice.
            transaction.rollback().await?;
            return Ok(answer_message(&recorded, stored.content.amount));
        }
        let version = package_offers::next_request_version(&mut transaction, request_id).await?;
        events::publish(
            &mut transaction,
            events::package_offered(&stored.authority, version, &recorded),
        )
        .await?;
        transaction.commit().await?;
        info!(request_id = %request_id, offer_id = %recorded.id, kind = %recorded.answer.kind(), version = recorded.version, "package request answered");
        Ok(answer_message(&recorded, stored.content.amount))
    }

    pub(super) async fn list_offers(
        &self,
        principal: &Principal,
        request: proto::ListOffersRequest,
    ) -> Result<proto::ListOffersResponse, DirectoryError> {
        let viewer = package_access::viewer(principal)?;
        let request_id = uuid("request_id", &request.request_id)?;
        let mut connection = self.pool.acquire().await?;
        let (stored, _, _) = self
            .visible_request(&mut connection, &viewer, request_id, false)
            .await?
            .filter(|(stored, _, _)| {
                package_access::may_see_offers(&viewer, &stored.authority, stored.line.person_id)
            })
            .ok_or(DirectoryError::RequestNotFound(request_id))?;
        let answers = package_offers::answers_to(&mut connection, request_id).await?;
        let ids: Vec<ProviderId> = answers
            .iter()
            .map(|answer| ProviderId::from_uuid(answer.provider_id))
            .collect();
        let providers = store::load_providers(&mut connection, &ids).await?;
        Ok(proto::ListOffersResponse {
            offers: ranked_offers(&stored, &answers, &providers, self.clock.today()),
        })
    }

    pub(super) async fn accept_offer(
        &self,
        principal: &Principal,
        request: proto::AcceptOfferRequest,
    ) -> Result<proto::PackageRequest, DirectoryError> {
        let viewer = package_access::viewer(principal)?;
        let request_id = uuid("request_id", &request.request_id)?;
        let offer_id = uuid("offer_id", &request.offer_id)?;
        let (holding_model, holder) = holding(&request)?;
        let mut transaction = self.pool.begin().await?;
        let (stored, _, _) = self
            .visible_request(&mut transaction, &viewer, request_id, true)
            .await?
            .filter(|(stored, _, _)| {
                package_access::may_see_offers(&viewer, &stored.authority, stored.line.person_id)
            })
            .ok_or(DirectoryError::RequestNotFound(request_id))?;
        package_access::ensure_may_accept(principal, &stored.authority, stored.line.person_id)?;
        let answers = package_offers::answers_to(&mut transaction, request_id).await?;
        let offer = answers.iter().find(|answer| answer.id == offer_id).ok_or(
            DirectoryError::OfferNotFound {
                request_id,
                offer_id,
            },
        )?;
        if let Some(accepted) = &stored.accepted {
            if accepted.offer_id == offer_id
                && accepted.holding_model == holding_model
                && accepted.holder == holder
            {
                // Recorded already: a retry changes nothing.
                transaction.rollback().await?;
                return Ok(request_message(&stored, Shown::Full, None));
            }
            return Err(DirectoryError::RequestNotOpen {
                request_id,
                why: format!(
                    "is already accepted (offer {}); the choice is changed by varying the plan, not by accepting another offer",
                    accepted.offer_id
                ),
            });
        }
        if stored.status == RequestStatus::Closed {
            return Err(DirectoryError::RequestNotOpen {
                request_id,
                why: "was closed by the authority; publish a new request".into(),
            });
        }
        if offer.answer.kind() == AnswerKind::Decline {
            return Err(DirectoryError::RequestNotOpen {
                request_id,
                why: format!("has {offer_id} as a decline, not an offer; choose one of its offers"),
            });
        }
        if request.offer_version != 0 && request.offer_version != offer.version {
            return Err(DirectoryError::OfferChanged {
                offer_id,
                expected: request.offer_version,
                current: offer.version,
            });
        }
        package_offers::record_acceptance(
            &mut transaction,
            &Choice {
                request_id,
                offer_id,
                holding_model,
                holder: holder.as_deref(),
                by: &principal.org_id,
                at: self.clock.now(),
            },
        )
        .await?;
        let accepted = store::package_requests::load_request(&mut transaction, request_id, false)
            .await?
            .ok_or(DirectoryError::RequestNotFound(request_id))?;
        let closed_for: Vec<Uuid> = answers
            .iter()
            .filter(|answer| answer.id != offer_id)
            .map(|answer| answer.provider_id)
            .collect();
        if let Some(event) = events::package_accepted(&accepted, &closed_for) {
            events::publish(&mut transaction, event).await?;
        }
        transaction.commit().await?;
        info!(request_id = %request_id, offer_id = %offer_id, "package offer accepted");
        Ok(request_message(&accepted, Shown::Full, None))
    }
}
