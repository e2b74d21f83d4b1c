//! How a service reaches the services it calls: at a configured URL, or at this process's
//! own port when they run alongside, over TLS whenever the callee serves it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::tls::ClientTls;

/// What a service needs to call the others: the address this process serves on (for the
/// services running alongside) and the TLS it calls with.
#[derive(Debug, Clone)]
pub struct ServiceReach {
    local_addr: SocketAddr,
    tls: Arc<ClientTls>,
}

impl ServiceReach {
    pub fn new(local_addr: SocketAddr, tls: ClientTls) -> ServiceReach {
        ServiceReach {
            local_addr,
            tls: Arc::new(tls),
        }
    }

    /// Plain calls to this process at `local_addr` (tests and tools without TLS).
    pub fn plain(local_addr: SocketAddr) -> ServiceReach {
        ServiceReach::new(local_addr, ClientTls::plain())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

/// The address to call a server listening on `addr` at: a server on every interface is
/// called on the loopback one. For a service calling another in the same process.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

/// A channel to another service, connecting when first used: at `url`, or, when none is
/// configured, at this process's own port (the service runs alongside). An `https://` URL,
/// or the own port when it serves TLS, is called over TLS as `reach` says. An address the
/// configuration let through that is still no endpoint is returned as the reason, for the
/// first call to report rather than stopping the process.
pub fn service_channel(
    service: &str,
    url: Option<&str>,
    reach: &ServiceReach,
    connect_timeout: Duration,
    call_timeout: Duration,
) -> Result<tonic::transport::Channel, String> {
    let (url, tls) = match url {
        Some(url) => (
            url.to_owned(),
            url.starts_with("https://")
                .then(|| reach.tls.for_name(None)),
        ),
        None if reach.tls.own_port_tls() => (
            format!("https://{}", reachable(reach.local_addr)),
            Some(reach.tls.for_own_port()),
        ),
        None => (format!("http://{}", reachable(reach.local_addr)), None),
    };
    let endpoint = tonic::transport::Endpoint::from_shared(url.clone())
        .map_err(|error| format!("the {service}'s address {url:?} is not a URL: {error}"))?;
    let endpoint = match tls {
        None => endpoint,
        Some(tls) => endpoint
            .tls_config(tls)
            .map_err(|error| format!("TLS for the {service} at {url:?}: {error}"))?,
    };
    Ok(endpoint
        .connect_timeout(connect_timeout)
        .timeout(call_timeout)
        .connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::reachable;
    use std::net::SocketAddr;

    #[test]
    fn a_server_on_every_interface_is_called_on_the_loopback_one() {
        let any: SocketAddr = "0.0.0.0:50051".parse().unwrap();
        assert_eq!(reachable(any).to_string(), "127.0.0.1:50051");
        let own: SocketAddr = "10.0.0.5:50051".parse().unwrap();
        assert_eq!(reachable(own), own);
    }
}
