//! The one mapping from errors to HTTP: RFC 9457 `application/problem+json` with a stable `code`.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::{Rejection, RejectionClass};
use serde::Serialize;

use crate::auth::AuthError;
use crate::console::i18n::Lang;
use engine::writer::WriteError;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `Retry-After` of a 429 answer: a client over a limit tries again after this many seconds.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// An error answered to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
}

/// The problem document (RFC 9457) with the ledger's stable `code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable machine-readable code, e.g. `cap_exceeded`.
    pub code: String,
}

impl ApiError {
    /// An error with a status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, code, detail: detail.into() }
    }

    /// 400 for a malformed request.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 404 for something that does not exist.
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// 403 for an actor reading what is not theirs.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> ApiError {
        let status = match rejection.class() {
            RejectionClass::Forbidden => StatusCode::FORBIDDEN,
            RejectionClass::NotFound => StatusCode::NOT_FOUND,
            RejectionClass::Conflict => StatusCode::CONFLICT,
            RejectionClass::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, rejection.code(), rejection.to_string())
    }
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> ApiError {
        match error {
            WriteError::Rejected(rejection) => rejection.into(),
            WriteError::IdempotencyKeyReused(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", error.to_string())
            }
            WriteError::Unavailable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", error.to_string())
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", error.to_string())
    }
}

/// The codes the API answers besides the rules' ([`Rejection::CODES`]): each has a localised title in the
/// console's catalogue (`problem.<code>`), which a test checks.
pub const API_CODES: &[&str] = &[
    "as_of_caller_limit",
    "as_of_needs_token",
    "as_of_queue_full",
    "body_too_large",
    "consistency_out_of_range",
    "idempotency_key_reused",
    "internal",
    "invalid_amount",
    "invalid_credit_code",
    "invalid_idempotency_key",
    "invalid_json",
    "invalid_path",
    "invalid_query",
    "invalid_token",
    "log_not_verified",
    "log_unreadable",
    "method_not_allowed",
    "no_signing_key",
    "position_out_of_range",
    "proof_failed",
    "read_only_replica",
    "request_timeout",
    "signing_failed",
    "token_expired",
    "too_many_connections",
    "too_many_objections",
    "tree_size_beyond_log",
    "unavailable",
    "unsupported_media_type",
    "writer_stopped",
];

tokio::task_local! {
    /// The language of the request being answered (its Accept-Language), for problem titles.
    static CALLER_LANGUAGE: Lang;
}

fn caller_language() -> Lang {
    CALLER_LANGUAGE.try_with(|lang| *lang).unwrap_or(Lang::En)
}

/// A problem's title: the catalogue's `problem.<code>` in `lang` (English unless the caller's
/// Accept-Language prefers Chinese), or the status's reason for a code the catalogue lacks.
pub fn title(code: &str, status: StatusCode, lang: Lang) -> String {
    match crate::console::i18n::CATALOGUE.get(lang, &format!("problem.{code}")) {
        Some(title) => title.to_owned(),
        None => status.canonical_reason().unwrap_or("Error").to_owned(),
    }
}

/// Answers the request in the caller's language: problem titles follow its Accept-Language (the stable
/// `code` does not change).
pub async fn in_callers_language(request: Request, next: Next) -> Response {
    let lang = Lang::for_api(request.headers());
    CALLER_LANGUAGE.scope(lang, next.run(request)).await
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, detail = %self.detail, "request failed");
        }
        let title = title(self.code, self.status, caller_language());
        let problem = Problem {
            problem_type: format!("/problems/{}", self.code),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}
