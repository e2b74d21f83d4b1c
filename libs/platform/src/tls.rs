//! TLS for the gRPC port and for the calls services make to each other, from the files
//! `SDS_TLS_*` name (see [`TlsConfig`]).
//!
//! What must stay true:
//!
//! - a port with a certificate speaks only TLS 1.2 or 1.3 with ALPN `h2`; with a client CA
//!   it completes no handshake with a caller that has no certificate, or one that does not
//!   chain to that CA (rustls's WebPKI verifier: signature, validity dates, the client
//!   authentication use when the certificate names its uses);
//! - a file that cannot be read, holds no certificate or key, or holds a key that does not
//!   match the certificate stops the process at start with the variable and path named,
//!   rather than a server that accepts no one;
//! - so does a certificate the process's own calls would refuse: with a client CA, its own
//!   certificate must pass as a client certificate (services present it to each other);
//!   and when it calls services running alongside, its certificate must pass for
//!   `SDS_TLS_SERVER_NAME` against `SDS_TLS_CA` (or the system's CAs). Found at start, not
//!   at the first call a person makes;
//! - every call to an `https://` service is verified against `SDS_TLS_CA` (or the system's
//!   CAs) and the URL's host, and presents the process's own certificate, so that services
//!   behind mutual TLS accept each other; a service called in the same process is called
//!   over TLS whenever the port serves it, checked against `SDS_TLS_SERVER_NAME`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::TlsAcceptor;

use crate::config::{TlsConfig, TlsIdentity};

/// The ALPN protocol of gRPC: HTTP/2 over TLS.
const ALPN_H2: &[u8] = b"h2";

/// What a port that serves TLS accepts connections with.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    mutual: bool,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("mutual", &self.mutual)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Whether callers must present a certificate.
    pub fn mutual(&self) -> bool {
        self.mutual
    }

    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}

