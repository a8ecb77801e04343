//! Providers (Measures art. 8): application, the bureau's decision, suspension; a provider's standing, its
//! money, and the rankings by rating.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::document::Document;
use domain::{Command, CreditCode};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest, ReasonRequest};
use super::extract::{Authenticated, Param};
use super::read::{Filters, ReadOptions, Rows, may_read, respond, snapshot, to_json};
use crate::error::{ApiError, Problem};
use crate::views;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(apply_as_provider))
        .routes(routes!(provider))
        .routes(routes!(provider_balance))
        .routes(routes!(rankings))
        .routes(routes!(decide_provider))
        .routes(routes!(suspend_provider))
}

// ---- providers (Measures art. 8) ----

/// `POST /v1/providers`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderApplicationRequest {
    pub name: String,
    /// Service categories offered (policy names, e.g. `inspection_testing`).
    pub categories: BTreeSet<String>,
    /// Qualification documents by reference: `{sha256, name, size_bytes}`.
    #[schema(value_type = Vec<Object>)]
    pub qualifications: Vec<Document>,
    /// A telephone number or e-mail address.
    #[serde(default)]
    pub contact: String,
}

/// A provider applies for admission, as the credit code of its token, in its token's jurisdiction.
#[utoipa::path(post, path = "/v1/providers", request_body = ProviderApplicationRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn apply_as_provider(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<ProviderApplicationRequest>,
) -> Result<Response, ApiError> {
    let command = Command::ApplyAsProvider {
        name: request.name,
        categories: request.categories,
        qualifications: request.qualifications,
        contact: request.contact,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// The bureau's decision on a provider's application.
#[derive(Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProviderDecision {
    Approved,
    Rejected,
}

/// `POST /v1/providers/{credit_code}/decision`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderDecisionRequest {
    pub decision: ProviderDecision,
    /// Required for a rejection.
    #[serde(default)]
    pub reason: String,
}

/// The bureau approves (opening the admission announcement) or rejects a provider's application.
#[utoipa::path(post, path = "/v1/providers/{credit_code}/decision", request_body = ProviderDecisionRequest,
    params(("credit_code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer, description = "ProviderApproved with announced_on and announcement_closes, or ProviderRejected"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn decide_provider(
    State(app): State<App>,
    CommandRequest { path: provider, body: request, submitter, .. }: CommandRequest<
        ProviderDecisionRequest,
        CreditCode,
    >,
) -> Result<Response, ApiError> {
    let command = Command::DecideProvider {
        provider,
        approve: request.decision == ProviderDecision::Approved,
        reason: request.reason,
    };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// The bureau suspends a provider: no new contracts; its pending redemptions may be denied.
#[utoipa::path(post, path = "/v1/providers/{credit_code}/suspension", request_body = ReasonRequest,
    params(("credit_code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn suspend_provider(
    State(app): State<App>,
    CommandRequest { path: provider, body: request, submitter, .. }: CommandRequest<
        ReasonRequest,
        CreditCode,
    >,
) -> Result<Response, ApiError> {
    let command = Command::SuspendProvider { provider, reason: request.reason };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// A provider's application, standing, admission announcement, objections and referrals. Readable by the
/// provider itself, staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/providers/{credit_code}", params(super::read::ReadParams, ("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "provider, name, jurisdiction, categories, status, suspended, announced_on, announcement_closes, objections [...], checkpoint (the signed checkpoint covering the admission announcement, or null)"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn provider(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(credit_code): Param<CreditCode>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let lifecycle = &projections.lifecycle;
        let view = lifecycle
            .provider(&credit_code)
            .filter(|view| may_read(&actor, view.application.jurisdiction, Some(&credit_code)))
            .ok_or_else(|| super::read::provider_not_found(&credit_code))?;
        let mut body = to_json(view);
        body["objections"] = to_json(&lifecycle.objections(&view.objections));
        body["referrals"] = to_json(&lifecycle.referrals(&view.referrals));
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    let mut body = body;
    // The admission announcement's signed checkpoint (read after the models, so it covers them), in every
    // format: a printed or exported admission carries what proves it later.
    body["checkpoint"] = super::transparency::checkpoint_field(&app);
    Ok(respond(options.format, body, Rows::Object))
}

/// A provider's money: services completed, returned to the budget, disbursed, clawed back and recovered,
/// and its open receivable. Readable by the provider, staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/providers/{credit_code}/balance", params(super::read::ReadParams, ("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "provider, name, jurisdiction (of admission), the totals over the jurisdictions it was paid in: completed, returned, disbursed, clawed_back, recovered, receivable; and by_jurisdiction: the same figures per jurisdiction"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn provider_balance(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(credit_code): Param<CreditCode>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let jurisdiction = projections
            .lifecycle
            .provider(&credit_code)
            .map(|view| view.application.jurisdiction)
            .or_else(|| projections.balances.provider(&credit_code).map(|(view, _)| view.jurisdiction))
            .filter(|jurisdiction| may_read(&actor, *jurisdiction, Some(&credit_code)))
            .ok_or_else(|| super::read::provider_not_found(&credit_code))?;
        let mut body = views::provider_balance_row(projections, &credit_code).unwrap_or_else(|| {
            // A provider whose money has not moved yet.
            json!({
                "provider": credit_code, "jurisdiction": jurisdiction,
                "name": projections.lifecycle.provider(&credit_code).map(|p| p.application.name.clone()),
                "completed": "0.00", "returned": "0.00", "disbursed": "0.00", "clawed_back": "0.00",
                "recovered": "0.00", "contracts_completed": 0, "redemptions_disbursed": 0, "receivable": "0.00",
                "by_jurisdiction": [],
            })
        });
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// Providers ranked by their applicants' ratings, overall or in one service category (`?category=`): the
/// Bayesian average of their rating scores, with the prior stated. Readable by every authenticated party.
/// As CSV, one row per provider (each row repeats the prior).
#[utoipa::path(get, path = "/v1/rankings/providers", security(("bearer" = [])), params(super::read::ReadParams, ("category" = Option<String>, Query)),
    responses((status = 200, description = "category, prior {mean, weight, formula}, providers [{rank, provider, name, ratings, mean, score}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn rankings(
    State(app): State<App>,
    Authenticated(_actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    let category = filters.get("category").map(str::to_owned);
    let body = snapshot(&app, &options).await?.read(|projections| {
        let prior = projections::rankings::PRIOR;
        json!({
            "category": category,
            "prior": {
                "mean": prior.mean,
                "weight": prior.weight,
                "formula": "score = (weight * mean + sum of rating scores) / (weight + ratings); a rating's score is the mean of its quality, timeliness and professionalism marks",
            },
            "providers": views::rankings(projections, category.as_deref()),
            "categories": projections.rankings.categories(),
            "position": projections.position(),
        })
    });
    Ok(respond(options.format, body, Rows::Field("providers")))
}
