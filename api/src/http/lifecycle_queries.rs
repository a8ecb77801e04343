//! Query routes of the later lifecycles, read from the `lifecycle` read model with the read rules of
//! `queries::may_read`: providers, contracts, redemptions, announcement lists (public) and audit samples.
//! Every one accepts `as_of_position` / `as_of_date` and answers CSV when asked (see [`super::read`]).

use axum::extract::{Path, State};
use axum::response::Response;
use domain::Role;
use serde_json::{Value, json};

use super::commands::{credit_code_path, uuid_path};
use super::queries::may_read;
use super::read::{ReadOptions, Rows, respond, snapshot, to_json};
use super::{App, Authenticated};
use crate::error::{ApiError, Problem};

/// A provider's application, standing, admission announcement, objections and referrals. Readable by the
/// provider itself, staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/providers/{credit_code}", params(super::read::ReadParams, ("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "provider, name, jurisdiction, categories, status, suspended, announced_on, announcement_closes, objections [...]"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn provider(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let credit_code = credit_code_path(&credit_code)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let lifecycle = &projections.lifecycle;
        let view = lifecycle
            .provider(&credit_code)
            .filter(|view| may_read(&actor, view.application.jurisdiction, Some(&credit_code)))
            .ok_or_else(|| super::queries::provider_not_found(&credit_code))?;
        let mut body = to_json(view);
        body["objections"] = to_json(&lifecycle.objections(&view.objections));
        body["referrals"] = to_json(&lifecycle.referrals(&view.referrals));
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// A contract's terms, signatures, filing, completion, rating and redemption. Readable by its two parties,
/// staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/contracts/{contract_id}", params(super::read::ReadParams, ("contract_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "contract_id, terms, status, signed_by, filed_on, completed_on, redemption_deadline, rating, redemption_id"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn contract(
    State(app): State<App>,
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let view = projections.lifecycle.contract(contract_id).ok_or_else(|| {
            ApiError::not_found("contract_not_found", format!("contract {contract_id} does not exist"))
        })?;
        let terms = &view.terms;
        if !super::queries::may_read_contract(&actor, terms) {
            return Err(super::queries::forbidden_read(&actor));
        }
        let mut body = to_json(view);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// A redemption's amounts (requested, approved, returned, disbursed, clawed back, recovered), status,
/// announcement, objections, payment reference and clawbacks. Readable by the provider, the contract's
/// applicant, staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/redemptions/{redemption_id}", params(super::read::ReadParams, ("redemption_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "redemption_id, contract_id, status, requested, approved, returned, disbursed, clawed_back, recovered, announcement_id, objections [...], clawbacks [...]"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn redemption(
    State(app): State<App>,
    Path(redemption_id): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let redemption_id = uuid_path(&redemption_id)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let lifecycle = &projections.lifecycle;
        let view = lifecycle.redemption(redemption_id).ok_or_else(|| {
            ApiError::not_found("redemption_not_found", format!("redemption {redemption_id} does not exist"))
        })?;
        let applicant = lifecycle.contract(view.contract_id).map(|contract| &contract.terms.applicant);
        if !(may_read(&actor, view.jurisdiction, Some(&view.provider))
            || may_read(&actor, view.jurisdiction, applicant))
        {
            return Err(super::queries::forbidden_read(&actor));
        }
        let mut body = to_json(view);
        body["objections"] = to_json(&lifecycle.objections(&view.objections));
        body["clawbacks"] = to_json(&lifecycle.clawbacks(&view.clawbacks));
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// A redemption announcement list, as published: public, no token needed. Each item names the provider and
/// the amount approved, and where the item stands. As CSV, one row per item.
#[utoipa::path(get, path = "/v1/announcements/{announcement_id}", params(super::read::ReadParams, ("announcement_id" = String, Path)),
    responses((status = 200, description = "announcement_id, jurisdiction, announced_on, closes_on, closed, items [{redemption_id, provider, provider_name, approved, status, objections_open}]"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn announcement(
    State(app): State<App>,
    Path(announcement_id): Path<String>,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let announcement_id = uuid_path(&announcement_id)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let lifecycle = &projections.lifecycle;
        let view = lifecycle.announcement(announcement_id).ok_or_else(|| {
            ApiError::not_found(
                "announcement_not_found",
                format!("announcement {announcement_id} does not exist"),
            )
        })?;
        let items: Vec<Value> = view
            .redemption_ids
            .iter()
            .filter_map(|id| lifecycle.redemption(*id))
            .map(|item| {
                json!({
                    "redemption_id": item.redemption_id,
                    "provider": item.provider,
                    "provider_name": lifecycle.provider(&item.provider).map(|p| p.application.name.clone()),
                    "approved": item.approved,
                    "status": item.status,
                    "objections_open": item.objections_open,
                })
            })
            .collect();
        let mut body = to_json(view);
        body["items"] = Value::Array(items);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Field("items")))
}

/// An audit sample with its inputs (seed, size, log position, population) and findings. Readable by
/// auditors and the bureau of its jurisdiction.
#[utoipa::path(get, path = "/v1/audits/samples/{sample_id}", params(super::read::ReadParams, ("sample_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "sample_id, jurisdiction, year, size, seed, as_of_position, population, contract_ids, findings"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn sample(
    State(app): State<App>,
    Path(sample_id): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let sample_id = uuid_path(&sample_id)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let view = projections.lifecycle.sample(sample_id).ok_or_else(|| {
            ApiError::not_found("sample_not_found", format!("sample {sample_id} does not exist"))
        })?;
        let allowed = actor.role == Role::Auditor || actor.is(Role::Bureau, view.jurisdiction);
        if !allowed {
            return Err(super::queries::forbidden_read(&actor));
        }
        let mut body = to_json(view);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}
