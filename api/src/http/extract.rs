//! What a request carries, read once: who calls (a bearer token, or the public), typed path parameters, and
//! a strict JSON body.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::field::FieldKind;
use domain::{Actor, CreditCode, Jurisdiction, Role};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::app::App;
use crate::auth::AuthError;
use crate::error::ApiError;

/// The authenticated actor of a request (bearer token).
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl FromRequestParts<App> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        Ok(Authenticated(app.auth.verify(bearer_token(parts)?)?))
    }
}

/// The bearer token of a request.
fn bearer_token(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or(AuthError::Missing)?;
    let value = value.to_str().map_err(|_| AuthError::Invalid("authorization header is not text".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| AuthError::Invalid("expected a Bearer token".into()))?;
    Ok(token.trim())
}

/// The authenticated actor of a request and when its token expires (`exp`, Unix seconds): for answers that
/// last longer than the request, such as the event feed.
#[derive(Debug, Clone)]
pub struct AuthenticatedUntil(pub Actor, pub i64);

impl FromRequestParts<App> for AuthenticatedUntil {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let (actor, expires) = app.auth.verify_with_expiry(bearer_token(parts)?)?;
        Ok(AuthenticatedUntil(actor, expires))
    }
}

/// The actor of a route anyone may call: the token's actor when a bearer token is sent (a bad token is
/// still 401), otherwise the public.
#[derive(Debug, Clone)]
pub struct AnyoneOrAuthenticated(pub Actor);

impl FromRequestParts<App> for AnyoneOrAuthenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(AnyoneOrAuthenticated(public()));
        }
        let Authenticated(actor) = Authenticated::from_request_parts(parts, app).await?;
        Ok(AnyoneOrAuthenticated(actor))
    }
}

/// The unauthenticated party of SPEC §2.
pub fn public() -> Actor {
    Actor { subject: "public".into(), role: Role::Public, jurisdiction: None, credit_code: None }
}

/// Who submits a command: an extractor that yields the actor.
pub trait Caller: FromRequestParts<App, Rejection: IntoResponse> {
    /// The actor.
    fn actor(self) -> Actor;
}

impl Caller for Authenticated {
    fn actor(self) -> Actor {
        self.0
    }
}

impl Caller for AnyoneOrAuthenticated {
    fn actor(self) -> Actor {
        self.0
    }
}

/// A calendar year in a path (`/v1/budgets/{jurisdiction}/{fiscal_year}/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Year(pub i32);

/// A route's path parameters, parsed into their types; a value that does not parse is answered 400 with
/// the code of its type (`invalid_path`, or `invalid_credit_code` for a credit code).
pub trait PathParams: Sized {
    /// How many parameters the route's path has.
    const COUNT: usize;

    /// Parses the path's values, in the order of the path.
    ///
    /// # Errors
    /// 400 `invalid_path` or `invalid_credit_code`.
    fn parse(values: &[&str]) -> Result<Self, ApiError>;
}

/// One path value.
pub trait PathParam: Sized {
    /// Parses one path value.
    ///
    /// # Errors
    /// 400 `invalid_path` or `invalid_credit_code`.
    fn parse_param(text: &str) -> Result<Self, ApiError>;
}

impl PathParam for Uuid {
    fn parse_param(text: &str) -> Result<Self, ApiError> {
        Uuid::parse_str(text)
            .map_err(|_| ApiError::bad_request("invalid_path", format!("\"{text}\" is not a UUID")))
    }
}

impl PathParam for CreditCode {
    fn parse_param(text: &str) -> Result<Self, ApiError> {
        CreditCode::parse(text)
            .map_err(|error| ApiError::bad_request("invalid_credit_code", error.to_string()))
    }
}

impl PathParam for Jurisdiction {
    fn parse_param(text: &str) -> Result<Self, ApiError> {
        text.parse()
            .map_err(|error: domain::UnknownName| ApiError::bad_request("invalid_path", error.to_string()))
    }
}

impl PathParam for Year {
    fn parse_param(text: &str) -> Result<Self, ApiError> {
        text.parse()
            .map(Year)
            .map_err(|_| ApiError::bad_request("invalid_path", format!("\"{text}\" is not a year")))
    }
}

impl PathParams for () {
    const COUNT: usize = 0;

    fn parse(_: &[&str]) -> Result<Self, ApiError> {
        Ok(())
    }
}

fn value<'a>(values: &[&'a str], index: usize) -> &'a str {
    values.get(index).copied().unwrap_or_default()
}

macro_rules! one_path_param {
    ($($type:ty),*) => {$(
        impl PathParams for $type {
            const COUNT: usize = 1;

            fn parse(values: &[&str]) -> Result<Self, ApiError> {
                <$type>::parse_param(value(values, 0))
            }
        }
    )*};
}

