//! The authenticator's tests: tokens round-trip, every malformed or forged token is refused
//! with its reason, and what reaches the logs.

use super::*;
use jsonwebtoken::{EncodingKey, Header, encode};

const RSA_PRIVATE: &str = include_str!("../../tests/fixtures/test-rsa-private.pem");
pub(super) const RSA_PUBLIC: &str = include_str!("../../tests/fixtures/test-rsa-public.pem");

pub(super) fn commissioning_officer() -> Principal {
    Principal {
        org_id: "aberdeenshire".into(),
        org_kind: OrgKind::Authority,
        roles: vec![Role::Commissioning],
        authorities: vec![AuthorityId::parse("authorities", "aberdeenshire").unwrap()],
        person_id: None,
    }
}

pub(super) fn request_with(token: &str) -> Request<()> {
    let mut request = Request::new(());
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[test]
fn a_shared_secret_token_round_trips_to_the_same_principal() {
    let issuer = TokenIssuer::shared_secret("s3cret");
    let token = issuer
        .issue(&commissioning_officer(), Duration::from_secs(60))
        .unwrap();
    let request = Authenticator::shared_secret("s3cret")
        .authenticate(request_with(&token))
        .unwrap();
    assert_eq!(Principal::of(&request).unwrap(), &commissioning_officer());
}

#[test]
fn missing_expired_and_badly_signed_tokens_are_unauthenticated() {
    let authenticator = Authenticator::shared_secret("s3cret");
    let missing = authenticator.authenticate(Request::new(())).unwrap_err();
    assert_eq!(missing.code(), tonic::Code::Unauthenticated);
    assert!(missing.message().contains("missing bearer token"));

    let now = jsonwebtoken::get_current_timestamp();
    let expired = TokenIssuer::shared_secret("s3cret")
        .issue_at(&commissioning_officer(), now - 7200, now - 3600)
        .unwrap();
    let status = authenticator
        .authenticate(request_with(&expired))
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(status.message().contains("expired"), "{}", status.message());

    let forged = TokenIssuer::shared_secret("other")
        .issue(&commissioning_officer(), Duration::from_secs(60))
        .unwrap();
    let status = authenticator
        .authenticate(request_with(&forged))
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(
        status.message().contains("signature"),
        "{}",
        status.message()
    );

    let status = authenticator
        .authenticate(request_with("not-a-jwt"))
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

#[test]
fn rs256_tokens_verify_against_the_public_key_only() {
    let issuer = TokenIssuer::rsa_private_key_pem(RSA_PRIVATE.as_bytes()).unwrap();
    let token = issuer
        .issue(&commissioning_officer(), Duration::from_secs(60))
        .unwrap();
    let authenticator = Authenticator::rsa_public_keys_pem(RSA_PUBLIC).unwrap();
    let request = authenticator.authenticate(request_with(&token)).unwrap();
    assert_eq!(Principal::of(&request).unwrap().org_id, "aberdeenshire");

    // A local HS256 token must not pass a production verifier.
    let local = TokenIssuer::shared_secret("s3cret")
        .issue(&commissioning_officer(), Duration::from_secs(60))
        .unwrap();
    let status = authenticator
        .authenticate(request_with(&local))
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

#[test]
fn roles_are_read_once_and_unknown_ones_grant_nothing() {
    let issuer = TokenIssuer::shared_secret("s3cret");
    let claims = Claims {
        sub: "fife".into(),
        iss: TOKEN_ISSUER.into(),
        iat: jsonwebtoken::get_current_timestamp(),
        exp: jsonwebtoken::get_current_timestamp() + 60,
        org_kind: OrgKind::Authority,
        roles: vec![
            "team_manager".into(),
            "social_worker".into(),
            "finance".into(),
        ],
        authorities: vec!["fife".into()],
        person_id: None,
    };
    let token = encode(&Header::new(Algorithm::HS256), &claims, &issuer.key).unwrap();
    let principal = Authenticator::shared_secret("s3cret")
        .verify(&token)
        .unwrap();
    assert_eq!(principal.roles, vec![Role::TeamManager, Role::Finance]);
    assert!(principal.may_act_for(&AuthorityId::parse("a", "fife").unwrap()));

    let bad_authority = Claims {
        authorities: vec!["Fife Council".into()],
        ..claims
    };
    let token = encode(&Header::new(Algorithm::HS256), &bad_authority, &issuer.key).unwrap();
    let status = Authenticator::shared_secret("s3cret")
        .verify(&token)
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(
        status.message().contains("authorities"),
        "{}",
        status.message()
    );
}

/// A token with exactly these claims, signed with the test secret.
fn signed(claims: serde_json::Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"s3cret"),
    )
    .unwrap()
}

fn good_claims() -> serde_json::Value {
    let now = jsonwebtoken::get_current_timestamp();
    serde_json::json!({
        "sub": "fife", "iss": "sds", "iat": now, "exp": now + 3600,
        "org_kind": "authority", "roles": ["commissioning"], "authorities": ["fife"],
    })
}

fn refusal(claims: serde_json::Value) -> String {
    let status = Authenticator::shared_secret("s3cret")
        .verify(&signed(claims))
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    status.message().to_owned()
}

#[test]
fn a_token_not_yet_valid_or_issued_in_the_future_is_refused() {
    let now = jsonwebtoken::get_current_timestamp();
    let mut early = good_claims();
    early["nbf"] = (now + 600).into();
    assert!(refusal(early).contains("not valid yet"));
    let mut future = good_claims();
    future["iat"] = (now + 600).into();
    future["exp"] = (now + 1200).into();
    assert!(refusal(future).contains("issued in the future"));
    // Within the leeway, a skewed clock is forgiven.
    let mut skewed = good_claims();
    skewed["iat"] = (now + 10).into();
    assert!(
        Authenticator::shared_secret("s3cret")
            .verify(&signed(skewed))
            .is_ok()
    );
}

#[test]
fn a_token_living_longer_than_the_configured_maximum_is_refused() {
    let now = jsonwebtoken::get_current_timestamp();
    let mut long_lived = good_claims();
    long_lived["exp"] = (now + 48 * 3600).into();
    assert_eq!(
        refusal(long_lived.clone()),
        "bearer token is valid for 48 hours from its iat; this server accepts at most 24"
    );
    let lenient =
        Authenticator::shared_secret("s3cret").with_max_lifetime(Duration::from_secs(72 * 3600));
    assert!(lenient.verify(&signed(long_lived)).is_ok());
}

#[test]
fn a_missing_required_claim_is_named() {
    for claim in REQUIRED_CLAIMS {
        let mut claims = good_claims();
        claims.as_object_mut().unwrap().remove(claim);
        let message = refusal(claims);
        assert!(
            message.starts_with(&format!("bearer token lacks the claim {claim};")),
            "{claim}: {message}"
        );
    }
}

#[test]
fn identity_claims_are_one_printable_line_in_one_canonical_form() {
    for bad in [
        "fife\nINFO forged line",
        "fife\u{202E}",
        "\u{200B}",
        &"x".repeat(129),
    ] {
        let mut claims = good_claims();
        claims["sub"] = bad.into();
        assert!(refusal(claims).contains("claim sub"), "{bad:?} accepted");
    }
    let mut provider = good_claims();
    provider["sub"] = "  0190F5C2-7D3A-7C4E-9B1A-2F6D8E4A1C3B ".into();
    provider["org_kind"] = "provider".into();
    let principal = Authenticator::shared_secret("s3cret")
        .verify(&signed(provider))
        .unwrap();
    assert_eq!(principal.org_id, "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b");
}

#[test]
fn a_refused_token_is_logged_once_with_its_reason_and_never_the_token() {
    let logs = crate::telemetry::tests_support::CapturedLogs::default();
    let forged = TokenIssuer::shared_secret("other")
        .issue(&commissioning_officer(), Duration::from_secs(60))
        .unwrap();
    tracing::subscriber::with_default(logs.subscriber(), || {
        let _ = Authenticator::shared_secret("s3cret").authenticate(request_with(&forged));
    });
    let text = logs.text();
    assert_eq!(text.matches("request refused").count(), 1, "{text}");
    assert!(text.contains("signature is not valid"), "{text}");
    assert!(
        !text.contains(&forged),
        "the token must never be logged: {text}"
    );
}

#[test]
fn a_person_is_named_in_the_logs_by_kind_and_an_organisation_by_its_id() {
    let person_id = "0190f5c2-7d3a-7c4e-9b1a-2f6d8e4a1c3b";
    let person = Principal {
        org_id: person_id.into(),
        org_kind: OrgKind::Person,
        roles: vec![],
        authorities: vec![AuthorityId::parse("authorities", "aberdeenshire").unwrap()],
        person_id: Some(person_id.into()),
    };
    let issuer = TokenIssuer::shared_secret("s3cret");
    let authenticator = Authenticator::shared_secret("s3cret");
    let logs = crate::telemetry::tests_support::CapturedLogs::default();
    tracing::subscriber::with_default(logs.subscriber(), || {
        for principal in [&person, &commissioning_officer()] {
            let token = issuer.issue(principal, Duration::from_secs(60)).unwrap();
            let span = tracing::info_span!("rpc", enduser.id = tracing::field::Empty);
            span.in_scope(|| {
                authenticator.authenticate(request_with(&token)).unwrap();
                tracing::warn!("refused later in the request");
            });
        }
    });
    let text = logs.text();
    assert!(
        !text.contains(person_id),
        "a person's id was logged: {text}"
    );
    assert!(text.contains("enduser.id=\"person\""), "{text}");
    assert!(text.contains("enduser.id=\"aberdeenshire\""), "{text}");
}

#[test]
fn a_keys_file_without_keys_is_refused() {
    assert!(Authenticator::rsa_public_keys_pem("nothing here").is_err());
}

#[test]
fn an_unsigned_token_or_one_with_critical_extensions_is_refused_by_name() {
    use base64::Engine as _;
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&value).unwrap())
    };
    let payload = encode(good_claims());
    let authenticator = Authenticator::shared_secret("s3cret");
    let unsigned = format!("{}.{payload}.", encode(serde_json::json!({"alg": "none"})));
    assert_eq!(
        authenticator.verify(&unsigned).unwrap_err().message(),
        "bearer token is unsigned (alg none); this server accepts only signed tokens"
    );
    let critical = signed(good_claims());
    let (_, rest) = critical.split_once('.').unwrap();
    let critical = format!(
        "{}.{rest}",
        encode(serde_json::json!({"alg": "HS256", "crit": ["b64"], "b64": false}))
    );
    assert!(
        authenticator
            .verify(&critical)
            .unwrap_err()
            .message()
            .contains("critical extensions (crit)")
    );
    for malformed in [
        "a.b",
        "a.b.c.d",
        "!!!.e30.",
        &format!("{}.{payload}.", encode(serde_json::json!({"kid": "k"}))),
    ] {
        assert_eq!(
            authenticator.verify(malformed).unwrap_err().message(),
            "bearer token is malformed",
            "{malformed}"
        );
    }
}

#[test]
fn a_shared_secret_or_pem_verifier_ignores_the_key_id() {
    let issuer = TokenIssuer::rsa_private_key_pem(RSA_PRIVATE.as_bytes())
        .unwrap()
        .with_key_id("whatever");
    let token = issuer
        .issue(&commissioning_officer(), Duration::from_secs(60))
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("whatever"));
    let authenticator = Authenticator::rsa_public_keys_pem(RSA_PUBLIC).unwrap();
    assert!(authenticator.verify(&token).is_ok());
}
