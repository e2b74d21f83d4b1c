//! Typed configuration from environment variables. Every default works with `deploy/local`,
//! so `sds serve` needs no settings at all on a developer's machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Settings shared by every service process.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// `SDS_LISTEN_ADDR`: where the gRPC server listens.
    pub listen_addr: SocketAddr,
    /// `SDS_HTTP_ADDR`: where the web listener serves pages and open data over HTTP, for
    /// browsers and plain HTTP clients (gRPC keeps its own port, which speaks only HTTP/2).
    pub http_addr: SocketAddr,
    /// `SDS_DATABASE_URL`: the PostgreSQL database; each service keeps its own schema in it.
    pub database_url: String,
    /// `SDS_DB_MAX_CONNECTIONS`: the PostgreSQL connections the whole process may hold,
    /// shared equally among the services it runs; `None` gives each service
    /// [`DEFAULT_CONNECTIONS_PER_SERVICE`].
    pub database_max_connections: Option<u32>,
    /// `SDS_DB_ACQUIRE_TIMEOUT_MS`: how long a request waits for a database connection
    /// before it is answered `Unavailable`.
    pub database_acquire_timeout: Duration,
    /// `SDS_NATS_URL`: the NATS server with JetStream, or the servers of a NATS cluster
    /// separated by commas (`nats://a:4222,nats://b:4222,nats://c:4222`): the client
    /// connects to any that answers and moves to another when it goes.
    pub nats_url: String,
    /// How bearer tokens are verified: `SDS_JWKS_URL`, `SDS_JWKS_FILE`,
    /// `SDS_JWT_PUBLIC_KEYS_FILE` or (locally only) `SDS_JWT_SECRET`; see [`JwtConfig`].
    pub jwt: JwtConfig,
    /// `SDS_JWT_MAX_LIFETIME_HOURS`: the longest a token may be valid (`exp` - `iat`).
    pub jwt_max_lifetime: Duration,
    /// `SDS_CLOCK_FILE`: for tests and simulations only, a file holding the time every
    /// service reads "today" from (see [`crate::Clock::from_file`]), so that services run
    /// as separate processes move through simulated days together. Unset: the system clock.
    pub clock_file: Option<PathBuf>,
    /// `SDS_SERVICE_KEY_FILE`: the RS256 private key (PEM) services sign the tokens they
    /// call each other with, when tokens are verified with `SDS_JWT_PUBLIC_KEYS_FILE` (which
    /// must then hold its public half) or a JWKS (which must hold its public half under the
    /// key id `SDS_SERVICE_KEY_ID`, see [`JwtConfig::Jwks`]). With a shared secret, services
    /// sign with the secret.
    pub service_key_file: Option<PathBuf>,
    /// `SDS_DIRECTORY_URL`: where services reach the directory over gRPC, such as
    /// `http://directory:50051`; `None` when the directory runs in the same process, which
    /// is then called on its own address.
    pub directory_url: Option<String>,
    /// `SDS_ASSESSMENT_URL`: where services reach assessment over gRPC, such as
    /// `http://assessment:50051`; `None` when assessment runs in the same process.
    pub assessment_url: Option<String>,
    /// `SDS_LEDGER_URL`: where services reach the ledger over gRPC, such as
    /// `http://ledger:50051`; `None` when the ledger runs in the same process.
    pub ledger_url: Option<String>,
    /// `SDS_CONTRACTS_URL`: where services (the portal's pages) reach contracts over gRPC;
    /// `None` when contracts runs in the same process.
    pub contracts_url: Option<String>,
    /// `SDS_PAYMENTS_URL`: where services (the portal's pages) reach payments over gRPC;
    /// `None` when payments runs in the same process.
    pub payments_url: Option<String>,
    /// `SDS_EXPORTS_DIR`: where payment runs write their finance files, a folder per run
    /// under one per authority.
    pub exports_dir: PathBuf,
    /// `SDS_MODULUS_WEIGHTS`: Vocalink's modulus weight table (`valacdos.txt`), which
    /// payments checks payees' sort codes and account numbers against. The operator
    /// downloads it from Vocalink (it is not ours to ship); `None` records bank details
    /// unchecked, and says so.
    pub modulus_weights: Option<PathBuf>,
    /// `SDS_MODULUS_SUBSTITUTIONS`: Vocalink's sort code substitution table
    /// (`scsubtab.txt`), used with the weights.
    pub modulus_substitutions: Option<PathBuf>,
    /// `SDS_LEDGER_SURPLUS_WEEKS`: a fund's balance above this many weeks of its budget is
    /// a surplus (`fund.surplus` as it crosses).
    pub ledger_surplus_weeks: u32,
    /// `SDS_LEDGER_LOW_BALANCE_WEEKS`: a fund's balance below this many weeks of its budget
    /// is low (`fund.low_balance` as it crosses).
    pub ledger_low_balance_weeks: u32,
    /// `SDS_PAYMENT_CHUNK_SCHEDULES`: about how many schedules one chunk of a payment run
    /// holds; the chunks are shared among the payments replicas.
    pub payment_chunk_schedules: u32,
    /// `SDS_PAYMENT_CHUNKS_AT_ONCE`: how many chunks of payment runs one payments replica
    /// works on at once (two keep both the process and PostgreSQL busy).
    pub payment_chunks_at_once: usize,
    /// `SDS_LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `SDS_DRAIN_SECONDS`: how long in-flight requests may take to finish on shutdown.
    pub drain_deadline: Duration,
    /// Limits on what one gRPC server takes on.
    pub server: ServerConfig,
    /// The outbox relay, consumers and pruning.
    pub events: EventsConfig,
    /// Where the process's metrics go.
    pub metrics: MetricsConfig,
    /// TLS on the gRPC port and on calls to other services (`SDS_TLS_*`).
    pub tls: TlsConfig,
}

