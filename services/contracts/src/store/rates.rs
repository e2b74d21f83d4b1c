//! Rate cards and their versions. A card is one row per provider and service type; each
//! version (a card set again from a later date, or an uplift) is inserted once with its
//! components and never updated, so the rate in force on any past day stays answerable.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sds_money::Money;
use sds_platform::StoreContext as _;
use sds_vocabulary::NamedEnum as _;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{RateCard, RateComponent};
use crate::error::ContractsError;

sds_vocabulary::named_enum! {
    /// How a version came about.
    pub enum VersionCause("rate card version cause") {
        Set = "set",
        Uplift = "uplift",
    }
}

/// One version of a card as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRateVersion {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub cause: VersionCause,
    pub card: RateCard,
}

/// A card with its versions, oldest first (never empty once the card is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCardRecord {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub service_type: String,
    pub versions: Vec<StoredRateVersion>,
}

impl RateCardRecord {
    pub fn latest(&self) -> Option<&StoredRateVersion> {
        self.versions.last()
    }
}

/// The id of the provider's card for the service type, creating the card (without
/// versions) if there is none, and locking it until the transaction ends so that two
/// callers cannot both add "the next" version.
pub async fn claim_rate_card(
    connection: &mut PgConnection,
    provider_id: Uuid,
    service_type: &str,
    actor: &str,
) -> Result<Uuid, ContractsError> {
    sqlx::query(
        "INSERT INTO rate_card (id, provider_id, service_type, recorded_by) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (provider_id, service_type) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(provider_id)
    .bind(service_type)
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("insert rate card")?;
    let (id,): (Uuid,) = sqlx::query_as(
        "SELECT id FROM rate_card WHERE provider_id = $1 AND service_type = $2 FOR UPDATE",
    )
    .bind(provider_id)
    .bind(service_type)
    .fetch_one(&mut *connection)
    .await
    .operation("lock rate card")?;
    Ok(id)
}

/// Locks an existing card until the transaction ends; `false` if no card has this id.
pub async fn lock_rate_card(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<bool, ContractsError> {
    let locked: Option<(Uuid,)> =
        sqlx::query_as("SELECT id FROM rate_card WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *connection)
            .await
            .operation("lock rate card")?;
    Ok(locked.is_some())
}

/// Adds a version with its components. The caller has locked the card and checked that
/// the version starts after the latest.
#[allow(clippy::too_many_arguments)]
pub async fn insert_rate_version(
    connection: &mut PgConnection,
    rate_card_id: Uuid,
    version: u32,
    effective_from: NaiveDate,
    cause: VersionCause,
    uplift_percent: Option<Decimal>,
    card: &RateCard,
    actor: &str,
) -> Result<(), ContractsError> {
    let hourly_rate = card
        .hourly_rate()
        .map_err(|_| ContractsError::UpliftOutOfRange)?;
    let version = i32::try_from(version).map_err(anyhow::Error::new)?;
    sqlx::query(
        "INSERT INTO rate_card_version (rate_card_id, version, effective_from, cause, \
             uplift_percent, hourly_rate, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(rate_card_id)
    .bind(version)
    .bind(effective_from)
    .bind(cause.name())
    .bind(uplift_percent)
    .bind(hourly_rate.as_decimal())
    .bind(actor)
    .execute(&mut *connection)
    .await
    .operation("insert rate card version")?;
    let (components, amounts): (Vec<&str>, Vec<Decimal>) = card
        .components()
        .map(|(component, amount)| (component.name(), amount.as_decimal()))
        .unzip();
    sqlx::query(
        "INSERT INTO rate_card_component (rate_card_id, version, component, hourly) \
         SELECT $1, $2, component, hourly FROM UNNEST($3::text[], $4::numeric[]) \
             AS given (component, hourly)",
    )
    .bind(rate_card_id)
    .bind(version)
    .bind(components)
    .bind(amounts)
    .execute(&mut *connection)
    .await
    .operation("insert rate card components")?;
    Ok(())
}

/// The ids of the provider's rate cards, oldest first.
pub async fn rate_cards_of(
    connection: &mut PgConnection,
    provider_id: Uuid,
) -> Result<Vec<Uuid>, ContractsError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM rate_card WHERE provider_id = $1 \
           AND EXISTS (SELECT 1 FROM rate_card_version v WHERE v.rate_card_id = rate_card.id) \
         ORDER BY recorded_at, id",
    )
    .bind(provider_id)
    .fetch_all(&mut *connection)
    .await
    .operation("select the provider's rate cards")?)
}

/// The card with every version, or `None` if no card has this id.
pub async fn load_rate_card(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<RateCardRecord>, ContractsError> {
    let card: Option<(Uuid, Uuid, String)> =
        sqlx::query_as("SELECT id, provider_id, service_type FROM rate_card WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *connection)
            .await
            .operation("select rate card")?;
    let Some((id, provider_id, service_type)) = card else {
        return Ok(None);
    };
    let versions: Vec<(i32, NaiveDate, String, Decimal)> = sqlx::query_as(
        "SELECT version, effective_from, cause, hourly_rate FROM rate_card_version \
         WHERE rate_card_id = $1 ORDER BY version",
    )
    .bind(id)
    .fetch_all(&mut *connection)
    .await
    .operation("select rate card versions")?;
    let components: Vec<(i32, String, Decimal)> = sqlx::query_as(
        "SELECT version, component, hourly FROM rate_card_component \
         WHERE rate_card_id = $1 ORDER BY version, component",
    )
    .bind(id)
    .fetch_all(&mut *connection)
    .await
    .operation("select rate card components")?;
    let mut by_version: BTreeMap<i32, Vec<(RateComponent, Money)>> = BTreeMap::new();
    for (version, component, hourly) in components {
        let component = RateComponent::from_name(&component).ok_or_else(|| {
            anyhow::anyhow!("stored rate card {id} has an unknown component {component}")
        })?;
        let hourly = Money::try_from(hourly)
            .map_err(|_| anyhow::anyhow!("stored rate card {id} has a malformed amount"))?;
        by_version
            .entry(version)
            .or_default()
            .push((component, hourly));
    }
    let versions = versions
        .into_iter()
        .map(|(version, effective_from, cause, hourly_rate)| {
            stored_version(
                id,
                version,
                effective_from,
                &cause,
                hourly_rate,
                &by_version,
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(RateCardRecord {
        id,
        provider_id,
        service_type,
        versions,
    }))
}

/// A version read back through the card's own validation; its stored rate must still be
/// the sum of its components.
fn stored_version(
    id: Uuid,
    version: i32,
    effective_from: NaiveDate,
    cause: &str,
    hourly_rate: Decimal,
    components: &BTreeMap<i32, Vec<(RateComponent, Money)>>,
) -> anyhow::Result<StoredRateVersion> {
    let whose = format!("stored rate card {id} version {version}");
    let given = components.get(&version).map_or(&[][..], Vec::as_slice);
    let card = RateCard::new("components", given)
        .map_err(|invalid| anyhow::anyhow!("{whose} no longer validates: {invalid}"))?;
    if card.hourly_rate().ok().map(Money::as_decimal) != Some(hourly_rate) {
        anyhow::bail!("{whose} has an hourly rate other than the sum of its components");
    }
    Ok(StoredRateVersion {
        version: u32::try_from(version)?,
        effective_from,
        cause: VersionCause::from_name(cause)
            .ok_or_else(|| anyhow::anyhow!("{whose} has an unknown cause {cause}"))?,
        card,
    })
}
