//! Bearer-token authentication: JWTs signed with HS256 carrying subject, role, jurisdiction and, for
//! applicants and providers, their credit code. Minting (`voucher-ledger token`) and checking share one key.

use std::str::FromStr;

use domain::{Actor, CreditCode, Jurisdiction, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The audience every token of this service names.
pub const AUDIENCE: &str = "voucher-ledger";

/// The environment variable holding the signing key (shared by `serve` and `token`).
pub const SECRET_VARIABLE: &str = "VOUCHER_LEDGER_JWT_SECRET";

/// The shortest key accepted: an HS256 key should have at least 256 bits.
pub const SECRET_BYTES_MIN: usize = 32;

/// A token's claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub jurisdiction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
}

/// Why a token was refused. Every variant answers 401 `invalid_token`; the message says what was wrong
/// without echoing the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Signs and checks tokens with one HS256 key.
#[derive(Clone)]
pub struct Authenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator { key: <redacted> }")
    }
}

/// Why a key is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the JWT key must be at least {SECRET_BYTES_MIN} bytes, got {0}")]
    TooShort(usize),
}

impl Authenticator {
    /// An authenticator for `secret`.
    ///
    /// # Errors
    /// `KeyError::TooShort` for a key under 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Authenticator, KeyError> {
        if secret.len() < SECRET_BYTES_MIN {
            return Err(KeyError::TooShort(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Authenticator {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        })
    }

    /// Mints a token for `actor`, valid for `ttl_seconds` from `now_unix`.
    ///
    /// # Errors
    /// When signing fails (it does not with an HMAC key; the error is passed on rather than hidden).
    pub fn mint(&self, actor: &Actor, now_unix: i64, ttl_seconds: i64) -> Result<String, AuthError> {
        let claims = Claims {
            sub: actor.subject.clone(),
            role: actor.role.as_str().to_owned(),
            jurisdiction: actor.jurisdiction.map(|j| j.as_str().to_owned()).unwrap_or_default(),
            credit_code: actor.credit_code.as_ref().map(|code| code.as_str().to_owned()),
            aud: AUDIENCE.to_owned(),
            exp: now_unix + ttl_seconds,
            iat: now_unix,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| AuthError::Invalid(error.to_string()))
    }

    /// Checks a token and returns the actor it names.
    ///
    /// # Errors
    /// `AuthError::Invalid` for a bad signature, another algorithm (including `none`), an expired token,
    /// a wrong audience, an unknown role or jurisdiction, a role that is never authenticated, a malformed
    /// credit code, or an applicant or provider token without a credit code.
    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| AuthError::Invalid(error.to_string()))?;
        actor_from_claims(&data.claims)
    }

    /// Checks a token like [`Authenticator::verify`] and also returns its `exp` (Unix seconds), for answers
    /// that outlive the request (the event feed ends when its token expires).
    ///
    /// # Errors
    /// See [`Authenticator::verify`].
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Actor, i64), AuthError> {
        let actor = self.verify(token)?;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| AuthError::Invalid(error.to_string()))?;
        Ok((actor, data.claims.exp))
    }
}

/// The actor named by verified claims.
///
/// # Errors
/// See [`Authenticator::verify`].
pub fn actor_from_claims(claims: &Claims) -> Result<Actor, AuthError> {
    let role = Role::from_str(&claims.role).map_err(|error| AuthError::Invalid(error.to_string()))?;
    if !Role::AUTHENTICATED.contains(&role) {
        return Err(AuthError::Invalid(format!("role {role} cannot be authenticated")));
    }
    let jurisdiction = Jurisdiction::from_str(&claims.jurisdiction)
        .map_err(|error| AuthError::Invalid(error.to_string()))?;
    let credit_code = match &claims.credit_code {
        Some(code) => Some(CreditCode::parse(code).map_err(|error| AuthError::Invalid(error.to_string()))?),
        None => None,
    };
    let needs_code = matches!(role, Role::Enterprise | Role::ProjectEntity | Role::Provider);
    if needs_code && credit_code.is_none() {
        return Err(AuthError::Invalid(format!("a {role} token must carry a credit_code")));
    }
    if claims.sub.trim().is_empty() {
        return Err(AuthError::Invalid("empty subject".into()));
    }
    Ok(Actor { subject: claims.sub.clone(), role, jurisdiction: Some(jurisdiction), credit_code })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn bureau() -> Actor {
        Actor {
            subject: "clerk-1".into(),
            role: Role::Bureau,
            jurisdiction: Some(Jurisdiction::Guiyang),
            credit_code: None,
        }
    }

    #[test]
    fn a_minted_token_names_its_actor() {
        let auth = Authenticator::new(SECRET).expect("key");
        let token = auth.mint(&bureau(), chrono::Utc::now().timestamp(), 600).expect("mint");
        assert_eq!(auth.verify(&token), Ok(bureau()));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = Authenticator::new(b"another key another key another key").expect("key");
        let token = other.mint(&bureau(), chrono::Utc::now().timestamp(), 600).expect("mint");
        let auth = Authenticator::new(SECRET).expect("key");
        assert!(matches!(auth.verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let auth = Authenticator::new(SECRET).expect("key");
        let token = auth.mint(&bureau(), chrono::Utc::now().timestamp() - 7200, 600).expect("mint");
        assert!(matches!(auth.verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn a_short_key_is_refused() {
        assert_eq!(Authenticator::new(b"short").err(), Some(KeyError::TooShort(5)));
    }

    #[test]
    fn an_enterprise_token_needs_a_credit_code() {
        let claims = Claims {
            sub: "e".into(),
            role: "enterprise".into(),
            jurisdiction: "guiyang".into(),
            credit_code: None,
            aud: AUDIENCE.into(),
            exp: 0,
            iat: 0,
        };
        assert!(actor_from_claims(&claims).is_err());
        let public = Claims { role: "public".into(), ..claims.clone() };
        assert!(actor_from_claims(&public).is_err());
        let unknown = Claims { role: "mayor".into(), ..claims };
        assert!(actor_from_claims(&unknown).is_err());
    }
}
