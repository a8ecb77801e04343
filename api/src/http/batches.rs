//! Batches: the bureau publishes one with its issuance guide and may close it early; applicants claim
//! vouchers from it; anyone authenticated reads the guides.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use domain::{ApplicantKind, Cny, Command, Jurisdiction, Share};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest, EmptyRequest};
use super::extract::{Authenticated, Param};
use super::read::{Filters, ReadOptions, Rows, respond, snapshot};
use crate::error::{ApiError, Problem};
use crate::views;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(publish_batch, batches))
        .routes(routes!(batch))
        .routes(routes!(close_batch))
        .routes(routes!(claim))
}

/// `POST /v1/batches`: the issuance guide.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    #[schema(value_type = String, example = "guiyang")]
    pub jurisdiction: Jurisdiction,
    pub fiscal_year: i32,
    pub name: String,
    #[schema(value_type = String, example = "1000000.00")]
    pub total: Cny,
    #[schema(value_type = String, example = "50000.00")]
    pub face_value: Cny,
    #[schema(value_type = Vec<String>, example = json!(["enterprise"]))]
    pub eligible_kinds: BTreeSet<ApplicantKind>,
    #[serde(default)]
    pub eligible_industries: BTreeSet<String>,
    pub eligible_categories: BTreeSet<String>,
    pub claim_opens: NaiveDate,
    pub claim_closes: NaiveDate,
    pub valid_until: NaiveDate,
    /// Days after service completion within which redemption may be requested; the policy default when absent.
    #[serde(default)]
    pub redemption_days: Option<u32>,
    /// Maximum share of a contract a voucher may pay, e.g. "0.8"; the policy default when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1")]
    pub max_voucher_share: Option<Share>,
}

/// The bureau publishes a batch with its issuance guide.
#[utoipa::path(post, path = "/v1/batches", request_body = BatchRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_batch(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<BatchRequest>,
) -> Result<Response, ApiError> {
    let command = Command::PublishBatch {
        batch_id: Uuid::now_v7(),
        jurisdiction: request.jurisdiction,
        fiscal_year: request.fiscal_year,
        name: request.name,
        total: request.total,
        face_value: request.face_value,
        eligible_kinds: request.eligible_kinds,
        eligible_industries: request.eligible_industries,
        eligible_categories: request.eligible_categories,
        claim_opens: request.claim_opens,
        claim_closes: request.claim_closes,
        valid_until: request.valid_until,
        redemption_days: request.redemption_days,
        max_voucher_share: request.max_voucher_share,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// The bureau closes a batch early; its unissued money returns to the budget.
#[utoipa::path(post, path = "/v1/batches/{batch_id}/closure", params(("batch_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn close_batch(
    State(app): State<App>,
    CommandRequest { path: batch_id, body: _, submitter, .. }: CommandRequest<EmptyRequest, Uuid>,
) -> Result<Response, ApiError> {
    submitter.execute(&app, Command::CloseBatch { batch_id }, StatusCode::OK).await
}

/// An applicant claims a voucher from a batch, as the credit code of its token.
#[utoipa::path(post, path = "/v1/batches/{batch_id}/claims", params(("batch_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer, description = "voucher issued: voucher_id, face_value, ..."),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn claim(
    State(app): State<App>,
    CommandRequest { path: batch_id, body: _, submitter, .. }: CommandRequest<EmptyRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::ClaimVoucher { batch_id, voucher_id: Uuid::now_v7() };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// Every batch with what it issued and what remains, in publication order (batch guides are public to every
/// authenticated party). As CSV, one row per batch.
#[utoipa::path(get, path = "/v1/batches", security(("bearer" = [])), params(super::read::ReadParams, ("jurisdiction" = Option<String>, Query)),
    responses((status = 200, description = "batches [...], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn batches(
    State(app): State<App>,
    Authenticated(_actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    filters.jurisdiction()?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::batches(projections);
        filters.keep("jurisdiction", "jurisdiction", &mut rows);
        json!({ "batches": rows, "position": projections.position() })
    });
    Ok(respond(options.format, body, Rows::Field("batches")))
}

/// A batch's guide and what it has issued. Every authenticated party may read a batch: its guide is public.
#[utoipa::path(get, path = "/v1/batches/{batch_id}", params(super::read::ReadParams, ("batch_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn batch(
    State(app): State<App>,
    Authenticated(_actor): Authenticated,
    options: ReadOptions,
    Param(batch_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut body = views::batch_row(projections, batch_id).ok_or_else(|| {
            ApiError::not_found("batch_not_found", format!("batch {batch_id} does not exist"))
        })?;
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}