/// Where a process's metrics go (see [`crate::metrics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `SDS_METRICS_ADDR`: where `GET /metrics` serves Prometheus text (`0.0.0.0:9464` on
    /// Kubernetes; port 0 picks a free one). Unset or empty: no metrics listener, so that
    /// processes started side by side on one machine never fight over a port.
    pub addr: Option<SocketAddr>,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: the OTLP/gRPC collector metrics are pushed to, as
    /// traces are (every `OTEL_METRIC_EXPORT_INTERVAL` milliseconds, 60 000 unless set).
    /// Unset or empty: none.
    pub otlp_endpoint: Option<String>,
    /// `SDS_METRICS_SAMPLE_MS`: how often the gauges read from PostgreSQL and NATS (outbox
    /// age, consumer pending) are sampled, per service.
    pub sample_interval: Duration,
}

/// A service's share of the connection budget when `SDS_DB_MAX_CONNECTIONS` is not set.
pub const DEFAULT_CONNECTIONS_PER_SERVICE: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The shortest HS256 secret accepted: the size of the SHA-256 output it keys.
pub const MIN_SHARED_SECRET_BYTES: usize = 32;

/// The secret `deploy/local` uses; never accepted when `SDS_ENV=production`.
pub const LOCAL_JWT_SECRET: &str = "local-development-secret-change-me";
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50051";
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:55432/postgres";
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:54222";

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl PlatformConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());

        let listen_addr = parse_setting(
            "SDS_LISTEN_ADDR",
            &get("SDS_LISTEN_ADDR", DEFAULT_LISTEN_ADDR),
            "an address such as 127.0.0.1:50051",
        )?;
        let http_addr = parse_setting(
            "SDS_HTTP_ADDR",
            &get("SDS_HTTP_ADDR", DEFAULT_HTTP_ADDR),
            "an address such as 127.0.0.1:8080",
        )?;
        let database_max_connections = lookup("SDS_DB_MAX_CONNECTIONS")
            .map(|raw| {
                parse_setting(
                    "SDS_DB_MAX_CONNECTIONS",
                    &raw,
                    "a whole number of connections",
                )
            })
            .transpose()?;
        let drain_seconds: u64 = parse_setting(
            "SDS_DRAIN_SECONDS",
            &get("SDS_DRAIN_SECONDS", "10"),
            "a whole number of seconds",
        )?;
        let log_format = match get("SDS_LOG_FORMAT", "text").as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError {
                    variable: "SDS_LOG_FORMAT",
                    problem: format!("unknown format {other:?}; accepted: text, json"),
                });
            }
        };
        let production = match lookup("SDS_ENV").as_deref() {
            None | Some("" | "local") => false,
            Some("production") => true,
            // A typo ("prod", "Production") must not quietly run with the local settings.
            Some(other) => {
                return Err(ConfigError {
                    variable: "SDS_ENV",
                    problem: format!(
                        "unknown environment {other:?}; accepted: production, local (or unset)"
                    ),
                });
            }
        };
        let jwt = jwt::jwt_config(&lookup, production)?;
        let tls = tls::tls_config(&lookup)?;

        // Whoever could write the file would move "today" for every payment.
        let clock_file = lookup("SDS_CLOCK_FILE")
            .filter(|path| !path.trim().is_empty())
            .map(PathBuf::from);
        if production && clock_file.is_some() {
            return Err(ConfigError {
                variable: "SDS_CLOCK_FILE",
                problem: "a clock read from a file is for tests, simulations and the local demo; it is refused in production".into(),
            });
        }
        let service_key_file = lookup("SDS_SERVICE_KEY_FILE")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from);
        // Checked here so that a typo stops the process at start rather than refusing the
        // first request that needs the other service.
        let service_url = |variable: &'static str, example: &str| {
            lookup(variable)
                .filter(|url| !url.is_empty())
                .map(|url| {
                    let endpoint = url.starts_with("http://") || url.starts_with("https://");
                    if endpoint && tonic::transport::Endpoint::from_shared(url.clone()).is_ok() {
                        Ok(url)
                    } else {
                        Err(ConfigError {
                            variable,
                            problem: format!("{url:?} is not a URL such as {example}"),
                        })
                    }
                })
                .transpose()
        };
        let directory_url = service_url("SDS_DIRECTORY_URL", "http://directory:50051")?;
        let ledger_url = service_url("SDS_LEDGER_URL", "http://ledger:50051")?;
        let assessment_url = service_url("SDS_ASSESSMENT_URL", "http://assessment:50051")?;
        let contracts_url = service_url("SDS_CONTRACTS_URL", "http://contracts:50051")?;
        let payments_url = service_url("SDS_PAYMENTS_URL", "http://payments:50051")?;
        let exports_dir = PathBuf::from(get("SDS_EXPORTS_DIR", "exports"));
        if exports_dir.as_os_str().is_empty() {
            return Err(ConfigError {
                variable: "SDS_EXPORTS_DIR",
                problem: "is empty; name the folder payment runs write their files to".to_owned(),
            });
        }

        let modulus_weights = readable_file(&lookup, "SDS_MODULUS_WEIGHTS", "")?;
        let modulus_substitutions = readable_file(&lookup, "SDS_MODULUS_SUBSTITUTIONS", "")?;
        if modulus_substitutions.is_some() && modulus_weights.is_none() {
            return Err(ConfigError {
                variable: "SDS_MODULUS_SUBSTITUTIONS",
                problem: "is set without SDS_MODULUS_WEIGHTS; the substitutions only apply with the weight table".to_owned(),
            });
        }

        let numbers = Numbers { lookup: &lookup };
        let positive = |variable: &'static str, default: &str, unit: &str| {
            numbers.positive(variable, default, unit)
        };
        let hours = |variable: &'static str, default: &str| numbers.hours(variable, default);
        let count = |variable: &'static str, default: &str, unit: &str| {
            numbers.count(variable, default, unit)
        };
        let server = server::server_config(&numbers)?;
        let weeks = |variable: &'static str, default: &str| {
            positive(variable, default, "weeks")
                .map(|weeks| u32::try_from(weeks).unwrap_or(u32::MAX))
        };
        let ledger_surplus_weeks = weeks("SDS_LEDGER_SURPLUS_WEEKS", "4")?;
        let ledger_low_balance_weeks = weeks("SDS_LEDGER_LOW_BALANCE_WEEKS", "1")?;
        if ledger_low_balance_weeks >= ledger_surplus_weeks {
            return Err(ConfigError {
                variable: "SDS_LEDGER_LOW_BALANCE_WEEKS",
                problem: format!(
                    "is {ledger_low_balance_weeks}, not below SDS_LEDGER_SURPLUS_WEEKS ({ledger_surplus_weeks}); a low balance is below a surplus"
                ),
            });
        }
        let payment_chunk_schedules = u32::try_from(positive(
            "SDS_PAYMENT_CHUNK_SCHEDULES",
            "10000",
            "schedules",
        )?)
        .unwrap_or(u32::MAX);
        let payment_chunks_at_once = count("SDS_PAYMENT_CHUNKS_AT_ONCE", "2", "chunks")?;
        let events = events::events_config(&numbers)?;

        let metrics = MetricsConfig {
            addr: lookup("SDS_METRICS_ADDR")
                .filter(|addr| !addr.trim().is_empty())
                .map(|addr| {
                    parse_setting(
                        "SDS_METRICS_ADDR",
                        addr.trim(),
                        "an address such as 0.0.0.0:9464",
                    )
                })
                .transpose()?,
            otlp_endpoint: lookup("OTEL_EXPORTER_OTLP_ENDPOINT").filter(|url| !url.is_empty()),
            sample_interval: Duration::from_millis(positive(
                "SDS_METRICS_SAMPLE_MS",
                "5000",
                "milliseconds",
            )?),
        };

        Ok(Self {
            listen_addr,
            http_addr,
            clock_file,
            database_url: get("SDS_DATABASE_URL", DEFAULT_DATABASE_URL),
            database_max_connections,
            database_acquire_timeout: Duration::from_millis(positive(
                "SDS_DB_ACQUIRE_TIMEOUT_MS",
                "2000",
                "milliseconds",
            )?),
            nats_url: {
                let url = get("SDS_NATS_URL", DEFAULT_NATS_URL);
                nats_servers(&url).map_err(|problem| ConfigError {
                    variable: "SDS_NATS_URL",
                    problem,
                })?;
                url
            },
            jwt,
            jwt_max_lifetime: hours("SDS_JWT_MAX_LIFETIME_HOURS", "24")?,
            service_key_file,
            directory_url,
            assessment_url,
            ledger_url,
            contracts_url,
            payments_url,
            exports_dir,
            modulus_weights,
            modulus_substitutions,
            ledger_surplus_weeks,
            ledger_low_balance_weeks,
            payment_chunk_schedules,
            payment_chunks_at_once,
            log_format,
            drain_deadline: Duration::from_secs(drain_seconds),
            server,
            events,
            metrics,
            tls,
        })
    }
}

