//! What a connection may do to the server, tried with raw sockets speaking as much HTTP/2
//! as a hostile or broken client would: half a preface is closed after the handshake
//! timeout, connections beyond the server-wide limit are closed while the rest keep
//! working, a connection is told how many calls it may have open and a call beyond that is
//! refused, and a client that stops answering pings is closed.

use std::time::{Duration, Instant};

use sds_platform::server::{ServerLimits, ServiceSet};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::support::{NeverAnswers, Serving};

const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// How long the server may take beyond a limit's nominal time on a busy 2-core machine.
const MARGIN: Duration = Duration::from_secs(5);

const FRAME_RST_STREAM: u8 = 0x3;
const FRAME_SETTINGS: u8 = 0x4;
const FRAME_PING: u8 = 0x6;
const FLAG_ACK: u8 = 0x1;
const FLAG_END_HEADERS: u8 = 0x4;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
const REFUSED_STREAM: u32 = 0x7;

/// One HTTP/2 frame as it came off the wire.
struct Frame {
    kind: u8,
    flags: u8,
    stream_id: u32,
    payload: Vec<u8>,
}

/// A client speaking HTTP/2 frame by frame, so a test can do what no library client does.
struct RawHttp2 {
    socket: TcpStream,
}

impl RawHttp2 {
    /// Connects, sends the preface and empty settings, and acknowledges the server's.
    /// Returns the server's settings as (identifier, value) pairs.
    async fn handshake(serving: &Serving) -> (Self, Vec<(u16, u32)>) {
        let mut client = Self {
            socket: TcpStream::connect(serving.addr).await.expect("connect"),
        };
        client.socket.write_all(PREFACE).await.expect("preface");
        client.send(FRAME_SETTINGS, 0, 0, &[]).await;
        let settings = loop {
            let frame = client.read_frame().await.expect("the server's settings");
            if frame.kind == FRAME_SETTINGS && frame.flags & FLAG_ACK == 0 {
                break frame.payload;
            }
        };
        client.send(FRAME_SETTINGS, FLAG_ACK, 0, &[]).await;
        let pairs = settings
            .chunks_exact(6)
            .map(|pair| {
                (
                    u16::from_be_bytes([pair[0], pair[1]]),
                    u32::from_be_bytes([pair[2], pair[3], pair[4], pair[5]]),
                )
            })
            .collect();
        (client, pairs)
    }

    async fn send(&mut self, kind: u8, flags: u8, stream_id: u32, payload: &[u8]) {
        let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut frame = vec![length[1], length[2], length[3], kind, flags];
        frame.extend_from_slice(&stream_id.to_be_bytes());
        frame.extend_from_slice(payload);
        self.socket.write_all(&frame).await.expect("send frame");
    }

    /// Opens a call to `NeverAnswers` on `stream_id` (headers only, request body to come).
    async fn open_call(&mut self, stream_id: u32) {
        let path = b"/sds.test.NeverAnswers/Wait";
        let content_type = b"application/grpc";
        // HPACK: `:method: POST` and `:scheme: http` from the static table, then `:path`
        // (static name 4) and `content-type` (static name 31) as literals, not indexed.
        let mut block = vec![0x83, 0x86, 0x04, u8::try_from(path.len()).unwrap()];
        block.extend_from_slice(path);
        block.extend_from_slice(&[0x0f, 0x10, u8::try_from(content_type.len()).unwrap()]);
        block.extend_from_slice(content_type);
        self.send(0x1, FLAG_END_HEADERS, stream_id, &block).await;
    }

    /// The next frame, or `None` once the server closed the connection.
    async fn read_frame(&mut self) -> Option<Frame> {
        let mut header = [0_u8; 9];
        self.socket.read_exact(&mut header).await.ok()?;
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]);
        let mut payload = vec![0_u8; usize::try_from(length).unwrap()];
        self.socket.read_exact(&mut payload).await.ok()?;
        let stream_id =
            u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
        Some(Frame {
            kind: header[3],
            flags: header[4],
            stream_id,
            payload,
        })
    }
}

