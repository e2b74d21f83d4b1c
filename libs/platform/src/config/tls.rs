//! Transport security of the gRPC port and of the calls services make to each other:
//! `SDS_TLS_CERT`, `SDS_TLS_KEY`, `SDS_TLS_CLIENT_CA`, `SDS_TLS_CA` and
//! `SDS_TLS_SERVER_NAME`. The files are read when the server starts (`crate::tls`); here
//! they are only checked to be there, so that a typo stops the process before it serves.

use std::path::PathBuf;

use super::{ConfigError, readable_file};

/// The name checked on the certificate of a service called in the same process (no
/// `SDS_*_URL`), unless `SDS_TLS_SERVER_NAME` says otherwise.
pub const DEFAULT_TLS_SERVER_NAME: &str = "localhost";

/// How the process's gRPC port and its calls to other services are secured. All `None`
/// (the local default): plain HTTP/2 on the port, `http://` calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// `SDS_TLS_CERT` and `SDS_TLS_KEY`: the PEM certificate chain (leaf first) and private
    /// key the gRPC port serves TLS with. With them, the port speaks only TLS (TLS 1.2 or
    /// 1.3, ALPN `h2`), and the process presents the same certificate when it calls other
    /// services that ask for one (mTLS), so it must allow both server and client
    /// authentication if it names its uses.
    pub identity: Option<TlsIdentity>,
    /// `SDS_TLS_CLIENT_CA`: PEM certificates of the CA(s) whose certificates callers must
    /// present (mutual TLS). A caller without a certificate, or with one from another CA,
    /// is refused during the handshake, before any request is read. Needs `SDS_TLS_CERT`.
    pub client_ca: Option<PathBuf>,
    /// `SDS_TLS_CA`: PEM certificates of the CA(s) this process trusts for the services it
    /// calls over `https://` (and for itself, when a service calls another running in the
    /// same process). Unset: the system's trusted CAs.
    pub ca: Option<PathBuf>,
    /// `SDS_TLS_SERVER_NAME`: the name the certificate of a service running in the same
    /// process is checked against when it is called on its own address (default
    /// [`DEFAULT_TLS_SERVER_NAME`]); calls to an `SDS_*_URL` check the URL's host.
    pub server_name: String,
}

/// The certificate chain and key of the gRPC port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsIdentity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsConfig {
    /// Whether the gRPC port serves TLS.
    pub fn serves_tls(&self) -> bool {
        self.identity.is_some()
    }
}

pub(super) fn tls_config(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<TlsConfig, ConfigError> {
    let file =
        |variable: &'static str| readable_file(lookup, variable, "; give the path of a PEM file");
    let cert = file("SDS_TLS_CERT")?;
    let key = file("SDS_TLS_KEY")?;
    let identity = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsIdentity { cert, key }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ConfigError {
                variable: "SDS_TLS_KEY",
                problem:
                    "is not set but SDS_TLS_CERT is; TLS needs the certificate's private key too"
                        .into(),
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError {
                variable: "SDS_TLS_CERT",
                problem: "is not set but SDS_TLS_KEY is; TLS needs the certificate chain too"
                    .into(),
            });
        }
    };
    let client_ca = file("SDS_TLS_CLIENT_CA")?;
    if client_ca.is_some() && identity.is_none() {
        return Err(ConfigError {
            variable: "SDS_TLS_CLIENT_CA",
            problem: "is set without SDS_TLS_CERT and SDS_TLS_KEY; client certificates are only asked for over TLS".into(),
        });
    }
    let ca = file("SDS_TLS_CA")?;
    let server_name = match lookup("SDS_TLS_SERVER_NAME").filter(|name| !name.trim().is_empty()) {
        None => DEFAULT_TLS_SERVER_NAME.to_owned(),
        Some(name) => {
            if rustls_pki_types::ServerName::try_from(name.as_str()).is_err() {
                return Err(ConfigError {
                    variable: "SDS_TLS_SERVER_NAME",
                    problem: format!(
                        "{name:?} is not a DNS name or IP address such as localhost or sds.internal"
                    ),
                });
            }
            name
        }
    };
    Ok(TlsConfig {
        identity,
        client_ca,
        ca,
        server_name,
    })
}
