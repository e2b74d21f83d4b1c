//! The `sds.v1.DirectoryService` handlers. Each one reads the caller from the request,
//! converts the message into domain types (refusing bad input), asks `domain::access`
//! whether the caller may, and only then opens a transaction in which the change, its
//! history entry and its event commit together.

pub mod convert;
mod grades;
mod import;
mod package_offers;
mod package_requests;
mod package_withdrawal;
pub mod plan_check;
mod register;
mod republish;

use chrono::NaiveDate;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_proto::v1::directory_service_server::DirectoryService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use tracing::info;

use crate::domain::access;
use crate::domain::provider::ensure_expected_version;
use crate::domain::search::{Page, SearchFilters, next_page_token};
use crate::domain::{ProviderChange, ProviderId, ProviderRecord};
use crate::domain::{grade, impersonation};
use crate::error::DirectoryError;
use crate::{events, store};

use convert::provider_message;

/// The directory's gRPC service over its PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct DirectoryApi {
    pool: PgPool,
    clock: Clock,
    /// Where the plans package requests are published for are read.
    plans: plan_check::Plans,
}

impl DirectoryApi {
    pub fn new(pool: PgPool, clock: Clock, plans: plan_check::Plans) -> DirectoryApi {
        DirectoryApi { pool, clock, plans }
    }

    /// Today in Scotland, the date check statuses are worked out for and grades and checks
    /// may not be dated after.
    fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// Applies one change to an existing provider: lock it, check the expected version,
    /// write, move to the next version, publish `provider.updated`, commit. A change that
    /// would leave the record as it is writes nothing.
    async fn change(
        &self,
        principal: &Principal,
        id: ProviderId,
        expected_version: Option<u64>,
        change: ProviderChange,
    ) -> Result<proto::Provider, DirectoryError> {
        let today = self.today();
        let mut transaction = self.pool.begin().await?;
        let current_version = store::lock_provider(&mut transaction, id)
            .await?
            .ok_or(DirectoryError::ProviderNotFound(id))?;
        ensure_expected_version(id, expected_version, current_version)?;
        let current = loaded(store::load_provider(&mut transaction, id).await?, id)?;
        impersonation::ensure_number_stays_with_kind(&current, &change)?;
        if !change.alters(&current) {
            // Nothing to record: no new version, no event, as the import does for unchanged
            // rows. The caller gets the record as it stands.
            transaction.rollback().await?;
            return Ok(provider_message(&current, today));
        }
        store::apply_change(&mut transaction, id, &change, &principal.org_id).await?;
        let version =
            store::record_new_version(&mut transaction, id, change.name(), &principal.org_id)
                .await?;
        let record = loaded(store::load_provider(&mut transaction, id).await?, id)?;
        events::publish(
            &mut transaction,
            events::updated(&record, change.name(), today),
        )
        .await?;
        transaction.commit().await?;
        info!(provider_id = %id, version, change = %change.name(), by = %principal.org_id, "provider changed");
        Ok(provider_message(&record, today))
    }

    /// How the provider's record is kept now, read outside any transaction so that a
    /// refused update opens none. Commissioning staff may set the number between this read
    /// and the update that follows, but an update never writes it, so the number they set
    /// stands either way; stewards never change after registration.
    async fn record_keeping_of(
        &self,
        id: ProviderId,
    ) -> Result<store::RecordKeeping, DirectoryError> {
        let mut connection = self.pool.acquire().await?;
        store::record_keeping_of(&mut connection, id)
            .await?
            .ok_or(DirectoryError::ProviderNotFound(id))
    }

    /// Refuses a rename to the name of a registered care service the provider is not. Read
    /// outside the update's transaction: an import that adds such a service at the same
    /// moment is not waited for, which the next rename check catches.
    async fn ensure_name_is_not_a_registered_services(
        &self,
        id: ProviderId,
        name: &str,
    ) -> Result<(), DirectoryError> {
        let mut connection = self.pool.acquire().await?;
        match store::registered_service_named(&mut connection, name, id).await? {
            Some(number) => Err(DirectoryError::NameOfRegisteredService(
                impersonation::NameOfRegisteredService {
                    name: name.to_owned(),
                    number,
                },
            )),
            None => Ok(()),
        }
    }

