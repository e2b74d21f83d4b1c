//! The identity provider rotates its key: tokens of the old and the new key are both
//! accepted while both are published, and the old are refused once it is withdrawn.

use std::time::Duration;

use sds_platform::auth::JwksOptions;

use crate::support::{
    Answer, JwksServer, TestKey, accepted, authenticator, eventually, key_set, quick_options,
    refusal,
};

#[tokio::test]
async fn a_key_is_rotated_without_refusing_the_tokens_of_either_key_while_both_are_published() {
    let a = TestKey::rsa_a("key-a");
    let b = TestKey::rsa_b("key-b");
    let server = JwksServer::start(Answer::Document(key_set(&[&a]))).await;
    // Only the periodic refresh: tokens naming an unknown key fetch nothing sooner.
    let options = JwksOptions {
        refresh: Duration::from_millis(200),
        unknown_key_refetch_interval: Duration::from_secs(3600),
        ..quick_options()
    };
    let authenticator = authenticator(server.source(), options).await;
    let (token_a, token_b) = (a.token(), b.token());
    let principal = authenticator.verify(&token_a).unwrap();
    assert_eq!(principal.org_id, "fife");
    assert_eq!(
        refusal(&authenticator, &token_b),
        "bearer token is signed with key id \"key-b\", which this server does not know"
    );

    server.serve(&[&a, &b]);
    eventually("the new key is accepted", || {
        accepted(&authenticator, &token_b)
    })
    .await;
    assert!(
        accepted(&authenticator, &token_a),
        "the old key is still published"
    );

    server.serve(&[&b]);
    eventually("the withdrawn key is refused", || {
        !accepted(&authenticator, &token_a)
    })
    .await;
    assert_eq!(
        refusal(&authenticator, &token_a),
        "bearer token is signed with key id \"key-a\", which this server does not know"
    );
    assert!(accepted(&authenticator, &token_b));
}

#[tokio::test]
async fn rs256_and_es256_keys_of_one_set_each_verify_the_tokens_signed_with_them() {
    let rsa = TestKey::rsa_a("rsa");
    let ec = TestKey::ec("ec");
    let server = JwksServer::start(Answer::Document(key_set(&[&rsa, &ec]))).await;
    let authenticator = authenticator(server.source(), quick_options()).await;
    assert_eq!(authenticator.verify(&rsa.token()).unwrap().org_id, "fife");
    assert_eq!(authenticator.verify(&ec.token()).unwrap().org_id, "fife");
}