/// The servers of `SDS_NATS_URL`, one or more separated by commas, each a `nats://` or
/// `tls://` URL or a bare `host:port`.
pub fn nats_servers(url: &str) -> Result<Vec<&str>, String> {
    let servers: Vec<&str> = url.split(',').map(str::trim).collect();
    for server in &servers {
        let address = server
            .strip_prefix("nats://")
            .or_else(|| server.strip_prefix("tls://"))
            .unwrap_or(server);
        // Credentials may come before the host (user:password@host:port).
        let host_port = address.rsplit('@').next().unwrap_or(address);
        let port_ok = host_port
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok {
            return Err(format!(
                "{server:?} is not a NATS server such as nats://127.0.0.1:4222; give one, or several separated by commas"
            ));
        }
    }
    Ok(servers)
}

/// The file `variable` names, which must be there to be read; unset or empty: `None`.
/// `hint` follows the complaint about a file that is not there (`; give ...`).
fn readable_file(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    hint: &str,
) -> Result<Option<PathBuf>, ConfigError> {
    lookup(variable)
        .filter(|raw| !raw.trim().is_empty())
        .map(|raw| {
            let path = PathBuf::from(&raw);
            if path.is_file() {
                Ok(path)
            } else {
                Err(ConfigError {
                    variable,
                    problem: format!("{raw:?} is not a file that can be read{hint}"),
                })
            }
        })
        .transpose()
}

fn parse_setting<T: std::str::FromStr>(
    variable: &'static str,
    raw: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    raw.parse().map_err(|_| ConfigError {
        variable,
        problem: format!("{raw:?} is not {expected}"),
    })
}

mod events;
mod jwt;
mod numbers;
mod rate;
mod server;
mod tls;
pub use events::{
    DEFAULT_DUPLICATE_WINDOW, EVENTS_MAX_AGE, EventsConfig, INBOX_RETENTION_MARGIN,
    MAX_NOTIFICATION_RETENTION_DAYS, STREAM_REPLICAS,
};
pub use jwt::{DEFAULT_JWKS_REFRESH, JWT_KEY_SOURCES, JwksSource, JwtConfig};
use numbers::Numbers;
pub use rate::{DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PER_SECOND};
pub use server::{MAX_HTTP2_STREAMS, ServerConfig};
pub use tls::{DEFAULT_TLS_SERVER_NAME, TlsConfig, TlsIdentity};

#[cfg(test)]
mod tests;
