//! Bearer-token authentication: JWTs signed with HS256 carrying subject, role, jurisdiction and, for
//! applicants and providers, their credit code. Minting (`voucher-ledger token`) and checking share one key.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use domain::{Actor, CreditCode, Jurisdiction, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The audience every token of this service names.
pub const AUDIENCE: &str = "voucher-ledger";

/// The environment variable holding the signing key (shared by `serve` and `token`).
pub const SECRET_VARIABLE: &str = "VOUCHER_LEDGER_JWT_SECRET";

/// The shortest key accepted: an HS256 key should have at least 256 bits.
pub const SECRET_BYTES_MIN: usize = 32;

/// The environment variable naming the issuer (`iss`) tokens carry and must carry (`serve` and `token`).
pub const ISSUER_VARIABLE: &str = "VOUCHER_LEDGER_JWT_ISSUER";

/// The longest lifetime a token may have by default (`exp - iat`, or `exp - now` without `iat`): 12 h, a
/// working day with margin; a stolen token is then useful for hours, not months.
pub const LIFETIME_MAX_DEFAULT_SECONDS: i64 = 12 * 3600;

/// Clock skew tolerated between the minting host and this one, for `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 30;

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
    /// Issued at; a token without it is checked by `exp - now` against the maximum lifetime.
    #[serde(default)]
    pub iat: i64,
}

/// The time and issuer claims checked beyond the signature (`nbf`, `exp` and `iss` by `jsonwebtoken`).
#[derive(Debug, Deserialize)]
struct Times {
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
}

/// A token's payload as verified: the claims and the times, read in one pass (the `iat` of [`Claims`] is
/// read as an option here: a token without it is checked by `exp - now`).
#[derive(Debug, Deserialize)]
struct Payload {
    sub: String,
    role: String,
    jurisdiction: String,
    #[serde(default)]
    credit_code: Option<String>,
    aud: String,
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
}

/// Tokens verified recently remembered, at most this many (then forgotten all at once): a client sends
/// its token with every request, and checking it again (two base64 decodings, an HMAC, three JSON parses)
/// is most of what a command costs the server beyond a no-op request.
pub const VERIFIED_TOKENS_MAX: usize = 16_384;

/// A token that passed every check, and when: every check but `exp` only grows easier to pass as time goes
/// on (`nbf`, `iat` not in the future, `exp - now` for a token without `iat`), so a later request with the
/// same token needs only its `exp` checked again, unless a clock went back.
#[derive(Debug, Clone)]
struct Verified {
    actor: Actor,
    exp: i64,
    /// The `now_unix` of the check.
    checked_at: i64,
    /// The system clock at the check (`jsonwebtoken` checks `exp` and `nbf` against it).
    checked_at_system: i64,
}

/// The verified-token memory, shared by the clones of one [`Authenticator`] (same key, same rules).
#[derive(Debug, Default)]
struct VerifiedTokens {
    tokens: Mutex<HashMap<Box<str>, Verified>>,
}

impl VerifiedTokens {
    /// The actor and `exp` of `token` if it was verified and is still valid at `now_unix` and `system`.
    fn get(&self, token: &str, now_unix: i64, system: i64) -> Option<(Actor, i64)> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let verified = tokens.get(token)?;
        let expired = |now: i64| verified.exp < now.saturating_sub(LEEWAY_SECONDS);
        if now_unix < verified.checked_at
            || system < verified.checked_at_system
            || expired(system)
            || expired(now_unix)
        {
            return None;
        }
        Some((verified.actor.clone(), verified.exp))
    }

    fn insert(&self, token: &str, verified: Verified) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= VERIFIED_TOKENS_MAX {
            tokens.clear();
        }
        tokens.insert(token.into(), verified);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// What `mint` signs: the claims, and the issuer when one is configured.
#[derive(Serialize)]
struct Minted<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
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
    issuer: Option<String>,
    lifetime_max_seconds: i64,
    verified: Arc<VerifiedTokens>,
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
    #[error("the JWT key's bytes are all alike: it is guessable, use a random key")]
    Uniform,
}

