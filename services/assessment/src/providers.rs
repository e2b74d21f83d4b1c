//! The providers a plan may name: the directory's providers as its events publish them, and
//! the resolution of what a plan line names (a directory id or a Care Inspectorate number)
//! to the directory id that agreements, payments and the portal key on.
//!
//! What must stay true: a line is only ever stored naming a provider the directory has
//! published, and by its directory id; a Care Inspectorate number resolves to the provider
//! that holds it now (a number the directory moved to another provider moves here too);
//! an event older than the version already recorded changes nothing, so redelivery and
//! reordering of one provider's events are harmless. The index is filled only from events:
//! no service reads another's tables.

use std::collections::HashMap;

use sds_events::{EventHandler, EventType, HandlerError, Received};
use sds_platform::StoreContext as _;
use sds_proto::v1::event::Body;
use sds_vocabulary::{Invalid, shown};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::option::{
    Arrangement, CareInspectorateNumber, PersonsChoice, ProviderId, ProviderRef,
};
use crate::domain::plan::NewLine;
use crate::error::AssessmentError;

/// Records what the directory published about a provider: its id and current Care
/// Inspectorate number (if any), at the record's version. Returns whether anything changed.
pub async fn remember(
    connection: &mut PgConnection,
    provider: ProviderId,
    number: Option<&CareInspectorateNumber>,
    version: u64,
) -> Result<bool, sqlx::Error> {
    let version = i64::try_from(version).unwrap_or(i64::MAX);
    let number = number.map(CareInspectorateNumber::as_str);
    let newer: Option<i64> =
        sqlx::query_scalar("SELECT version FROM known_provider WHERE provider_id = $1 FOR UPDATE")
            .bind(provider.as_uuid())
            .fetch_optional(&mut *connection)
            .await?;
    if newer.is_some_and(|known| known >= version) {
        return Ok(false);
    }
    if let Some(number) = number {
        // The directory keeps one service per number; if it moved the number here, the
        // provider that held it here no longer does.
        sqlx::query(
            "UPDATE known_provider SET care_inspectorate_number = NULL, updated_at = now() \
             WHERE care_inspectorate_number = $1 AND provider_id <> $2",
        )
        .bind(number)
        .bind(provider.as_uuid())
        .execute(&mut *connection)
        .await?;
    }
    sqlx::query(
        "INSERT INTO known_provider (provider_id, care_inspectorate_number, version) \
         VALUES ($1, $2, $3) \
         ON CONFLICT (provider_id) DO UPDATE SET \
             care_inspectorate_number = excluded.care_inspectorate_number, \
             version = excluded.version, updated_at = now()",
    )
    .bind(provider.as_uuid())
    .bind(number)
    .bind(version)
    .execute(&mut *connection)
    .await?;
    Ok(true)
}

/// Keeps [`remember`]ing the directory's provider events (consumer `assessment-providers`).
#[derive(Debug, Clone, Default)]
pub struct ProviderIndexHandler;

impl EventHandler for ProviderIndexHandler {
    const HANDLES: &'static [EventType] =
        &[EventType::ProviderRegistered, EventType::ProviderUpdated];

    async fn handle(
        &self,
        transaction: &mut PgConnection,
        event: &Received,
        body: Body,
    ) -> Result<(), HandlerError> {
        let provider = match body {
            Body::ProviderRegistered(registered) => registered.provider,
            Body::ProviderUpdated(updated) => updated.provider,
            _ => None,
        }
        .ok_or_else(|| {
            HandlerError::Permanent(anyhow::anyhow!("{} carries no provider", event.event_type))
        })?;
        let permanent =
            |what: String| HandlerError::Permanent(anyhow::anyhow!("{} {what}", event.event_type));
        let id = ProviderId::parse("id", &provider.id)
            .map_err(|invalid| permanent(format!("names a provider badly: {invalid}")))?;
        let number = provider
            .details
            .as_ref()
            .map(|details| details.care_inspectorate_number.trim())
            .filter(|number| !number.is_empty())
            .map(|number| CareInspectorateNumber::parse("care_inspectorate_number", number))
            .transpose()
            .map_err(|invalid| permanent(format!("of {id}: {invalid}")))?;
        remember(transaction, id, number.as_ref(), provider.version.max(1)).await?;
        Ok(())
    }
}

/// The directory ids of the providers some plan lines name, read in one query.
#[derive(Debug, Clone, Default)]
pub struct KnownProviders {
    known: HashMap<ProviderRef, ProviderId>,
}

