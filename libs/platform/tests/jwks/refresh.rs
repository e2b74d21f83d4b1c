//! The set kept fresh: learnt on demand when a token names a new key, without letting a
//! flood of made-up key ids hammer the identity provider; kept when a fetch fails; waited
//! for at start; and read from a file on the same schedule.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sds_platform::auth::{AuthSetupError, JwksOptions};
use sds_platform::config::{JwksSource, JwtConfig};
use sds_platform::{Authenticator, TokenIssuer};

use crate::support::{
    Answer, JwksServer, TestKey, accepted, authenticator, eventually, fixture, key_set,
    quick_options, refusal, refused, with_logs,
};

#[tokio::test]
async fn a_key_added_to_the_set_is_learnt_from_the_first_token_that_names_it() {
    let a = TestKey::rsa_a("key-a");
    let b = TestKey::rsa_b("key-b");
    let server = JwksServer::start(Answer::Document(key_set(&[&a]))).await;
    // The periodic refresh is an hour away.
    let authenticator = authenticator(server.source(), quick_options()).await;
    assert_eq!(server.fetches(), 1);

    server.serve(&[&a, &b]);
    let token_b = b.token();
    assert!(refusal(&authenticator, &token_b).contains("which this server does not know"));
    eventually("the token's key is fetched and accepted", || {
        accepted(&authenticator, &token_b)
    })
    .await;
    assert_eq!(server.fetches(), 2, "one fetch for the new key");
    assert!(accepted(&authenticator, &a.token()));
}