/// Whether the server closed `socket` (end of file or reset) within `deadline`.
async fn closed_within(socket: &mut TcpStream, deadline: Duration) -> bool {
    let mut buffer = [0_u8; 64];
    let waited = tokio::time::timeout(deadline, async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    waited.is_ok()
}

/// Whether a well-behaved client gets a health check answered within `deadline`.
async fn a_client_is_served(serving: &Serving, deadline: Duration) -> bool {
    let answered = tokio::time::timeout(deadline, async {
        let channel = Channel::from_shared(format!("http://{}", serving.addr))
            .unwrap()
            .connect()
            .await
            .ok()?;
        HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .ok()
    })
    .await;
    matches!(answered, Ok(Some(_)))
}

/// Opens `count` sockets that each send half the HTTP/2 preface and then nothing.
async fn half_open_sockets(serving: &Serving, count: usize) -> Vec<TcpStream> {
    let mut sockets = Vec::with_capacity(count);
    for _ in 0..count {
        let mut socket = TcpStream::connect(serving.addr).await.expect("connect");
        socket
            .write_all(&PREFACE[..12])
            .await
            .expect("half a preface");
        sockets.push(socket);
    }
    sockets
}

#[tokio::test]
async fn hundreds_of_sockets_that_send_half_a_preface_are_all_closed_after_the_handshake_timeout() {
    let handshake_timeout = Duration::from_millis(500);
    let serving = Serving::start(
        ServerLimits {
            handshake_timeout,
            ..ServerLimits::default()
        },
        ServiceSet::new(),
    )
    .await;

    let opened = Instant::now();
    let mut sockets = half_open_sockets(&serving, 300).await;
    let all_open_after = opened.elapsed();
    assert!(
        a_client_is_served(&serving, MARGIN).await,
        "a well-behaved client is served while the half-open sockets wait"
    );

    let deadline = handshake_timeout + MARGIN;
    let closed = futures::future::join_all(
        sockets
            .iter_mut()
            .map(|socket| closed_within(socket, deadline)),
    )
    .await;
    let still_open = closed.iter().filter(|closed| !**closed).count();
    assert_eq!(
        still_open, 0,
        "sockets still open {deadline:?} after the last one sent half a preface"
    );
    assert!(
        opened.elapsed() >= handshake_timeout,
        "closed before their handshake timeout"
    );
    assert!(
        opened.elapsed() < all_open_after + deadline,
        "took {:?} to close them",
        opened.elapsed()
    );
    serving.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_server_wide_limit_are_closed_and_a_client_gets_in_once_others_go() {
    let serving = Serving::start(
        ServerLimits {
            max_connections: 3,
            // Long, so the half-open sockets hold their slots for the whole test.
            handshake_timeout: Duration::from_secs(120),
            ..ServerLimits::default()
        },
        ServiceSet::new(),
    )
    .await;
    let holders = half_open_sockets(&serving, 3).await;

    let mut one_too_many = TcpStream::connect(serving.addr).await.expect("connect");
    assert!(
        closed_within(&mut one_too_many, MARGIN).await,
        "the fourth connection is closed at once"
    );
    assert!(
        !a_client_is_served(&serving, MARGIN).await,
        "no room for a well-behaved client either while the server is full"
    );

    drop(holders);
    // The server learns of the closes asynchronously: poll until it has room again.
    let give_up_at = Instant::now() + MARGIN;
    while !a_client_is_served(&serving, Duration::from_secs(1)).await {
        assert!(
            Instant::now() < give_up_at,
            "no well-behaved client is served {MARGIN:?} after the half-open sockets went"
        );
    }
    serving.stop().await;
}

#[tokio::test]
async fn a_connection_is_told_how_many_calls_it_may_open_and_one_more_is_refused() {
    let serving = Serving::start(
        ServerLimits {
            max_streams_per_connection: 2,
            ..ServerLimits::default()
        },
        ServiceSet::new().add(NeverAnswers::default()),
    )
    .await;

    let (mut client, settings) = RawHttp2::handshake(&serving).await;
    assert!(
        settings.contains(&(SETTINGS_MAX_CONCURRENT_STREAMS, 2)),
        "the server's settings advertise 2 streams: {settings:?}"
    );
    // Two calls that never finish fill the connection; a third breaks the advertised limit.
    for stream_id in [1, 3, 5] {
        client.open_call(stream_id).await;
    }
    let refused = tokio::time::timeout(MARGIN, async {
        loop {
            let frame = client
                .read_frame()
                .await
                .expect("the connection stays open");
            if frame.kind == FRAME_RST_STREAM {
                let code = u32::from_be_bytes(frame.payload[..4].try_into().unwrap());
                return (frame.stream_id, code);
            }
        }
    })
    .await
    .expect("the server resets a stream");
    assert_eq!(refused, (5, REFUSED_STREAM), "(stream, error code)");
    serving.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_closed_after_the_keepalive_timeout() {
    let keepalive_interval = Duration::from_millis(300);
    let keepalive_timeout = Duration::from_millis(300);
    let serving = Serving::start(
        ServerLimits {
            keepalive_interval,
            keepalive_timeout,
            ..ServerLimits::default()
        },
        ServiceSet::new(),
    )
    .await;
    let (mut client, _settings) = RawHttp2::handshake(&serving).await;
    let silent_since = Instant::now();

    let mut pinged = false;
    let closed = tokio::time::timeout(keepalive_interval + keepalive_timeout + MARGIN, async {
        // Read everything the server says, answer nothing.
        while let Some(frame) = client.read_frame().await {
            pinged |= frame.kind == FRAME_PING && frame.flags & FLAG_ACK == 0;
        }
    })
    .await;

    assert!(
        closed.is_ok(),
        "a silent client is still connected after {:?}",
        silent_since.elapsed()
    );
    assert!(pinged, "the server pinged before it closed the connection");
    assert!(
        silent_since.elapsed() >= keepalive_interval,
        "closed after {:?}, before a ping could even be due",
        silent_since.elapsed()
    );
    serving.stop().await;
}
