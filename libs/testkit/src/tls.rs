//! Certificate authorities and the certificates they issue, written as PEM files for the
//! `SDS_TLS_*` settings and the CLI's `--tls-*` flags: what a test needs to run the
//! platform over TLS and mutual TLS, and to be refused by it.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A certificate authority of the test's own.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// The CA's certificate (PEM): what `SDS_TLS_CLIENT_CA` or `SDS_TLS_CA` name.
    pub cert: PathBuf,
    folder: PathBuf,
    name: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").field("name", &self.name).finish()
    }
}

/// A certificate chain and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct TestIdentity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// A new CA named `name`, its files in `folder`.
    pub fn new(folder: &Path, name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let mut subject = DistinguishedName::new();
        subject.push(DnType::CommonName, format!("{name} test CA"));
        params.distinguished_name = subject;
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("self-sign the CA");
        let cert = folder.join(format!("{name}-ca.pem"));
        std::fs::write(&cert, issuer.pem()).expect("write the CA certificate");
        TestCa {
            issuer,
            cert,
            folder: folder.to_owned(),
            name: name.to_owned(),
        }
    }

    /// A certificate for `names` (DNS names or IP addresses), signed by this CA, written
    /// as `<label>-cert.pem` and `<label>-key.pem`. It names no uses, so it serves as a
    /// server's and as a client's certificate alike.
    pub fn issue(&self, label: &str, names: &[&str]) -> TestIdentity {
        let mut params = CertificateParams::new(
            names
                .iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>(),
        )
        .expect("certificate parameters");
        let mut subject = DistinguishedName::new();
        subject.push(DnType::CommonName, label);
        params.distinguished_name = subject;
        let key = KeyPair::generate().expect("certificate key");
        let certificate = params.signed_by(&key, &self.issuer).expect("sign");
        let identity = TestIdentity {
            cert: self.folder.join(format!("{}-{label}-cert.pem", self.name)),
            key: self.folder.join(format!("{}-{label}-key.pem", self.name)),
        };
        std::fs::write(&identity.cert, certificate.pem()).expect("write the certificate");
        std::fs::write(&identity.key, key.serialize_pem()).expect("write the key");
        identity
    }
}

/// What a TLS test needs: the platform's CA, a server certificate for `localhost` and
/// `127.0.0.1` and a client certificate it issued, and another CA with a client
/// certificate of its own that the platform must refuse.
#[derive(Debug)]
pub struct TestPki {
    pub folder: PathBuf,
    pub ca: TestCa,
    pub server: TestIdentity,
    pub client: TestIdentity,
    pub other_ca: TestCa,
    pub other_client: TestIdentity,
}

impl TestPki {
    /// Writes everything into a fresh folder under the system's temporary one.
    pub fn new() -> TestPki {
        let folder = std::env::temp_dir().join(format!("sds-pki-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&folder).expect("create the PKI folder");
        let ca = TestCa::new(&folder, "platform");
        let server = ca.issue("server", &["localhost", "127.0.0.1"]);
        let client = ca.issue("client", &["finance-system.example"]);
        let other_ca = TestCa::new(&folder, "other");
        let other_client = other_ca.issue("client", &["finance-system.example"]);
        TestPki {
            folder,
            ca,
            server,
            client,
            other_ca,
            other_client,
        }
    }

    /// The settings of a process serving mutual TLS: its certificate, the CA its callers'
    /// certificates must chain to, and the CA it checks the services it calls against.
    pub fn mutual_tls_settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SDS_TLS_CERT", self.server.cert.display().to_string()),
            ("SDS_TLS_KEY", self.server.key.display().to_string()),
            ("SDS_TLS_CLIENT_CA", self.ca.cert.display().to_string()),
            ("SDS_TLS_CA", self.ca.cert.display().to_string()),
        ]
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
