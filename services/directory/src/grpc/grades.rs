//! Withdrawing grades recorded in error, and reading a provider's grade history: the
//! requests' validation and the handlers' work. A withdrawal commits with its new version
//! and its `provider.updated` event (change `grade_withdrawn`), like every other change.

use chrono::SecondsFormat;
use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::named_enum::WireEnum as _;
use tracing::info;

use crate::domain::provider::ensure_expected_version;
use crate::domain::withdrawal::{self, GradeWithdrawal};
use crate::domain::{ChangeName, Invalid, KeyQuestion, ProviderId};
use crate::error::DirectoryError;
use crate::{events, store};

use super::convert::{date_field, grade_message};
use super::{DirectoryApi, loaded};

#[derive(Debug)]
pub struct WithdrawGrades {
    pub provider_id: ProviderId,
    pub withdrawal: GradeWithdrawal,
    pub expected_version: Option<u64>,
}

impl TryFrom<proto::WithdrawGradesRequest> for WithdrawGrades {
    type Error = Invalid;

    fn try_from(request: proto::WithdrawGradesRequest) -> Result<Self, Invalid> {
        let provider_id = ProviderId::parse("provider_id", &request.provider_id)?;
        let inspected_on = date_field("inspected_on", request.inspected_on.as_ref())?;
        let key_questions = request
            .key_questions
            .iter()
            .enumerate()
            .map(|(index, raw)| KeyQuestion::from_wire(&format!("key_questions[{index}]"), *raw))
            .collect::<Result<Vec<_>, _>>()?;
        let reason = withdrawal::reason("reason", &request.reason)?;
        Ok(WithdrawGrades {
            provider_id,
            withdrawal: GradeWithdrawal {
                inspected_on,
                key_questions,
                reason,
            },
            expected_version: request.expected_version,
        })
    }
}

pub fn provider_for_history(
    request: &proto::ListGradeHistoryRequest,
) -> Result<ProviderId, Invalid> {
    ProviderId::parse("provider_id", &request.provider_id)
}

impl DirectoryApi {
    /// Withdraws what the request names and is not withdrawn yet. A request already in
    /// effect (a retry, say) writes nothing and returns the record as it stands.
    pub(super) async fn withdraw_grades(
        &self,
        principal: &Principal,
        request: WithdrawGrades,
    ) -> Result<proto::Provider, DirectoryError> {
        let WithdrawGrades {
            provider_id: id,
            withdrawal,
            expected_version,
        } = request;
        let today = self.today();
        let mut transaction = self.pool.begin().await?;
        let current_version = store::lock_provider(&mut transaction, id)
            .await?
            .ok_or(DirectoryError::ProviderNotFound(id))?;
        ensure_expected_version(id, expected_version, current_version)?;
        let history = store::grade_history(&mut transaction, id).await?;
        let key_questions = withdrawal::grades_to_withdraw(id, &history, &withdrawal)?;
        if key_questions.is_empty() {
            transaction.rollback().await?;
            let mut connection = self.pool.acquire().await?;
            let record = loaded(store::load_provider(&mut connection, id).await?, id)?;
            return Ok(super::convert::provider_message(&record, today));
        }
        store::withdraw_grades(
            &mut transaction,
            id,
            withdrawal.inspected_on,
            &key_questions,
            &withdrawal.reason,
            &principal.org_id,
        )
        .await?;
        let change = ChangeName::GradeWithdrawn;
        let version =
            store::record_new_version(&mut transaction, id, change, &principal.org_id).await?;
        let record = loaded(store::load_provider(&mut transaction, id).await?, id)?;
        events::publish(&mut transaction, events::updated(&record, change, today)).await?;
        transaction.commit().await?;
        info!(
            provider_id = %id,
            version,
            withdrawn = key_questions.len(),
            by = %principal.org_id,
            "grades withdrawn"
        );
        Ok(super::convert::provider_message(&record, today))
    }

    pub(super) async fn grade_history(
        &self,
        id: ProviderId,
    ) -> Result<proto::ListGradeHistoryResponse, DirectoryError> {
        let mut connection = self.pool.acquire().await?;
        // A provider with no grades has an empty history; one not in the directory has none.
        store::record_keeping_of(&mut connection, id)
            .await?
            .ok_or(DirectoryError::ProviderNotFound(id))?;
        let history = store::grade_history(&mut connection, id).await?;
        let current = withdrawal::current_flags(&history);
        let timestamp =
            |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let entries = history
            .iter()
            .zip(current)
            .map(|(entry, current)| proto::GradeHistoryEntry {
                grade: Some(grade_message(&entry.grade)),
                current,
                recorded_at: timestamp(entry.recorded_at),
                recorded_by: entry.recorded_by.clone(),
                withdrawal: entry
                    .withdrawal
                    .as_ref()
                    .map(|withdrawal| proto::GradeWithdrawal {
                        withdrawn_at: timestamp(withdrawal.at),
                        withdrawn_by: withdrawal.by.clone(),
                        reason: withdrawal.reason.clone(),
                    }),
            })
            .collect();
        Ok(proto::ListGradeHistoryResponse { entries })
    }
}
