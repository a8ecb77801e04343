//! Query routes: read the projections (never the writer's state), with read rules per role.

use axum::Json;
use axum::extract::{Path, Query, State};
use domain::{AccountKind, CreditCode, Jurisdiction, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{App, Authenticated};
use crate::error::{ApiError, Problem};

/// Who may read what belongs to `jurisdiction` and, for an applicant's or provider's own things, `owner`:
/// auditors read everything; staff of the jurisdiction read it; applicants and providers read their own.
pub fn may_read(actor: &domain::Actor, jurisdiction: Jurisdiction, owner: Option<&CreditCode>) -> bool {
    match actor.role {
        Role::Auditor => true,
        Role::Finance | Role::Bureau | Role::ServiceCenter | Role::Reviewer => {
            actor.jurisdiction == Some(jurisdiction)
        }
        Role::Enterprise | Role::ProjectEntity | Role::Provider => {
            owner.is_some() && actor.credit_code.as_ref() == owner
        }
        Role::Public | Role::System => false,
    }
}

fn require_read(
    actor: &domain::Actor,
    jurisdiction: Jurisdiction,
    owner: Option<&CreditCode>,
) -> Result<(), ApiError> {
    if may_read(actor, jurisdiction, owner) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("role {} may not read this", actor.role)))
    }
}

fn with_projections<T>(app: &App, read: impl FnOnce(&projections::Projections) -> T) -> T {
    let projections = app.shared.projections.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    read(&projections)
}

fn parse_uuid(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text)
        .map_err(|_| ApiError::bad_request("invalid_path", format!("\"{text}\" is not a UUID")))
}

fn parse_jurisdiction(text: &str) -> Result<Jurisdiction, ApiError> {
    text.parse()
        .map_err(|error: domain::UnknownName| ApiError::bad_request("invalid_path", error.to_string()))
}

fn parse_credit_code(text: &str) -> Result<CreditCode, ApiError> {
    CreditCode::parse(text).map_err(|error| ApiError::bad_request("invalid_credit_code", error.to_string()))
}

/// A voucher with its balances.
#[utoipa::path(get, path = "/v1/vouchers/{voucher_id}", params(("voucher_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "voucher_id, batch_id, applicant, face_value, available, committed, valid_until"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn voucher(
    State(app): State<App>,
    Path(voucher_id): Path<String>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let voucher_id = parse_uuid(&voucher_id)?;
    with_projections(&app, |projections| {
        let (view, available, committed) = projections.balances.voucher(voucher_id).ok_or_else(|| {
            ApiError::not_found("voucher_not_found", format!("voucher {voucher_id} does not exist"))
        })?;
        require_read(&actor, view.jurisdiction, Some(&view.applicant))?;
        let mut body = serde_json::to_value(view).unwrap_or(Value::Null);
        body["available"] = json!(available);
        body["committed"] = json!(committed);
        body["position"] = json!(projections.position());
        Ok(Json(body))
    })
}

/// An applicant's registration and standing.
#[utoipa::path(get, path = "/v1/applicants/{credit_code}", params(("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn applicant(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let credit_code = parse_credit_code(&credit_code)?;
    with_projections(&app, |projections| {
        let view = projections.applicants.get(&credit_code).ok_or_else(|| {
            ApiError::not_found("applicant_not_found", format!("applicant {credit_code} is not registered"))
        })?;
        require_read(&actor, view.registration.jurisdiction, Some(&credit_code))?;
        let vouchers: Vec<Uuid> =
            projections.balances.vouchers_of(&credit_code).iter().map(|voucher| voucher.voucher_id).collect();
        let mut body = serde_json::to_value(view).unwrap_or(Value::Null);
        body["vouchers"] = json!(vouchers);
        body["position"] = json!(projections.position());
        Ok(Json(body))
    })
}

/// `?year=YYYY`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    pub year: i32,
}