impl KnownProviders {
    /// Looks up every provider `named`.
    pub async fn of<'a>(
        connection: &mut PgConnection,
        named: impl IntoIterator<Item = &'a ProviderRef>,
    ) -> Result<KnownProviders, AssessmentError> {
        let (mut ids, mut numbers) = (Vec::new(), Vec::new());
        for reference in named {
            match reference {
                ProviderRef::Directory(id) => ids.push(id.as_uuid()),
                ProviderRef::CareInspectorate(number) => numbers.push(number.as_str().to_owned()),
            }
        }
        if ids.is_empty() && numbers.is_empty() {
            return Ok(KnownProviders::default());
        }
        let rows: Vec<(Uuid, Option<String>)> = sqlx::query_as(
            "SELECT provider_id, care_inspectorate_number FROM known_provider \
             WHERE provider_id = ANY($1) OR care_inspectorate_number = ANY($2)",
        )
        .bind(&ids)
        .bind(&numbers)
        .fetch_all(&mut *connection)
        .await
        .operation("look up providers")?;
        let mut known = HashMap::new();
        for (id, number) in rows {
            let id = ProviderId::from_uuid(id);
            known.insert(ProviderRef::Directory(id), id);
            if let Some(number) = number
                && let Ok(number) = CareInspectorateNumber::parse("number", &number)
            {
                known.insert(ProviderRef::CareInspectorate(number), id);
            }
        }
        Ok(KnownProviders { known })
    }

    /// The provider `named` as its directory id, or a refusal placed at `field`.
    pub fn resolve(&self, field: &str, named: &ProviderRef) -> Result<ProviderRef, Invalid> {
        match self.known.get(named) {
            Some(id) => Ok(ProviderRef::Directory(*id)),
            None => Err(Invalid::new(
                field,
                format!(
                    "{} is not in the provider directory; name a provider the directory lists (by its id or Care Inspectorate number), or register the service there first",
                    shown(&named_text(named))
                ),
            )),
        }
    }

    /// The arrangement with its provider (if any) resolved; a refusal names
    /// `{field}.person_directed.provider` or `{field}.authority_arranged.provider`.
    pub fn arrangement(
        &self,
        field: &str,
        arrangement: Arrangement,
    ) -> Result<Arrangement, Invalid> {
        self.resolved_in(arrangement, |kind| format!("{field}.{kind}.provider"))
    }

    /// The arrangement with its provider (if any) resolved; a refusal names `field`, as a
    /// file's column does.
    pub fn arrangement_named_at(
        &self,
        field: &str,
        arrangement: Arrangement,
    ) -> Result<Arrangement, Invalid> {
        self.resolved_in(arrangement, |_| field.to_owned())
    }

    fn resolved_in(
        &self,
        arrangement: Arrangement,
        field_of: impl Fn(&str) -> String,
    ) -> Result<Arrangement, Invalid> {
        Ok(match arrangement {
            Arrangement::DirectPayment => Arrangement::DirectPayment,
            Arrangement::AuthorityArranged { provider } => Arrangement::AuthorityArranged {
                provider: provider
                    .map(|named| self.resolve(&field_of("authority_arranged"), &named))
                    .transpose()?,
            },
            Arrangement::PersonDirected(choice) => Arrangement::PersonDirected(PersonsChoice {
                provider: choice
                    .provider
                    .map(|named| self.resolve(&field_of("person_directed"), &named))
                    .transpose()?,
                holder: choice.holder,
            }),
        })
    }
}

impl KnownProviders {
    /// New lines with their providers resolved; a refusal names `{field}[i].arrangement...`.
    pub fn lines(&self, field: &str, lines: Vec<NewLine>) -> Result<Vec<NewLine>, Invalid> {
        lines
            .into_iter()
            .enumerate()
            .map(|(index, mut line)| {
                line.arrangement =
                    self.arrangement(&format!("{field}[{index}].arrangement"), line.arrangement)?;
                Ok(line)
            })
            .collect()
    }
}

/// The provider an arrangement names, if any.
pub fn named_provider(arrangement: &Arrangement) -> Option<&ProviderRef> {
    match arrangement {
        Arrangement::DirectPayment => None,
        Arrangement::AuthorityArranged { provider } => provider.as_ref(),
        Arrangement::PersonDirected(choice) => choice.provider.as_ref(),
    }
}

fn named_text(named: &ProviderRef) -> String {
    match named {
        ProviderRef::Directory(id) => id.to_string(),
        ProviderRef::CareInspectorate(number) => number.as_str().to_owned(),
    }
}
