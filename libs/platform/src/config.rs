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

/// Limits of the gRPC server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `SDS_REQUEST_TIMEOUT_SECONDS`: a request still running after this is cancelled.
    pub request_timeout: Duration,
    /// `SDS_MAX_CONCURRENT_REQUESTS`: requests served at once across all connections;
    /// more wait their turn.
    pub max_concurrent_requests: usize,
    /// `SDS_REFLECTION`: `on` (the default, for local use) or `off` (production): whether
    /// the server describes its services through gRPC reflection.
    pub reflection: bool,
    /// `SDS_HANDSHAKE_TIMEOUT_SECONDS`: a connection that has not sent the HTTP/2 client
    /// preface this long after it was accepted is closed.
    pub handshake_timeout: Duration,
    /// `SDS_REQUEST_BODY_TIMEOUT_SECONDS`: a request whose body has not fully arrived this
    /// long after its headers is refused, without ever taking a concurrency slot.
    pub body_timeout: Duration,
    /// `SDS_KEEPALIVE_INTERVAL_SECONDS`: after this long without hearing from a client the
    /// server pings it.
    pub keepalive_interval: Duration,
    /// `SDS_KEEPALIVE_TIMEOUT_SECONDS`: a connection whose ping is not answered within this
    /// is closed.
    pub keepalive_timeout: Duration,
    /// `SDS_MAX_STREAMS_PER_CONNECTION`: concurrent HTTP/2 streams (calls) one connection
    /// may have open, advertised to the client in the connection's settings.
    pub max_streams_per_connection: u32,
    /// `SDS_MAX_CONNECTIONS`: connections open at once, handshaking ones included; more
    /// are closed as soon as they are accepted.
    pub max_connections: usize,
    /// `SDS_RATE_LIMIT_PER_SECOND` (`off` lifts it) and `SDS_RATE_LIMIT_BURST`: requests
    /// one caller (organisation, or supported person) may make to this process; more are
    /// answered `ResourceExhausted` with the time to wait. The platform's own services
    /// calling each other are not limited.
    pub rate_limit: Option<crate::auth::RateLimit>,
}

/// How events are relayed, consumed and pruned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsConfig {
    /// `SDS_RELAY_BATCH_SIZE`: outbox rows claimed, published and marked per round.
    pub relay_batch_size: usize,
    /// `SDS_RELAY_POLL_MS`: how often a relay looks for work when no commit wakes it.
    pub relay_poll_interval: Duration,
    /// `SDS_RELAY_STOP_SECONDS`: how long shutdown waits for relays, consumers and
    /// background tasks to finish what they hold.
    pub stop_timeout: Duration,
    /// `SDS_CONSUMER_POISON_ATTEMPTS`: deliveries of an event that can never succeed before
    /// it is set aside in `dead_letter`.
    pub poison_attempts: i64,
    /// `SDS_OUTBOX_RETENTION_HOURS`: how long published outbox rows are kept.
    pub outbox_retention: Duration,
    /// `SDS_INBOX_RETENTION_HOURS`: how long consumers remember handled events; longer
    /// than the events stream keeps them ([`EVENTS_MAX_AGE`]).
    pub inbox_retention: Duration,
    /// `SDS_PRUNE_INTERVAL_SECONDS`: how often published and handled rows are pruned.
    pub prune_interval: Duration,
    /// `SDS_NOTIFICATION_RETENTION_DAYS`: how long the portal keeps a subscriber's
    /// notifications for it to resume from (at most ten years).
    pub notification_retention: Duration,
    /// `SDS_EVENTS_DUPLICATE_WINDOW_SECONDS`: how long the events stream remembers a
    /// message id and drops a second publish of it: the longest a relay may be away between
    /// publishing a batch and marking it published without the stream keeping a duplicate.
    pub duplicate_window: Duration,
    /// `SDS_EVENTS_REPLICAS`: how many NATS servers keep each JetStream stream (1, the
    /// one-machine default, or 3 or 5 on a cluster); a publish is acknowledged once a
    /// majority has stored it.
    pub stream_replicas: usize,
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

