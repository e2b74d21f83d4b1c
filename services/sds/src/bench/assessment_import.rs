//! The case-system import benchmark (QUALITY.md P4): importing N people with their plans
//! through `ImportCaseRecords`, against a raw `INSERT ... SELECT FROM UNNEST` of the rows the
//! import writes (people, their audit entries, plan versions, plan lines and their outbox
//! events), on the same PostgreSQL in the same run. Each side gets a scratch database of its
//! own, created and migrated for the run and dropped after it, so real data is never
//! touched. Target: the import at least 0.8x the raw writes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use prost::Message as _;
use sds_platform::{AuthorityId, OrgKind, Principal, Role, TokenIssuer};
use sds_proto::v1::assessment_service_client::AssessmentServiceClient;
use sds_proto::v1::{self as proto, CaseRecordRow, ImportCaseRecordsRequest};

use super::scratch::{config_for, drop_database, scratch_database, thousandths};
use crate::cli::assessment::case_import::{batches, send_batches};
use sqlx::PgPool;
use uuid::Uuid;

/// The authority the generated people belong to.
const AUTHORITY: &str = "bench-shire";
/// The provider every generated option 2 line names.
const PROVIDER: &str = "CS2004071234";
/// QUALITY.md P4: the import reaches at least 0.8x the raw writes (in thousandths).
pub const TARGET_RATIO_THOUSANDTHS: u64 = 800;

/// What one run measured.
#[derive(Debug, Clone)]
pub struct ImportBenchReport {
    pub people: usize,
    pub rows: usize,
    pub import_elapsed: Duration,
    pub raw_elapsed: Duration,
}

impl ImportBenchReport {
    /// Ours over raw, as speeds (raw time / import time), in thousandths: integer
    /// arithmetic on microseconds, as the project computes every figure.
    pub fn ratio_thousandths(&self) -> u128 {
        self.raw_elapsed.as_micros() * 1000 / self.import_elapsed.as_micros().max(1)
    }

    fn ratio(&self) -> String {
        thousandths(self.ratio_thousandths())
    }

    pub fn table(&self) -> String {
        format!(
            "case-system import, {} people ({} rows)\n  import via ImportCaseRecords  {:>9} s\n  raw INSERT ... UNNEST         {:>9} s\n  ratio (raw / import)          {:>9}  (target at least {})",
            self.people,
            self.rows,
            millis_as_seconds(self.import_elapsed),
            millis_as_seconds(self.raw_elapsed),
            self.ratio(),
            thousandths(u128::from(TARGET_RATIO_THOUSANDTHS))
        )
    }

    /// The last line printed: `people`, `seconds`, `raw_seconds` and `ratio`.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"people\": {}, \"seconds\": {}, \"raw_seconds\": {}, \"ratio\": {}}}",
            self.people,
            millis_as_seconds(self.import_elapsed),
            millis_as_seconds(self.raw_elapsed),
            self.ratio()
        )
    }
}

/// A duration as seconds to the millisecond: `12.345`.
fn millis_as_seconds(elapsed: Duration) -> String {
    thousandths(elapsed.as_millis())
}

/// One generated person: their rows as the case system would export them. Every third
/// person has two lines (an option 2 line and an option 3 line), the rest one.
fn rows_of(index: usize) -> Vec<CaseRecordRow> {
    let case_reference = format!("BENCH-{index:07}");
    let person = |line: u32,
                  support: &str,
                  option: &str,
                  amount: &str,
                  provider: &str,
                  model: &str| CaseRecordRow {
        source_line: line,
        case_reference: case_reference.clone(),
        display_name: format!("Person {index}"),
        date_of_birth: format!("19{:02}-0{}-1{}", 30 + index % 60, 1 + index % 9, index % 9),
        locality: ["North", "South", "Coast", "Glen"][index % 4].to_owned(),
        client_groups: [
            "elderly_frail",
            "dementia;elderly_frail",
            "learning_disability",
            "carer",
        ][index % 4]
            .to_owned(),
        eligibility: "substantial".to_owned(),
        support_type: support.to_owned(),
        option: option.to_owned(),
        weekly_amount: amount.to_owned(),
        start_date: "2026-04-06".to_owned(),
        end_date: String::new(),
        provider: provider.to_owned(),
        holding_model: model.to_owned(),
        holder: String::new(),
    };
    let first_line = u32::try_from(index).unwrap_or(u32::MAX);
    let mut rows = vec![person(
        first_line,
        "personal_care",
        "2",
        "210.00",
        PROVIDER,
        "provider",
    )];
    if index.is_multiple_of(3) {
        rows.push(person(first_line, "day_support", "3", "85.50", "", ""));
    }
    rows
}