/// What an applicant was issued in a calendar year, against its annual cap.
#[utoipa::path(get, path = "/v1/applicants/{credit_code}/issued", params(("credit_code" = String, Path), YearQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "credit_code, year, issued_total, vouchers, annual_cap"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn issued(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Query(query): Query<YearQuery>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let credit_code = parse_credit_code(&credit_code)?;
    with_projections(&app, |projections| {
        let jurisdiction =
            projections.applicants.get(&credit_code).map(|view| view.registration.jurisdiction).ok_or_else(
                || {
                    ApiError::not_found(
                        "applicant_not_found",
                        format!("applicant {credit_code} is not registered"),
                    )
                },
            )?;
        require_read(&actor, jurisdiction, Some(&credit_code))?;
        let issued = projections.balances.issued(&credit_code, query.year);
        Ok(Json(json!({
            "credit_code": credit_code,
            "year": query.year,
            "issued_total": issued.issued_total,
            "vouchers": issued.vouchers,
            "annual_cap": issued.annual_cap,
            "position": projections.position(),
        })))
    })
}

/// A batch's guide and what it has issued. Every authenticated party may read a batch: its guide is public.
#[utoipa::path(get, path = "/v1/batches/{batch_id}", params(("batch_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn batch(
    State(app): State<App>,
    Path(batch_id): Path<String>,
    Authenticated(_actor): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let batch_id = parse_uuid(&batch_id)?;
    with_projections(&app, |projections| {
        let (view, remaining) = projections.balances.batch(batch_id).ok_or_else(|| {
            ApiError::not_found("batch_not_found", format!("batch {batch_id} does not exist"))
        })?;
        let mut body = serde_json::to_value(view).unwrap_or(Value::Null);
        body["remaining"] = json!(remaining);
        body["position"] = json!(projections.position());
        Ok(Json(body))
    })
}

/// A fiscal year's budget.
#[utoipa::path(get, path = "/v1/budgets/{jurisdiction}/{fiscal_year}", params(("jurisdiction" = String, Path), ("fiscal_year" = i32, Path)),
    security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn budget(
    State(app): State<App>,
    Path((jurisdiction, fiscal_year)): Path<(String, i32)>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let jurisdiction = parse_jurisdiction(&jurisdiction)?;
    require_read(&actor, jurisdiction, None)?;
    with_projections(&app, |projections| {
        let (view, available) = projections.balances.budget(jurisdiction, fiscal_year).ok_or_else(|| {
            ApiError::not_found("budget_not_found", format!("no budget for {jurisdiction} {fiscal_year}"))
        })?;
        let mut body = serde_json::to_value(view).unwrap_or(Value::Null);
        body["jurisdiction"] = json!(jurisdiction);
        body["fiscal_year"] = json!(fiscal_year);
        body["available"] = json!(available);
        body["position"] = json!(projections.position());
        Ok(Json(body))
    })
}

/// The trial balance of a jurisdiction: every account kind of SPEC §5 and the total (zero).
#[utoipa::path(get, path = "/v1/trial-balance/{jurisdiction}", params(("jurisdiction" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "accounts [{account, balance}], total"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn trial_balance(
    State(app): State<App>,
    Path(jurisdiction): Path<String>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let jurisdiction = parse_jurisdiction(&jurisdiction)?;
    require_read(&actor, jurisdiction, None)?;
    with_projections(&app, |projections| {
        let (accounts, total) = projections.balances.trial_balance(jurisdiction);
        let accounts: Vec<Value> = AccountKind::ALL
            .iter()
            .map(|kind| json!({ "account": kind.as_str(), "balance": accounts.get(kind).copied().unwrap_or_default() }))
            .collect();
        Ok(Json(json!({
            "jurisdiction": jurisdiction,
            "accounts": accounts,
            "total": total,
            "position": projections.position(),
        })))
    })
}

/// The head of the log: its position and hash (hex), for auditors anchoring a verification.
#[utoipa::path(get, path = "/v1/log/head", security(("bearer" = [])),
    responses((status = 200, description = "position, hash"), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn log_head(State(app): State<App>, Authenticated(_actor): Authenticated) -> Json<Value> {
    let head = *app.shared.head.borrow();
    Json(json!({ "position": head.position, "hash": hex::encode(head.hash) }))
}
