//! Objections (Measures art. 8, 11): anyone objects during an announcement; the bureau rules.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::event::{ObjectionTarget, Ruling};
use domain::{Command, CreditCode};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use super::extract::{AnyoneOrAuthenticated, Caller};
use crate::error::{ApiError, Problem};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use domain::Actor;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(file_objection)).routes(routes!(rule_on_objection))
}

// ---- objections (Measures art. 8, 11) ----

/// What an objection is raised against.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ObjectionTargetRequest {
    /// A provider during its admission announcement.
    Provider {
        #[schema(value_type = String, example = "91520100MA6DK0000X")]
        provider: CreditCode,
    },
    /// A redemption on an announcement list.
    Redemption { redemption_id: Uuid },
}

/// `POST /v1/objections`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    pub target: ObjectionTargetRequest,
    pub text: String,
}

/// Anyone objects during an announcement; no token is needed (with a token, its actor is recorded). Each
/// client address files at most `serve --objections-per-address` objections per window (429
/// `too_many_objections` with `Retry-After`); without a token the `Idempotency-Key` is ignored.
#[utoipa::path(post, path = "/v1/objections", request_body = ObjectionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "ObjectionFiled with objection_id"),
        (status = 429, body = Problem, content_type = "application/problem+json",
            description = "too_many_objections: this address's objections for the window are used"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_objection(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<ObjectionRequest, (), Objector>,
) -> Result<Response, ApiError> {
    let target = match request.target {
        ObjectionTargetRequest::Provider { provider } => ObjectionTarget::Provider { provider },
        ObjectionTargetRequest::Redemption { redemption_id } => ObjectionTarget::Redemption { redemption_id },
    };
    let command = Command::FileObjection { objection_id: Uuid::now_v7(), target, text: request.text };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// `POST /v1/objections/{objection_id}/ruling`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulingRequest {
    #[schema(value_type = String, example = "dismissed")]
    pub ruling: Ruling,
    pub reason: String,
}

/// The bureau upholds (the provider is rejected, or the redemption struck) or dismisses an objection.
#[utoipa::path(post, path = "/v1/objections/{objection_id}/ruling", request_body = RulingRequest,
    params(("objection_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn rule_on_objection(
    State(app): State<App>,
    CommandRequest { path: objection_id, body: request, submitter, .. }: CommandRequest<RulingRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::RuleOnObjection { objection_id, ruling: request.ruling, reason: request.reason };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// Who files an objection: anyone ([`AnyoneOrAuthenticated`]), within the objections its client address may
/// still file this window ([`crate::edge::ObjectionAllowed`], else 429 `too_many_objections`).
pub struct Objector(Actor);

impl FromRequestParts<App> for Objector {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let AnyoneOrAuthenticated(actor) = AnyoneOrAuthenticated::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        crate::edge::ObjectionAllowed::from_request_parts(parts, app).await?;
        Ok(Objector(actor))
    }
}

impl Caller for Objector {
    fn actor(self) -> Actor {
        self.0
    }
}
