//! Agreements and their versions, written and read back. A version's content is written
//! once (only the outcomes and representative of a version nobody has signed change, see
//! [`super::agreement_changes`]); its state moves from awaiting to agreed or superseded once,
//! which a trigger enforces.

use chrono::NaiveDate;
use sds_platform::StoreContext as _;
use sds_vocabulary::{AuthorityId, NamedEnum as _};
use sqlx::PgConnection;
use uuid::Uuid;

use super::agreement_rows::{LineJson, TermsJson};
use crate::domain::drafting::AgreementStatus;
use crate::domain::{
    AgreementContent, AgreementVersion, Capacity, EndCause, HoldingModel, Parties, PartyRole,
    Payee, RateReference, Representative, Signature, VersionCause, VersionState,
};
use crate::error::ContractsError;

/// An agreement's columns and one version `v` of it (static SQL, as sqlx requires):
/// `agreement_sql!(latest, "WHERE ...")` joins the latest version, `agreement_sql!(any,
/// "WHERE ...")` every version.
macro_rules! agreement_sql {
    (latest, $rest:literal) => {
        concat!(
            agreement_sql!(@select),
            " JOIN LATERAL (SELECT * FROM agreement_version \
              WHERE agreement_id = a.id ORDER BY version DESC LIMIT 1) v ON true ",
            $rest
        )
    };
    (any, $rest:literal) => {
        concat!(
            agreement_sql!(@select),
            " JOIN agreement_version v ON v.agreement_id = a.id ",
            $rest
        )
    };
    (@select) => {
        "SELECT a.id, a.authority, a.person_id, a.provider_id, \
        a.holding_model, a.holder_id, a.status, a.last_day, a.end_cause, \
        (SELECT w.version FROM agreement_version w \
         WHERE w.agreement_id = a.id AND w.state = 'awaiting') AS awaiting, \
        v.version, v.effective_from, v.recorded_on, \
        v.lines::text AS lines, v.terms::text AS terms, v.outcomes, v.representative_name, \
        v.representative_capacity, v.payee_kind, v.payee_id, v.rate_card_id, \
        v.rate_card_version, v.state, v.agreed_on, v.cause, \
        (SELECT coalesce(json_agg(json_build_array(s.role, s.signed_by, s.capacity, s.signed_on) \
                 ORDER BY s.recorded_at, s.role), '[]')::text \
         FROM agreement_signature s WHERE s.agreement_id = a.id AND s.version = v.version) \
            AS signatures \
    FROM agreement a"
    };
}

/// An agreement with its latest version and that version's signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementRecord {
    pub id: Uuid,
    pub holding_model: HoldingModel,
    pub status: AgreementStatus,
    /// The latest version, or the one asked for.
    pub latest: AgreementVersion,
    /// The version awaiting signatures, if any.
    pub awaiting: Option<u32>,
    /// Once ended: the last day of support and why.
    pub ended: Option<(NaiveDate, EndCause)>,
}

/// Serialises drafting for one person, so two drafts (the consumer's and a practitioner's)
/// cannot both fund the same plan line.
pub async fn lock_person(
    connection: &mut PgConnection,
    person_id: Uuid,
) -> Result<(), ContractsError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
        .bind(person_id)
        .execute(&mut *connection)
        .await
        .operation("lock the person's agreements")?;
    Ok(())
}

