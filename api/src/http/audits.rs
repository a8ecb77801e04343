//! Audits (Measures art. 12): samples and their findings, and the anomaly signals.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::event::Finding;
use domain::{Command, Jurisdiction, Role};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use super::extract::{Authenticated, Param};
use super::read::{Filters, ReadOptions, Rows, respond, snapshot, to_json};
use crate::error::{ApiError, Problem};
use crate::views;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(draw_sample))
        .routes(routes!(sample))
        .routes(routes!(record_finding))
        .routes(routes!(anomalies))
}

// ---- audits, clawbacks, referrals (Measures art. 12, 13) ----

/// `POST /v1/audits/samples`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    #[schema(value_type = String, example = "guiyang")]
    pub jurisdiction: Jurisdiction,
    /// A past year: the population is the jurisdiction's contracts filed in it.
    pub year: i32,
    pub size: u32,
    pub seed: String,
}

/// An auditor draws a sample: a deterministic function of the population at the current log position, the
/// seed and the size.
#[utoipa::path(post, path = "/v1/audits/samples", request_body = SampleRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "SampleDrawn with sample_id, contract_ids, as_of_position, population"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn draw_sample(
    State(app): State<App>,
    CommandRequest { body: request, submitter, .. }: CommandRequest<SampleRequest>,
) -> Result<Response, ApiError> {
    let command = Command::DrawSample {
        sample_id: Uuid::now_v7(),
        jurisdiction: request.jurisdiction,
        year: request.year,
        size: request.size,
        seed: request.seed,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// `POST /v1/audits/samples/{sample_id}/findings`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingRequest {
    pub contract_id: Uuid,
    #[schema(value_type = String, example = "compliant")]
    pub finding: Finding,
    #[serde(default)]
    pub note: String,
}

/// An auditor records a finding on a sampled contract.
#[utoipa::path(post, path = "/v1/audits/samples/{sample_id}/findings", request_body = FindingRequest,
    params(("sample_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_finding(
    State(app): State<App>,
    CommandRequest { path: sample_id, body: request, submitter, .. }: CommandRequest<FindingRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::RecordFinding {
        sample_id,
        contract_id: request.contract_id,
        finding: request.finding,
        note: request.note,
    };
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// An audit sample with its inputs (seed, size, log position, population) and findings. Readable by
/// auditors and the bureau of its jurisdiction.
#[utoipa::path(get, path = "/v1/audits/samples/{sample_id}", params(super::read::ReadParams, ("sample_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "sample_id, jurisdiction, year, size, seed, as_of_position, population, contract_ids, findings"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn sample(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(sample_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let view = projections.lifecycle.sample(sample_id).ok_or_else(|| {
            ApiError::not_found("sample_not_found", format!("sample {sample_id} does not exist"))
        })?;
        let allowed = actor.role == Role::Auditor || actor.is(Role::Bureau, view.jurisdiction);
        if !allowed {
            return Err(super::read::forbidden_read(&actor));
        }
        let mut body = to_json(view);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// Fraud and error signals (hints, not verdicts: they change no money), each naming the log positions of
/// the records behind it. Auditors see every signal, the bureau those of its jurisdiction; `?kind=` filters.
/// As CSV, one row per signal.
#[utoipa::path(get, path = "/v1/anomalies", security(("bearer" = [])), params(super::read::ReadParams, ("kind" = Option<String>, Query)),
    responses((status = 200, description = "signals [{kind, subject, jurisdictions, detail, records}], thresholds, position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn anomalies(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    let own = match (actor.role, actor.jurisdiction) {
        (Role::Auditor, _) => None,
        (Role::Bureau, Some(jurisdiction)) => Some(jurisdiction),
        _ => return Err(super::read::forbidden_read(&actor)),
    };
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::anomalies(projections);
        if let Some(own) = own {
            rows.retain(|row| {
                row["jurisdictions"].as_array().is_some_and(|list| list.iter().any(|j| *j == json!(own)))
            });
        }
        filters.keep("kind", "kind", &mut rows);
        json!({
            "signals": rows,
            "thresholds": {
                "identical_amounts_min": projections::anomalies::IDENTICAL_AMOUNTS_MIN,
                "completion_days_min": projections::anomalies::COMPLETION_DAYS_MIN,
                "concentration_contracts_min": projections::anomalies::CONCENTRATION_CONTRACTS_MIN,
            },
            "position": projections.position(),
        })
    });
    Ok(respond(options.format, body, Rows::Field("signals")))
}