#[tokio::test]
async fn a_flood_of_unknown_key_ids_fetches_the_set_at_most_once_per_interval() {
    let a = TestKey::rsa_a("key-a");
    let server = JwksServer::start(Answer::Document(key_set(&[&a]))).await;
    let options = JwksOptions {
        unknown_key_refetch_interval: Duration::from_millis(500),
        ..quick_options()
    };
    let authenticator = authenticator(server.source(), options).await;
    let tokens: Vec<String> = (0..20)
        .map(|n| TestKey::rsa_b(&format!("made-up-{n}")).token())
        .collect();
    let flood = Duration::from_millis(1600);
    let started = tokio::time::Instant::now();
    let mut refused_tokens = 0;
    while started.elapsed() < flood {
        for token in &tokens {
            assert!(!accepted(&authenticator, token));
            refused_tokens += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let flooded = started.elapsed();
    // Whatever the flood asked for last is fetched within the interval.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let fetches = server.fetches() - 1;
    assert!(refused_tokens > 1000, "{refused_tokens} tokens");
    // One fetch as the flood starts, then one per 500 ms.
    let most = usize::try_from(flooded.as_millis() / 500).unwrap() + 2;
    assert!(
        (2..=most).contains(&fetches),
        "{refused_tokens} tokens naming unknown keys over {flooded:?} fetched the set {fetches} times; at most {most} allowed"
    );
    assert!(accepted(&authenticator, &a.token()));
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_last_set_and_says_why_in_the_logs() {
    let ((), logs) = with_logs(async {
        let a = TestKey::rsa_a("key-a");
        let b = TestKey::rsa_b("key-b");
        let server = JwksServer::start(Answer::Document(key_set(&[&a]))).await;
        let options = JwksOptions {
            refresh: Duration::from_millis(100),
            unknown_key_refetch_interval: Duration::from_millis(50),
            fetch_timeout: Duration::from_millis(300),
            ..quick_options()
        };
        let authenticator = authenticator(server.source(), options).await;
        let token_a = a.token();
        assert!(accepted(&authenticator, &token_a));

        let no_usable_key =
            serde_json::json!({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]});
        for failure in [
            Answer::Status(503),
            Answer::Document(b"<html>maintenance</html>".to_vec()),
            Answer::Document(serde_json::to_vec(&no_usable_key).unwrap()),
            Answer::Silence,
        ] {
            server.answer(failure);
            let before = server.fetches();
            eventually("the set is fetched again", || {
                server.fetches() >= before + 2
            })
            .await;
            assert!(
                accepted(&authenticator, &token_a),
                "the last good set is kept"
            );
        }

        server.serve(&[&b]);
        eventually("the set recovers", || accepted(&authenticator, &b.token())).await;
        assert!(!accepted(&authenticator, &token_a));
    })
    .await;
    for reason in [
        "answered 503 Service Unavailable",
        "not a JWKS",
        "holds no usable key",
        "no complete answer within 300 ms",
    ] {
        assert!(
            logs.contains("could not refresh the token keys; keeping the keys last loaded")
                && logs.contains(reason),
            "{reason:?} not logged:\n{logs}"
        );
    }
    assert!(logs.contains("kept=\"key-a\""), "{logs}");
    assert!(logs.contains("token keys refreshed"), "{logs}");
}

#[tokio::test]
async fn a_url_failing_at_start_is_retried_then_tokens_are_unavailable_until_the_set_loads() {
    let a = TestKey::rsa_a("key-a");
    let server = JwksServer::start(Answer::Status(502)).await;
    let options = JwksOptions {
        startup_wait: Duration::from_millis(800),
        ..quick_options()
    };
    let started = tokio::time::Instant::now();
    let authenticator = authenticator(server.source(), options).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert!(
        server.fetches() >= 2,
        "retried at start: {}",
        server.fetches()
    );

    let token = a.token();
    let status = refused(&authenticator, &token);
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert_eq!(
        status.message(),
        "this server has not yet loaded the keys bearer tokens are verified with; try again shortly"
    );
    server.serve(&[&a]);
    eventually("the set loads and the token is accepted", || {
        accepted(&authenticator, &token)
    })
    .await;
}

/// A file under the system's temporary folder, named for the test.
fn scratch_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sds-jwks-test-{}-{name}", std::process::id()))
}

/// Replaces `path` at once, as a deployment tool would.
fn write_atomically(path: &Path, contents: &[u8]) {
    let next = path.with_extension("next");
    std::fs::write(&next, contents).unwrap();
    std::fs::rename(&next, path).unwrap();
}

#[tokio::test]
async fn a_jwks_file_is_read_at_start_and_again_every_refresh() {
    let a = TestKey::rsa_a("key-a");
    let b = TestKey::ec("key-b");
    let path = scratch_file("rotated.json");
    write_atomically(&path, &key_set(&[&a]));
    let config = JwtConfig::Jwks {
        source: JwksSource::File(path.clone()),
        refresh: Duration::from_secs(1),
        service_key_id: None,
    };
    let authenticator = Authenticator::from_config(&config).await.unwrap();
    let (token_a, token_b) = (a.token(), b.token());
    assert!(accepted(&authenticator, &token_a));

    write_atomically(&path, &key_set(&[&b]));
    eventually("the file is read again", || {
        accepted(&authenticator, &token_b)
    })
    .await;
    assert!(!accepted(&authenticator, &token_a));
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn a_jwks_file_that_cannot_be_used_stops_the_process_at_start() {
    let missing = JwksSource::File(scratch_file("missing.json"));
    let error = Authenticator::jwks(missing, quick_options())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthSetupError::Jwks { .. }), "{error}");
    assert!(error.to_string().contains("open:"), "{error}");

    let path = scratch_file("large.json");
    write_atomically(&path, &key_set(&[&TestKey::rsa_a("key-a")]));
    let small = JwksOptions {
        max_bytes: 100,
        ..quick_options()
    };
    let error = Authenticator::jwks(JwksSource::File(path.clone()), small)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("larger than 100 bytes"),
        "{error}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn a_jwks_answer_larger_than_the_limit_is_not_read() {
    let server = JwksServer::start(Answer::Document(key_set(&[&TestKey::rsa_a("key-a")]))).await;
    let small = JwksOptions {
        max_bytes: 100,
        startup_wait: Duration::from_millis(100),
        ..quick_options()
    };
    let (authenticator, logs) = with_logs(Authenticator::jwks(server.source(), small)).await;
    let status = refused(&authenticator.unwrap(), &TestKey::rsa_a("key-a").token());
    assert_eq!(status.code(), tonic::Code::Unavailable);
    assert!(logs.contains("larger than 100 bytes"), "{logs}");
}

#[tokio::test]
async fn services_sign_with_the_key_id_the_set_holds_their_key_under() {
    let path = scratch_file("services.json");
    write_atomically(&path, &key_set(&[&TestKey::rsa_a("sds-services")]));
    let service_key = fixture("test-rsa-private.pem");
    let config = JwtConfig::Jwks {
        source: JwksSource::File(path.clone()),
        refresh: Duration::from_secs(300),
        service_key_id: Some("sds-services".into()),
    };
    let authenticator = Authenticator::from_config(&config).await.unwrap();
    let issuer = TokenIssuer::for_services(&config, Some(&service_key))
        .unwrap()
        .unwrap();
    let principal = crate::support::good_principal();
    let token = issuer.issue(&principal, Duration::from_secs(60)).unwrap();
    assert_eq!(authenticator.verify(&token).unwrap(), principal);
    assert!(
        TokenIssuer::for_services(&config, None).unwrap().is_none(),
        "no service key, no service tokens"
    );

    let elsewhere = JwtConfig::Jwks {
        source: JwksSource::File(path.clone()),
        refresh: Duration::from_secs(300),
        service_key_id: Some("not-published".into()),
    };
    let error = Authenticator::from_config(&elsewhere).await.unwrap_err();
    assert!(
        error.to_string().starts_with(
            "SDS_SERVICE_KEY_ID names the key \"not-published\", which the token key set from"
        ),
        "{error}"
    );
    std::fs::remove_file(&path).unwrap();
}
