//! The `sds.v1.AssessmentService` handlers. Each one reads the caller from the request,
//! converts the message into domain types (refusing bad input), asks `domain::access`
//! whether the caller may, and only then opens a transaction. Every change to and read of
//! a person's record is written to their audit trail in the same transaction, and every
//! read of a person's record or plan to the read audit trail too ([`reads`]).

mod budget;
mod case_rows;
pub mod choice;
pub mod convert;
mod import;
mod imported_plan;
mod lookup;
pub mod plan_wire;
mod plans;
mod reads;
mod statistics;
mod variations;

use chrono::NaiveDate;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_proto::v1::assessment_service_server::AssessmentService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use tracing::info;
use uuid::Uuid;

use crate::domain::access;
use crate::domain::{Invalid, decide_eligibility, policy_in_effect};
use crate::error::AssessmentError;
use crate::store::{self, AssessmentRecord, PersonRecord, Recorded};

/// How far ahead a policy may be set: two years. Further than that is a typo (2062 for
/// 2026), and a policy is replaceable only until it takes effect.
const MAX_POLICY_DAYS_AHEAD: u64 = 731;

/// The assessment service over its PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct AssessmentApi {
    pool: PgPool,
    clock: Clock,
}

impl AssessmentApi {
    pub fn new(pool: PgPool, clock: Clock) -> AssessmentApi {
        AssessmentApi { pool, clock }
    }

    fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// The person, if the caller may see them. Staff of another authority are told the
    /// person is not recorded: which authority supports someone is itself personal.
    async fn person_for(
        &self,
        connection: &mut sqlx::PgConnection,
        principal: &Principal,
        id: Uuid,
        rule: fn(&Principal, &sds_vocabulary::AuthorityId) -> Result<(), access::Denied>,
    ) -> Result<PersonRecord, AssessmentError> {
        let person = store::load_person(connection, id)
            .await?
            .ok_or(AssessmentError::PersonNotFound(id))?;
        if access::ensure_may_read(principal, &person.authority).is_err() {
            return Err(AssessmentError::PersonNotFound(id));
        }
        rule(principal, &person.authority)?;
        Ok(person)
    }
}

/// Refuses callers that are not an authority's staff before anything is read.
fn ensure_authority_staff(principal: &Principal) -> Result<(), AssessmentError> {
    if principal.org_kind == sds_platform::OrgKind::Authority {
        Ok(())
    } else {
        Err(AssessmentError::NotAllowed(access::Denied::new(
            "people, assessments, plans and policies are seen only by the staff of the authority that supports the person",
        )))
    }
}

#[tonic::async_trait]
impl AssessmentService for AssessmentApi {
    async fn record_person(
        &self,
        request: Request<proto::RecordPersonRequest>,
    ) -> Result<Response<proto::Person>, Status> {
        let principal = Principal::of(&request)?.clone();
        let request = request.into_inner();
        let authority =
            convert::authority("authority", &request.authority).map_err(AssessmentError::from)?;
        let details = convert::person_details(request.details, self.today())
            .map_err(AssessmentError::from)?;
        access::ensure_may_record_people(&principal, &authority)?;
        let mut transaction = self.pool.begin().await.map_err(AssessmentError::from)?;
        let (person, recorded) =
            store::record_person(&mut transaction, &authority, &details, &principal.org_id).await?;
        let action = match recorded {
            Recorded::New => "person.created",
            Recorded::Changed => "person.updated",
            Recorded::Unchanged => "person.confirmed",
        };
        store::audit(&mut transaction, &person, &principal.org_id, action).await?;
        transaction.commit().await.map_err(AssessmentError::from)?;
        info!(person_id = %person.id, version = person.version, action, "person recorded");
        Ok(Response::new(convert::person_message(&person)))
    }