/// The JetStream stream replica counts accepted: one server, or an odd number of them so
/// that a majority survives the loss of a minority.
pub const STREAM_REPLICAS: [usize; 3] = [1, 3, 5];

/// The longest `SDS_NOTIFICATION_RETENTION_DAYS` allowed.
pub const MAX_NOTIFICATION_RETENTION_DAYS: u64 = 3653;

/// A service's share of the connection budget when `SDS_DB_MAX_CONNECTIONS` is not set.
pub const DEFAULT_CONNECTIONS_PER_SERVICE: u32 = 10;

/// How much longer than the stream the inbox must remember handled events: a delivery may
/// still be in flight (ack wait, retries) and clocks differ.
pub const INBOX_RETENTION_MARGIN: Duration = Duration::from_secs(24 * 3600);

/// How long the events stream remembers a message id by default (an hour): a relay that
/// dies between publishing and marking and comes back within it publishes no duplicate.
/// Each id remembered costs the NATS server memory (see README, Operations).
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);

/// How long the events stream keeps a message. A consumer (re)created on the stream is
/// delivered all of it, so the inbox must remember handled events for longer.
pub const EVENTS_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

const HOUR: u64 = 3600;

/// The most streams HTTP/2 lets a peer advertise (a 31-bit setting).
pub const MAX_HTTP2_STREAMS: u32 = (1 << 31) - 1;

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

        // Whole numbers of at least one: a zero limit or interval is a mistake, not a choice.
        let positive =
            |variable: &'static str, default: &str, unit: &str| -> Result<u64, ConfigError> {
                let value: u64 = parse_setting(
                    variable,
                    &get(variable, default),
                    &format!("a whole number of {unit}"),
                )?;
                if value == 0 {
                    return Err(ConfigError {
                        variable,
                        problem: "is 0; it must be at least 1".into(),
                    });
                }
                Ok(value)
            };
        let seconds = |variable: &'static str, default: &str| {
            positive(variable, default, "seconds").map(Duration::from_secs)
        };
        let hours = |variable: &'static str, default: &str| {
            positive(variable, default, "hours")
                .map(|hours| Duration::from_secs(hours.saturating_mul(HOUR)))
        };
        let count = |variable: &'static str, default: &str, unit: &str| {
            positive(variable, default, unit)
                .map(|value| usize::try_from(value).unwrap_or(usize::MAX))
        };
        let server = ServerConfig {
            request_timeout: seconds("SDS_REQUEST_TIMEOUT_SECONDS", "30")?,
            max_concurrent_requests: count("SDS_MAX_CONCURRENT_REQUESTS", "256", "requests")?,
            reflection: match get("SDS_REFLECTION", "on").as_str() {
                "on" => true,
                "off" => false,
                other => {
                    return Err(ConfigError {
                        variable: "SDS_REFLECTION",
                        problem: format!("unknown value {other:?}; accepted: on, off"),
                    });
                }
            },
            handshake_timeout: seconds("SDS_HANDSHAKE_TIMEOUT_SECONDS", "10")?,
            body_timeout: seconds("SDS_REQUEST_BODY_TIMEOUT_SECONDS", "10")?,
            keepalive_interval: seconds("SDS_KEEPALIVE_INTERVAL_SECONDS", "60")?,
            keepalive_timeout: seconds("SDS_KEEPALIVE_TIMEOUT_SECONDS", "20")?,
            max_streams_per_connection: {
                let streams = positive("SDS_MAX_STREAMS_PER_CONNECTION", "100", "streams")?;
                match u32::try_from(streams) {
                    Ok(streams) if streams <= MAX_HTTP2_STREAMS => streams,
                    _ => {
                        return Err(ConfigError {
                            variable: "SDS_MAX_STREAMS_PER_CONNECTION",
                            problem: format!(
                                "is {streams}; HTTP/2 allows at most {MAX_HTTP2_STREAMS}"
                            ),
                        });
                    }
                }
            },
            max_connections: count("SDS_MAX_CONNECTIONS", "512", "connections")?,
            rate_limit: rate::rate_limit(&lookup)?,
        };
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
        let inbox_retention = hours("SDS_INBOX_RETENTION_HOURS", "1080")?;
        if inbox_retention < EVENTS_MAX_AGE + INBOX_RETENTION_MARGIN {
            return Err(ConfigError {
                variable: "SDS_INBOX_RETENTION_HOURS",
                problem: format!(
                    "is {} hours; it must be at least {} (the {} hours the events stream keeps an event, and a day more), or a consumer recreated on the stream could apply an event twice",
                    inbox_retention.as_secs() / HOUR,
                    (EVENTS_MAX_AGE + INBOX_RETENTION_MARGIN).as_secs() / HOUR,
                    EVENTS_MAX_AGE.as_secs() / HOUR
                ),
            });
        }
        let duplicate_window = seconds("SDS_EVENTS_DUPLICATE_WINDOW_SECONDS", "3600")?;
        // JetStream refuses a window longer than the stream keeps its messages.
        if duplicate_window > EVENTS_MAX_AGE {
            return Err(ConfigError {
                variable: "SDS_EVENTS_DUPLICATE_WINDOW_SECONDS",
                problem: format!(
                    "is {} seconds; it may be at most {} (the 30 days the events stream keeps an event)",
                    duplicate_window.as_secs(),
                    EVENTS_MAX_AGE.as_secs()
                ),
            });
        }
        let events = EventsConfig {
            relay_batch_size: count("SDS_RELAY_BATCH_SIZE", "500", "rows")?,
            relay_poll_interval: Duration::from_millis(positive(
                "SDS_RELAY_POLL_MS",
                "1000",
                "milliseconds",
            )?),
            stop_timeout: seconds("SDS_RELAY_STOP_SECONDS", "10")?,
            poison_attempts: i64::try_from(positive(
                "SDS_CONSUMER_POISON_ATTEMPTS",
                "3",
                "deliveries",
            )?)
            .unwrap_or(i64::MAX),
            outbox_retention: hours("SDS_OUTBOX_RETENTION_HOURS", "168")?,
            inbox_retention,
            prune_interval: seconds("SDS_PRUNE_INTERVAL_SECONDS", "3600")?,
            duplicate_window,
            stream_replicas: {
                let replicas = count("SDS_EVENTS_REPLICAS", "1", "servers")?;
                if !STREAM_REPLICAS.contains(&replicas) {
                    return Err(ConfigError {
                        variable: "SDS_EVENTS_REPLICAS",
                        problem: format!(
                            "is {replicas}; accepted: 1 (one server), 3 or 5 (a cluster, where a majority must survive)"
                        ),
                    });
                }
                replicas
            },
            notification_retention: {
                let days = positive("SDS_NOTIFICATION_RETENTION_DAYS", "90", "days")?;
                if days > MAX_NOTIFICATION_RETENTION_DAYS {
                    return Err(ConfigError {
                        variable: "SDS_NOTIFICATION_RETENTION_DAYS",
                        problem: format!(
                            "is {days}; give at most {MAX_NOTIFICATION_RETENTION_DAYS} days (ten years)"
                        ),
                    });
                }
                Duration::from_secs(days * 24 * 3600)
            },
        };

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

mod jwt;
mod rate;
mod tls;
pub use jwt::{DEFAULT_JWKS_REFRESH, JWT_KEY_SOURCES, JwksSource, JwtConfig};
pub use rate::{DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PER_SECOND};
pub use tls::{DEFAULT_TLS_SERVER_NAME, TlsConfig, TlsIdentity};

#[cfg(test)]
mod tests;