/// Runs the benchmark with `people` generated people.
pub async fn import_benchmark(
    database_url: &str,
    nats_url: &str,
    people: usize,
) -> anyhow::Result<ImportBenchReport> {
    ensure!(people > 0, "--people must be at least 1");
    let admin = PgPool::connect(database_url)
        .await
        .with_context(|| format!("connect to PostgreSQL at {database_url}"))?;
    let (ours_name, ours_url) = scratch_database(&admin, database_url, "import").await?;
    let (raw_name, raw_url) = scratch_database(&admin, database_url, "raw").await?;
    let outcome = async {
        let generated: Vec<Vec<CaseRecordRow>> = (0..people).map(rows_of).collect();
        let rows = generated.iter().map(Vec::len).sum();
        let import_elapsed = time_the_import(&ours_url, nats_url, &generated).await?;
        let raw_elapsed = time_raw_writes(&raw_url, nats_url, &generated).await?;
        Ok::<_, anyhow::Error>(ImportBenchReport {
            people,
            rows,
            import_elapsed,
            raw_elapsed,
        })
    }
    .await;
    for name in [ours_name, raw_name] {
        drop_database(&admin, &name).await;
    }
    outcome
}

async fn time_the_import(
    database_url: &str,
    nats_url: &str,
    generated: &[Vec<CaseRecordRow>],
) -> anyhow::Result<Duration> {
    let config = config_for(database_url, nats_url)?;
    let sds_platform::config::JwtConfig::SharedSecret(secret) = config.jwt.clone() else {
        anyhow::bail!("the benchmark signs its own tokens: unset SDS_JWT_PUBLIC_KEYS_FILE");
    };
    let process = sds_runtime::build(config, vec![sds_assessment::component()]).await?;
    // The generated plans name their provider by Care Inspectorate number: the directory
    // has published it, as its provider.registered would leave it in the index.
    let pool = process
        .pool_of(sds_assessment::SCHEMA)
        .context("the assessment pool")?;
    sds_assessment::providers::remember(
        &mut *pool.acquire().await?,
        sds_assessment::domain::option::ProviderId::from_uuid(Uuid::now_v7()),
        Some(&sds_assessment::domain::option::CareInspectorateNumber::parse("provider", PROVIDER)?),
        1,
    )
    .await?;
    let addr: SocketAddr = process.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));
    let token = TokenIssuer::shared_secret(&secret).issue(
        &Principal {
            org_id: AUTHORITY.to_owned(),
            org_kind: OrgKind::Authority,
            roles: vec![Role::Commissioning],
            authorities: vec![AuthorityId::parse("authority", AUTHORITY)?],
            person_id: None,
        },
        Duration::from_secs(3600),
    )?;
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let client = AssessmentServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    let header: tonic::metadata::MetadataValue<_> =
        format!("Bearer {token}").parse().context("token header")?;
    let started = Instant::now();
    // Batched and sent exactly as `sds assessment import` sends a file.
    let mut rejected = None;
    send_batches(
        batches(generated.to_vec()),
        |rows| {
            let mut client = client.clone();
            let mut request = tonic::Request::new(ImportCaseRecordsRequest {
                authority: AUTHORITY.to_owned(),
                rows,
            });
            request
                .metadata_mut()
                .insert("authorization", header.clone());
            async move {
                client
                    .import_case_records(request)
                    .await
                    .map(tonic::Response::into_inner)
            }
        },
        |_, response| {
            if rejected.is_none() {
                rejected = response.rejected.into_iter().next();
            }
        },
    )
    .await?;
    ensure!(
        rejected.is_none(),
        "the benchmark's rows were rejected: {rejected:?}"
    );
    let elapsed = started.elapsed();
    let _ = stop.send(());
    running.await.context("the benchmark server")??;
    Ok(elapsed)
}

