//! The operator command line: one module per service (`sds directory ...`,
//! `sds assessment ...`, `sds contracts ...`, `sds ledger ...`, `sds payments ...`),
//! `sds audit reads` (the read audit trail of every service at once), `sds token` and
//! `sds health`, and what they share: where the server is, the bearer token, one-line
//! errors, how results print ([`output`]) and how enum flags read ([`enum_arg`]).
//!
//! What must stay true: the commands, flags and outputs README.md documents are contracts
//! that scripts depend on. A server error is one line, `error: <gRPC code>: <message>`, and
//! a non-zero exit.

pub mod assessment;
pub mod audit;
pub mod contracts;
pub mod csv_file;
pub mod demo;
pub mod directory;
pub mod enum_arg;
pub mod ledger;
pub mod ledger_audit;
pub mod ledger_bulk;
pub mod ledger_corrections;
pub mod output;
pub mod payments;
pub mod portal;
pub mod token;

use std::path::PathBuf;

use anyhow::{Context, bail};
use tonic::service::Interceptor;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// Where the server is.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// host:port of the sds server.
    #[arg(long = "addr", env = "SDS_ADDR", default_value = sds_platform::config::DEFAULT_LISTEN_ADDR)]
    pub addr: String,
    /// Call over TLS, checking the server's certificate against the CA certificates in
    /// this PEM file (the system's CAs when only --tls-cert is given).
    #[arg(long = "tls-ca", env = "SDS_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Call over TLS presenting this PEM certificate chain, for a server that asks for
    /// client certificates (mutual TLS); needs --tls-key.
    #[arg(long = "tls-cert", env = "SDS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long = "tls-key", env = "SDS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The name the server's certificate must carry; by default the host of --addr.
    #[arg(long = "tls-server-name", env = "SDS_TLS_SERVER_NAME")]
    pub tls_server_name: Option<String>,
}

impl ServerArgs {
    /// The TLS to call with, or `None` for plain HTTP/2.
    fn tls(&self) -> anyhow::Result<Option<ClientTlsConfig>> {
        if self.tls_ca.is_none() && self.tls_cert.is_none() {
            return Ok(None);
        }
        let read = |flag: &str, path: &PathBuf| {
            std::fs::read(path).with_context(|| format!("{flag}: read {}", path.display()))
        };
        let mut tls = ClientTlsConfig::new();
        tls = match &self.tls_ca {
            Some(path) => tls.ca_certificate(Certificate::from_pem(read("--tls-ca", path)?)),
            None => tls.with_native_roots(),
        };
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            tls = tls.identity(Identity::from_pem(
                read("--tls-cert", cert)?,
                read("--tls-key", key)?,
            ));
        }
        if let Some(name) = &self.tls_server_name {
            tls = tls.domain_name(name);
        }
        Ok(Some(tls))
    }
}

/// Where the server is and who is calling.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Bearer token (see `sds token`).
    #[arg(long, env = "SDS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

pub async fn connect(server: &ServerArgs) -> anyhow::Result<Channel> {
    let tls = server.tls()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let endpoint = Channel::from_shared(format!("{scheme}://{}", server.addr))
        .with_context(|| format!("SDS_ADDR {:?} is not host:port", server.addr))?;
    let endpoint = match tls {
        None => endpoint,
        Some(tls) => endpoint.tls_config(tls).context("TLS settings")?,
    };
    endpoint.connect().await.with_context(|| {
        format!(
            "cannot reach sds at {} (is it running? try deploy/local/up)",
            server.addr
        )
    })
}

/// Adds the bearer token and the current trace context to every call.
#[derive(Debug, Clone)]
pub struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    pub fn from_args(args: &ClientArgs) -> anyhow::Result<Self> {
        let Some(token) = args.token.as_deref() else {
            bail!("no token: set SDS_TOKEN or pass --token (sds token prints one for local use)");
        };
        let value = format!("Bearer {}", token.trim())
            .parse()
            .context("the token has characters a header cannot carry")?;
        Ok(Self(value))
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        sds_platform::telemetry::inject_into_metadata(request.metadata_mut());
        Ok(request)
    }
}

/// One line for a server error: the gRPC code and the server's message.
pub fn status_error(status: tonic::Status) -> anyhow::Error {
    // A connection that broke mid-call (the server killed, the network gone) reaches the
    // client as `Unknown`: `transport error` before an answer began, `h2 protocol error:
    // ...` when a streamed answer was cut off. Scripts read the code to decide whether to
    // send again, and that is what `Unavailable` tells them.
    let broken =
        status.message() == "transport error" || status.message().starts_with("h2 protocol error");
    if status.code() == tonic::Code::Unknown && broken {
        return anyhow::anyhow!(
            "Unavailable: the connection to the server broke before it answered ({}); it may have recorded the request, so send it again with the same ids (a request sent again with the same ids is recorded once; a payment run is finished by running its date again)",
            status.message()
        );
    }
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

pub async fn check_health(server: &ServerArgs) -> anyhow::Result<()> {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let mut client = HealthClient::new(connect(server).await?);
    let response = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    if response.status == ServingStatus::Serving as i32 {
        println!("SERVING");
        Ok(())
    } else {
        bail!(
            "server at {} is not serving (status {})",
            server.addr,
            response.status
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_broken_mid_call_is_reported_as_unavailable_and_other_codes_as_they_are() {
        let broken = status_error(tonic::Status::unknown("transport error")).to_string();
        assert!(broken.starts_with("Unavailable: "), "{broken}");
        let cut_off = status_error(tonic::Status::unknown(
            "h2 protocol error: error reading a body from connection",
        ))
        .to_string();
        assert!(cut_off.starts_with("Unavailable: "), "{cut_off}");
        let other = status_error(tonic::Status::unknown("something else")).to_string();
        assert_eq!(other, "Unknown: something else");
        let refused = status_error(tonic::Status::invalid_argument("amount is missing"));
        assert_eq!(refused.to_string(), "InvalidArgument: amount is missing");
    }
}
