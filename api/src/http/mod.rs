//! The HTTP API (axum): routes, authentication, body parsing, metrics, health and the OpenAPI document.

pub mod access;
pub mod commands;
pub mod feed;
pub mod idempotency;
pub mod lifecycle_queries;
pub mod openapi;
pub mod queries;
pub mod read;
pub mod read_queries;
pub mod regulation;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::Actor;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::auth::{AuthError, Authenticator};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::writer::{Shared, WriterHandle};

/// The largest request body accepted.
pub const BODY_BYTES_MAX: usize = 256 * 1024;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct App {
    pub writer: WriterHandle,
    pub shared: Shared,
    pub auth: Arc<Authenticator>,
    pub clock: Clock,
    pub metrics: Option<PrometheusHandle>,
    /// The log, read (never written) by as-of rebuilds and the event feed.
    pub log: Arc<dyn store::EventLog>,
    /// Past states of the read models that as-of queries rebuilt.
    pub as_of: Arc<crate::replay::AsOfCache>,
    /// Becomes true when the server starts shutting down, so that endless responses (the event feed) end
    /// and graceful shutdown can finish.
    pub closing: tokio::sync::watch::Receiver<bool>,
    /// Set once by a read-only replica's follower when a record does not verify and it stops following:
    /// `/readyz` answers 503 `log_not_verified` from then on. Never set on the writer.
    pub follow_halted: Arc<std::sync::OnceLock<crate::replica::FollowHalt>>,
}

/// The router of the whole API.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi::document))
        .route("/v1/policies", post(commands::publish_policy))
        .route("/v1/calendar/years", post(commands::publish_calendar_year))
        .route("/v1/budgets/{jurisdiction}/{fiscal_year}/appropriations", post(commands::appropriate))
        .route("/v1/budgets", get(read_queries::budgets))
        .route("/v1/budgets/{jurisdiction}/{fiscal_year}", get(queries::budget))
        .route("/v1/batches", post(commands::publish_batch).get(read_queries::batches))
        .route("/v1/batches/{batch_id}", get(queries::batch))
        .route("/v1/batches/{batch_id}/closure", post(commands::close_batch))
        .route("/v1/batches/{batch_id}/claims", post(commands::claim))
        .route("/v1/applicants", post(commands::register_applicant))
        .route("/v1/applicants/{credit_code}", get(queries::applicant))
        .route("/v1/applicants/{credit_code}/verification", post(commands::decide_verification))
        .route("/v1/applicants/{credit_code}/suspension", post(commands::suspend_applicant))
        .route("/v1/applicants/{credit_code}/issued", get(queries::issued))
        .route("/v1/vouchers", get(read_queries::vouchers))
        .route("/v1/vouchers/{voucher_id}", get(queries::voucher))
        .route("/v1/vouchers/{voucher_id}/history", get(read_queries::voucher_history))
        .route("/v1/trial-balance/{jurisdiction}", get(queries::trial_balance))
        .route("/v1/log/head", get(queries::log_head))
        .route("/v1/providers", post(regulation::apply_as_provider))
        .route("/v1/providers/{credit_code}", get(lifecycle_queries::provider))
        .route("/v1/providers/{credit_code}/balance", get(read_queries::provider_balance))
        .route("/v1/rankings/providers", get(read_queries::rankings))
        .route("/v1/providers/{credit_code}/decision", post(regulation::decide_provider))
        .route("/v1/providers/{credit_code}/suspension", post(regulation::suspend_provider))
        .route("/v1/objections", post(regulation::file_objection))
        .route("/v1/objections/{objection_id}/ruling", post(regulation::rule_on_objection))
        .route("/v1/contracts", post(regulation::submit_contract))
        .route("/v1/contracts/{contract_id}", get(lifecycle_queries::contract))
        .route("/v1/contracts/{contract_id}/dossier", get(read_queries::dossier))
        .route("/v1/contracts/{contract_id}/signature", post(regulation::sign_contract))
        .route("/v1/contracts/{contract_id}/filing", post(regulation::file_contract))
        .route("/v1/contracts/{contract_id}/rejection", post(regulation::reject_contract))
        .route("/v1/contracts/{contract_id}/cancellation", post(regulation::cancel_contract))
        .route("/v1/contracts/{contract_id}/completion", post(regulation::confirm_completion))
        .route("/v1/contracts/{contract_id}/rating", post(regulation::rate_service))
        .route("/v1/redemptions", post(regulation::request_redemption).get(read_queries::redemptions))
        .route("/v1/redemptions/{redemption_id}", get(lifecycle_queries::redemption))
        .route("/v1/redemptions/{redemption_id}/review", post(regulation::review_redemption))
        .route("/v1/redemptions/{redemption_id}/disbursement", post(regulation::disburse_redemption))
        .route("/v1/redemptions/{redemption_id}/denial", post(regulation::deny_redemption))
        .route("/v1/announcements", post(regulation::announce_redemptions).get(read_queries::announcements))
        .route("/v1/announcements/{announcement_id}", get(lifecycle_queries::announcement))
        .route("/v1/audits/samples", post(regulation::draw_sample))
        .route("/v1/audits/samples/{sample_id}", get(lifecycle_queries::sample))
        .route("/v1/audits/samples/{sample_id}/findings", post(regulation::record_finding))
        .route("/v1/clawbacks", post(regulation::order_clawback))
        .route("/v1/clawbacks/{clawback_id}/recoveries", post(regulation::record_recovery))
        .route("/v1/referrals", post(regulation::record_referral))
        .route("/v1/anomalies", get(read_queries::anomalies))
        .route("/v1/events", get(feed::events))
        .route("/v1/admin/clock", post(commands::set_clock))
        .fallback(not_found)
        .layer(middleware::map_response(problem_for_plain_errors))
        .layer(middleware::from_fn(track))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(app)
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route")
}

