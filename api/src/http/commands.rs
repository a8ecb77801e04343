//! Command routes: parse, authenticate, hand to the writer, answer with the events recorded and the position.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use domain::event::Registration;
use domain::{
    ApplicantKind, CalendarYear, Cny, Command, CreditCode, Event, Jurisdiction, PolicyVersion, Share,
    VerificationDecision,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{App, Authenticated, idempotency_key, parse_body, request_digest};
use crate::error::{ApiError, Problem};
use crate::writer::Committed;

/// Submits a command and renders the answer: `status` with the events recorded and the log position, plus
/// the fields of the command's main event at the top level (e.g. `voucher_id`, `face_value`).
pub(crate) async fn execute(
    app: &App,
    actor: domain::Actor,
    headers: &HeaderMap,
    route: &str,
    body: &Bytes,
    command: Command,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let key = idempotency_key(headers)?;
    let digest = request_digest(route, body);
    let committed = app.writer.submit(command, actor, key, digest).await?;
    Ok((status, Json(committed_json(&committed))).into_response())
}

/// The JSON answer to an accepted command.
pub fn committed_json(committed: &Committed) -> Value {
    let mut answer = Map::new();
    if let Some(Ok(Value::Object(fields))) = committed.events.first().map(|first| event_fields(&first.event))
    {
        answer.extend(fields);
    }
    let events: Vec<Value> = committed
        .events
        .iter()
        .map(|recorded| {
            serde_json::json!({
                "position": recorded.position,
                "hash": hex::encode(recorded.hash),
                "stream": recorded.stream,
                "stream_version": recorded.stream_version,
                "type": recorded.event.event_type(),
                "data": event_fields(&recorded.event).unwrap_or(Value::Null),
            })
        })
        .collect();
    answer.insert("position".into(), committed.position.into());
    answer.insert("events".into(), Value::Array(events));
    answer.insert("replayed".into(), committed.replayed.into());
    Value::Object(answer)
}

/// The fields of an event as JSON (the inside of its externally tagged form).
pub fn event_fields(event: &Event) -> Result<Value, serde_json::Error> {
    let tagged = serde_json::to_value(event)?;
    Ok(match tagged {
        Value::Object(mut map) => map.remove(event.event_type()).unwrap_or(Value::Null),
        other => other,
    })
}

pub(crate) fn jurisdiction_path(text: &str) -> Result<Jurisdiction, ApiError> {
    text.parse()
        .map_err(|error: domain::UnknownName| ApiError::bad_request("invalid_path", error.to_string()))
}

fn year_path(text: &str) -> Result<i32, ApiError> {
    text.parse().map_err(|_| ApiError::bad_request("invalid_path", format!("\"{text}\" is not a year")))
}

pub(crate) fn uuid_path(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text)
        .map_err(|_| ApiError::bad_request("invalid_path", format!("\"{text}\" is not a UUID")))
}

pub(crate) fn credit_code_path(text: &str) -> Result<CreditCode, ApiError> {
    CreditCode::parse(text).map_err(|error| ApiError::bad_request("invalid_credit_code", error.to_string()))
}

/// The answer to an accepted command.
#[derive(Serialize, ToSchema)]
pub struct CommandAnswer {
    /// The log position after the command's last event.
    pub position: u64,
    /// The events recorded, in order, each with `position`, `hash`, `stream`, `type` and `data`.
    pub events: Vec<Value>,
    /// True when this is the first answer again for a retried `Idempotency-Key`.
    pub replayed: bool,
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
    Path((jurisdiction, fiscal_year)): Path<(String, String)>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let jurisdiction = jurisdiction_path(&jurisdiction)?;
    let fiscal_year = year_path(&fiscal_year)?;
    let request: AppropriationRequest = parse_body(&body)?;
    let command = Command::AppropriateBudget { jurisdiction, fiscal_year, amount: request.amount };
    let route = format!("appropriate:{jurisdiction}:{fiscal_year}");
    execute(&app, actor, &headers, &route, &body, command, StatusCode::CREATED).await
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
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: BatchRequest = parse_body(&body)?;
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
    execute(&app, actor, &headers, "publish_batch", &body, command, StatusCode::CREATED).await
}

/// The bureau closes a batch early; its unissued money returns to the budget.
#[utoipa::path(post, path = "/v1/batches/{batch_id}/closure", params(("batch_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn close_batch(
    State(app): State<App>,
    Path(batch_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch_id = uuid_path(&batch_id)?;
    let _empty: EmptyRequest = parse_body(&body)?;
    let route = format!("close_batch:{batch_id}");
    execute(&app, actor, &headers, &route, &body, Command::CloseBatch { batch_id }, StatusCode::OK).await
}

/// A body with no fields (`{}` or nothing).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

/// An applicant claims a voucher from a batch, as the credit code of its token.
#[utoipa::path(post, path = "/v1/batches/{batch_id}/claims", params(("batch_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer, description = "voucher issued: voucher_id, face_value, ..."),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn claim(
    State(app): State<App>,
    Path(batch_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let batch_id = uuid_path(&batch_id)?;
    let _empty: EmptyRequest = parse_body(&body)?;
    let command = Command::ClaimVoucher { batch_id, voucher_id: Uuid::now_v7() };
    let route = format!("claim:{batch_id}");
    execute(&app, actor, &headers, &route, &body, command, StatusCode::CREATED).await
}

