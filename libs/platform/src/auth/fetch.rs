//! Reading a JWKS document: a local file, or one HTTP/1.1 GET over plain TCP or TLS
//! (rustls on ring, trusting the Mozilla roots and the system's store). Bounded in size
//! and, for a URL, in time; redirects are not followed.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::jwks::JwksOptions;
use crate::config::JwksSource;

/// The document at `source`, or why it could not be read (no personal data: a URL of a
/// public key set, a path, an HTTP status or an I/O error).
pub(super) async fn read(source: &JwksSource, options: &JwksOptions) -> Result<Vec<u8>, String> {
    match source {
        JwksSource::File(path) => read_file(path, options.max_bytes).await,
        JwksSource::Url(url) => {
            match tokio::time::timeout(options.fetch_timeout, get(url, options.max_bytes)).await {
                Ok(result) => result,
                Err(_elapsed) => Err(format!(
                    "no complete answer within {} ms",
                    options.fetch_timeout.as_millis()
                )),
            }
        }
    }
}

async fn read_file(path: &std::path::Path, max_bytes: usize) -> Result<Vec<u8>, String> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|error| format!("open: {error}"))?;
    let mut document = Vec::new();
    file.take(
        u64::try_from(max_bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(1),
    )
    .read_to_end(&mut document)
    .await
    .map_err(|error| format!("read: {error}"))?;
    if document.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(document)
}

fn too_large(max_bytes: usize) -> String {
    format!("larger than {max_bytes} bytes; a key set is a few kilobytes")
}

async fn get(url: &Uri, max_bytes: usize) -> Result<Vec<u8>, String> {
    let https = match url.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("not an http:// or https:// URL".into()),
    };
    let host = url.host().ok_or("the URL names no host")?;
    // An IPv6 address is written in brackets in a URL, and without them everywhere else.
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = url.authority().map_or(host, |authority| authority.as_str());
    let path = url.path_and_query().map_or("/", |path| path.as_str());
    let request = http::Request::get(path)
        .header(header::HOST, authority)
        .header(header::ACCEPT, "application/jwk-set+json, application/json")
        .header(
            header::USER_AGENT,
            concat!("sds/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|error| format!("build the request: {error}"))?;
    let tcp = TcpStream::connect((bare_host, port))
        .await
        .map_err(|error| format!("connect to {bare_host}:{port}: {error}"))?;
    let _ = tcp.set_nodelay(true);
    if https {
        let name = ServerName::try_from(bare_host.to_owned())
            .map_err(|error| format!("{bare_host} is not a name TLS can check: {error}"))?;
        let tls = TlsConnector::from(tls_config()?)
            .connect(name, tcp)
            .await
            .map_err(|error| format!("TLS with {bare_host}: {error}"))?;
        exchange(TokioIo::new(tls), request, max_bytes).await
    } else {
        exchange(TokioIo::new(tcp), request, max_bytes).await
    }
}

/// Sends `request` on a fresh connection and reads a 200 answer's body.
async fn exchange<T>(
    io: T,
    request: http::Request<Empty<Bytes>>,
    max_bytes: usize,
) -> Result<Vec<u8>, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|error| format!("HTTP: {error}"))?;
    let answer = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| format!("HTTP: {error}"))?;
        let status = response.status();
        if status != StatusCode::OK {
            let hint = if status.is_redirection() {
                " (redirects are not followed: give the URL it redirects to)"
            } else {
                ""
            };
            return Err(format!("answered {status}{hint}"));
        }
        let declared = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|length| length.to_str().ok())
            .and_then(|length| length.parse::<u64>().ok());
        if declared.is_some_and(|length| length > u64::try_from(max_bytes).unwrap_or(u64::MAX)) {
            return Err(too_large(max_bytes));
        }
        let body = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|error| {
                if error.is::<http_body_util::LengthLimitError>() {
                    too_large(max_bytes)
                } else {
                    format!("read the answer: {error}")
                }
            })?;
        Ok(body.to_bytes().to_vec())
    };
    // The connection is driven alongside the exchange; should it end first (the server
    // closed it), what it already read is still delivered to the exchange.
    let mut connection = Box::pin(connection);
    let mut answer = Box::pin(answer);
    let finished = tokio::select! {
        result = &mut answer => Some(result),
        _closed = &mut connection => None,
    };
    match finished {
        Some(result) => result,
        None => {
            drop(connection);
            answer.await
        }
    }
}

/// The TLS client configuration, built once: TLS 1.2 and 1.3 on ring, trusting the Mozilla
/// roots and whatever the system's store adds (an organisation's own CA).
fn tls_config() -> Result<Arc<ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let system = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(system.certs);
            tracing::debug!(added, "trusting the system's certificates for the JWKS URL");
            let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
            let mut config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|error| format!("TLS configuration: {error}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Arc::new(config))
        })
        .clone()
}
