//! What happens to agreements after they are drafted, inside the caller's transaction: a
//! version agreed (published as `agreement.signed` when it activates the agreement,
//! `agreement.varied` otherwise) and brought up to its rate card; variations drafted from a
//! plan variation; agreements ended by notice or by the plan's end (`agreement.ended`).
//!
//! What must stay true: every agreed version is published exactly once, in the same
//! transaction that agrees it (the outbox); a version awaiting signatures is replaced, never
//! changed, by a newer variation; an ended agreement is never varied or ended again; events
//! carry no names.

use chrono::NaiveDate;
use sds_events::NewEvent;
use sds_proto::v1 as proto;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use tracing::{info, warn};
use uuid::Uuid;

use crate::domain::drafting::AgreementStatus;
use crate::domain::plan_copy::{Chosen, PlanCopy};
use crate::domain::rate_following::{
    CardTimeline, follow_ups_after, in_force_on, priced, rate_follow_ups,
};
use crate::domain::variation::{PlanChange, after_plan_variation};
use crate::domain::{AgreementContent, AgreementVersion, EndCause, Payee, VersionCause};
use crate::error::ContractsError;
use crate::grpc::agreement_convert::{
    agreement_message, date_message, line_message, money_message, weekly_message,
};
use crate::store::{self, AgreementRecord};