impl Authenticator {
    /// An authenticator for `secret`.
    ///
    /// # Errors
    /// `KeyError::TooShort` for a key under 32 bytes, `KeyError::Uniform` for a key whose bytes are all alike.
    pub fn new(secret: &[u8]) -> Result<Authenticator, KeyError> {
        if secret.len() < SECRET_BYTES_MIN {
            return Err(KeyError::TooShort(secret.len()));
        }
        if secret.iter().all(|byte| Some(byte) == secret.first()) {
            return Err(KeyError::Uniform);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS.unsigned_abs();
        validation.validate_nbf = true;
        Ok(Authenticator {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: None,
            lifetime_max_seconds: LIFETIME_MAX_DEFAULT_SECONDS,
            verified: Arc::default(),
        })
    }

    /// Requires (and mints) `iss` = `issuer`; `None` (the default) neither requires nor mints one.
    #[must_use]
    pub fn with_issuer(mut self, issuer: Option<String>) -> Authenticator {
        match &issuer {
            Some(issuer) => {
                self.validation.set_issuer(&[issuer]);
                self.validation.set_required_spec_claims(&["exp", "aud", "sub", "iss"]);
            }
            None => {
                self.validation.iss = None;
                self.validation.set_required_spec_claims(&["exp", "aud", "sub"]);
            }
        }
        self.issuer = issuer;
        // Other rules: what was verified under the old ones is forgotten.
        self.verified = Arc::default();
        self
    }

    /// Refuses tokens that live longer than `seconds` (default [`LIFETIME_MAX_DEFAULT_SECONDS`]).
    #[must_use]
    pub fn with_lifetime_max(mut self, seconds: i64) -> Authenticator {
        self.lifetime_max_seconds = seconds.max(1);
        self.verified = Arc::default();
        self
    }

    /// The longest lifetime accepted, in seconds.
    pub fn lifetime_max_seconds(&self) -> i64 {
        self.lifetime_max_seconds
    }

    /// Mints a token for `actor`, valid for `ttl_seconds` from `now_unix`.
    ///
    /// # Errors
    /// When `ttl_seconds` is not positive or exceeds the maximum lifetime (such a token would be refused),
    /// or signing fails (it does not with an HMAC key; the error is passed on rather than hidden).
    pub fn mint(&self, actor: &Actor, now_unix: i64, ttl_seconds: i64) -> Result<String, AuthError> {
        if ttl_seconds <= 0 || ttl_seconds > self.lifetime_max_seconds {
            return Err(AuthError::Invalid(format!(
                "a token's lifetime must be 1 to {} seconds, not {ttl_seconds}",
                self.lifetime_max_seconds
            )));
        }
        let claims = Claims {
            sub: actor.subject.clone(),
            role: actor.role.as_str().to_owned(),
            jurisdiction: actor.jurisdiction.map(|j| j.as_str().to_owned()).unwrap_or_default(),
            credit_code: actor.credit_code.as_ref().map(|code| code.as_str().to_owned()),
            aud: AUDIENCE.to_owned(),
            exp: now_unix.saturating_add(ttl_seconds),
            iat: now_unix,
        };
        let minted = Minted { claims: &claims, iss: self.issuer.as_deref() };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &minted, &self.encoding)
            .map_err(|error| AuthError::Invalid(error.to_string()))
    }

    /// Checks a token and returns the actor it names.
    ///
    /// # Errors
    /// `AuthError::Invalid` for a bad signature, another algorithm (including `none`), an expired token,
    /// a wrong audience, an unknown role or jurisdiction, a role that is never authenticated, a malformed
    /// credit code, or an applicant or provider token without a credit code.
    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        self.verify_at(token, chrono::Utc::now().timestamp())
    }

    /// Checks a token like [`Authenticator::verify`] and also returns its `exp` (Unix seconds), for answers
    /// that outlive the request (the event feed ends when its token expires).
    ///
    /// # Errors
    /// See [`Authenticator::verify`].
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Actor, i64), AuthError> {
        self.verify_at_with_expiry(token, chrono::Utc::now().timestamp())
    }

    /// [`Authenticator::verify`] with the lifetime and `iat` checked at `now_unix` (`exp` and `nbf` are
    /// checked by `jsonwebtoken` against the system clock). Also refused: a token issued in the future
    /// (beyond the leeway), one whose lifetime exceeds the maximum, and, when an issuer is configured, one
    /// without it or with another.
    ///
    /// # Errors
    /// See [`Authenticator::verify`].
    pub fn verify_at(&self, token: &str, now_unix: i64) -> Result<Actor, AuthError> {
        self.verify_at_with_expiry(token, now_unix).map(|(actor, _)| actor)
    }

    /// [`Authenticator::verify_at`] with the token's `exp`. A token verified before is answered from the
    /// verified-token memory with its `exp` checked again; any other is decoded once (the signature, then
    /// the payload straight into its claims) and remembered when it passes.
    fn verify_at_with_expiry(&self, token: &str, now_unix: i64) -> Result<(Actor, i64), AuthError> {
        let system = chrono::Utc::now().timestamp();
        if let Some(known) = self.verified.get(token, now_unix, system) {
            return Ok(known);
        }
        let data = jsonwebtoken::decode::<Payload>(token, &self.decoding, &self.validation)
            .map_err(|error| AuthError::Invalid(error.to_string()))?;
        let Payload { sub, role, jurisdiction, credit_code, aud, exp, iat } = data.claims;
        check_lifetime(&Times { exp, iat }, now_unix, self.lifetime_max_seconds)?;
        let claims = Claims { sub, role, jurisdiction, credit_code, aud, exp, iat: iat.unwrap_or_default() };
        let actor = actor_from_claims(&claims)?;
        self.verified.insert(
            token,
            Verified { actor: actor.clone(), exp, checked_at: now_unix, checked_at_system: system },
        );
        Ok((actor, exp))
    }
}

