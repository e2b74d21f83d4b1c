//! Real components for tests: PostgreSQL and NATS started once per test run when not
//! already running, a fresh database per test, private NATS servers that a test may stop
//! and restart, the platform's components run in-process on port 0 through the same
//! `sds_runtime::build` as `sds serve` ([`TestProcess`]), tokens for any principal,
//! waiting for a condition with a deadline instead of sleeping, an in-process OTLP
//! receiver that captures exported spans, a process's metrics read as Prometheus
//! scrapes them, and certificate authorities and certificates for TLS.

mod http;
mod infra;
mod metrics;
mod nats;
mod nats_cluster;
mod otlp;
pub mod plans;
mod postgres;
mod process;
mod publish;
mod read_audit;
mod tls;
mod tokens;
mod wait;

pub use http::{HttpResponse, http_get, http_request};
pub use infra::{TestDatabase, fresh_database, shared_nats_url};
pub use metrics::{Scrape, scrape};
pub use nats::PrivateNats;
pub use nats_cluster::NatsCluster;
pub use otlp::{ExportedSpan, OtlpReceiver, SpanKind, StatusCode};
pub use postgres::PrivatePostgres;
pub use process::{TestProcess, TestSettings};
pub use publish::publish_event;
pub use read_audit::{ReadAuditRow, assert_read_audit_is_append_only, read_audit_rows};
pub use tls::{TestCa, TestIdentity, TestPki};
pub use tokens::{
    TEST_JWT_SECRET, authority_staff, bearer, expired_token, provider_org, token_for,
};
pub use wait::wait_until;

/// Logs from tests go to the test's captured output, one line per event as in production;
/// `RUST_LOG` raises the level.
pub fn init_test_logging() {
    let _ = tracing_subscriber::fmt()
        .fmt_fields(sds_platform::telemetry::OneLineFields)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
