//! The gate every connection of the gRPC server passes: the server-wide connection limit,
//! TLS (when the server has a certificate) and the handshake timeout, ahead of tonic, which
//! has no limit or timeout of its own.
//!
//! What must stay true:
//!
//! - at most `max_connections` sockets are open at once, counting those still handshaking;
//!   a socket accepted beyond that is closed at once, so a flood cannot exhaust the
//!   process's file descriptors or memory, and a slot frees as soon as any connection ends;
//! - a socket that has not finished its TLS handshake (when TLS is on) and sent the whole
//!   24-byte HTTP/2 client preface within `handshake_timeout`, or sends something else, is
//!   closed, so half-open connections cannot pile up (tonic's keep-alive pings only start
//!   once the handshake is done);
//! - with TLS on, nothing but a completed TLS handshake reaches tonic: a plain-text caller,
//!   and with mutual TLS a caller without a certificate from the client CA, is refused by
//!   rustls before a byte of its request is read;
//! - tonic gets every byte the client sent: the preface read here is replayed to it;
//! - the listener and every socket still handshaking close when tonic drops the gate at
//!   shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// What every HTTP/2 client sends first (RFC 9113, section 3.4).
const HTTP2_CLIENT_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Sockets taken from the listener in one go before the gate looks at handshakes again, so
/// a flood of new sockets cannot starve connections that have finished their handshake.
const ACCEPTS_PER_POLL: usize = 64;

/// How long to stop accepting after the listener itself fails (out of file descriptors,
/// say); retrying at once would only spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The limits the gate enforces.
#[derive(Debug, Clone, Copy)]
pub(super) struct GateLimits {
    pub(super) max_connections: usize,
    pub(super) handshake_timeout: Duration,
}

/// Accepts sockets from a listener and yields those that made it through the handshake, as
/// tonic's `serve_with_incoming` wants them.
pub(super) struct ConnectionGate {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    limits: GateLimits,
    /// `None`: the port speaks plain HTTP/2.
    tls: Option<TlsAcceptor>,
    handshakes: FuturesUnordered<Handshake>,
    accept_pause: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Sockets closed for want of a slot since the server last had one free; logged once
    /// when the server fills up and once when it has room again, not once per socket.
    refused_while_full: u64,
}

impl ConnectionGate {
    pub(super) fn new(listener: TcpListener, limits: GateLimits, tls: Option<TlsAcceptor>) -> Self {
        Self {
            listener,
            slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            limits,
            tls,
            handshakes: FuturesUnordered::new(),
            accept_pause: None,
            refused_while_full: 0,
        }
    }

    /// Takes a slot for a freshly accepted socket and starts its handshake, or closes it
    /// when every slot is taken.
    fn admit(&mut self, socket: TcpStream, peer: SocketAddr) {
        let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
            if self.refused_while_full == 0 {
                tracing::warn!(
                    max_connections = self.limits.max_connections,
                    "connection limit reached; closing new connections until one ends"
                );
            }
            self.refused_while_full += 1;
            drop(socket);
            return;
        };
        if self.refused_while_full > 0 {
            tracing::info!(
                refused = self.refused_while_full,
                "accepting connections again"
            );
            self.refused_while_full = 0;
        }
        // gRPC sends many small frames; Nagle's algorithm would hold them back.
        let _ = socket.set_nodelay(true);
        let handshake_timeout = self.limits.handshake_timeout;
        let tls = self.tls.clone();
        // Each handshake is a task of its own, so that TLS handshakes (the costly part) run
        // on every worker thread, not only on the one accepting.
        self.handshakes.push(Handshake(tokio::spawn(async move {
            match tokio::time::timeout(handshake_timeout, handshake(socket, tls)).await {
                Ok(Ok(socket)) => Some(AdmittedConnection {
                    socket,
                    preface_replayed: 0,
                    _slot: slot,
                }),
                // Per socket, so only at debug: a flood would otherwise flood the logs.
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "connection closed during the HTTP/2 handshake");
                    None
                }
                Err(_elapsed) => {
                    tracing::debug!(%peer, timeout = ?handshake_timeout, "connection closed: no HTTP/2 preface in time");
                    None
                }
            }
        })));
    }
}

/// A handshake under way in a task of its own: yields the admitted connection, or `None`
/// when the handshake failed. Dropping it (the gate is dropped at shutdown) ends the task
/// and closes its socket.
struct Handshake(tokio::task::JoinHandle<Option<AdmittedConnection>>);

impl Future for Handshake {
    type Output = Option<AdmittedConnection>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|joined| joined.ok().flatten())
    }
}