/// A token may not be issued in the future (beyond the leeway) nor live longer than `lifetime_max`:
/// `exp - iat`, or `exp - now` when it has no `iat`.
fn check_lifetime(times: &Times, now_unix: i64, lifetime_max: i64) -> Result<(), AuthError> {
    if let Some(iat) = times.iat
        && iat > now_unix.saturating_add(LEEWAY_SECONDS)
    {
        return Err(AuthError::Invalid("the token is issued in the future (iat)".into()));
    }
    let lifetime = times.exp.saturating_sub(times.iat.unwrap_or(now_unix));
    if lifetime > lifetime_max {
        return Err(AuthError::Invalid(format!(
            "the token lives {lifetime} s, longer than the {lifetime_max} s allowed"
        )));
    }
    Ok(())
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

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    /// Signs arbitrary claims with `SECRET`.
    fn signed(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET))
            .expect("sign")
    }

    fn bureau_claims() -> serde_json::Value {
        serde_json::json!({ "sub": "clerk-1", "role": "bureau", "jurisdiction": "guiyang", "aud": AUDIENCE })
    }

    fn with(mut claims: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        claims
    }

    #[test]
    fn a_key_whose_bytes_are_all_alike_is_refused() {
        assert_eq!(Authenticator::new(&[b'a'; 64]).err(), Some(KeyError::Uniform));
        assert_eq!(Authenticator::new(&[0; 32]).err(), Some(KeyError::Uniform));
        assert!(Authenticator::new(SECRET).is_ok());
    }

    #[test]
    fn a_token_living_longer_than_the_maximum_is_refused() {
        let auth = Authenticator::new(SECRET).expect("key");
        let now = now();
        let max = LIFETIME_MAX_DEFAULT_SECONDS;
        let long = signed(&with(bureau_claims(), serde_json::json!({ "iat": now, "exp": now + max + 1 })));
        assert!(
            matches!(auth.verify_at(&long, now), Err(AuthError::Invalid(reason)) if reason.contains("longer"))
        );
        let full = signed(&with(bureau_claims(), serde_json::json!({ "iat": now, "exp": now + max })));
        assert_eq!(auth.verify_at(&full, now), Ok(bureau()));
        // Without iat: exp - now.
        let no_iat_long = signed(&with(bureau_claims(), serde_json::json!({ "exp": now + max + 60 })));
        assert!(auth.verify_at(&no_iat_long, now).is_err());
        let no_iat = signed(&with(bureau_claims(), serde_json::json!({ "exp": now + 600 })));
        assert_eq!(auth.verify_at(&no_iat, now), Ok(bureau()));
        // A shorter maximum, configured.
        let short = Authenticator::new(SECRET).expect("key").with_lifetime_max(300);
        assert!(short.verify_at(&no_iat, now).is_err());
        // Minting refuses what would be refused.
        assert!(auth.mint(&bureau(), now, max + 1).is_err());
        assert!(auth.mint(&bureau(), now, 0).is_err());
    }

    #[test]
    fn iat_in_the_future_and_nbf_not_yet_reached_are_refused() {
        let auth = Authenticator::new(SECRET).expect("key");
        let now = now();
        let future =
            signed(&with(bureau_claims(), serde_json::json!({ "iat": now + 600, "exp": now + 1200 })));
        assert!(
            matches!(auth.verify_at(&future, now), Err(AuthError::Invalid(reason)) if reason.contains("iat"))
        );
        let skewed = signed(&with(bureau_claims(), serde_json::json!({ "iat": now + 10, "exp": now + 600 })));
        assert_eq!(auth.verify_at(&skewed, now), Ok(bureau()), "within the leeway");
        let not_yet = signed(&with(
            bureau_claims(),
            serde_json::json!({ "iat": now, "nbf": now + 600, "exp": now + 1200 }),
        ));
        assert!(auth.verify_at(&not_yet, now).is_err());
        let reached = signed(&with(
            bureau_claims(),
            serde_json::json!({ "iat": now, "nbf": now - 5, "exp": now + 600 }),
        ));
        assert_eq!(auth.verify_at(&reached, now), Ok(bureau()));
    }

    #[test]
    fn a_configured_issuer_is_required_and_minted() {
        let auth = Authenticator::new(SECRET).expect("key").with_issuer(Some("guiyang-idp".into()));
        let now = now();
        let minted = auth.mint(&bureau(), now, 600).expect("mint");
        assert_eq!(auth.verify_at(&minted, now), Ok(bureau()));
        let without = Authenticator::new(SECRET).expect("key").mint(&bureau(), now, 600).expect("mint");
        assert!(auth.verify_at(&without, now).is_err(), "a token without iss");
        let other =
            signed(&with(bureau_claims(), serde_json::json!({ "iat": now, "exp": now + 600, "iss": "x" })));
        assert!(auth.verify_at(&other, now).is_err(), "another issuer");
        // Without a configured issuer, a token's iss is not required.
        let plain = Authenticator::new(SECRET).expect("key");
        assert_eq!(plain.verify_at(&minted, now), Ok(bureau()));
    }

    #[test]
    fn a_remembered_token_names_its_actor_and_expiry_again() {
        let auth = Authenticator::new(SECRET).expect("key");
        let now = now();
        let token = auth.mint(&bureau(), now, 600).expect("mint");
        assert_eq!(auth.verify_with_expiry(&token), Ok((bureau(), now + 600)));
        assert_eq!(auth.verified.len(), 1);
        assert_eq!(auth.verify_with_expiry(&token), Ok((bureau(), now + 600)), "from the memory");
        assert_eq!(auth.clone().verify(&token), Ok(bureau()), "a clone shares the memory");
        assert_eq!(auth.verified.len(), 1);
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let auth = Authenticator::new(SECRET).expect("key");
        let now = now();
        let token = auth.mint(&bureau(), now - 7200, 600).expect("mint");
        // As if it had been verified while it was valid.
        let verified = Verified {
            actor: bureau(),
            exp: now - 6600,
            checked_at: now - 7000,
            checked_at_system: now - 7000,
        };
        auth.verified.insert(&token, verified);
        assert!(matches!(auth.verify(&token), Err(AuthError::Invalid(_))));
        // And checked at a later `now` than the system clock's, by that `now`.
        let fresh = auth.mint(&bureau(), now, 600).expect("mint");
        assert_eq!(auth.verify_at(&fresh, now), Ok(bureau()));
        assert_eq!(auth.verified.get(&fresh, now + 3600, now), None);
    }

    #[test]
    fn a_refused_token_is_not_remembered() {
        let other = Authenticator::new(b"another key another key another key").expect("key");
        let token = other.mint(&bureau(), now(), 600).expect("mint");
        let auth = Authenticator::new(SECRET).expect("key");
        assert!(auth.verify(&token).is_err());
        assert!(auth.verify(&token).is_err());
        assert_eq!(auth.verified.len(), 0);
        // A token differing in one character is another token.
        let good = auth.mint(&bureau(), now(), 600).expect("mint");
        assert!(auth.verify(&good).is_ok());
        let mut tampered = good.clone();
        tampered.pop();
        tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert!(auth.verify(&tampered).is_err());
    }

    #[test]
    fn other_rules_forget_what_was_verified() {
        let auth = Authenticator::new(SECRET).expect("key");
        let token = auth.mint(&bureau(), now(), 600).expect("mint");
        assert!(auth.verify(&token).is_ok());
        let shorter = auth.clone().with_lifetime_max(300);
        assert!(shorter.verify(&token).is_err(), "600 s is longer than the 300 s now allowed");
        let with_issuer = auth.clone().with_issuer(Some("guiyang-idp".into()));
        assert!(with_issuer.verify(&token).is_err(), "a token without iss");
        assert!(auth.verify(&token).is_ok(), "the original rules still accept it");
    }

    #[test]
    fn the_memory_of_verified_tokens_is_bounded() {
        let memory = VerifiedTokens::default();
        let now = now();
        for index in 0..=VERIFIED_TOKENS_MAX {
            let verified =
                Verified { actor: bureau(), exp: now + 600, checked_at: now, checked_at_system: now };
            memory.insert(&format!("token-{index}"), verified);
        }
        assert!(memory.len() <= VERIFIED_TOKENS_MAX);
        assert!(memory.len() >= 1);
    }
}