/// The same rows written by hand: one `INSERT ... SELECT FROM UNNEST` per table, for the
/// people, their audit entries, plan versions, lines and one outbox event each, in one
/// transaction.
async fn time_raw_writes(
    database_url: &str,
    nats_url: &str,
    generated: &[Vec<CaseRecordRow>],
) -> anyhow::Result<Duration> {
    // The same schema as the service's: migrate the scratch database through the service.
    sds_runtime::migrate(
        &config_for(database_url, nats_url)?,
        &[sds_assessment::component()],
    )
    .await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::query("SET search_path TO assessment")
                    .execute(connection)
                    .await?;
                Ok(())
            })
        })
        .connect(database_url)
        .await?;

    let ids: Vec<Uuid> = generated.iter().map(|_| Uuid::now_v7()).collect();
    let first = |person: &Vec<CaseRecordRow>| person[0].clone();
    let case_references: Vec<String> = generated.iter().map(|p| first(p).case_reference).collect();
    let names: Vec<String> = generated.iter().map(|p| first(p).display_name).collect();
    let births: Vec<chrono::NaiveDate> = generated
        .iter()
        .map(|p| chrono::NaiveDate::parse_from_str(&first(p).date_of_birth, "%Y-%m-%d"))
        .collect::<Result<_, _>>()?;
    let localities: Vec<String> = generated.iter().map(|p| first(p).locality).collect();
    let groups: Vec<String> = generated
        .iter()
        .map(|p| first(p).client_groups.replace(';', ","))
        .collect();
    let mut line_people = Vec::new();
    let mut line_numbers = Vec::new();
    let mut line_types = Vec::new();
    let mut line_amounts = Vec::new();
    let mut line_arrangements = Vec::new();
    let mut line_providers: Vec<Option<String>> = Vec::new();
    let mut line_models: Vec<Option<String>> = Vec::new();
    let mut payloads = Vec::with_capacity(generated.len());
    for (person, id) in generated.iter().zip(&ids) {
        for (number, row) in person.iter().enumerate() {
            line_people.push(*id);
            line_numbers.push(i32::try_from(number + 1)?);
            line_types.push(row.support_type.clone());
            line_amounts.push(row.weekly_amount.parse::<rust_decimal::Decimal>()?);
            line_arrangements.push(
                if row.option == "2" {
                    "person_directed"
                } else {
                    "authority_arranged"
                }
                .to_owned(),
            );
            line_providers.push(Some(row.provider.clone()).filter(|provider| !provider.is_empty()));
            line_models.push(Some(row.holding_model.clone()).filter(|model| !model.is_empty()));
        }
        // An envelope of the size the import publishes: the plan with its lines.
        payloads.push(
            proto::Event {
                event_id: Uuid::now_v7().to_string(),
                event_type: "plan.approved".into(),
                authority: AUTHORITY.into(),
                aggregate_type: "plan".into(),
                aggregate_id: id.to_string(),
                aggregate_version: 1,
                body: Some(proto::event::Body::PlanApproved(proto::PlanApproved {
                    plan: Some(proto::Plan {
                        person_id: id.to_string(),
                        authority: AUTHORITY.into(),
                        version: 1,
                        lines: person
                            .iter()
                            .enumerate()
                            .map(|(number, row)| proto::PlanLine {
                                number: u32::try_from(number + 1).unwrap_or(u32::MAX),
                                weekly: row.weekly_amount.clone(),
                                ..proto::PlanLine::default()
                            })
                            .collect(),
                        ..proto::Plan::default()
                    }),
                })),
                ..proto::Event::default()
            }
            .encode_to_vec(),
        );
    }
    let event_ids: Vec<Uuid> = ids.iter().map(|_| Uuid::now_v7()).collect();

    let started = Instant::now();
    let mut transaction = pool.begin().await?;
    sqlx::query(
        "INSERT INTO person (id, authority, case_reference, display_name, date_of_birth, locality, \
             client_groups, version, recorded_by, updated_by) \
         SELECT id, $7, reference, name, born, locality, string_to_array(groups, ','), 1, 'bench', 'bench' \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[]) \
              AS given(id, reference, name, born, locality, groups)",
    )
    .bind(&ids)
    .bind(&case_references)
    .bind(&names)
    .bind(&births)
    .bind(&localities)
    .bind(&groups)
    .bind(AUTHORITY)
    .execute(&mut *transaction)
    .await?;
    sqlx::query(
        "INSERT INTO plan_version (person_id, version, authority, effective_from, recorded_on, status, \
             approved_on, approved_as, approved_weekly, recorded_by, updated_by) \
         SELECT id, 1, $2, DATE '2026-04-06', CURRENT_DATE, 'approved', CURRENT_DATE, 'panel', 0, 'bench', 'bench' \
         FROM UNNEST($1::uuid[]) AS given(id)",
    )
    .bind(&ids)
    .bind(AUTHORITY)
    .execute(&mut *transaction)
    .await?;
    sqlx::query(
        "INSERT INTO plan_line (person_id, version, number, support_type, amount_kind, amount, weekly, \
             arrangement, provider, holding_model, start_date) \
         SELECT person, 1, number, kind, 'weekly', amount, amount, arrangement, provider, model, DATE '2026-04-06' \
         FROM UNNEST($1::uuid[], $2::int[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::text[]) \
              AS given(person, number, kind, amount, arrangement, provider, model)",
    )
    .bind(&line_people)
    .bind(&line_numbers)
    .bind(&line_types)
    .bind(&line_amounts)
    .bind(&line_arrangements)
    .bind(&line_providers)
    .bind(&line_models)
    .execute(&mut *transaction)
    .await?;
    // Two audit entries a person, as the import appends (person imported, plan imported).
    let audited: Vec<Uuid> = ids.iter().flat_map(|id| [*id, *id]).collect();
    let actions: Vec<&str> = ids
        .iter()
        .flat_map(|_| ["person.imported", "plan.imported"])
        .collect();
    sqlx::query(
        "INSERT INTO person_audit (person_id, authority, actor, action) \
         SELECT person, $3, 'bench', action FROM UNNEST($1::uuid[], $2::text[]) AS given(person, action)",
    )
    .bind(&audited)
    .bind(&actions)
    .bind(AUTHORITY)
    .execute(&mut *transaction)
    .await?;
    let subjects: Vec<String> = ids
        .iter()
        .map(|_| format!("sds.{AUTHORITY}.plan.approved"))
        .collect();
    let types: Vec<&str> = ids.iter().map(|_| "plan.approved").collect();
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, event_type, payload) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bytea[])",
    )
    .bind(&event_ids)
    .bind(&subjects)
    .bind(&types)
    .bind(&payloads)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await?;
    let elapsed = started.elapsed();
    pool.close().await;
    Ok(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_line_is_json_with_seconds_to_the_millisecond_and_the_ratio() {
        let report = ImportBenchReport {
            people: 100_000,
            rows: 133_334,
            import_elapsed: Duration::from_millis(20_000),
            raw_elapsed: Duration::from_millis(16_500),
        };
        assert_eq!(report.ratio_thousandths(), 825);
        assert_eq!(
            report.to_json(),
            "{\"people\": 100000, \"seconds\": 20.000, \"raw_seconds\": 16.500, \"ratio\": 0.825}"
        );
        assert!(report.table().contains("target at least 0.800"));
    }

    #[test]
    fn every_third_person_has_a_second_line() {
        assert_eq!(rows_of(0).len(), 2);
        assert_eq!(rows_of(1).len(), 1);
        assert_eq!(rows_of(3)[1].option, "3");
    }
}
