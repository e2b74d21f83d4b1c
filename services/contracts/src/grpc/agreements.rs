//! Agreements: drafted by hand from the person's plan copy, their draft changed while nobody
//! has signed, and read by the authority and the parties. Signing, and the provider's
//! standing checked before activation, are in [`super::signing`].

use sds_platform::read_audit;
use sds_platform::{Clock, Principal};
use sds_proto::v1 as proto;
use sds_vocabulary::{AuthorityId, Invalid};
use sqlx::PgPool;
use tracing::info;
use uuid::Uuid;

use super::agreement_convert::{self as convert, agreement_message};
use crate::domain::AgreementVersion;
use crate::domain::access::Denied;
use crate::domain::agreement_access::{self as access, org_of_kind, person_of};
use crate::domain::drafting::AgreementStatus;
use crate::domain::drafting::{DraftFrom, draft_content};
use crate::drafting;
use crate::error::ContractsError;
use crate::store::{self, AgreementFilter, AgreementRecord};
use sds_platform::OrgKind;
use sds_vocabulary::paging;

pub(super) async fn draft(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::DraftAgreementRequest,
) -> Result<proto::Agreement, ContractsError> {
    let request = convert::draft_request(request)?;
    access::ensure_may_draft(principal, &request.authority)?;
    let mut transaction = pool.begin().await?;
    store::lock_person(&mut transaction, request.person_id).await?;
    let plan = store::latest_plan_copy(
        &mut transaction,
        request.authority.as_str(),
        request.person_id,
    )
    .await?
    .ok_or_else(|| ContractsError::NoPlan(request.authority.clone()))?;
    if plan.ends_plan {
        return Err(ContractsError::PlanEnded);
    }
    let mut lines = Vec::with_capacity(request.plan_lines.len());
    for (index, number) in request.plan_lines.iter().enumerate() {
        let field = format!("plan_lines[{index}]");
        let line = plan
            .lines
            .iter()
            .find(|line| line.number == *number)
            .ok_or_else(|| {
                Invalid::new(
                    &field,
                    format!(
                        "names line {number}, which plan version {} does not have",
                        plan.version
                    ),
                )
            })?;
        if line.end.is_some_and(|end| end < plan.effective_from) {
            return Err(Invalid::new(
                &field,
                format!(
                    "names line {number}, which ended before plan version {} took effect",
                    plan.version
                ),
            )
            .into());
        }
        let chosen = line.chosen().ok_or_else(|| {
            Invalid::new(
                &field,
                format!("names line {number}, which is not an option 2 line with its provider and fund holder chosen"),
            )
        })?;
        if let Some((first, _)) = lines.first()
            && *first != chosen
        {
            return Err(Invalid::new(
                &field,
                format!("names line {number}, whose provider, holding model or holder differs from plan_lines[0]'s; an agreement is with one of each"),
            )
            .into());
        }
        lines.push((chosen, line));
    }
    let funded = store::funded_lines(&mut transaction, request.person_id).await?;
    if let Some(line) = request.plan_lines.iter().find(|line| funded.contains(line)) {
        return Err(ContractsError::AlreadyFunded { line: *line });
    }
    let defaults = store::load_defaults(&mut transaction, &request.authority)
        .await?
        .ok_or_else(|| ContractsError::NoDefaults(request.authority.clone()))?;
    let chosen = lines[0].0;
    let plan_lines: Vec<_> = lines.iter().map(|(_, line)| *line).collect();
    let content = draft_content(
        DraftFrom {
            authority: &request.authority,
            person_id: request.person_id,
            chosen,
            defaults: &defaults.terms,
            outcomes: request.outcomes,
            representative: request.representative,
        },
        &plan_lines,
    )?;
    let content = match request.rate_card_id {
        Some(rate_card_id) => {
            drafting::on_rate_card(&mut transaction, content, rate_card_id).await?
        }
        None => content,
    };
    let first = AgreementVersion::first(content, clock.today());
    let id = store::insert_agreement(
        &mut transaction,
        chosen.holding_model,
        plan.version,
        &principal.org_id,
        &first,
    )
    .await?;
    let record = loaded(&mut transaction, id, false).await?;
    transaction.commit().await?;
    info!(authority = %request.authority, agreement = %id, "agreement drafted by hand");
    Ok(agreement_message(&record))
}

