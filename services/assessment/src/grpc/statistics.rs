//! Uptake statistics and the national (PHS) return: the handlers' work. Both read every
//! supported person of one authority with the lines of their latest approved plan, and
//! leave the counting and the files to `domain::uptake` and `domain::phs`.
//!
//! What must stay true: only the authority's commissioning staff get either (checked before
//! anything is read); reading the statistics writes no person's audit trail (aggregates are
//! not a person's record) but is logged once in `report_audit`; the return names people by
//! case reference, so each person in it gets `phs.exported` in their audit trail, in the
//! same transaction as the read, and the return itself is logged in `report_audit`.

use std::collections::HashMap;

use sds_platform::Principal;
use sds_proto::v1 as proto;
use sds_vocabulary::date::iso;
use sds_vocabulary::named_enum::WireEnum as _;
use tracing::info;
use uuid::Uuid;

use crate::domain::access;
use crate::domain::phs::{PhsPeriod, render_client_csv, render_sds_snapshot_csv};
use crate::domain::{SupportedPerson, phs_return, policy_in_effect, uptake_on};
use crate::error::AssessmentError;
use crate::store;

use super::AssessmentApi;
use super::convert;

impl AssessmentApi {
    pub(super) async fn uptake_statistics(
        &self,
        principal: &Principal,
        request: proto::GetUptakeStatisticsRequest,
    ) -> Result<proto::UptakeStatistics, AssessmentError> {
        let authority = convert::authority("authority", &request.authority)?;
        let at = match request.at.as_ref().filter(|at| !at.iso.trim().is_empty()) {
            Some(at) => sds_vocabulary::date::date("at", &at.iso)?,
            None => self.today(),
        };
        access::ensure_may_see_statistics(principal, &authority)?;
        let mut transaction = self.pool.begin().await?;
        let supported = store::supported_people(&mut transaction, &authority).await?;
        let people: Vec<SupportedPerson> =
            supported.into_iter().map(|record| record.person).collect();
        let uptake = uptake_on(&people, at);
        store::audit_report(
            &mut transaction,
            &authority,
            &principal.org_id,
            "uptake.read",
            &iso(at),
            uptake.people,
        )
        .await?;
        transaction.commit().await?;
        info!(%authority, at = %at, people = uptake.people, "uptake statistics read");
        Ok(proto::UptakeStatistics {
            authority: authority.to_string(),
            at: Some(proto::Date { iso: iso(at) }),
            people: uptake.people,
            by_option: Some(proto::OptionCounts {
                option_1: uptake.by_option.option_1,
                option_2: uptake.by_option.option_2,
                option_3: uptake.by_option.option_3,
                option_4: uptake.by_option.option_4,
            }),
            cells: uptake
                .cells
                .into_iter()
                .map(|cell| proto::UptakeCell {
                    locality: cell.locality,
                    client_group: cell.client_group.wire_number(),
                    option: u32::from(cell.option.number()),
                    people: cell.people,
                })
                .collect(),
        })
    }

    pub(super) async fn national_return(
        &self,
        principal: &Principal,
        request: proto::ExportNationalReturnRequest,
    ) -> Result<proto::NationalReturn, AssessmentError> {
        let authority = convert::authority("authority", &request.authority)?;
        let period = PhsPeriod::parse("period", &request.period)?;
        access::ensure_may_see_statistics(principal, &authority)?;
        let mut transaction = self.pool.begin().await?;
        let policies: Vec<_> = store::policies_of(&mut transaction, &authority)
            .await?
            .into_iter()
            .map(|record| record.policy)
            .collect();
        // The code in force when the quarter closes: a policy set mid-quarter that changes
        // it is the one PHS knows the authority by for that quarter.
        let sending_location = policy_in_effect(&policies, period.end())
            .map(|policy| policy.sending_location.clone())
            .ok_or_else(|| AssessmentError::NoPolicy {
                authority: authority.clone(),
                on: period.end(),
            })?;
        let supported = store::supported_people(&mut transaction, &authority).await?;
        // Case references are unique within an authority, so they lead back to the person.
        let ids: HashMap<String, Uuid> = supported
            .iter()
            .map(|record| (record.person.social_care_id.clone(), record.person_id))
            .collect();
        let people: Vec<SupportedPerson> =
            supported.into_iter().map(|record| record.person).collect();
        let rows = phs_return(&sending_location, period, &people);
        let mut included = Vec::with_capacity(rows.clients.len());
        for client in &rows.clients {
            included.push(*ids.get(&client.social_care_id).ok_or_else(|| {
                anyhow::anyhow!("a returned case reference is not among the people read")
            })?);
        }
        let sds_snapshot_csv = render_sds_snapshot_csv(&rows.sds_snapshot)
            .map_err(|error| AssessmentError::Internal(anyhow::Error::new(error)))?;
        let client_csv = render_client_csv(&rows.clients)
            .map_err(|error| AssessmentError::Internal(anyhow::Error::new(error)))?;
        store::audit_exported(&mut transaction, &authority, &included, &principal.org_id).await?;
        store::audit_report(
            &mut transaction,
            &authority,
            &principal.org_id,
            "phs.exported",
            &period.to_string(),
            u64::try_from(included.len()).map_err(anyhow::Error::new)?,
        )
        .await?;
        transaction.commit().await?;
        info!(%authority, %period, people = included.len(), snapshot_rows = rows.sds_snapshot.len(), "national return exported");
        Ok(proto::NationalReturn {
            authority: authority.to_string(),
            period: period.to_string(),
            sending_location: sending_location.to_string(),
            sds_snapshot_csv,
            sds_snapshot_rows: u32::try_from(rows.sds_snapshot.len())
                .map_err(anyhow::Error::new)?,
            client_csv,
            client_rows: u32::try_from(rows.clients.len()).map_err(anyhow::Error::new)?,
        })
    }
}