impl Drop for Handshake {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The TLS handshake, when the port has TLS, then the HTTP/2 client preface.
async fn handshake(socket: TcpStream, tls: Option<TlsAcceptor>) -> io::Result<Transport> {
    let mut transport = match tls {
        None => Transport::Plain(socket),
        Some(acceptor) => Transport::Tls(Box::new(acceptor.accept(socket).await?)),
    };
    read_client_preface(&mut transport).await?;
    Ok(transport)
}

/// Reads the client preface, failing as soon as a byte differs from it or the client
/// closes; the bytes need not be kept, since they can only be the preface.
async fn read_client_preface(socket: &mut (impl AsyncRead + Unpin)) -> io::Result<()> {
    let mut received = [0_u8; HTTP2_CLIENT_PREFACE.len()];
    let mut length = 0;
    while length < received.len() {
        let read = socket.read(&mut received[length..]).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "client closed before the end of the HTTP/2 preface",
            ));
        }
        if received[length..length + read] != HTTP2_CLIENT_PREFACE[length..length + read] {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "client did not send the HTTP/2 preface (plain HTTP/1 or not HTTP at all)",
            ));
        }
        length += read;
    }
    Ok(())
}

impl Stream for ConnectionGate {
    type Item = io::Result<AdmittedConnection>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let gate = &mut *self;
        let mut accepted = 0;
        loop {
            if let Some(pause) = gate.accept_pause.as_mut() {
                if pause.as_mut().poll(cx).is_pending() {
                    break;
                }
                gate.accept_pause = None;
            }
            if accepted == ACCEPTS_PER_POLL {
                // More may be waiting: come back after the handshakes had their turn.
                cx.waker().wake_by_ref();
                break;
            }
            match gate.listener.poll_accept(cx) {
                Poll::Ready(Ok((socket, peer))) => {
                    accepted += 1;
                    gate.admit(socket, peer);
                }
                // The client gave up before we took the socket: nothing to do.
                Poll::Ready(Err(error))
                    if matches!(
                        error.kind(),
                        io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::Interrupted
                    ) => {}
                Poll::Ready(Err(error)) => {
                    tracing::warn!(%error, pause = ?ACCEPT_ERROR_PAUSE, "cannot accept connections; pausing");
                    gate.accept_pause = Some(Box::pin(tokio::time::sleep(ACCEPT_ERROR_PAUSE)));
                }
                Poll::Pending => break,
            }
        }
        loop {
            match gate.handshakes.poll_next_unpin(cx) {
                Poll::Ready(Some(Some(connection))) => return Poll::Ready(Some(Ok(connection))),
                Poll::Ready(Some(None)) => {}
                // No handshake under way: the listener's waker brings us back.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// A connection that sent the HTTP/2 preface. It gives the preface back to whoever reads
/// it first (hyper), and holds its slot until it is dropped, which is when the connection
/// ends.
pub(super) struct AdmittedConnection {
    socket: Transport,
    preface_replayed: usize,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for AdmittedConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let replayed = self.preface_replayed;
        if replayed < HTTP2_CLIENT_PREFACE.len() {
            let remaining = &HTTP2_CLIENT_PREFACE[replayed..];
            let length = remaining.len().min(buffer.remaining());
            buffer.put_slice(&remaining[..length]);
            self.preface_replayed += length;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.socket).poll_read(cx, buffer)
    }
}

impl AsyncWrite for AdmittedConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.socket).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.socket).poll_write_vectored(cx, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_shutdown(cx)
    }
}

impl Connected for AdmittedConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        match &self.socket {
            Transport::Plain(socket) => socket.connect_info(),
            Transport::Tls(stream) => stream.get_ref().0.connect_info(),
        }
    }
}

/// A connection's byte stream: the socket itself, or TLS over it.
enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(socket) => Pin::new(socket).poll_read(cx, buffer),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buffer),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(socket) => Pin::new(socket).poll_write(cx, data),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(socket) => Pin::new(socket).poll_write_vectored(cx, buffers),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, buffers),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Plain(socket) => socket.is_write_vectored(),
            Transport::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(socket) => Pin::new(socket).poll_flush(cx),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(socket) => Pin::new(socket).poll_shutdown(cx),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    #[tokio::test]
    async fn an_admitted_connection_replays_the_preface_then_reads_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut gate = ConnectionGate::new(
            listener,
            GateLimits {
                max_connections: 1,
                handshake_timeout: Duration::from_secs(5),
            },
            None,
        );
        let mut client = TcpStream::connect(addr).await.unwrap();
        // The preface in two pieces, as a slow client might send it, then a frame's worth.
        client.write_all(&HTTP2_CLIENT_PREFACE[..10]).await.unwrap();
        client.write_all(&HTTP2_CLIENT_PREFACE[10..]).await.unwrap();
        client.write_all(b"after").await.unwrap();

        let mut connection = gate.next().await.unwrap().unwrap();
        let mut received = vec![0_u8; HTTP2_CLIENT_PREFACE.len() + 5];
        connection.read_exact(&mut received).await.unwrap();

        assert_eq!(&received[..24], HTTP2_CLIENT_PREFACE);
        assert_eq!(&received[24..], b"after");
    }
}