pub(super) async fn loaded(
    connection: &mut sqlx::PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<AgreementRecord, ContractsError> {
    store::load_agreement(connection, id, lock)
        .await?
        .ok_or(ContractsError::AgreementNotFound(id))
}

pub(super) async fn update_draft(
    pool: &PgPool,
    principal: &Principal,
    request: &proto::UpdateAgreementDraftRequest,
) -> Result<proto::Agreement, ContractsError> {
    let update = convert::draft_update(request)?;
    let mut transaction = pool.begin().await?;
    let record = loaded(&mut transaction, update.agreement_id, true).await?;
    let parties = &record.latest.content.parties;
    if !access::may_see(principal, parties) {
        return Err(ContractsError::AgreementNotFound(record.id));
    }
    access::ensure_may_draft(principal, &parties.authority)?;
    if let Some((last_day, _)) = record.ended {
        return Err(ContractsError::Ended(last_day));
    }
    if record.status != AgreementStatus::Draft
        || record.awaiting != Some(record.latest.version)
        || !record.latest.signatures.is_empty()
    {
        return Err(ContractsError::SignaturesStarted);
    }
    let mut content = record.latest.content.clone();
    if let Some(outcomes) = update.outcomes {
        content.outcomes = outcomes;
    }
    if let Some(representative) = update.representative {
        content.parties.representative = representative;
    }
    let content = content.checked()?;
    store::update_draft(
        &mut transaction,
        record.id,
        &content.outcomes,
        content.parties.representative.as_ref(),
    )
    .await?;
    let record = loaded(&mut transaction, record.id, false).await?;
    transaction.commit().await?;
    Ok(agreement_message(&record))
}

/// The agreements the caller may list, narrowed by what it asked for.
fn scope(
    principal: &Principal,
    authority: Option<AuthorityId>,
    person_id: Option<Uuid>,
) -> Result<AgreementFilter, ContractsError> {
    let mut filter = AgreementFilter {
        authority,
        person_id,
        party_org: None,
    };
    match principal.org_kind {
        OrgKind::Authority => match &filter.authority {
            Some(authority) if !principal.may_act_for(authority) => {
                return Err(Denied::new(format!(
                    "the agreements of {authority} are listed by its own staff"
                ))
                .into());
            }
            Some(_) => {}
            None => match principal.authorities.as_slice() {
                [only] => filter.authority = Some(only.clone()),
                _ => {
                    return Err(Invalid::new(
                        "authority",
                        "is empty; staff of several authorities name the one to list",
                    )
                    .into());
                }
            },
        },
        OrgKind::Provider | OrgKind::Holder => {
            filter.party_org = Some(
                org_of_kind(principal, principal.org_kind)
                    .ok_or_else(|| Denied::new("the token names no organisation id"))?,
            );
        }
        OrgKind::Person => {
            let own =
                person_of(principal).ok_or_else(|| Denied::new("the token names no person"))?;
            if filter.person_id.is_some_and(|asked| asked != own) {
                return Err(Denied::new("a person lists only their own agreements").into());
            }
            filter.person_id = Some(own);
        }
    }
    Ok(filter)
}

/// Lists the agreements the caller may see. Each agreement given out leaves one `read`
/// entry in the read audit trail (`contracts.ListAgreements`, under the agreement's
/// authority, about its person), all of a page in one INSERT in the listing's transaction,
/// committed before the page goes out. A list refused for its scope (another authority's,
/// another person's) names no record and writes nothing.
pub(super) async fn list(
    pool: &PgPool,
    clock: &Clock,
    principal: &Principal,
    request: &proto::ListAgreementsRequest,
) -> Result<proto::ListAgreementsResponse, ContractsError> {
    let request = convert::list_request(request)?;
    let filter = scope(principal, request.authority, request.person_id)?;
    let fingerprint = format!(
        "{:?}|{:?}|{:?}",
        filter.authority.as_ref().map(AuthorityId::as_str),
        filter.person_id,
        filter.party_org
    );
    let page = paging::requested(request.page_size, &request.page_token, &fingerprint)
        .map_err(|invalid| invalid.within("page"))?;
    let mut transaction = pool.begin().await?;
    let (records, total) =
        store::list_agreements(&mut transaction, &filter, page.size, page.offset).await?;
    let entries: Vec<read_audit::Record> = records
        .iter()
        .map(|record| super::reads::entry(record, super::reads::LIST_AGREEMENTS))
        .collect();
    read_audit::read_many(&mut transaction, clock, principal, &entries).await?;
    transaction.commit().await?;
    Ok(proto::ListAgreementsResponse {
        agreements: records.iter().map(agreement_message).collect(),
        page: Some(proto::PageResponse {
            next_page_token: paging::next_token(page, total, &fingerprint).unwrap_or_default(),
            total_matches: total,
        }),
    })
}
