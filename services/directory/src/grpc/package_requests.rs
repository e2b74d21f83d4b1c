//! Package requests over gRPC: publishing one (answering, ranking and accepting are to come).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::{AuthorityId, Invalid};
use tracing::info;
use uuid::Uuid;

use super::convert::{date_field, date_message};
use crate::domain::access;
use crate::domain::package_request::{Amount, RequestContent, RequestInput};
use crate::error::DirectoryError;
use crate::events;
use crate::store::package_requests::{self, NewRequest, PlanLine};

fn uuid(field: &str, raw: &str) -> Result<Uuid, Invalid> {
    Uuid::parse_str(raw.trim())
        .ok()
        .filter(|id| !id.is_nil())
        .ok_or_else(|| Invalid::new(field, format!("is {raw:?}; give a UUID")))
}

fn optional_date(field: &str, raw: Option<&proto::Date>) -> Result<Option<NaiveDate>, Invalid> {
    match raw {
        Some(date) if !date.iso.is_empty() => date_field(field, Some(date)).map(Some),
        _ => Ok(None),
    }
}

/// The content as given, checked for shape (the rules are [`RequestContent::new`]'s).
fn input(content: &proto::PackageRequestContent) -> Result<RequestInput, Invalid> {
    let (hours_per_week, weekly_budget) = match &content.amount {
        Some(proto::package_request_content::Amount::HoursPerWeek(hours)) => {
            let hours: Decimal = hours.trim().parse().map_err(|_| {
                Invalid::new(
                    "content.hours_per_week",
                    format!("is {hours:?}; give hours as a number such as 12.5"),
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
        Ok(proto::PackageRequest {
            id: id.to_string(),
            authority: authority.as_str().to_owned(),
            content: Some(content_message(&content)),
            status: proto::PackageRequestStatus::Open as i32,
            person_id: line.person_id.to_string(),
            plan_id: line.plan_id.to_string(),
            line_number: line.line_number,
            accepted_offer_id: String::new(),
            published_at: now.to_rfc3339(),
            version: 1,
        })
    }
}
