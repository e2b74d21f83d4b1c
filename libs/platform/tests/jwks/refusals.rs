//! Tokens refused for their header: an unknown key id, none at all, an algorithm that is
//! not the key's (the key-confusion attack among them), and unsigned tokens; and tokens a
//! key of the set did not sign.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::support::{
    Answer, JwksServer, TestKey, authenticator, fixture, good_claims, key_set, quick_options,
    refusal,
};

async fn set_of_a_and_ec() -> (sds_platform::Authenticator, TestKey, TestKey, JwksServer) {
    let a = TestKey::rsa_a("key-a");
    let ec = TestKey::ec("key-ec");
    let server = JwksServer::start(Answer::Document(key_set(&[&a, &ec]))).await;
    (
        authenticator(server.source(), quick_options()).await,
        a,
        ec,
        server,
    )
}

#[tokio::test]
async fn a_token_naming_a_key_id_the_set_does_not_hold_is_refused_with_that_key_id() {
    let (authenticator, _a, _ec, _server) = set_of_a_and_ec().await;
    let stranger = TestKey::rsa_b("key-unheard-of");
    assert_eq!(
        refusal(&authenticator, &stranger.token()),
        "bearer token is signed with key id \"key-unheard-of\", which this server does not know"
    );
    // A key id from outside reaches the message (and the logs) escaped and cut short.
    let forged = TestKey::rsa_b(&format!("x\nINFO forged line{}", "y".repeat(200)));
    let message = refusal(&authenticator, &forged.token());
    assert!(message.contains("\"x\\nINFO forged line"), "{message}");
    assert!(!message.contains('\n') && message.len() < 200, "{message}");
}

#[tokio::test]
async fn a_token_without_a_key_id_is_refused() {
    let (authenticator, a, _ec, _server) = set_of_a_and_ec().await;
    let token = a.sign(Header::new(Algorithm::RS256), &good_claims());
    let message = refusal(&authenticator, &token);
    assert!(
        message.starts_with("bearer token names no key id (kid) in its header"),
        "{message}"
    );
}

#[tokio::test]
async fn a_token_claiming_es256_under_the_key_id_of_an_rsa_key_is_refused() {
    let (authenticator, a, ec, _server) = set_of_a_and_ec().await;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(a.kid.clone());
    let token = ec.sign(header, &good_claims());
    assert_eq!(
        refusal(&authenticator, &token),
        "bearer token says it is signed with ES256, but its key id \"key-a\" names an RS256 key"
    );
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(ec.kid.clone());
    let token = a.sign(header, &good_claims());
    assert_eq!(
        refusal(&authenticator, &token),
        "bearer token says it is signed with RS256, but its key id \"key-ec\" names an ES256 key"
    );
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_rsa_public_key_is_refused() {
    // The key-confusion attack: the public key is public, so an HMAC keyed with it is
    // something anyone can compute.
    let (authenticator, a, _ec, _server) = set_of_a_and_ec().await;
    let public_pem = std::fs::read(fixture("test-rsa-public.pem")).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(a.kid.clone());
    let token = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_secret(&public_pem),
    )
    .unwrap();
    assert_eq!(
        refusal(&authenticator, &token),
        "bearer token is signed with \"HS256\"; this server accepts only RS256 and ES256 tokens signed with a key of its identity provider's key set"
    );
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let (authenticator, a, _ec, _server) = set_of_a_and_ec().await;
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good_claims()).unwrap());
    for alg in ["none", "None", "NONE"] {
        let header = serde_json::json!({"alg": alg, "typ": "JWT", "kid": a.kid});
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        let token = format!("{header}.{payload}.");
        assert_eq!(
            refusal(&authenticator, &token),
            "bearer token is unsigned (alg none); this server accepts only signed tokens",
            "{alg}"
        );
    }
}

#[tokio::test]
async fn a_token_signed_with_another_key_under_a_known_key_id_is_refused() {
    let (authenticator, a, _ec, _server) = set_of_a_and_ec().await;
    let impostor = TestKey::rsa_b(&a.kid);
    assert_eq!(
        refusal(&authenticator, &impostor.token()),
        "bearer token signature is not valid for this server"
    );
}

#[tokio::test]
async fn a_token_of_a_known_key_is_still_held_to_its_claims() {
    let (authenticator, a, _ec, _server) = set_of_a_and_ec().await;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(a.kid.clone());
    let now = jsonwebtoken::get_current_timestamp();
    let mut expired = good_claims();
    expired["iat"] = (now - 7200).into();
    expired["exp"] = (now - 3600).into();
    assert_eq!(
        refusal(&authenticator, &a.sign(header.clone(), &expired)),
        "bearer token has expired; ask for a new one"
    );
    let mut foreign = good_claims();
    foreign["iss"] = "someone-else".into();
    assert_eq!(
        refusal(&authenticator, &a.sign(header, &foreign)),
        "bearer token was not issued for sds"
    );
}
