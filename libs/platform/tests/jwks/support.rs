//! What the JWKS tests share: the test keys (see `tests/fixtures/README.md`) with tokens
//! signed by each, an HTTP server whose key set the test changes and which counts how often
//! it is fetched, and a way to wait for what the background refresh will make true.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sds_platform::Authenticator;
use sds_platform::auth::JwksOptions;
use sds_platform::config::JwksSource;
use tonic::Status;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A test key and the key id the set publishes it under.
pub struct TestKey {
    pub kid: String,
    pub algorithm: Algorithm,
    key: EncodingKey,
}

impl TestKey {
    /// RSA key "A" (RS256).
    pub fn rsa_a(kid: &str) -> Self {
        Self::rsa("test-rsa-private.pem", kid)
    }

    /// RSA key "B" (RS256).
    pub fn rsa_b(kid: &str) -> Self {
        Self::rsa("test-rsa-b-private.pem", kid)
    }

    /// The P-256 key (ES256).
    pub fn ec(kid: &str) -> Self {
        let pem = std::fs::read(fixture("test-ec-p256-private.pem")).unwrap();
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::ES256,
            key: EncodingKey::from_ec_pem(&pem).unwrap(),
        }
    }

    fn rsa(file: &str, kid: &str) -> Self {
        let pem = std::fs::read(fixture(file)).unwrap();
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::RS256,
            key: EncodingKey::from_rsa_pem(&pem).unwrap(),
        }
    }

    /// The public half as a JWK, as an identity provider publishes it (with `alg`, `use`
    /// and `kid`).
    pub fn jwk(&self) -> serde_json::Value {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.algorithm).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        let mut value = serde_json::to_value(jwk).unwrap();
        value["use"] = "sig".into();
        value
    }

    /// A valid token for a commissioning officer of Fife, signed with this key and naming it.
    pub fn token(&self) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        self.sign(header, &good_claims())
    }

    pub fn sign(&self, header: Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

pub fn good_claims() -> serde_json::Value {
    let now = jsonwebtoken::get_current_timestamp();
    serde_json::json!({
        "sub": "fife", "iss": "sds", "iat": now, "exp": now + 3600,
        "org_kind": "authority", "roles": ["commissioning"], "authorities": ["fife"],
    })
}

/// A JWKS document holding these keys.
pub fn key_set(keys: &[&TestKey]) -> Vec<u8> {
    let keys: Vec<serde_json::Value> = keys.iter().map(|key| key.jwk()).collect();
    serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
}

/// What the server answers a fetch of the set with.
#[derive(Clone)]
pub enum Answer {
    Document(Vec<u8>),
    Status(u16),
    /// Never answers.
    Silence,
}

struct State {
    answer: Mutex<Answer>,
    fetches: AtomicUsize,
}

/// An HTTP/1.1 server on a free port of 127.0.0.1 serving a key set at [`JWKS_PATH`]; it
/// lives as long as the test's runtime.
pub struct JwksServer {
    pub url: http::Uri,
    state: Arc<State>,
}

impl JwksServer {
    pub async fn start(answer: Answer) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            answer: Mutex::new(answer),
            fetches: AtomicUsize::new(0),
        });
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _peer)) = listener.accept().await else {
                    return;
                };
                let state = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { state.respond(request).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            url: format!("http://{addr}{JWKS_PATH}").parse().unwrap(),
            state,
        }
    }

    pub fn source(&self) -> JwksSource {
        JwksSource::Url(self.url.clone())
    }

    pub fn answer(&self, answer: Answer) {
        *self.state.answer.lock().unwrap() = answer;
    }

    pub fn serve(&self, keys: &[&TestKey]) {
        self.answer(Answer::Document(key_set(keys)));
    }

    /// How many times the set has been asked for.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }
}

impl State {
    async fn respond(
        &self,
        request: http::Request<hyper::body::Incoming>,
    ) -> Result<http::Response<Full<Bytes>>, Infallible> {
        if request.uri().path() != JWKS_PATH {
            return Ok(status(404));
        }
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let answer = self.answer.lock().unwrap().clone();
        Ok(match answer {
            Answer::Document(document) => http::Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(document)))
                .unwrap(),
            Answer::Status(code) => status(code),
            Answer::Silence => std::future::pending().await,
        })
    }
}

fn status(code: u16) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(code)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Options for tests: no periodic refresh to speak of, a short interval between fetches for
/// unknown key ids, and short waits.
pub fn quick_options() -> JwksOptions {
    JwksOptions {
        refresh: Duration::from_secs(3600),
        unknown_key_refetch_interval: Duration::from_millis(200),
        fetch_timeout: Duration::from_secs(2),
        startup_wait: Duration::from_secs(2),
        ..JwksOptions::default()
    }
}

pub async fn authenticator(source: JwksSource, options: JwksOptions) -> Authenticator {
    Authenticator::jwks(source, options).await.unwrap()
}

/// Waits (up to five seconds) until `check` holds, and says so; `what` names it.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not so after five seconds"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn accepted(authenticator: &Authenticator, token: &str) -> bool {
    authenticator.verify(token).is_ok()
}

/// The refusal of `token`, which must be `Unauthenticated`.
pub fn refusal(authenticator: &Authenticator, token: &str) -> String {
    let status = refused(authenticator, token);
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    status.message().to_owned()
}

/// How `token` is refused.
pub fn refused(authenticator: &Authenticator, token: &str) -> Status {
    match authenticator.verify(token) {
        Ok(principal) => panic!("token accepted for {}", principal.org_id),
        Err(status) => status,
    }
}

/// Runs `future` with everything it logs (its tasks on this thread included) captured.
pub async fn with_logs<T>(future: impl Future<Output = T>) -> (T, String) {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buffer);
            Ok(buffer.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let result = future.await;
    let text = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
    (result, text)
}

/// Whom [`good_claims`] speak for.
pub fn good_principal() -> sds_platform::Principal {
    sds_platform::Principal {
        org_id: "fife".into(),
        org_kind: sds_platform::OrgKind::Authority,
        roles: vec![sds_platform::Role::Commissioning],
        authorities: vec![sds_platform::AuthorityId::parse("authorities", "fife").unwrap()],
        person_id: None,
    }
}
