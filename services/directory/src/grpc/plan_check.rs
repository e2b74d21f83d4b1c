//! Asking assessment for the plan a package request is for, before it is published.
//!
//! The call carries the caller's own token, so assessment applies its own rule on who may
//! read the person's plan; the directory adds no privilege of its own, and a person of
//! another authority, or one without a plan, is not told apart from one that does not
//! exist. What the plan allows is decided by [`plan_line`](crate::domain::plan_line).
//!
//! Nothing is written until the plan has been read and the line found fit: when assessment
//! cannot be reached the caller is told to try again, and nothing is published.

use sds_platform::server::ServiceReach;
use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_vocabulary::AuthorityId;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::domain::plan_line::{LineView, PlanView};
use crate::error::DirectoryError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A publish waits this long for assessment; the caller may try again.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the directory reads people's plans: assessment at its configured address, or the
/// one in this process.
#[derive(Debug, Clone)]
pub struct Plans {
    channel: Result<Channel, String>,
}

/// The caller's credentials as they came, passed on unchanged.
#[derive(Debug, Clone)]
pub struct Credentials {
    authorization: Option<AsciiMetadataValue>,
}

impl Credentials {
    pub fn of(metadata: &MetadataMap) -> Credentials {
        Credentials {
            authorization: metadata.get("authorization").cloned(),
        }
    }
}

impl Plans {
    pub fn new(url: Option<&str>, reach: &ServiceReach) -> Plans {
        Plans {
            channel: sds_platform::server::service_channel(
                "assessment",
                url,
                reach,
                CONNECT_TIMEOUT,
                CALL_TIMEOUT,
            ),
        }
    }

    /// The latest approved version of the plan of `person_id`, a person of `authority`, as
    /// the caller may read it: the latest version, or while a variation of it is being
    /// drafted or approved, the version it varies.
    pub async fn approved_plan(
        &self,
        credentials: &Credentials,
        authority: &AuthorityId,
        person_id: Uuid,
    ) -> Result<PlanView, DirectoryError> {
        let latest = self.plan(credentials, authority, person_id, 0).await?;
        let plan =
            if latest.status != proto::PlanStatus::Approved as i32 && latest.previous_version > 0 {
                self.plan(credentials, authority, person_id, latest.previous_version)
                    .await?
            } else {
                latest
            };
        view(&plan).map_err(|problem| {
            DirectoryError::Internal(anyhow::anyhow!(
                "assessment answered with a plan the directory cannot read: {problem}"
            ))
        })
    }

    async fn plan(
        &self,
        credentials: &Credentials,
        authority: &AuthorityId,
        person_id: Uuid,
        version: u32,
    ) -> Result<proto::Plan, DirectoryError> {
        let channel = self.channel.clone().map_err(|problem| {
            DirectoryError::Internal(anyhow::anyhow!("reach assessment: {problem}"))
        })?;
        let mut request = tonic::Request::new(proto::GetPlanRequest {
            person_id: person_id.to_string(),
            version,
        });
        if let Some(authorization) = &credentials.authorization {
            request
                .metadata_mut()
                .insert("authorization", authorization.clone());
        }
        sds_platform::telemetry::inject_into_metadata(request.metadata_mut());
        let not_found = || DirectoryError::PlanNotFound {
            person_id,
            authority: authority.clone(),
        };
        match AssessmentServiceClient::new(channel)
            .get_plan(request)
            .await
        {
            Ok(plan) => {
                let plan = plan.into_inner();
                // Staff of several authorities read plans of each; the request is for one.
                if plan.authority == authority.as_str() {
                    Ok(plan)
                } else {
                    Err(not_found())
                }
            }
            Err(status) => match status.code() {
                tonic::Code::NotFound | tonic::Code::PermissionDenied => Err(not_found()),
                tonic::Code::Unavailable
                | tonic::Code::DeadlineExceeded
                | tonic::Code::Cancelled
                | tonic::Code::ResourceExhausted
                | tonic::Code::Aborted => Err(DirectoryError::AssessmentUnavailable(
                    status.message().to_owned(),
                )),
                // This process does not serve assessment and no address was configured.
                tonic::Code::Unimplemented => Err(DirectoryError::AssessmentUnavailable(
                    "it is not served where the directory calls it; set SDS_ASSESSMENT_URL"
                        .to_owned(),
                )),
                code => Err(DirectoryError::Internal(anyhow::anyhow!(
                    "assessment refused to show the plan ({code:?}): {}",
                    status.message()
                ))),
            },
        }
    }
}

fn date(field: &str, raw: Option<&proto::Date>) -> Result<Option<NaiveDate>, String> {
    super::package_requests::optional_date(field, raw).map_err(|invalid| invalid.to_string())
}

/// The plan as the rule reads it.
fn view(plan: &proto::Plan) -> Result<PlanView, String> {
    let lines =
        plan.lines
            .iter()
            .map(|line| {
                let provider = match line
                    .arrangement
                    .as_ref()
                    .and_then(|arrangement| arrangement.arrangement.as_ref())
                {
                    Some(proto::arrangement::Arrangement::PersonDirected(directed)) => {
                        Some(directed.provider.clone()).filter(|provider| !provider.is_empty())
                    }
                    Some(proto::arrangement::Arrangement::AuthorityArranged(arranged)) => {
                        Some(arranged.provider.clone()).filter(|provider| !provider.is_empty())
                    }
                    _ => None,
                };
                Ok(LineView {
                    number: line.number,
                    option: line.option,
                    provider,
                    weekly: line.weekly.parse::<Decimal>().map_err(|_| {
                        format!("line {}'s weekly is {:?}", line.number, line.weekly)
                    })?,
                    hours: match line
                        .amount
                        .as_ref()
                        .and_then(|amount| amount.amount.as_ref())
                    {
                        Some(proto::line_amount::Amount::HoursAtRate(hours)) => {
                            Some(hours.hours_per_week.parse::<Decimal>().map_err(|_| {
                                format!(
                                    "line {}'s hours are {:?}",
                                    line.number, hours.hours_per_week
                                )
                            })?)
                        }
                        _ => None,
                    },
                    start: date("start", line.start.as_ref())?
                        .ok_or_else(|| format!("line {} has no start", line.number))?,
                    end: date("end", line.end.as_ref())?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
    Ok(PlanView {
        version: plan.version,
        approved: plan.status == proto::PlanStatus::Approved as i32,
        ends_plan: plan.ends_plan,
        lines,
    })
}
