//! Budgets: finance's appropriations, the budgets of each fiscal year, and the trial balance of a
//! jurisdiction's accounts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::{Cny, Command, Jurisdiction};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use super::extract::{Authenticated, Param, PathParam, Year};
use super::read::{ReadOptions, Rows, jurisdiction_of, may_read, require_read, respond, snapshot};
use crate::error::{ApiError, Problem};
use crate::views;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(appropriate))
        .routes(routes!(budgets))
        .routes(routes!(budget))
        .routes(routes!(trial_balance))
}

/// `POST /v1/budgets/{jurisdiction}/{fiscal_year}/appropriations`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppropriationRequest {
    #[schema(value_type = String, example = "10000000.00")]
    pub amount: Cny,
}

/// Finance appropriates money to a fiscal year's budget.
#[utoipa::path(post, path = "/v1/budgets/{jurisdiction}/{fiscal_year}/appropriations",
    params(("jurisdiction" = String, Path), ("fiscal_year" = i32, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AppropriationRequest, security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn appropriate(
    State(app): State<App>,
    CommandRequest { path: (jurisdiction, Year(fiscal_year)), body: request, submitter, .. }: CommandRequest<
        AppropriationRequest,
        (Jurisdiction, Year),
    >,
) -> Result<Response, ApiError> {
    let command = Command::AppropriateBudget { jurisdiction, fiscal_year, amount: request.amount };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// Every budget the caller may read (its jurisdiction's, or all for auditors). As CSV, one row per budget.
#[utoipa::path(get, path = "/v1/budgets", params(super::read::ReadParams), security(("bearer" = [])),
    responses((status = 200, description = "budgets [{jurisdiction, fiscal_year, appropriated, available, ...}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn budgets(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::budgets(projections);
        rows.retain(|row| jurisdiction_of(row).is_some_and(|j| may_read(&actor, j, None)));
        json!({ "budgets": rows, "position": projections.position() })
    });
    Ok(respond(options.format, body, Rows::Field("budgets")))
}

/// A fiscal year's budget.
#[utoipa::path(get, path = "/v1/budgets/{jurisdiction}/{fiscal_year}", params(super::read::ReadParams, ("jurisdiction" = String, Path), ("fiscal_year" = i32, Path)),
    security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn budget(
    State(app): State<App>,
    Path((jurisdiction, fiscal_year)): Path<(String, i32)>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let jurisdiction = Jurisdiction::parse_param(&jurisdiction)?;
    require_read(&actor, jurisdiction, None)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut body = views::budget_row(projections, jurisdiction, fiscal_year).ok_or_else(|| {
            ApiError::not_found("budget_not_found", format!("no budget for {jurisdiction} {fiscal_year}"))
        })?;
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// The trial balance of a jurisdiction: every account kind of SPEC §5 and the total (zero). As CSV, one
/// row per account.
#[utoipa::path(get, path = "/v1/trial-balance/{jurisdiction}", params(super::read::ReadParams, ("jurisdiction" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "accounts [{account, balance}], total"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn trial_balance(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(jurisdiction): Param<Jurisdiction>,
) -> Result<Response, ApiError> {
    require_read(&actor, jurisdiction, None)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let (_, total) = projections.balances.trial_balance(jurisdiction);
        json!({
            "jurisdiction": jurisdiction,
            "accounts": views::trial_balance(projections, jurisdiction),
            "total": total,
            "position": projections.position(),
        })
    });
    Ok(respond(options.format, body, Rows::Field("accounts")))
}