/// Errors answered by axum itself (a body over the limit, a path that is not UTF-8, a method the route does
/// not have) come as plain text: they are answered as problem documents like every other error. A handler's
/// own JSON answer is left alone (a problem document, or `/readyz`'s 503 with its fields).
async fn problem_for_plain_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| {
        let value = value.as_bytes();
        value.starts_with(crate::error::PROBLEM_JSON.as_bytes()) || value.starts_with(b"application/json")
    });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        status if status.is_server_error() => "internal",
        _ => "invalid_request",
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let text = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text).trim().to_owned();
    let detail =
        if detail.is_empty() { status.canonical_reason().unwrap_or("error").to_owned() } else { detail };
    let mut problem = ApiError::new(status, code, detail).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    problem
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "the process is alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers (within two seconds) and the read models have folded up to its head; on a
/// read-only replica also that it still follows the log (503 `log_not_verified`, problem+json, once a record
/// did not verify and it stopped).
#[utoipa::path(get, path = "/readyz", responses((status = 200), (status = 503)))]
pub async fn readyz(State(app): State<App>) -> Response {
    if let Some(halt) = app.follow_halted.get() {
        let head = app.shared.head.borrow().position;
        let body = serde_json::json!({
            "type": "/problems/log_not_verified",
            "title": "log not verified",
            "status": 503,
            "code": "log_not_verified",
            "detail": format!(
                "this replica stopped following the log: the record at position {} does not verify ({}); it \
                 serves what it had up to position {head}; run `verify` on the store",
                halt.position, halt.reason
            ),
            "ready": false,
            "position": halt.position,
            "head": head,
        });
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, crate::error::PROBLEM_JSON)],
            body.to_string(),
        )
            .into_response();
    }
    let head = app.shared.head.borrow().position;
    let folded = app.shared.projections.read().map(|p| p.position()).unwrap_or(0);
    // A database store (PostgreSQL, KurrentDB) can become unreachable while serving: not ready meanwhile.
    let store_reachable =
        matches!(tokio::time::timeout(std::time::Duration::from_secs(2), app.log.head()).await, Ok(Ok(_)));
    // The writer task stopped (a panic): not ready, at once; `server::serve` then ends the process.
    let writer_stopped = app.writer.stopped();
    let ready = folded == head && store_reachable && writer_stopped.is_none();
    let mut body = serde_json::json!({
        "ready": ready, "head": head, "projections_position": folded, "store_reachable": store_reachable
    });
    if let (Some(reason), Some(fields)) = (writer_stopped, body.as_object_mut()) {
        fields.insert("writer_stopped".into(), reason.into());
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics_text(State(app): State<App>) -> Response {
    match &app.metrics {
        Some(handle) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
        }
        None => ApiError::not_found("not_found", "metrics are not enabled").into_response(),
    }
}

/// Counts requests by route and status, times them, and traces each one.
async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!("request", %method, route = %route);
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.to_string(), "status" => status.clone())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route.clone()).record(elapsed);
    span.in_scope(|| tracing::info!(status = %status, elapsed_ms = elapsed * 1000.0, "answered"));
    response
}

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
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.to_string();
        let code = if inner.is_syntax() || inner.is_eof() {
            "invalid_json"
        } else if message.contains("invalid amount") || message.contains("amount") && path != "." {
            "invalid_amount"
        } else if message.contains("credit code") {
            "invalid_credit_code"
        } else {
            "invalid_request"
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
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
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
    use super::*;

    async fn rewritten(status: StatusCode, content_type: &str, body: &'static str) -> (String, String) {
        let response = (status, [(header::CONTENT_TYPE, content_type.to_owned())], body).into_response();
        let response = problem_for_plain_errors(response).await;
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
        (content_type, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn plain_errors_become_problems_and_json_answers_stay() {
        let (content_type, body) = rewritten(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "too big").await;
        assert!(content_type.starts_with(crate::error::PROBLEM_JSON), "{content_type}");
        assert!(body.contains("body_too_large"), "{body}");
        // /readyz answers 503 with its own JSON while the store is unreachable: kept as it is.
        let readyz = r#"{"ready":false,"store_reachable":false}"#;
        let (content_type, body) =
            rewritten(StatusCode::SERVICE_UNAVAILABLE, "application/json", readyz).await;
        assert_eq!((content_type.as_str(), body.as_str()), ("application/json", readyz));
    }
}
