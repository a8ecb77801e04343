//! Enforcement (Measures art. 13): clawbacks and their recoveries, and referrals to the judicial
//! authorities.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::{Cny, Command, CreditCode};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use crate::error::{ApiError, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(order_clawback))
        .routes(routes!(record_recovery))
        .routes(routes!(record_referral))
}

/// `POST /v1/clawbacks`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClawbackRequest {
    pub redemption_id: Uuid,
    #[schema(value_type = String, example = "20000.00")]
    pub amount: Cny,
    pub reason: String,
}

/// The bureau orders money of a disbursed redemption back (never more than disbursed minus clawed back).
#[utoipa::path(post, path = "/v1/clawbacks", request_body = ClawbackRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "ClawbackOrdered with clawback_id"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn order_clawback(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<ClawbackRequest>,
) -> Result<Response, ApiError> {
    let command = Command::OrderClawback {
        clawback_id: Uuid::now_v7(),
        redemption_id: request.redemption_id,
        amount: request.amount,
        reason: request.reason,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// `POST /v1/clawbacks/{clawback_id}/recoveries`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    #[schema(value_type = String, example = "5000.00")]
    pub amount: Cny,
}

/// The bureau records money recovered on a clawback (partial recoveries allowed, never more than due).
#[utoipa::path(post, path = "/v1/clawbacks/{clawback_id}/recoveries", request_body = RecoveryRequest,
    params(("clawback_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_recovery(
    State(app): State<App>,
    CommandRequest { path: clawback_id, body: request, submitter, .. }: CommandRequest<RecoveryRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::RecordRecovery { clawback_id, amount: request.amount };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// `POST /v1/referrals`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    /// The applicant or provider referred.
    #[schema(value_type = String, example = "91520100MA6DK0000X")]
    pub party: CreditCode,
    pub authority: String,
    #[serde(default)]
    pub note: String,
}

/// The bureau records a referral of a party to the judicial authorities.
#[utoipa::path(post, path = "/v1/referrals", request_body = ReferralRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "ReferralRecorded with referral_id"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_referral(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<ReferralRequest>,
) -> Result<Response, ApiError> {
    let command = Command::RecordReferral {
        referral_id: Uuid::now_v7(),
        party: request.party,
        authority: request.authority,
        note: request.note,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}