/// How a port serves TLS, or `None` for plain HTTP/2. `calls_itself`: whether the process
/// calls services running alongside on its own port (some `SDS_*_URL` is unset), which
/// must then accept its certificate.
pub fn server_tls(config: &TlsConfig, calls_itself: bool) -> anyhow::Result<Option<ServerTls>> {
    let Some(identity) = &config.identity else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .context("TLS: choose protocol versions")?;
    let (chain, key) = read_identity(identity)?;
    let builder = match &config.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let roots = root_store("SDS_TLS_CLIENT_CA", path)?;
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .build()
                    .map_err(|error| anyhow!("SDS_TLS_CLIENT_CA: {}: {error}", path.display()))?;
            verifier
                .verify_client_cert(&chain[0], &chain[1..], UnixTime::now())
                .map_err(|error| {
                    anyhow!(
                        "SDS_TLS_CLIENT_CA: {} refuses this process's own certificate ({}) as a client's: {error}; services present it when they call each other, so it must come from that CA and allow client authentication",
                        path.display(),
                        identity.cert.display()
                    )
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut server = builder.with_single_cert(chain.clone(), key).map_err(|error| {
        anyhow!(
            "SDS_TLS_CERT and SDS_TLS_KEY: {} with {}: {error} (is the key the certificate's own?)",
            identity.cert.display(),
            identity.key.display()
        )
    })?;
    if calls_itself {
        check_own_server_certificate(config, identity, &chain, &provider)?;
    }
    server.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Some(ServerTls {
        acceptor: TlsAcceptor::from(Arc::new(server)),
        mutual: config.client_ca.is_some(),
    }))
}

/// Checks that a call from this process to itself would accept its certificate: issued by
/// `SDS_TLS_CA` (or a CA of the system's), valid now, and for `SDS_TLS_SERVER_NAME`.
fn check_own_server_certificate(
    config: &TlsConfig,
    identity: &TlsIdentity,
    chain: &[CertificateDer<'static>],
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> anyhow::Result<()> {
    let (roots, trusted) = match &config.ca {
        Some(path) => (
            root_store("SDS_TLS_CA", path)?,
            format!("SDS_TLS_CA ({})", path.display()),
        ),
        None => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            (roots, "the system's CAs (SDS_TLS_CA is unset)".to_owned())
        }
    };
    let name = ServerName::try_from(config.server_name.clone())
        .map_err(|error| anyhow!("SDS_TLS_SERVER_NAME: {error}"))?;
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
            .build()
            .map_err(|error| anyhow!("SDS_TLS_CA: {error}"))?;
    verifier
        .verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
        .map_err(|error| {
            anyhow!(
                "SDS_TLS_CERT: {} would be refused when this process calls the services running alongside it (checked for SDS_TLS_SERVER_NAME {:?} against {trusted}): {error}",
                identity.cert.display(),
                config.server_name
            )
        })?;
    Ok(())
}

/// How calls to other services are secured: the CAs they are checked against and the
/// certificate this process presents to them.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// `None`: the system's trusted CAs.
    ca: Option<tonic::transport::Certificate>,
    identity: Option<tonic::transport::Identity>,
    /// Whether this process's own port serves TLS, so that a service running alongside is
    /// called with `https://`.
    own_port_tls: bool,
    /// The name a service running alongside is checked against.
    own_name: String,
}

impl ClientTls {
    /// Plain calls within the process; `https://` URLs checked against the system's CAs.
    pub fn plain() -> ClientTls {
        ClientTls {
            ca: None,
            identity: None,
            own_port_tls: false,
            own_name: crate::config::DEFAULT_TLS_SERVER_NAME.to_owned(),
        }
    }

    /// Reads the files `config` names.
    pub fn load(config: &TlsConfig) -> anyhow::Result<ClientTls> {
        let ca = match &config.ca {
            None => None,
            Some(path) => {
                // Parsed here only so that a file without a certificate is reported now,
                // not at the first call.
                root_store("SDS_TLS_CA", path)?;
                Some(tonic::transport::Certificate::from_pem(read(
                    "SDS_TLS_CA",
                    path,
                )?))
            }
        };
        let identity = match &config.identity {
            None => None,
            Some(identity) => {
                read_identity(identity)?;
                Some(tonic::transport::Identity::from_pem(
                    read("SDS_TLS_CERT", &identity.cert)?,
                    read("SDS_TLS_KEY", &identity.key)?,
                ))
            }
        };
        Ok(ClientTls {
            ca,
            identity,
            own_port_tls: config.serves_tls(),
            own_name: config.server_name.clone(),
        })
    }

    /// Whether a service running in this process is called over TLS.
    pub fn own_port_tls(&self) -> bool {
        self.own_port_tls
    }

    /// The client configuration for a call to `https://` at `name`, or at the URL's own
    /// host when `name` is `None`.
    pub fn for_name(&self, name: Option<&str>) -> tonic::transport::ClientTlsConfig {
        let mut config = tonic::transport::ClientTlsConfig::new();
        config = match &self.ca {
            Some(ca) => config.ca_certificate(ca.clone()),
            None => config.with_native_roots(),
        };
        if let Some(identity) = &self.identity {
            config = config.identity(identity.clone());
        }
        if let Some(name) = name {
            config = config.domain_name(name);
        }
        config
    }

    /// The client configuration for a service running in this process.
    pub fn for_own_port(&self) -> tonic::transport::ClientTlsConfig {
        self.for_name(Some(&self.own_name))
    }
}

fn read(variable: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{variable}: read {}", path.display()))
}

fn root_store(variable: &str, path: &Path) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(variable, path)? {
        roots
            .add(certificate)
            .map_err(|error| anyhow!("{variable}: {}: {error}", path.display()))?;
    }
    Ok(roots)
}

