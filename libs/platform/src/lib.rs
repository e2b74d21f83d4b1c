//! What every service shares: typed configuration, telemetry, gRPC server bootstrap,
//! bearer-JWT authentication, the mapping of errors to gRPC status, and the database pool.

pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod metrics;
pub mod read_audit;
pub mod server;
pub mod telemetry;
pub mod tls;

pub use auth::{Authenticator, Principal, TokenIssuer};
pub use clock::{Clock, ManualClock, write_clock_file};
pub use config::PlatformConfig;
pub use error::{ApiError, StoreContext, StoreError};
pub use metrics::Metrics;
pub use sds_vocabulary::{AuthorityId, OrgKind, Role};
