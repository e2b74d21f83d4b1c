//! Which keys of a set are used, and why the others are not.

use super::*;

const RSA_PRIVATE: &str = include_str!("../../../tests/fixtures/test-rsa-private.pem");
const EC_PRIVATE: &str = include_str!("../../../tests/fixtures/test-ec-p256-private.pem");

/// The public JWK of a test key, with `kid` and any other members set.
fn jwk(private_pem: &str, algorithm: Algorithm, members: serde_json::Value) -> serde_json::Value {
    let key = match algorithm {
        Algorithm::ES256 => jsonwebtoken::EncodingKey::from_ec_pem(private_pem.as_bytes()),
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()),
    }
    .unwrap();
    let mut value = serde_json::to_value(Jwk::from_encoding_key(&key, algorithm).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("alg");
    for (name, member) in members.as_object().unwrap() {
        value[name] = member.clone();
    }
    value
}

fn parsed(keys: Vec<serde_json::Value>) -> Result<(KeySet, Vec<String>), String> {
    parse_key_set(&serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap())
}

#[test]
fn rsa_and_p256_keys_with_a_key_id_are_used_with_their_one_algorithm() {
    let (keys, skipped) = parsed(vec![
        jwk(
            RSA_PRIVATE,
            Algorithm::RS256,
            serde_json::json!({"kid": "rsa"}),
        ),
        jwk(
            RSA_PRIVATE,
            Algorithm::RS256,
            serde_json::json!({"kid": "rsa-alg", "alg": "RS256", "use": "sig"}),
        ),
        jwk(
            EC_PRIVATE,
            Algorithm::ES256,
            serde_json::json!({"kid": "ec"}),
        ),
        jwk(
            EC_PRIVATE,
            Algorithm::ES256,
            serde_json::json!({"kid": "ec-alg", "alg": "ES256", "key_ops": ["verify"]}),
        ),
    ])
    .unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(keys["rsa"].algorithm, Algorithm::RS256);
    assert_eq!(keys["rsa-alg"].algorithm, Algorithm::RS256);
    assert_eq!(keys["ec"].algorithm, Algorithm::ES256);
    assert_eq!(keys["ec-alg"].algorithm, Algorithm::ES256);
}

#[test]
fn secrets_other_algorithms_weak_keys_and_keys_without_a_key_id_are_left_out_with_a_reason() {
    let (keys, skipped) = parsed(vec![
        jwk(RSA_PRIVATE, Algorithm::RS256, serde_json::json!({"kid": "good"})),
        serde_json::json!({"kty": "oct", "kid": "secret", "k": "c2VjcmV0", "alg": "HS256"}),
        jwk(RSA_PRIVATE, Algorithm::RS256, serde_json::json!({"kid": "pss", "alg": "PS256"})),
        jwk(RSA_PRIVATE, Algorithm::RS256, serde_json::json!({"kid": "rsa-as-ec", "alg": "ES256"})),
        jwk(RSA_PRIVATE, Algorithm::RS256, serde_json::json!({"kid": "encryption", "use": "enc"})),
        jwk(RSA_PRIVATE, Algorithm::RS256, serde_json::json!({})),
        serde_json::json!({"kty": "RSA", "kid": "weak", "n": URL_SAFE_NO_PAD.encode([0xff_u8; 128]), "e": "AQAB"}),
        serde_json::json!({"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"}),
        serde_json::json!({"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"}),
        jwk(RSA_PRIVATE, Algorithm::RS256, serde_json::json!({"kid": "good"})),
    ])
    .unwrap();
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["good"]);
    let reasons = skipped.join("\n");
    for expected in [
        "key id \"secret\": is a shared secret",
        "key id \"pss\": is an RSA key for Some(PS256)",
        "key id \"rsa-as-ec\": is an RSA key for Some(ES256)",
        "key id \"encryption\": is not for signatures",
        "key #6: has no key id",
        "key id \"weak\": is an RSA key of 1024 bits",
        "key id \"p384\": is an EC key on P384",
        "key id \"ed\": is neither an RSA nor an EC key",
        "key id \"good\": a second key with the same key id",
    ] {
        assert!(
            reasons.contains(expected),
            "{expected:?} not in:\n{reasons}"
        );
    }
}

#[test]
fn a_set_without_a_usable_key_or_not_a_set_at_all_is_an_error() {
    let error = parsed(vec![
        serde_json::json!({"kty": "oct", "kid": "secret", "k": "c2VjcmV0"}),
    ])
    .err()
    .unwrap();
    assert!(error.starts_with("holds no usable key"), "{error}");
    assert!(error.contains("shared secret"), "{error}");
    assert!(parsed(vec![]).is_err());
    let error = parse_key_set(b"<html>sign in</html>").err().unwrap();
    assert!(error.starts_with("not a JWKS"), "{error}");
}

#[test]
fn text_from_outside_is_shown_quoted_escaped_and_short() {
    assert_eq!(shown("key-1"), "\"key-1\"");
    assert_eq!(
        shown("a\nINFO forged\u{202E}"),
        "\"a\\nINFO forged\\u{202e}\""
    );
    assert_eq!(
        shown(&"k".repeat(100)),
        format!("\"{}...\"", "k".repeat(64))
    );
}

#[test]
fn after_failures_the_set_is_fetched_sooner_backing_off_up_to_the_refresh() {
    let options = JwksOptions::refreshed_every(Duration::from_secs(300));
    let mut refresher = Refresher::default();
    let mut delays = Vec::new();
    for failures in 0..7 {
        refresher.failures = failures;
        delays.push(refresher.delay(&options).as_secs());
    }
    assert_eq!(delays, [300, 10, 20, 40, 80, 160, 300]);
}
