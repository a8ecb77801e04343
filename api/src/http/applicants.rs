//! Applicants: registration, verification, suspension, and what each was issued.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::event::Registration;
use domain::{ApplicantKind, Command, CreditCode, Jurisdiction, VerificationDecision};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest};
use super::extract::{Authenticated, Param};
use super::read::{ReadOptions, Rows, applicant_not_found, may_read, respond, snapshot, to_json};
use crate::error::{ApiError, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(register_applicant))
        .routes(routes!(applicant))
        .routes(routes!(decide_verification))
        .routes(routes!(suspend_applicant))
        .routes(routes!(issued))
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
    CommandRequest { body: request, submitter, .. }: CommandRequest<RegistrationRequest>,
) -> Result<Response, ApiError> {
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
    submitter.execute(&app, command, StatusCode::CREATED).await
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
    CommandRequest { path: credit_code, body: request, submitter, .. }: CommandRequest<
        VerificationRequest,
        CreditCode,
    >,
) -> Result<Response, ApiError> {
    let command =
        Command::DecideVerification { credit_code, decision: request.decision, reason: request.reason };
    submitter.execute(&app, command, StatusCode::OK).await
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
    CommandRequest { path: credit_code, body: request, submitter, .. }: CommandRequest<
        SuspensionRequest,
        CreditCode,
    >,
) -> Result<Response, ApiError> {
    let command = Command::SuspendApplicant { credit_code, reason: request.reason };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// An applicant's registration and standing.
#[utoipa::path(get, path = "/v1/applicants/{credit_code}", params(super::read::ReadParams, ("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn applicant(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(credit_code): Param<CreditCode>,
) -> Result<Response, ApiError> {
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
#[into_params(parameter_in = Query)]
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
    Query(query): Query<YearQuery>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(credit_code): Param<CreditCode>,
) -> Result<Response, ApiError> {
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
