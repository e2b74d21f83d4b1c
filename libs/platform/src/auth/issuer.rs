//! Signing tokens: `sds token` and tests with the shared secret, and services calling each
//! other with what the process verifies with (the secret, or a private key whose public
//! half the identity provider's keys file or key set holds).

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use sds_vocabulary::NamedEnum as _;

use super::{AuthSetupError, Claims, Principal, TOKEN_ISSUER};
use crate::config::JwtConfig;

/// Signs tokens: HS256 for local use and tests, RS256 where a private key is at hand.
#[derive(Clone)]
pub struct TokenIssuer {
    pub(super) key: EncodingKey,
    algorithm: Algorithm,
    /// The key id put in each token's header, for verifiers that pick the key by it.
    key_id: Option<String>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl TokenIssuer {
    pub fn shared_secret(secret: &str) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            algorithm: Algorithm::HS256,
            key_id: None,
        }
    }

    pub fn rsa_private_key_pem(pem: &[u8]) -> Result<Self, AuthSetupError> {
        Ok(Self {
            key: EncodingKey::from_rsa_pem(pem).map_err(AuthSetupError::Sign)?,
            algorithm: Algorithm::RS256,
            key_id: None,
        })
    }

    /// Names the key in every token's header (`kid`), as a verifier with a JWKS needs.
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// What services sign the tokens they call each other with, so that the process's own
    /// [`Authenticator`] (and every other process's) accepts them: the shared secret, or
    /// the private key in `service_key_file` whose public half the public keys file holds,
    /// or the key set holds under the key id `SDS_SERVICE_KEY_ID` (which every token then
    /// names). `None` when tokens are verified with public keys and no service key is
    /// configured.
    pub fn for_services(
        jwt: &JwtConfig,
        service_key_file: Option<&Path>,
    ) -> Result<Option<Self>, AuthSetupError> {
        match (jwt, service_key_file) {
            (JwtConfig::SharedSecret(secret), _) => Ok(Some(Self::shared_secret(secret))),
            (JwtConfig::PublicKeysFile(_), Some(path)) => {
                Self::rsa_private_key_file(path).map(Some)
            }
            (JwtConfig::Jwks { service_key_id, .. }, Some(path)) => {
                let key_id = service_key_id
                    .as_deref()
                    .ok_or(AuthSetupError::NoServiceKeyId)?;
                Ok(Some(Self::rsa_private_key_file(path)?.with_key_id(key_id)))
            }
            (JwtConfig::PublicKeysFile(_) | JwtConfig::Jwks { .. }, None) => Ok(None),
        }
    }

    fn rsa_private_key_file(path: &Path) -> Result<Self, AuthSetupError> {
        let pem = std::fs::read(path).map_err(|source| AuthSetupError::ReadServiceKey {
            path: path.display().to_string(),
            source,
        })?;
        Self::rsa_private_key_pem(&pem)
    }

    /// A token for `principal`, valid for `valid_for` from now.
    pub fn issue(
        &self,
        principal: &Principal,
        valid_for: Duration,
    ) -> Result<String, AuthSetupError> {
        let now = jsonwebtoken::get_current_timestamp();
        self.issue_at(principal, now, now + valid_for.as_secs())
    }

    /// A token with explicit issue and expiry times (seconds since the epoch); tests use it
    /// for expired tokens.
    pub fn issue_at(
        &self,
        principal: &Principal,
        issued_at: u64,
        expires_at: u64,
    ) -> Result<String, AuthSetupError> {
        let claims = Claims {
            sub: principal.org_id.clone(),
            iss: TOKEN_ISSUER.to_owned(),
            iat: issued_at,
            exp: expires_at,
            org_kind: principal.org_kind,
            roles: principal
                .roles
                .iter()
                .map(|role| role.name().to_owned())
                .collect(),
            authorities: principal
                .authorities
                .iter()
                .map(|authority| authority.as_str().to_owned())
                .collect(),
            person_id: principal.person_id.clone(),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = self.key_id.clone();
        encode(&header, &claims, &self.key).map_err(AuthSetupError::Sign)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Authenticator;
    use crate::auth::tests::{RSA_PUBLIC, commissioning_officer};

    #[test]
    fn services_sign_with_what_the_process_verifies_with() {
        let secret = JwtConfig::SharedSecret("s3cret".into());
        let issuer = TokenIssuer::for_services(&secret, None).unwrap().unwrap();
        let token = issuer
            .issue(&commissioning_officer(), Duration::from_secs(60))
            .unwrap();
        assert!(
            Authenticator::shared_secret("s3cret")
                .verify(&token)
                .is_ok()
        );

        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let public_keys = JwtConfig::PublicKeysFile(fixtures.join("test-rsa-public.pem"));
        assert!(
            TokenIssuer::for_services(&public_keys, None)
                .unwrap()
                .is_none(),
            "no service key, no service tokens"
        );
        let private = fixtures.join("test-rsa-private.pem");
        let issuer = TokenIssuer::for_services(&public_keys, Some(&private))
            .unwrap()
            .unwrap();
        let token = issuer
            .issue(&commissioning_officer(), Duration::from_secs(60))
            .unwrap();
        let authenticator = Authenticator::rsa_public_keys_pem(RSA_PUBLIC).unwrap();
        assert!(authenticator.verify(&token).is_ok());
        let missing = TokenIssuer::for_services(&public_keys, Some(&fixtures.join("nope.pem")));
        assert!(matches!(
            missing,
            Err(AuthSetupError::ReadServiceKey { .. })
        ));
    }
}