/// The plan lines the person's agreements that have not ended already fund.
pub async fn funded_lines(
    connection: &mut PgConnection,
    person_id: Uuid,
) -> Result<Vec<u32>, ContractsError> {
    let lines: Vec<i32> = sqlx::query_scalar(
        "SELECT DISTINCT line FROM agreement, unnest(funded_lines) AS line \
         WHERE person_id = $1 AND status <> 'ended'",
    )
    .bind(person_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select funded plan lines")?;
    Ok(lines
        .into_iter()
        .filter_map(|line| u32::try_from(line).ok())
        .collect())
}

pub(super) fn to_i32(value: u32) -> Result<i32, ContractsError> {
    Ok(i32::try_from(value).map_err(anyhow::Error::new)?)
}

/// Records a new agreement with its first version, waiting for signatures.
pub async fn insert_agreement(
    connection: &mut PgConnection,
    holding_model: HoldingModel,
    plan_version: u32,
    created_by: &str,
    first: &AgreementVersion,
) -> Result<Uuid, ContractsError> {
    let id = Uuid::now_v7();
    let content = &first.content;
    let parties = &content.parties;
    let funded = content
        .lines
        .iter()
        .map(|line| to_i32(line.plan_line))
        .collect::<Result<Vec<_>, _>>()?;
    sqlx::query(
        "INSERT INTO agreement (id, authority, person_id, provider_id, holding_model, holder_id, \
             status, funded_lines, plan_version, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $9)",
    )
    .bind(id)
    .bind(parties.authority.as_str())
    .bind(parties.person_id)
    .bind(parties.provider_id)
    .bind(holding_model.name())
    .bind(parties.holder_id)
    .bind(&funded)
    .bind(to_i32(plan_version)?)
    .bind(created_by)
    .execute(&mut *connection)
    .await
    .operation("insert agreement")?;
    insert_version(connection, id, first).await?;
    Ok(id)
}

/// Records a version of agreement `id` as it stands (awaiting, or agreed in advance).
pub async fn insert_version(
    connection: &mut PgConnection,
    id: Uuid,
    version: &AgreementVersion,
) -> Result<(), ContractsError> {
    let content = &version.content;
    let lines: Vec<LineJson> = content.lines.iter().map(LineJson::of).collect();
    let lines = serde_json::to_string(&lines).map_err(anyhow::Error::new)?;
    let terms =
        serde_json::to_string(&TermsJson::of(&content.terms)).map_err(anyhow::Error::new)?;
    let (payee_kind, payee_id) = match content.payee {
        Payee::Provider { provider_id } => ("provider", provider_id),
        Payee::Holder { holder_id } => ("holder", holder_id),
    };
    let (state, agreed_on) = match version.state {
        VersionState::Awaiting => ("awaiting", None),
        VersionState::Agreed { on } => ("agreed", Some(on)),
        VersionState::Superseded => ("superseded", None),
    };
    let representative = content.parties.representative.as_ref();
    sqlx::query(
        "INSERT INTO agreement_version (agreement_id, version, effective_from, recorded_on, \
             lines, terms, outcomes, representative_name, representative_capacity, payee_kind, \
             payee_id, rate_card_id, rate_card_version, state, agreed_on, cause) \
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16)",
    )
    .bind(id)
    .bind(to_i32(version.version)?)
    .bind(version.effective_from)
    .bind(version.recorded_on)
    .bind(lines)
    .bind(terms)
    .bind(&content.outcomes)
    .bind(representative.map(|representative| representative.name.as_str()))
    .bind(representative.map(|representative| representative.capacity.name()))
    .bind(payee_kind)
    .bind(payee_id)
    .bind(content.rate.map(|rate| rate.rate_card_id))
    .bind(content.rate.map(|rate| to_i32(rate.version)).transpose()?)
    .bind(state)
    .bind(agreed_on)
    .bind(version.cause.name())
    .execute(&mut *connection)
    .await
    .operation("insert agreement version")?;
    Ok(())
}

/// Every version of agreement `id` (signatures left out), oldest first.
pub async fn load_versions(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<AgreementVersion>, ContractsError> {
    let rows: Vec<AgreementRow> =
        sqlx::query_as(agreement_sql!(any, "WHERE a.id = $1 ORDER BY v.version"))
            .bind(id)
            .fetch_all(&mut *connection)
            .await
            .operation("select agreement versions")?;
    rows.into_iter()
        .map(|row| {
            let mut version = row.into_record()?.latest;
            version.signatures.clear();
            Ok(version)
        })
        .collect()
}

/// Agreement `id` with version `version` (and that version's signatures) in `latest`.
pub async fn load_agreement_version(
    connection: &mut PgConnection,
    id: Uuid,
    version: u32,
) -> Result<Option<AgreementRecord>, ContractsError> {
    let row: Option<AgreementRow> =
        sqlx::query_as(agreement_sql!(any, "WHERE a.id = $1 AND v.version = $2"))
            .bind(id)
            .bind(to_i32(version)?)
            .fetch_optional(&mut *connection)
            .await
            .operation("select agreement version")?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some(row.into_record()?)),
    }
}

#[derive(sqlx::FromRow)]
struct AgreementRow {
    id: Uuid,
    authority: String,
    person_id: Uuid,
    provider_id: Uuid,
    holding_model: String,
    holder_id: Option<Uuid>,
    status: String,
    last_day: Option<NaiveDate>,
    end_cause: Option<String>,
    awaiting: Option<i32>,
    version: i32,
    effective_from: NaiveDate,
    recorded_on: NaiveDate,
    lines: String,
    terms: String,
    outcomes: String,
    representative_name: Option<String>,
    representative_capacity: Option<String>,
    payee_kind: String,
    payee_id: Uuid,
    rate_card_id: Option<Uuid>,
    rate_card_version: Option<i32>,
    state: String,
    agreed_on: Option<NaiveDate>,
    cause: String,
    signatures: String,
}

