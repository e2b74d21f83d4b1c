//! The limits of the gRPC server: `SDS_REQUEST_TIMEOUT_SECONDS`, `SDS_MAX_CONCURRENT_REQUESTS`,
//! `SDS_REFLECTION`, the handshake, body and keep-alive timeouts, streams and connections,
//! and the per-caller rate limit.

use std::time::Duration;

use super::ConfigError;
use super::numbers::Numbers;

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

/// The most streams HTTP/2 lets a peer advertise (a 31-bit setting).
pub const MAX_HTTP2_STREAMS: u32 = (1 << 31) - 1;

pub(super) fn server_config(
    numbers: &Numbers<'_, impl Fn(&str) -> Option<String>>,
) -> Result<ServerConfig, ConfigError> {
    Ok(ServerConfig {
        request_timeout: numbers.seconds("SDS_REQUEST_TIMEOUT_SECONDS", "30")?,
        max_concurrent_requests: numbers.count("SDS_MAX_CONCURRENT_REQUESTS", "256", "requests")?,
        reflection: match numbers.text("SDS_REFLECTION", "on").as_str() {
            "on" => true,
            "off" => false,
            other => {
                return Err(ConfigError {
                    variable: "SDS_REFLECTION",
                    problem: format!("unknown value {other:?}; accepted: on, off"),
                });
            }
        },
        handshake_timeout: numbers.seconds("SDS_HANDSHAKE_TIMEOUT_SECONDS", "10")?,
        body_timeout: numbers.seconds("SDS_REQUEST_BODY_TIMEOUT_SECONDS", "10")?,
        keepalive_interval: numbers.seconds("SDS_KEEPALIVE_INTERVAL_SECONDS", "60")?,
        keepalive_timeout: numbers.seconds("SDS_KEEPALIVE_TIMEOUT_SECONDS", "20")?,
        max_streams_per_connection: {
            let streams = numbers.positive("SDS_MAX_STREAMS_PER_CONNECTION", "100", "streams")?;
            match u32::try_from(streams) {
                Ok(streams) if streams <= MAX_HTTP2_STREAMS => streams,
                _ => {
                    return Err(ConfigError {
                        variable: "SDS_MAX_STREAMS_PER_CONNECTION",
                        problem: format!("is {streams}; HTTP/2 allows at most {MAX_HTTP2_STREAMS}"),
                    });
                }
            }
        },
        max_connections: numbers.count("SDS_MAX_CONNECTIONS", "512", "connections")?,
        rate_limit: super::rate::rate_limit(numbers.lookup)?,
    })
}
