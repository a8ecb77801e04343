//! Operator routes of test mode: the manual clock.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::app::App;
use super::extract::Authenticated;
use super::extract::parse_body;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(set_clock))
}

/// `POST /v1/admin/clock`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {
    /// The new instant (RFC 3339).
    pub now: DateTime<Utc>,
}

/// Test mode only (`serve --clock manual`): an operator moves the service's clock forward (never back, and
/// within the business dates the ledger accepts). 404 on the system clock.
#[utoipa::path(post, path = "/v1/admin/clock", request_body = ClockRequest, security(("bearer" = [])),
    responses((status = 200), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_clock(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !app.clock.is_manual() {
        return Err(ApiError::not_found("not_found", "the clock can only be set in manual clock mode"));
    }
    if actor.role != domain::Role::Operator {
        return Err(ApiError::forbidden(format!(
            "role {} may not set the clock: it takes an operator token",
            actor.role
        )));
    }
    let request: ClockRequest = parse_body(&body)?;
    let unprocessable = |code: &'static str, error: engine::clock::ClockError| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, error.to_string())
    };
    let now = app.clock.advance(request.now).map_err(|error| match error {
        engine::clock::ClockError::NotManual => ApiError::not_found("not_found", error.to_string()),
        engine::clock::ClockError::Backwards { .. } | engine::clock::ClockError::BehindRecords { .. } => {
            unprocessable("clock_backwards", error)
        }
        engine::clock::ClockError::OutOfRange { .. } => unprocessable("clock_out_of_range", error),
    })?;
    let deadline_events = app.writer.tick().await?;
    let answer = serde_json::json!({
        "now": now,
        "business_date": domain::business_date(now),
        "deadline_events": deadline_events,
    });
    Ok(Json(answer).into_response())
}