    async fn get_person(
        &self,
        request: Request<proto::GetPersonRequest>,
    ) -> Result<Response<proto::Person>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.read_person(&principal, request.get_ref()).await?,
        ))
    }

    async fn lookup_people(
        &self,
        request: Request<proto::LookupPeopleRequest>,
    ) -> Result<Response<proto::LookupPeopleResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        lookup::lookup(&self.clock, &self.pool, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn set_policy(
        &self,
        request: Request<proto::SetPolicyRequest>,
    ) -> Result<Response<proto::Policy>, Status> {
        let principal = Principal::of(&request)?.clone();
        let policy =
            convert::policy(request.into_inner().details).map_err(AssessmentError::from)?;
        access::ensure_may_set_policy(&principal, &policy.authority)?;
        let mut transaction = self.pool.begin().await.map_err(AssessmentError::from)?;
        // Serialises policy changes of one authority, so "after the latest" holds.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('policy:' || $1))")
            .bind(policy.authority.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(AssessmentError::from)?;
        let today = self.today();
        let furthest = today
            .checked_add_days(chrono::Days::new(MAX_POLICY_DAYS_AHEAD))
            .unwrap_or(today);
        if policy.effective_from > furthest {
            return Err(AssessmentError::from(Invalid::new(
                "details.effective_from",
                format!(
                    "{} is more than two years ahead; a policy is set at most {MAX_POLICY_DAYS_AHEAD} days before it takes effect (by {furthest})",
                    policy.effective_from
                ),
            ))
            .into());
        }
        let versions = store::policies_of(&mut transaction, &policy.authority).await?;
        // Policies in effect (or past) are history and are never changed or undercut; one
        // not yet in effect is only scheduled, so setting another from its date replaces it.
        if let Some(in_effect) = versions
            .iter()
            .rev()
            .find(|record| record.policy.effective_from <= today)
            && in_effect.policy.effective_from >= policy.effective_from
        {
            return Err(AssessmentError::PolicyNotAfterLatest {
                authority: policy.authority.clone(),
                latest: in_effect.policy.effective_from,
                requested: policy.effective_from,
            }
            .into());
        }
        if versions
            .iter()
            .any(|record| record.policy.effective_from == policy.effective_from)
        {
            store::withdraw_scheduled_policy(
                &mut transaction,
                &policy.authority,
                policy.effective_from,
                today,
            )
            .await?;
            info!(authority = %policy.authority, effective_from = %policy.effective_from, "scheduled policy replaced");
        }
        store::insert_policy(&mut transaction, &policy, &principal.org_id).await?;
        let stored = store::policies_of(&mut transaction, &policy.authority)
            .await?
            .into_iter()
            .find(|record| record.policy.effective_from == policy.effective_from)
            .ok_or_else(|| {
                AssessmentError::Internal(anyhow::anyhow!("policy just written is missing"))
            })?;
        transaction.commit().await.map_err(AssessmentError::from)?;
        info!(authority = %policy.authority, effective_from = %policy.effective_from, "policy set");
        Ok(Response::new(convert::policy_message(&stored)))
    }

    async fn get_policy(
        &self,
        request: Request<proto::GetPolicyRequest>,
    ) -> Result<Response<proto::Policy>, Status> {
        let principal = Principal::of(&request)?.clone();
        let request = request.into_inner();
        let authority =
            convert::authority("authority", &request.authority).map_err(AssessmentError::from)?;
        let on = match request.at.as_ref().filter(|at| !at.iso.trim().is_empty()) {
            Some(at) => sds_vocabulary::date::date("at", &at.iso).map_err(AssessmentError::from)?,
            None => self.today(),
        };
        access::ensure_may_read(&principal, &authority)?;
        let mut connection = self.pool.acquire().await.map_err(AssessmentError::from)?;
        let versions = store::policies_of(&mut connection, &authority).await?;
        let policies: Vec<_> = versions
            .iter()
            .map(|record| record.policy.clone())
            .collect();
        let effective_from = policy_in_effect(&policies, on)
            .map(|policy| policy.effective_from)
            .ok_or(AssessmentError::PolicyNotFound {
                authority: authority.clone(),
                on,
            })?;
        let record = versions
            .iter()
            .find(|record| record.policy.effective_from == effective_from)
            .ok_or_else(|| {
                AssessmentError::Internal(anyhow::anyhow!("policy in effect vanished"))
            })?;
        Ok(Response::new(convert::policy_message(record)))
    }

    async fn record_assessment(
        &self,
        request: Request<proto::RecordAssessmentRequest>,
    ) -> Result<Response<proto::Assessment>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        let new = convert::assessment(request.into_inner(), self.today())
            .map_err(AssessmentError::from)?;
        let mut transaction = self.pool.begin().await.map_err(AssessmentError::from)?;
        let person = self
            .person_for(
                &mut transaction,
                &principal,
                new.person_id,
                access::ensure_may_assess,
            )
            .await?;
        let versions = store::policies_of(&mut transaction, &person.authority).await?;
        let policies: Vec<_> = versions.into_iter().map(|record| record.policy).collect();
        let policy = policy_in_effect(&policies, new.assessed_on).ok_or_else(|| {
            AssessmentError::NoPolicy {
                authority: person.authority.clone(),
                on: new.assessed_on,
            }
        })?;
        let decision = decide_eligibility(new.eligibility, policy.eligibility_threshold);
        if !decision.eligible && new.community_resources.is_empty() {
            return Err(AssessmentError::from(Invalid::new(
                "community_resources",
                format!(
                    "is empty, but the person is not eligible ({}); note the community resources they were pointed to",
                    decision.reason
                ),
            ))
            .into());
        }
        let mut record = AssessmentRecord {
            id: Uuid::now_v7(),
            person_id: person.id,
            outcomes: new.outcomes,
            needs: new.needs,
            decision,
            community_resources: new.community_resources,
            assessed_on: new.assessed_on,
            recorded_at: chrono::Utc::now(),
            recorded_by: principal.org_id.clone(),
        };
        record.recorded_at = store::insert_assessment(&mut transaction, &record).await?;
        store::audit(
            &mut transaction,
            &person,
            &principal.org_id,
            "assessment.recorded",
        )
        .await?;
        transaction.commit().await.map_err(AssessmentError::from)?;
        info!(person_id = %person.id, assessment_id = %record.id, eligible = record.decision.eligible, "assessment recorded");
        Ok(Response::new(convert::assessment_message(&record)))
    }

    async fn set_indicative_budget(
        &self,
        request: Request<proto::SetIndicativeBudgetRequest>,
    ) -> Result<Response<proto::IndicativeBudget>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.set_budget(&principal, request.into_inner()).await?,
        ))
    }

    async fn draft_plan(
        &self,
        request: Request<proto::DraftPlanRequest>,
    ) -> Result<Response<proto::Plan>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.draft(&principal, request.into_inner()).await?,
        ))
    }

    async fn submit_plan(
        &self,
        request: Request<proto::SubmitPlanRequest>,
    ) -> Result<Response<proto::Plan>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.submit(&principal, request.into_inner()).await?,
        ))
    }

    async fn approve_plan(
        &self,
        request: Request<proto::ApprovePlanRequest>,
    ) -> Result<Response<proto::Plan>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.approve(&principal, request.into_inner()).await?,
        ))
    }

    async fn reject_plan(
        &self,
        request: Request<proto::RejectPlanRequest>,
    ) -> Result<Response<proto::Plan>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.reject(&principal, request.into_inner()).await?,
        ))
    }

    async fn vary_plan(
        &self,
        request: Request<proto::VaryPlanRequest>,
    ) -> Result<Response<proto::Plan>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.vary_plan_version(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn record_provider_choice(
        &self,
        request: Request<proto::RecordProviderChoiceRequest>,
    ) -> Result<Response<proto::Plan>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.choose_provider(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn get_plan(
        &self,
        request: Request<proto::GetPlanRequest>,
    ) -> Result<Response<proto::Plan>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.read_plan(&principal, request.get_ref()).await?,
        ))
    }

    async fn get_uptake_statistics(
        &self,
        request: Request<proto::GetUptakeStatisticsRequest>,
    ) -> Result<Response<proto::UptakeStatistics>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.uptake_statistics(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn export_national_return(
        &self,
        request: Request<proto::ExportNationalReturnRequest>,
    ) -> Result<Response<proto::NationalReturn>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.national_return(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn import_case_records(
        &self,
        request: Request<proto::ImportCaseRecordsRequest>,
    ) -> Result<Response<proto::ImportCaseRecordsResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        ensure_authority_staff(&principal)?;
        Ok(Response::new(
            self.import_case_records(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn list_read_audit(
        &self,
        request: Request<proto::ListReadAuditRequest>,
    ) -> Result<Response<proto::ListReadAuditResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        sds_platform::read_audit::list(&self.pool, &principal, request.get_ref())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}
