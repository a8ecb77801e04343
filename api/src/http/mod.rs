//! The HTTP API (axum): routes, authentication, body parsing, metrics, health and the OpenAPI document.

pub mod access;
pub mod admin;
pub mod announcements;
pub mod app;
pub mod applicants;
pub mod audits;
pub mod batches;
pub mod budgets;
pub mod commands;
pub mod contracts;
pub mod enforcement;
pub mod extract;
pub mod feed;
pub mod idempotency;
pub mod log;
pub mod objections;
pub mod openapi;
pub mod policy;
pub mod providers;
pub mod read;
pub mod redemptions;
pub mod trail;
pub mod transparency;
pub mod vouchers;

/// Every command's JSON body type in one place, for clients and the fuzz tests that parse each of them.
pub mod bodies {
    pub use super::admin::ClockRequest;
    pub use super::announcements::AnnouncementRequest;
    pub use super::applicants::{RegistrationRequest, SuspensionRequest, VerificationRequest};
    pub use super::audits::{FindingRequest, SampleRequest};
    pub use super::batches::BatchRequest;
    pub use super::budgets::AppropriationRequest;
    pub use super::commands::{EmptyRequest, ReasonRequest};
    pub use super::contracts::{ContractRequest, RatingRequest};
    pub use super::enforcement::{ClawbackRequest, RecoveryRequest, ReferralRequest};
    pub use super::objections::{ObjectionRequest, ObjectionTargetRequest, RulingRequest};
    pub use super::providers::{ProviderApplicationRequest, ProviderDecision, ProviderDecisionRequest};
    pub use super::redemptions::{
        DenialRequest, DisbursementRequest, RedemptionRequest, ReviewDecision, ReviewRequest,
    };
}

pub use app::{App, BODY_BYTES_MAX};
pub use extract::{Authenticated, AuthenticatedUntil, idempotency_key, parse_body, request_digest};

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;

/// Every route of the API with its OpenAPI description, from one list: each resource's `routes()` (its
/// file holds the handlers and their `#[utoipa::path]`), so the router and the served document cannot
/// disagree. `/openapi.json` itself and the fallback are added by [`router`].
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_text))
        .merge(tagged("policy", policy::routes()))
        .merge(tagged("budgets", budgets::routes()))
        .merge(tagged("batches", batches::routes()))
        .merge(tagged("applicants", applicants::routes()))
        .merge(tagged("vouchers", vouchers::routes()))
        .merge(tagged("providers", providers::routes()))
        .merge(tagged("objections", objections::routes()))
        .merge(tagged("contracts", contracts::routes()))
        .merge(tagged("redemptions", redemptions::routes()))
        .merge(tagged("announcements", announcements::routes()))
        .merge(tagged("audits", audits::routes()))
        .merge(tagged("enforcement", enforcement::routes()))
        .merge(tagged("log", log::routes()))
        .merge(tagged("admin", admin::routes()))
        .merge(tagged("transparency", transparency::routes()))
}

/// `routes` with every operation tagged `tag` (its resource), so a generated client groups them so.
fn tagged(tag: &str, mut routes: OpenApiRouter<App>) -> OpenApiRouter<App> {
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            operation.tags = Some(vec![tag.to_owned()]);
        }
    }
    routes
}

/// The router of the whole API.
pub fn router(app: App) -> Router {
    let (routes, document) = routes().split_for_parts();
    let document = Arc::new(openapi::finish(document));
    let api = routes
        .route("/openapi.json", get(move || openapi::serve(document.clone())))
        .fallback(not_found)
        .layer(middleware::map_response(problem_for_plain_errors))
        .layer(middleware::from_fn(track))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(middleware::from_fn(crate::error::in_callers_language))
        .with_state(app.clone());
    api.clone().merge(crate::console::router(app, api))
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