/// The rate card `id` as a timeline of numbered versions.
pub async fn card_timeline(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<CardTimeline, ContractsError> {
    let record = store::load_rate_card(connection, id)
        .await?
        .ok_or(ContractsError::RateCardNotFound(id))?;
    Ok(CardTimeline {
        rate_card_id: record.id,
        versions: record
            .versions
            .into_iter()
            .map(|version| (version.version, version.effective_from, version.card))
            .collect(),
    })
}

/// `content` priced on its rate card as in force on `on` (unchanged when it has none).
pub async fn priced_on_card(
    connection: &mut PgConnection,
    content: AgreementContent,
    on: NaiveDate,
) -> Result<AgreementContent, ContractsError> {
    let Some(rate) = content.rate else {
        return Ok(content);
    };
    let card = card_timeline(connection, rate.rate_card_id).await?;
    priced(&content, &card, on).map_err(|_| ContractsError::UpliftOutOfRange)
}

/// The message an event carries: the agreement at `version`, with no names.
fn published(record: &AgreementRecord) -> proto::Agreement {
    let mut message = agreement_message(record);
    if let Some(representative) = message.representative.as_mut() {
        representative.name.clear();
    }
    message
}

async fn enqueue(
    connection: &mut PgConnection,
    authority: &AuthorityId,
    aggregate_id: Uuid,
    version: u32,
    body: proto::event::Body,
) -> Result<(), ContractsError> {
    sds_events::enqueue(
        connection,
        NewEvent::new(
            authority.clone(),
            aggregate_id.to_string(),
            u64::from(version),
            body,
        ),
    )
    .await
    .map_err(anyhow::Error::new)?;
    Ok(())
}

/// Publishes agreed version `version` of agreement `id`: `agreement.signed` when it is the
/// agreement's first agreed version, `agreement.varied` otherwise.
async fn publish_agreed(
    connection: &mut PgConnection,
    id: Uuid,
    version: u32,
) -> Result<(), ContractsError> {
    let versions = store::load_versions(connection, id).await?;
    publish_agreed_among(connection, id, version, &versions).await
}

/// [`publish_agreed`] for a caller that has just read every version of the agreement.
async fn publish_agreed_among(
    connection: &mut PgConnection,
    id: Uuid,
    version: u32,
    versions: &[AgreementVersion],
) -> Result<(), ContractsError> {
    let previous = versions
        .iter()
        .filter(|earlier| earlier.is_agreed() && earlier.version < version)
        .map(|earlier| earlier.version)
        .max();
    let record = store::load_agreement_version(connection, id, version)
        .await?
        .ok_or(ContractsError::AgreementNotFound(id))?;
    let authority = record.latest.content.parties.authority.clone();
    let agreement = Some(published(&record));
    let body = match previous {
        None => proto::event::Body::AgreementSigned(proto::AgreementSigned { agreement }),
        Some(previous_version) => proto::event::Body::AgreementVaried(proto::AgreementVaried {
            agreement,
            previous_version,
        }),
    };
    enqueue(connection, &authority, id, version, body).await
}

/// After version `version` of agreement `id` was agreed (by its last signature): activates
/// a draft, publishes the version and brings the agreement up to its rate card from the
/// version's date. Returns the rate-change versions made.
pub async fn after_agreed(
    connection: &mut PgConnection,
    id: Uuid,
    version: u32,
    today: NaiveDate,
) -> Result<Vec<AgreementVersion>, ContractsError> {
    store::mark_agreed(connection, id, version, today).await?;
    let versions = store::load_versions(connection, id).await?;
    publish_agreed_among(connection, id, version, &versions).await?;
    let agreed = versions
        .iter()
        .find(|candidate| candidate.version == version)
        .ok_or(ContractsError::AgreementNotFound(id))?;
    let card = match agreed.content.rate {
        Some(rate) => Some(card_timeline(connection, rate.rate_card_id).await?),
        None => None,
    };
    let follow_ups = follow_ups_after(&versions, agreed, card.as_ref())
        .map_err(|_| ContractsError::UpliftOutOfRange)?;
    let first = versions
        .iter()
        .map(|version| version.version)
        .max()
        .unwrap_or(0)
        + 1;
    insert_agreed_in_advance(connection, id, first, follow_ups, today).await
}

/// Records and publishes `follow_ups` as versions `first`, `first + 1`, ... agreed in
/// advance (no signatures).
async fn insert_agreed_in_advance(
    connection: &mut PgConnection,
    id: Uuid,
    first: u32,
    follow_ups: Vec<(NaiveDate, AgreementContent)>,
    today: NaiveDate,
) -> Result<Vec<AgreementVersion>, ContractsError> {
    let mut made = Vec::with_capacity(follow_ups.len());
    for (next, (effective_from, content)) in (first..).zip(follow_ups) {
        let version = AgreementVersion::variation(
            next,
            content,
            effective_from,
            today,
            VersionCause::RateChanged,
        );
        store::insert_version(connection, id, &version).await?;
        publish_agreed(connection, id, next).await?;
        made.push(version);
    }
    Ok(made)
}

/// Makes the rate-change versions that bring agreement `id` up to `card` from `from`, each
/// agreed in advance and published. Returns them.
pub async fn follow_card(
    connection: &mut PgConnection,
    id: Uuid,
    card: &CardTimeline,
    from: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<AgreementVersion>, ContractsError> {
    let versions = store::load_versions(connection, id).await?;
    let follow_ups =
        rate_follow_ups(&versions, card, from).map_err(|_| ContractsError::UpliftOutOfRange)?;
    let first = versions
        .iter()
        .map(|version| version.version)
        .max()
        .unwrap_or(0)
        + 1;
    insert_agreed_in_advance(connection, id, first, follow_ups, today).await
}

/// Replaces any version of `record` awaiting signatures with a new variation of `content`
/// from `effective_from`, awaiting every party's signature.
pub async fn draft_variation(
    connection: &mut PgConnection,
    record: &AgreementRecord,
    content: AgreementContent,
    effective_from: NaiveDate,
    today: NaiveDate,
    cause: VersionCause,
) -> Result<u32, ContractsError> {
    let versions = store::load_versions(connection, record.id).await?;
    let next = versions
        .iter()
        .map(|version| version.version)
        .max()
        .unwrap_or(0)
        + 1;
    store::supersede_awaiting(connection, record.id).await?;
    let content = priced_on_card(connection, content, effective_from).await?;
    let version = AgreementVersion::variation(next, content, effective_from, today, cause);
    store::insert_version(connection, record.id, &version).await?;
    // Lines that join the agreement are funded by it from now on, so drafting does not
    // make them an agreement of their own.
    let lines: Vec<u32> = version
        .content
        .lines
        .iter()
        .map(|line| line.plan_line)
        .collect();
    store::fund_lines(connection, record.id, &lines).await?;
    info!(
        authority = %record.latest.content.parties.authority,
        agreement = %record.id,
        version = next,
        cause = cause.name(),
        "agreement variation drafted"
    );
    Ok(next)
}

/// Ends agreement `record` after `last_day`: a draft is withdrawn quietly; an active one
/// publishes `agreement.ended`. Anything awaiting signatures is superseded.
pub async fn end(
    connection: &mut PgConnection,
    record: &AgreementRecord,
    last_day: NaiveDate,
    cause: EndCause,
    reason: Option<&str>,
    today: NaiveDate,
) -> Result<(), ContractsError> {
    let under_notice = match record.ended {
        // Already ending: only an earlier last day (the plan ending first) changes it.
        Some((ending, _)) if last_day >= ending => return Ok(()),
        Some(_) => {
            store::bring_end_forward(connection, record.id, last_day, cause).await?;
            true
        }
        None => {
            store::end_agreement(connection, record.id, last_day, cause, reason, today).await?;
            false
        }
    };
    let was_active = record.status == AgreementStatus::Active || under_notice;
    if was_active {
        // A variation still awaiting signatures may still be agreed for the notice period.
        store::supersede_awaiting_after(connection, record.id, last_day).await?;
    } else {
        store::supersede_awaiting(connection, record.id).await?;
    }
    let parties = &record.latest.content.parties;
    if was_active {
        let versions = store::load_versions(connection, record.id).await?;
        let version = versions
            .iter()
            .filter(|version| version.is_agreed())
            .map(|version| version.version)
            .max()
            .unwrap_or(record.latest.version);
        let (payee_kind, payee_id) = match record.latest.content.payee {
            Payee::Provider { provider_id } => (proto::PayeeKind::Provider, provider_id),
            Payee::Holder { holder_id } => (proto::PayeeKind::Holder, holder_id),
        };
        let body = proto::event::Body::AgreementEnded(proto::AgreementEnded {
            agreement_id: record.id.to_string(),
            authority: parties.authority.as_str().to_owned(),
            person_id: parties.person_id.to_string(),
            version,
            last_day: Some(date_message(last_day)),
            recorded_on: Some(date_message(today)),
            cause: sds_vocabulary::named_enum::WireEnum::wire_number(cause),
            payee_kind: payee_kind as i32,
            payee_id: payee_id.to_string(),
        });
        enqueue(connection, &parties.authority, record.id, version, body).await?;
    }
    info!(
        authority = %parties.authority,
        agreement = %record.id,
        cause = cause.name(),
        "agreement ended"
    );
    Ok(())
}

/// What plan version `plan` (just received) does to the person's open agreements: varies
/// those whose lines it changes, ends those it leaves without lines, and ends every one when
/// it ends the plan. The caller holds the person's lock.
pub async fn follow_plan(
    connection: &mut PgConnection,
    plan: &PlanCopy,
    today: NaiveDate,
) -> Result<(), ContractsError> {
    let day_before = plan.effective_from.pred_opt().unwrap_or(NaiveDate::MIN);
    for id in store::open_agreements_of(connection, plan.person_id, plan.effective_from).await? {
        let record = store::load_agreement(connection, id, true)
            .await?
            .ok_or(ContractsError::AgreementNotFound(id))?;
        if plan.ends_plan {
            end(
                connection,
                &record,
                day_before,
                EndCause::PlanEnded,
                None,
                today,
            )
            .await?;
            continue;
        }
        let versions = store::load_versions(connection, id).await?;
        // The newest content that is not superseded: a pending variation's terms carry on.
        let Some(current) = versions
            .iter()
            .rev()
            .find(|version| !matches!(version.state, crate::domain::VersionState::Superseded))
        else {
            continue;
        };
        let parties = &current.content.parties;
        let chosen = Chosen {
            provider_id: parties.provider_id,
            holding_model: record.holding_model,
            holder_id: parties.holder_id,
        };
        let own: Vec<u32> = versions
            .iter()
            .flat_map(|version| version.content.lines.iter().map(|line| line.plan_line))
            .collect();
        let funded_elsewhere: Vec<u32> = store::funded_lines(connection, plan.person_id)
            .await?
            .into_iter()
            .filter(|line| !own.contains(line))
            .collect();
        let change = match after_plan_variation(&current.content, chosen, plan, &funded_elsewhere) {
            Ok(change) => change,
            // The plan's lines no longer make an agreement the terms allow (a review that
            // would fall after a new end, say): staff vary it by hand.
            Err(refusal) => {
                warn!(agreement = %id, field = refusal.field(), "plan variation not followed automatically");
                continue;
            }
        };
        match change {
            PlanChange::Unchanged => {}
            PlanChange::NoLinesLeft { last_day } => {
                end(
                    connection,
                    &record,
                    last_day,
                    EndCause::PlanEnded,
                    None,
                    today,
                )
                .await?;
            }
            PlanChange::Varied(content) => {
                let effective_from = match record.status {
                    // Nothing was agreed yet: the draft's new version is the whole agreement.
                    AgreementStatus::Draft => content.terms.start(),
                    _ => plan.effective_from.max(content.terms.start()),
                };
                // Under notice, a change after the last day of support is moot.
                if record
                    .ended
                    .is_some_and(|(last_day, _)| effective_from > last_day)
                {
                    continue;
                }
                // A variation that leaves what is in force that day as it is would ask
                // everyone to sign for nothing.
                if in_force_on(&versions, effective_from)
                    .is_some_and(|in_force| in_force.content == content)
                {
                    continue;
                }
                draft_variation(
                    connection,
                    &record,
                    content,
                    effective_from,
                    today,
                    VersionCause::PlanVaried,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// After rate card `rate_card_id` gained version `version` from `effective_from`: every
/// active agreement priced on it follows from that date (new versions agreed in advance,
/// each published as `agreement.varied`), and each authority whose agreements moved gets
/// `rate.uplifted` naming them with their new weekly amounts. Returns how many moved.
pub async fn follow_rate_change(
    connection: &mut PgConnection,
    rate_card_id: Uuid,
    version: u32,
    effective_from: NaiveDate,
    today: NaiveDate,
) -> Result<usize, ContractsError> {
    let record = store::load_rate_card(connection, rate_card_id)
        .await?
        .ok_or(ContractsError::RateCardNotFound(rate_card_id))?;
    let hourly_rate = record
        .versions
        .iter()
        .find(|stored| stored.version == version)
        .and_then(|stored| stored.card.hourly_rate().ok());
    let card = card_timeline(connection, rate_card_id).await?;
    let mut by_authority: Vec<(AuthorityId, Vec<proto::UpliftedAgreement>)> = Vec::new();
    for id in store::active_agreements_on_card(connection, rate_card_id, effective_from).await? {
        // Locked, so a signature or notice on it waits for the change.
        store::load_agreement(connection, id, true)
            .await?
            .ok_or(ContractsError::AgreementNotFound(id))?;
        let made = follow_card(connection, id, &card, effective_from, today).await?;
        // The version in force from the change's date is the first one made.
        let Some(first) = made.first() else {
            continue;
        };
        let parties = &first.content.parties;
        let moved = proto::UpliftedAgreement {
            agreement_id: id.to_string(),
            version: first.version,
            person_id: parties.person_id.to_string(),
            lines: first.content.lines.iter().map(line_message).collect(),
            weekly: weekly_message(&first.content, first.effective_from),
        };
        match by_authority
            .iter_mut()
            .find(|(authority, _)| *authority == parties.authority)
        {
            Some((_, agreements)) => agreements.push(moved),
            None => by_authority.push((parties.authority.clone(), vec![moved])),
        }
    }
    let moved = by_authority
        .iter()
        .map(|(_, agreements)| agreements.len())
        .sum();
    for (authority, agreements) in by_authority {
        let body = proto::event::Body::RateUplifted(proto::RateUplifted {
            rate_card_id: rate_card_id.to_string(),
            rate_card_version: version,
            provider_id: record.provider_id.to_string(),
            service_type: record.service_type.clone(),
            effective_from: Some(date_message(effective_from)),
            hourly_rate: hourly_rate.map(money_message),
            agreements,
        });
        enqueue(connection, &authority, rate_card_id, version, body).await?;
    }
    info!(rate_card_id = %rate_card_id, version, moved, "agreements follow a rate change");
    Ok(moved)
}