/// The agreement with its latest version and signatures; `lock` holds it for update.
pub async fn load_agreement(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<AgreementRecord>, ContractsError> {
    if lock {
        sqlx::query("SELECT id FROM agreement WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *connection)
            .await
            .operation("lock agreement")?;
    }
    let row: Option<AgreementRow> = sqlx::query_as(agreement_sql!(latest, "WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(&mut *connection)
        .await
        .operation("select agreement")?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some(row.into_record()?)),
    }
}

/// Who a list of agreements is for.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    pub authority: Option<AuthorityId>,
    pub person_id: Option<Uuid>,
    /// Only agreements this organisation is the provider or holder of.
    pub party_org: Option<Uuid>,
}

/// A page of agreements, oldest first, and how many match in all.
pub async fn list_agreements(
    connection: &mut PgConnection,
    filter: &AgreementFilter,
    limit: u32,
    offset: u64,
) -> Result<(Vec<AgreementRecord>, u64), ContractsError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM agreement a \
         WHERE ($1::text IS NULL OR a.authority = $1) \
           AND ($2::uuid IS NULL OR a.person_id = $2) \
           AND ($3::uuid IS NULL OR a.provider_id = $3 OR a.holder_id = $3)",
    )
    .bind(filter.authority.as_ref().map(AuthorityId::as_str))
    .bind(filter.person_id)
    .bind(filter.party_org)
    .fetch_one(&mut *connection)
    .await
    .operation("count agreements")?;
    let rows: Vec<AgreementRow> = sqlx::query_as(agreement_sql!(
        latest,
        "WHERE ($1::text IS NULL OR a.authority = $1) \
           AND ($2::uuid IS NULL OR a.person_id = $2) \
           AND ($3::uuid IS NULL OR a.provider_id = $3 OR a.holder_id = $3) \
         ORDER BY a.created, a.id LIMIT $4 OFFSET $5"
    ))
    .bind(filter.authority.as_ref().map(AuthorityId::as_str))
    .bind(filter.person_id)
    .bind(filter.party_org)
    .bind(i64::from(limit))
    .bind(i64::try_from(offset).map_err(anyhow::Error::new)?)
    .fetch_all(&mut *connection)
    .await
    .operation("list agreements")?;
    let records = rows
        .into_iter()
        .map(AgreementRow::into_record)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((records, u64::try_from(total).unwrap_or_default()))
}

impl AgreementRow {
    fn into_record(self) -> anyhow::Result<AgreementRecord> {
        let whose = format!("stored agreement {}", self.id);
        let bad = |what: &str| anyhow::anyhow!("{whose} has a malformed {what}");
        // The version's signatures, read in the same statement, in the order recorded.
        let signatures: Vec<(String, String, Option<String>, NaiveDate)> =
            serde_json::from_str(&self.signatures).map_err(|_| bad("signatures"))?;
        let lines: Vec<LineJson> = serde_json::from_str(&self.lines).map_err(|_| bad("lines"))?;
        let terms: TermsJson = serde_json::from_str(&self.terms).map_err(|_| bad("terms"))?;
        let representative = match (self.representative_name, self.representative_capacity) {
            (Some(name), Some(capacity)) => Some(Representative {
                name,
                capacity: Capacity::from_name(&capacity).ok_or_else(|| bad("capacity"))?,
            }),
            _ => None,
        };
        let content = AgreementContent {
            parties: Parties {
                person_id: self.person_id,
                representative,
                provider_id: self.provider_id,
                authority: AuthorityId::parse("authority", &self.authority)
                    .map_err(|_| bad("authority"))?,
                holder_id: self.holder_id,
            },
            lines: lines.into_iter().map(LineJson::into_line).collect(),
            outcomes: self.outcomes,
            terms: terms.into_terms()?,
            payee: match self.payee_kind.as_str() {
                "provider" => Payee::Provider {
                    provider_id: self.payee_id,
                },
                "holder" => Payee::Holder {
                    holder_id: self.payee_id,
                },
                _ => return Err(bad("payee")),
            },
            rate: match (self.rate_card_id, self.rate_card_version) {
                (Some(rate_card_id), Some(version)) => Some(RateReference {
                    rate_card_id,
                    version: u32::try_from(version)?,
                }),
                _ => None,
            },
        }
        .checked()
        .map_err(|invalid| anyhow::anyhow!("{whose} no longer validates: {invalid}"))?;
        let signatures = signatures
            .into_iter()
            .map(|(role, signed_by, capacity, signed_on)| {
                Ok(Signature {
                    role: PartyRole::from_name(&role).ok_or_else(|| bad("signature role"))?,
                    signed_by,
                    capacity: capacity
                        .map(|capacity| {
                            Capacity::from_name(&capacity).ok_or_else(|| bad("capacity"))
                        })
                        .transpose()?,
                    signed_on,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let state = match (self.state.as_str(), self.agreed_on) {
            ("awaiting", None) => VersionState::Awaiting,
            ("agreed", Some(on)) => VersionState::Agreed { on },
            ("superseded", None) => VersionState::Superseded,
            _ => return Err(bad("state")),
        };
        let ended = match (self.last_day, self.end_cause) {
            (Some(last_day), Some(cause)) => Some((
                last_day,
                EndCause::from_name(&cause).ok_or_else(|| bad("end cause"))?,
            )),
            (None, None) => None,
            _ => return Err(bad("end")),
        };
        Ok(AgreementRecord {
            id: self.id,
            holding_model: HoldingModel::from_name(&self.holding_model)
                .ok_or_else(|| bad("holding model"))?,
            status: AgreementStatus::from_name(&self.status).ok_or_else(|| bad("status"))?,
            awaiting: self.awaiting.map(u32::try_from).transpose()?,
            ended,
            latest: AgreementVersion {
                version: u32::try_from(self.version)?,
                effective_from: self.effective_from,
                recorded_on: self.recorded_on,
                content,
                signatures,
                state,
                cause: VersionCause::from_name(&self.cause).ok_or_else(|| bad("cause"))?,
            },
        })
    }
}
