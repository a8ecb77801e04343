//! Query routes: read the projections (never the writer's state), with read rules per role. Every one
//! accepts `as_of_position=N` or `as_of_date=YYYY-MM-DD` and answers CSV when asked (see [`super::read`]).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use domain::{CreditCode, Jurisdiction, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::commands::{credit_code_path, jurisdiction_path, uuid_path};

use super::read::{ReadOptions, Rows, respond, snapshot, to_json};
use super::{App, Authenticated};
use crate::error::{ApiError, Problem};
use crate::views;

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
        Role::Public | Role::System | Role::Operator => false,
    }
}

/// 403 unless [`may_read`].
///
/// # Errors
/// 403 `forbidden`.
pub fn require_read(
    actor: &domain::Actor,
    jurisdiction: Jurisdiction,
    owner: Option<&CreditCode>,
) -> Result<(), ApiError> {
    if may_read(actor, jurisdiction, owner) { Ok(()) } else { Err(forbidden_read(actor)) }
}

/// The 403 answered when an actor may not read something.
pub fn forbidden_read(actor: &domain::Actor) -> ApiError {
    ApiError::forbidden(format!("role {} may not read this", actor.role))
}

/// The 404 of a credit code the caller may not read, registered or not: an applicant's or provider's
/// registration is not disclosed to whoever may not read it (the same answer, code and shape, as for a code
/// never registered, after the same lookup).
pub fn applicant_not_found(credit_code: &CreditCode) -> ApiError {
    ApiError::not_found("applicant_not_found", format!("applicant {credit_code} is not registered"))
}

/// The 404 of a provider the caller may not read, or that does not exist (see [`applicant_not_found`]).
pub fn provider_not_found(credit_code: &CreditCode) -> ApiError {
    ApiError::not_found("provider_not_found", format!("provider {credit_code} does not exist"))
}

/// A contract is readable by either of its parties, staff of its jurisdiction and auditors.
pub fn may_read_contract(actor: &domain::Actor, terms: &domain::event::ContractTerms) -> bool {
    may_read(actor, terms.jurisdiction, Some(&terms.applicant))
        || may_read(actor, terms.jurisdiction, Some(&terms.provider))
}

/// A voucher with its balances.
#[utoipa::path(get, path = "/v1/vouchers/{voucher_id}", params(super::read::ReadParams, ("voucher_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "voucher_id, batch_id, applicant, face_value, available, committed, valid_until"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn voucher(
    State(app): State<App>,
    Path(voucher_id): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let voucher_id = uuid_path(&voucher_id)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let (view, _, _) = projections.balances.voucher(voucher_id).ok_or_else(|| {
            ApiError::not_found("voucher_not_found", format!("voucher {voucher_id} does not exist"))
        })?;
        require_read(&actor, view.jurisdiction, Some(&view.applicant))?;
        let mut body = views::voucher_row(projections, voucher_id).unwrap_or(Value::Null);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// An applicant's registration and standing.
#[utoipa::path(get, path = "/v1/applicants/{credit_code}", params(super::read::ReadParams, ("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn applicant(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let credit_code = credit_code_path(&credit_code)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let view = projections
            .applicants
            .get(&credit_code)
            .filter(|view| may_read(&actor, view.registration.jurisdiction, Some(&credit_code)))
            .ok_or_else(|| applicant_not_found(&credit_code))?;
        let vouchers: Vec<Uuid> =
            projections.balances.vouchers_of(&credit_code).iter().map(|voucher| voucher.voucher_id).collect();
        let mut body = to_json(view);
        body["vouchers"] = json!(vouchers);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// `?year=YYYY`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    pub year: i32,
}

/// What an applicant was issued in a calendar year, against its annual cap.
#[utoipa::path(get, path = "/v1/applicants/{credit_code}/issued", params(super::read::ReadParams, ("credit_code" = String, Path), YearQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "credit_code, year, issued_total, vouchers, annual_cap"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn issued(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Query(query): Query<YearQuery>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let credit_code = credit_code_path(&credit_code)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        projections
            .applicants
            .get(&credit_code)
            .filter(|view| may_read(&actor, view.registration.jurisdiction, Some(&credit_code)))
            .ok_or_else(|| applicant_not_found(&credit_code))?;
        let issued = projections.balances.issued(&credit_code, query.year);
        Ok::<_, ApiError>(json!({
            "credit_code": credit_code,
            "year": query.year,
            "issued_total": issued.issued_total,
            "vouchers": issued.vouchers,
            "annual_cap": issued.annual_cap,
            "position": projections.position(),
        }))
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// A batch's guide and what it has issued. Every authenticated party may read a batch: its guide is public.
#[utoipa::path(get, path = "/v1/batches/{batch_id}", params(super::read::ReadParams, ("batch_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn batch(
    State(app): State<App>,
    Path(batch_id): Path<String>,
    Authenticated(_actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let batch_id = uuid_path(&batch_id)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut body = views::batch_row(projections, batch_id).ok_or_else(|| {
            ApiError::not_found("batch_not_found", format!("batch {batch_id} does not exist"))
        })?;
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
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
    let jurisdiction = jurisdiction_path(&jurisdiction)?;
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
    Path(jurisdiction): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let jurisdiction = jurisdiction_path(&jurisdiction)?;
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

/// The head of the log: its position and hash (hex), for auditors anchoring a verification.
#[utoipa::path(get, path = "/v1/log/head", security(("bearer" = [])),
    responses((status = 200, description = "position, hash"), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn log_head(State(app): State<App>, Authenticated(_actor): Authenticated) -> axum::Json<Value> {
    let head = *app.shared.head.borrow();
    axum::Json(json!({ "position": head.position, "hash": hex::encode(head.hash) }))
}
