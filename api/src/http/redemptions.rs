//! Redemptions (Measures art. 11, 12): request, review, disbursement and denial; the list and one
//! redemption.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::document::Document;
use domain::event::{DenialGround, ReviewOutcome};
use domain::{Cny, Command};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use super::extract::{Authenticated, Param};
use super::read::{Filters, ReadOptions, Rows, may_read, respond, snapshot, to_json};
use crate::error::{ApiError, Problem};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(request_redemption, redemptions))
        .routes(routes!(redemption))
        .routes(routes!(review_redemption))
        .routes(routes!(disburse_redemption))
        .routes(routes!(deny_redemption))
}

// ---- redemptions (Measures art. 11, 12) ----

/// `POST /v1/redemptions`: documents by reference, `{sha256, name, size_bytes}` each.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedemptionRequest {
    pub contract_id: Uuid,
    #[schema(value_type = Object)]
    pub invoice: Document,
    #[schema(value_type = Object)]
    pub remittance_proof: Document,
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Document>,
}

/// The provider requests redemption of a completed contract within the batch's deadline.
#[utoipa::path(post, path = "/v1/redemptions", request_body = RedemptionRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "RedemptionRequested with redemption_id and amount"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn request_redemption(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<RedemptionRequest>,
) -> Result<Response, ApiError> {
    let command = Command::RequestRedemption {
        redemption_id: Uuid::now_v7(),
        contract_id: request.contract_id,
        invoice: request.invoice,
        remittance_proof: request.remittance_proof,
        results: request.results,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// A reviewer's decision.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Full,
    Reduced,
    Rejected,
}

/// `POST /v1/redemptions/{redemption_id}/review`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    /// The amount approved, for a reduced decision only.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "60000.00")]
    pub approved: Option<Cny>,
    /// Required for a reduced or rejected decision; none for a full one.
    #[serde(default)]
    pub reason: String,
}

impl ReviewRequest {
    fn outcome(self) -> Result<ReviewOutcome, ApiError> {
        let invalid = |detail: &str| ApiError::bad_request("invalid_request", detail);
        match (self.decision, self.approved) {
            (ReviewDecision::Full, None) if self.reason.trim().is_empty() => Ok(ReviewOutcome::Full),
            (ReviewDecision::Full, None) => {
                Err(invalid("reason: a full approval takes no reason (nothing was reduced)"))
            }
            (ReviewDecision::Reduced, Some(approved)) => {
                Ok(ReviewOutcome::Reduced { approved, reason: self.reason })
            }
            (ReviewDecision::Reduced, None) => Err(invalid("approved: a reduced decision states the amount")),
            (ReviewDecision::Rejected, None) => Ok(ReviewOutcome::Rejected { reason: self.reason }),
            (ReviewDecision::Full | ReviewDecision::Rejected, Some(_)) => {
                Err(invalid("approved: only a reduced decision states an amount"))
            }
        }
    }
}

/// A reviewer of the jurisdiction approves in full, approves less (with a reason) or rejects a redemption;
/// what is not approved returns to the budget.
#[utoipa::path(post, path = "/v1/redemptions/{redemption_id}/review", request_body = ReviewRequest,
    params(("redemption_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn review_redemption(
    State(app): State<App>,
    CommandRequest { path: redemption_id, body: request, submitter, .. }: CommandRequest<ReviewRequest, Uuid>,
) -> Result<Response, ApiError> {
    let outcome = request.outcome()?;
    let command = Command::ReviewRedemption { redemption_id, outcome };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// `POST /v1/redemptions/{redemption_id}/disbursement`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisbursementRequest {
    pub payment_reference: String,
}

/// The bureau of the voucher's jurisdiction pays a payable redemption, once.
#[utoipa::path(post, path = "/v1/redemptions/{redemption_id}/disbursement", request_body = DisbursementRequest,
    params(("redemption_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn disburse_redemption(
    State(app): State<App>,
    CommandRequest { path: redemption_id, body: request, submitter, .. }: CommandRequest<
        DisbursementRequest,
        Uuid,
    >,
) -> Result<Response, ApiError> {
    let command = Command::DisburseRedemption { redemption_id, payment_reference: request.payment_reference };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// `POST /v1/redemptions/{redemption_id}/denial`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenialRequest {
    #[schema(value_type = String, example = "fraud")]
    pub ground: DenialGround,
    pub reason: String,
}

/// The bureau denies a redemption before disbursement (fraud or refused cooperation); the money returns to
/// the budget.
#[utoipa::path(post, path = "/v1/redemptions/{redemption_id}/denial", request_body = DenialRequest,
    params(("redemption_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn deny_redemption(
    State(app): State<App>,
    CommandRequest { path: redemption_id, body: request, submitter, .. }: CommandRequest<DenialRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::DenyRedemption { redemption_id, ground: request.ground, reason: request.reason };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// Redemptions by state (`?status=requested|approved|announced|payable|disbursed|rejected|struck|denied`),
/// optionally of one `jurisdiction` or `provider`, with the count of each status: those the caller may read
/// (auditors all, staff their jurisdiction's, a provider its own). As CSV, one row per redemption.
#[utoipa::path(get, path = "/v1/redemptions", security(("bearer" = [])),
    params(super::read::ReadParams, ("status" = Option<String>, Query), ("jurisdiction" = Option<String>, Query), ("provider" = Option<String>, Query)),
    responses((status = 200, description = "status, counts {status: n}, redemptions [...], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn redemptions(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    let jurisdiction = filters.jurisdiction()?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows: Vec<Value> = projections
            .lifecycle
            .redemptions()
            .into_iter()
            .filter(|view| {
                let applicant = projections
                    .lifecycle
                    .contract(view.contract_id)
                    .map(|contract| &contract.terms.applicant);
                (may_read(&actor, view.jurisdiction, Some(&view.provider))
                    || may_read(&actor, view.jurisdiction, applicant))
                    && jurisdiction.is_none_or(|j| j == view.jurisdiction)
            })
            .map(to_json)
            .collect();
        filters.keep("provider", "provider", &mut rows);
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for row in &rows {
            *counts.entry(projections::csv::cell(&row["status"])).or_default() += 1;
        }
        filters.keep("status", "status", &mut rows);
        json!({
            "status": filters.get("status"),
            "counts": counts,
            "redemptions": rows,
            "position": projections.position(),
        })
    });
    Ok(respond(options.format, body, Rows::Field("redemptions")))
}

/// A redemption's amounts (requested, approved, returned, disbursed, clawed back, recovered), status,
/// announcement, objections, payment reference and clawbacks. Readable by the provider, the contract's
/// applicant, staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/redemptions/{redemption_id}", params(super::read::ReadParams, ("redemption_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "redemption_id, contract_id, status, requested, approved, returned, disbursed, clawed_back, recovered, announcement_id, objections [...], clawbacks [...]"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn redemption(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(redemption_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let lifecycle = &projections.lifecycle;
        let view = lifecycle.redemption(redemption_id).ok_or_else(|| {
            ApiError::not_found("redemption_not_found", format!("redemption {redemption_id} does not exist"))
        })?;
        let applicant = lifecycle.contract(view.contract_id).map(|contract| &contract.terms.applicant);
        if !(may_read(&actor, view.jurisdiction, Some(&view.provider))
            || may_read(&actor, view.jurisdiction, applicant))
        {
            return Err(super::read::forbidden_read(&actor));
        }
        let mut body = to_json(view);
        body["objections"] = to_json(&lifecycle.objections(&view.objections));
        body["clawbacks"] = to_json(&lifecycle.clawbacks(&view.clawbacks));
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}