    async fn search(
        &self,
        principal: &Principal,
        filters: SearchFilters,
        page: Page,
    ) -> Result<proto::SearchProvidersResponse, DirectoryError> {
        let mut connection = self.pool.acquire().await?;
        let (total_matches, ids) = store::search(&mut connection, &filters, page).await?;
        let records = store::load_providers(&mut connection, &ids).await?;
        let today = self.today();
        Ok(proto::SearchProvidersResponse {
            providers: records
                .iter()
                .map(|record| shown_to(principal, record, today))
                .collect(),
            page: Some(proto::PageResponse {
                next_page_token: next_page_token(&filters, page, total_matches).unwrap_or_default(),
                total_matches,
            }),
        })
    }
}

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn register_provider(
        &self,
        request: Request<proto::RegisterProviderRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let registration =
            register::Registration::try_from(request.into_inner()).map_err(DirectoryError::from)?;
        let registrant = access::registrant(&principal)?;
        access::ensure_may_register_with_care_inspectorate_number(
            registrant,
            registration.details.care_inspectorate_number.as_ref(),
        )?;
        impersonation::ensure_registered_service_has_number(&registration.details)
            .map_err(|invalid| DirectoryError::from(invalid.within("details")))?;
        Ok(Response::new(
            self.register(&principal, registrant, registration).await?,
        ))
    }

    async fn update_provider(
        &self,
        request: Request<proto::UpdateProviderRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let update = convert::UpdateProvider::try_from(request.into_inner())
            .map_err(DirectoryError::from)?;
        let keeping = self.record_keeping_of(update.id).await?;
        access::ensure_may_update(&principal, update.id, &keeping.stewards)?;
        access::ensure_keeps_care_inspectorate_number(
            keeping.care_inspectorate_number.as_ref(),
            update.details.care_inspectorate_number.as_ref(),
        )?;
        impersonation::ensure_registered_service_has_number(&update.details)
            .map_err(|invalid| DirectoryError::from(invalid.within("details")))?;
        if keeping.care_inspectorate_number.is_none()
            && impersonation::is_rename(&keeping.name, &update.details.name)
        {
            self.ensure_name_is_not_a_registered_services(update.id, &update.details.name)
                .await?;
        }
        let change = ProviderChange::Details(update.details);
        let provider = self
            .change(&principal, update.id, update.expected_version, change)
            .await?;
        Ok(Response::new(provider))
    }

    async fn get_provider(
        &self,
        request: Request<proto::GetProviderRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let id = convert::provider_to_get(request.get_ref()).map_err(DirectoryError::from)?;
        let mut connection = self.pool.acquire().await.map_err(DirectoryError::from)?;
        let record = loaded(store::load_provider(&mut connection, id).await?, id)?;
        Ok(Response::new(shown_to(&principal, &record, self.today())))
    }

    async fn search_providers(
        &self,
        request: Request<proto::SearchProvidersRequest>,
    ) -> Result<Response<proto::SearchProvidersResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        let convert::SearchProviders { filters, page } = request
            .into_inner()
            .try_into()
            .map_err(DirectoryError::from)?;
        Ok(Response::new(self.search(&principal, filters, page).await?))
    }

    async fn record_check(
        &self,
        request: Request<proto::RecordCheckRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let recording =
            convert::RecordCheck::try_from(request.into_inner()).map_err(DirectoryError::from)?;
        access::ensure_may_record_check(&principal, recording.provider_id)?;
        recording
            .check
            .ensure_made_by(self.today())
            .map_err(|invalid| DirectoryError::from(invalid.within("check")))?;
        let change = ProviderChange::Check(recording.check);
        let provider = self
            .change(&principal, recording.provider_id, None, change)
            .await?;
        Ok(Response::new(provider))
    }

    async fn record_grades(
        &self,
        request: Request<proto::RecordGradesRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let recording =
            convert::RecordGrades::try_from(request.into_inner()).map_err(DirectoryError::from)?;
        access::ensure_may_record_grades(&principal)?;
        grade::ensure_inspected_by("grades", &recording.grades, self.today())
            .map_err(DirectoryError::from)?;
        let change = ProviderChange::Grades(recording.grades);
        let provider = self
            .change(&principal, recording.provider_id, None, change)
            .await?;
        Ok(Response::new(provider))
    }

    async fn withdraw_grades(
        &self,
        request: Request<proto::WithdrawGradesRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let withdrawal =
            grades::WithdrawGrades::try_from(request.into_inner()).map_err(DirectoryError::from)?;
        access::ensure_may_withdraw_grades(&principal)?;
        Ok(Response::new(
            DirectoryApi::withdraw_grades(self, &principal, withdrawal).await?,
        ))
    }

    async fn list_grade_history(
        &self,
        request: Request<proto::ListGradeHistoryRequest>,
    ) -> Result<Response<proto::ListGradeHistoryResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        let id = grades::provider_for_history(request.get_ref()).map_err(DirectoryError::from)?;
        access::ensure_may_see_grade_history(&principal, id)?;
        Ok(Response::new(DirectoryApi::grade_history(self, id).await?))
    }

    async fn set_framework_status(
        &self,
        request: Request<proto::SetFrameworkStatusRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let setting = convert::SetFrameworkStatus::try_from(request.into_inner())
            .map_err(DirectoryError::from)?;
        access::ensure_may_set_framework_status(&principal, &setting.membership.authority)?;
        let change = ProviderChange::FrameworkStatus(setting.membership);
        let provider = self
            .change(&principal, setting.provider_id, None, change)
            .await?;
        Ok(Response::new(provider))
    }

    async fn set_care_inspectorate_number(
        &self,
        request: Request<proto::SetCareInspectorateNumberRequest>,
    ) -> Result<Response<proto::Provider>, Status> {
        let principal = Principal::of(&request)?.clone();
        let setting = convert::SetCareInspectorateNumber::try_from(request.into_inner())
            .map_err(DirectoryError::from)?;
        access::ensure_may_set_care_inspectorate_number(&principal)?;
        let change = ProviderChange::CareInspectorateNumber(setting.number);
        let provider = self
            .change(
                &principal,
                setting.provider_id,
                setting.expected_version,
                change,
            )
            .await?;
        Ok(Response::new(provider))
    }

    async fn republish_providers(
        &self,
        request: Request<proto::RepublishProvidersRequest>,
    ) -> Result<Response<proto::RepublishProvidersResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(self.republish(&principal).await?))
    }

    async fn publish_package_request(
        &self,
        request: Request<proto::PublishPackageRequestRequest>,
    ) -> Result<Response<proto::PackageRequest>, Status> {
        let principal = Principal::of(&request)?.clone();
        let credentials = plan_check::Credentials::of(request.metadata());
        Ok(Response::new(
            self.publish_package_request(&principal, &credentials, request.into_inner())
                .await?,
        ))
    }

    async fn list_package_requests(
        &self,
        request: Request<proto::ListPackageRequestsRequest>,
    ) -> Result<Response<proto::ListPackageRequestsResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.list_package_requests(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn get_package_request(
        &self,
        request: Request<proto::GetPackageRequestRequest>,
    ) -> Result<Response<proto::PackageRequest>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.get_package_request(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn respond_to_package_request(
        &self,
        request: Request<proto::RespondToPackageRequestRequest>,
    ) -> Result<Response<proto::PackageOffer>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.respond_to_package_request(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn list_offers(
        &self,
        request: Request<proto::ListOffersRequest>,
    ) -> Result<Response<proto::ListOffersResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.list_offers(&principal, request.into_inner()).await?,
        ))
    }

    async fn accept_offer(
        &self,
        request: Request<proto::AcceptOfferRequest>,
    ) -> Result<Response<proto::PackageRequest>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.accept_offer(&principal, request.into_inner()).await?,
        ))
    }

    async fn withdraw_package_request(
        &self,
        request: Request<proto::WithdrawPackageRequestRequest>,
    ) -> Result<Response<proto::PackageRequest>, Status> {
        let principal = Principal::of(&request)?.clone();
        Ok(Response::new(
            self.withdraw_package_request(&principal, request.into_inner())
                .await?,
        ))
    }

    async fn import_care_inspectorate_services(
        &self,
        request: Request<proto::ImportCareInspectorateServicesRequest>,
    ) -> Result<Response<proto::ImportCareInspectorateServicesResponse>, Status> {
        let principal = Principal::of(&request)?.clone();
        access::ensure_may_import(&principal)?;
        let services = request.into_inner().services;
        Ok(Response::new(
            self.import_batch(&principal, services).await?,
        ))
    }
}

/// A provider as `principal` may see it: a personal assistant's contact details only for
/// authority staff and the assistant.
fn shown_to(principal: &Principal, record: &ProviderRecord, today: NaiveDate) -> proto::Provider {
    let mut message = provider_message(record, today);
    if !access::may_see_contacts(principal, record.id, record.details.kind)
        && let Some(details) = message.details.as_mut()
    {
        details.contact_email.clear();
        details.contact_phone.clear();
    }
    message
}

/// A provider just written or asked for, or `NotFound`.
fn loaded(
    record: Option<ProviderRecord>,
    id: ProviderId,
) -> Result<ProviderRecord, DirectoryError> {
    record.ok_or(DirectoryError::ProviderNotFound(id))
}