/// `POST /v1/applicants`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    #[schema(value_type = String, example = "91520100MA6DK0000X")]
    pub credit_code: CreditCode,
    pub name: String,
    #[schema(value_type = String, example = "enterprise")]
    pub kind: ApplicantKind,
    #[schema(value_type = String, example = "guiyang")]
    pub jurisdiction: Jurisdiction,
    #[serde(default)]
    pub industry: Option<String>,
    /// The project code of the provincial investment-project platform; required of a project entity.
    #[serde(default)]
    pub project_code: Option<String>,
    /// Required of an enterprise; a project entity may leave it out (Measures art. 6 asks it of enterprises).
    #[serde(default)]
    pub independent_legal_person: Option<bool>,
    /// Required of an enterprise; a project entity may leave it out (Measures art. 6 asks it of enterprises).
    #[serde(default)]
    pub tax_compliant: Option<bool>,
}

/// An enterprise or project entity registers itself (the token's credit code).
#[utoipa::path(post, path = "/v1/applicants", request_body = RegistrationRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn register_applicant(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RegistrationRequest = parse_body(&body)?;
    let attestation = |value: Option<bool>, field: &str| match (value, request.kind) {
        (Some(value), _) => Ok(value),
        (None, ApplicantKind::ProjectEntity) => Ok(false),
        (None, ApplicantKind::Enterprise) => {
            Err(ApiError::bad_request("invalid_request", format!("{field}: an enterprise must state it")))
        }
    };
    let independent_legal_person = attestation(request.independent_legal_person, "independent_legal_person")?;
    let tax_compliant = attestation(request.tax_compliant, "tax_compliant")?;
    let registration = Registration {
        credit_code: request.credit_code,
        name: request.name.trim().to_owned(),
        kind: request.kind,
        jurisdiction: request.jurisdiction,
        industry: request.industry,
        project_code: request.project_code,
        independent_legal_person,
        tax_compliant,
    };
    let command = Command::RegisterApplicant { registration };
    execute(&app, actor, &headers, "register_applicant", &body, command, StatusCode::CREATED).await
}

/// `POST /v1/applicants/{credit_code}/verification`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    #[schema(value_type = String, example = "verified")]
    pub decision: VerificationDecision,
    #[serde(default)]
    pub reason: String,
}

/// The service center (in guian also the bureau) verifies or rejects an applicant.
#[utoipa::path(post, path = "/v1/applicants/{credit_code}/verification", request_body = VerificationRequest,
    params(("credit_code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn decide_verification(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let credit_code = credit_code_path(&credit_code)?;
    let request: VerificationRequest = parse_body(&body)?;
    let route = format!("verification:{credit_code}");
    let command =
        Command::DecideVerification { credit_code, decision: request.decision, reason: request.reason };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

/// `POST /v1/applicants/{credit_code}/suspension`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionRequest {
    pub reason: String,
}

/// The bureau suspends an applicant.
#[utoipa::path(post, path = "/v1/applicants/{credit_code}/suspension", request_body = SuspensionRequest,
    params(("credit_code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn suspend_applicant(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let credit_code = credit_code_path(&credit_code)?;
    let request: SuspensionRequest = parse_body(&body)?;
    let route = format!("suspension:{credit_code}");
    let command = Command::SuspendApplicant { credit_code, reason: request.reason };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

/// The bureau signs a successor policy version (the body is the version, as in
/// `domain/data/policy/measures-2023.toml`, in JSON, with the `jurisdictions` it covers). The bureau of each
/// named jurisdiction posts the same body; each signature records a `PolicySigned`, and the last one puts the
/// version in force (SPEC §3 "Who publishes").
#[utoipa::path(post, path = "/v1/policies", request_body(content = Object, description = "a policy version naming its jurisdictions; each named bureau posts the same body (its signature)"),
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_policy(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let policy: PolicyVersion = parse_body(&body)?;
    execute(
        &app,
        actor,
        &headers,
        "publish_policy",
        &body,
        Command::PublishPolicy { policy },
        StatusCode::CREATED,
    )
    .await
}

/// The bureau publishes a year's holidays and adjusted working days (State Council notice).
#[utoipa::path(post, path = "/v1/calendar/years", request_body(content = Object, description = "year, notice, holidays, working_weekends"),
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_calendar_year(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let calendar_year: CalendarYear = parse_body(&body)?;
    let command = Command::PublishCalendarYear { calendar_year };
    execute(&app, actor, &headers, "publish_calendar_year", &body, command, StatusCode::CREATED).await
}

/// `POST /v1/admin/clock`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {
    /// The new instant (RFC 3339).
    pub now: DateTime<Utc>,
}

/// Test mode only (`serve --clock manual`): an operator moves the service's clock forward (never back, and
/// within the business dates the ledger accepts). 404 on the system clock.
#[utoipa::path(post, path = "/v1/admin/clock", request_body = ClockRequest, security(("bearer" = [])),
    responses((status = 200), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_clock(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !app.clock.is_manual() {
        return Err(ApiError::not_found("not_found", "the clock can only be set in manual clock mode"));
    }
    if actor.role != domain::Role::Operator {
        return Err(ApiError::forbidden(format!(
            "role {} may not set the clock: it takes an operator token",
            actor.role
        )));
    }
    let request: ClockRequest = parse_body(&body)?;
    let unprocessable = |code: &'static str, error: crate::clock::ClockError| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, error.to_string())
    };
    let now = app.clock.advance(request.now).map_err(|error| match error {
        crate::clock::ClockError::NotManual => ApiError::not_found("not_found", error.to_string()),
        crate::clock::ClockError::Backwards { .. } | crate::clock::ClockError::BehindRecords { .. } => {
            unprocessable("clock_backwards", error)
        }
        crate::clock::ClockError::OutOfRange { .. } => unprocessable("clock_out_of_range", error),
    })?;
    let deadline_events = app.writer.tick().await?;
    let answer = serde_json::json!({
        "now": now,
        "business_date": domain::business_date(now),
        "deadline_events": deadline_events,
    });
    Ok(Json(answer).into_response())
}
