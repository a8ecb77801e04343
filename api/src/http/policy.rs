//! The province's rules: policy versions (signed by each named bureau) and the holiday calendar.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::{CalendarYear, Command, PolicyVersion};

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use crate::error::{ApiError, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(publish_policy)).routes(routes!(publish_calendar_year))
}

/// The bureau signs a successor policy version (the body is the version, as in
/// `domain/data/policy/measures-2023.toml`, in JSON, with the `jurisdictions` it covers). The bureau of each
/// named jurisdiction posts the same body; each signature records a `PolicySigned`, and the last one puts the
/// version in force (SPEC §3 "Who publishes").
#[utoipa::path(post, path = "/v1/policies", request_body(content = Object, description = "a policy version naming its jurisdictions; each named bureau posts the same body (its signature)"),
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_policy(
    State(app): State<App>,
    CommandRequest { body: policy, submitter, .. }: CommandRequest<PolicyVersion>,
) -> Result<Response, ApiError> {
    submitter.execute(&app, Command::PublishPolicy { policy }, StatusCode::CREATED).await
}

/// The bureau publishes a year's holidays and adjusted working days (State Council notice).
#[utoipa::path(post, path = "/v1/calendar/years", request_body(content = Object, description = "year, notice, holidays, working_weekends"),
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_calendar_year(
    State(app): State<App>,
    CommandRequest { body: calendar_year, submitter, .. }: CommandRequest<CalendarYear>,
) -> Result<Response, ApiError> {
    let command = Command::PublishCalendarYear { calendar_year };
    submitter.execute(&app, command, StatusCode::CREATED).await
}