one_path_param!(Uuid, CreditCode, Jurisdiction, Year);

impl<A: PathParam, B: PathParam> PathParams for (A, B) {
    const COUNT: usize = 2;

    fn parse(values: &[&str]) -> Result<Self, ApiError> {
        Ok((A::parse_param(value(values, 0))?, B::parse_param(value(values, 1))?))
    }
}

/// The raw values of the path's parameters (percent-decoded), as axum matched them.
///
/// # Errors
/// axum's answer for a path value that is not UTF-8.
pub async fn raw_path_values(parts: &mut Parts, app: &App) -> Result<Vec<String>, Response> {
    let raw = RawPathParams::from_request_parts(parts, app).await.map_err(IntoResponse::into_response)?;
    Ok(raw.iter().map(|(_, value)| value.to_owned()).collect())
}

/// Typed path parameters of a query route. Put it after the caller's extractors: an unauthenticated
/// request is answered 401 before its path is looked at.
#[derive(Debug, Clone)]
pub struct Param<P>(pub P);

impl<P: PathParams> FromRequestParts<App> for Param<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let values = raw_path_values(parts, app).await?;
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        P::parse(&values).map(Param).map_err(IntoResponse::into_response)
    }
}

/// Parses a JSON body, naming the field that failed and giving amounts and credit codes their own codes.
///
/// # Errors
/// 400 `invalid_json`, `invalid_amount`, `invalid_credit_code` or `invalid_request`.
pub fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("invalid_json", "body is not UTF-8"))?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    if !text.trim_start().starts_with('{') {
        return Err(ApiError::bad_request("invalid_json", "the body must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    // The code comes from the type that failed (noted by the domain's value types), never from the message.
    let _ = domain::field::take();
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let failed = domain::field::take();
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        let code = if inner.is_syntax() || inner.is_eof() {
            "invalid_json"
        } else {
            match failed {
                Some(FieldKind::Amount) => "invalid_amount",
                Some(FieldKind::CreditCode) => "invalid_credit_code",
                None => "invalid_request",
            }
        };
        let detail = if path == "." { message } else { format!("{path}: {message}") };
        ApiError::bad_request(code, detail)
    })?;
    deserializer.end().map_err(|error| ApiError::bad_request("invalid_json", error.to_string()))?;
    Ok(value)
}

/// The idempotency key of a request, if any.
///
/// # Errors
/// 400 `invalid_idempotency_key` when it is not printable ASCII of 1 to 255 characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    idempotency_key_value(headers.get("idempotency-key"))
}

/// [`idempotency_key`] from the header's value, if one was sent.
///
/// # Errors
/// See [`idempotency_key`].
pub fn idempotency_key_value(value: Option<&HeaderValue>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .filter(|key| !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// The digest an idempotency key is bound to: the route and the exact body.
pub fn request_digest(route: &str, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0u8]);
    hasher.update(body);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;
    use domain::{Cny, CreditCode};
    use serde::Deserialize;

    use super::parse_body;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        amount: Cny,
        name: String,
        #[serde(default)]
        parties: Vec<CreditCode>,
    }

    fn code_of(body: &str) -> String {
        match parse_body::<Body>(&Bytes::from(body.to_owned())) {
            Ok(_) => "accepted".to_owned(),
            Err(error) => error.code.to_owned(),
        }
    }

    #[test]
    fn the_code_comes_from_the_type_that_failed_not_from_the_message() {
        assert_eq!(code_of(r#"{"amount":"1.00","name":"x"}"#), "accepted");
        assert_eq!(code_of(r#"{"amount":"1.001","name":"x"}"#), "invalid_amount");
        assert_eq!(code_of(r#"{"amount":5,"name":"x"}"#), "invalid_amount");
        assert_eq!(
            code_of(r#"{"amount":"1.00","name":"x","parties":["91110000802100433A"]}"#),
            "invalid_credit_code"
        );
        // The message of an unknown field lists the expected ones, `amount` among them: it is no amount error.
        assert_eq!(code_of(r#"{"amount":"1.00","name":"x","amount_note":"y"}"#), "invalid_request");
        // Nor is a missing field named amount, nor a wrong type elsewhere.
        assert_eq!(code_of(r#"{"name":"x"}"#), "invalid_request");
        assert_eq!(code_of(r#"{"amount":"1.00","name":7}"#), "invalid_request");
        assert_eq!(code_of(r#"{"amount":"1.00""#), "invalid_json");
        // A failure noted earlier on this thread does not leak into the next body.
        assert_eq!(code_of(r#"{"amount":"x","name":"x"}"#), "invalid_amount");
        assert_eq!(code_of(r#"{"amount":"1.00","name":7}"#), "invalid_request");
    }
}