fn certificates(variable: &str, path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|error| anyhow!("{variable}: {}: {error}", path.display()))?;
    if certificates.is_empty() {
        return Err(anyhow!(
            "{variable}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certificates)
}

fn read_identity(
    identity: &TlsIdentity,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let chain = certificates("SDS_TLS_CERT", &identity.cert)?;
    let key = PrivateKeyDer::from_pem_file(&identity.key).map_err(|error| {
        anyhow!(
            "SDS_TLS_KEY: {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1): {error}",
            identity.key.display()
        )
    })?;
    Ok((chain, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A self-signed certificate and its key, and another key, as PEM files in a folder of
    /// the test's own.
    struct Files {
        folder: PathBuf,
        cert: PathBuf,
        key: PathBuf,
        other_key: PathBuf,
    }

    impl Files {
        fn new() -> Files {
            let folder =
                std::env::temp_dir().join(format!("sds-tls-unit-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&folder).unwrap();
            let certified =
                rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
            let other = rcgen::KeyPair::generate().unwrap();
            let files = Files {
                cert: folder.join("cert.pem"),
                key: folder.join("key.pem"),
                other_key: folder.join("other-key.pem"),
                folder,
            };
            std::fs::write(&files.cert, certified.cert.pem()).unwrap();
            std::fs::write(&files.key, certified.signing_key.serialize_pem()).unwrap();
            std::fs::write(&files.other_key, other.serialize_pem()).unwrap();
            files
        }

        fn config(&self, key: &Path, client_ca: Option<&Path>) -> TlsConfig {
            TlsConfig {
                identity: Some(TlsIdentity {
                    cert: self.cert.clone(),
                    key: key.to_owned(),
                }),
                client_ca: client_ca.map(Path::to_owned),
                ca: None,
                server_name: "localhost".to_owned(),
            }
        }
    }

    impl Drop for Files {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.folder);
        }
    }

    #[test]
    fn a_certificate_with_its_own_key_serves_tls_and_with_a_client_ca_mutual_tls() {
        let files = Files::new();
        let plain = server_tls(&TlsConfig::default(), false).unwrap();
        assert!(plain.is_none());
        let tls = server_tls(&files.config(&files.key, None), false)
            .unwrap()
            .unwrap();
        assert!(!tls.mutual());
        let mutual = server_tls(&files.config(&files.key, Some(&files.cert)), false)
            .unwrap()
            .unwrap();
        assert!(mutual.mutual());
        let client = ClientTls::load(&files.config(&files.key, None)).unwrap();
        assert!(client.own_port_tls());
    }

    #[test]
    fn a_key_that_is_not_the_certificates_own_stops_the_start_naming_both_files() {
        let files = Files::new();
        let error = server_tls(&files.config(&files.other_key, None), false).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("SDS_TLS_CERT and SDS_TLS_KEY: "),
            "{message}"
        );
        assert!(
            message.contains(&files.other_key.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_file_without_the_pem_it_should_hold_is_named_with_its_setting() {
        let files = Files::new();
        // A key where the certificate should be, and a certificate where the key should.
        let swapped = TlsConfig {
            identity: Some(TlsIdentity {
                cert: files.key.clone(),
                key: files.cert.clone(),
            }),
            ..files.config(&files.key, None)
        };
        let message = server_tls(&swapped, false).unwrap_err().to_string();
        assert!(
            message.starts_with("SDS_TLS_CERT: ") && message.contains("no PEM certificate"),
            "{message}"
        );
        let message = server_tls(&files.config(&files.cert, None), false)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("SDS_TLS_KEY: ") && message.contains("no PEM private key"),
            "{message}"
        );
        let message = server_tls(&files.config(&files.key, Some(&files.key)), false)
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("SDS_TLS_CLIENT_CA: "), "{message}");
        let message = ClientTls::load(&TlsConfig {
            ca: Some(files.other_key.clone()),
            ..TlsConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(message.starts_with("SDS_TLS_CA: "), "{message}");
    }
}
