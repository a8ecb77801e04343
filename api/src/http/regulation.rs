//! Command routes of the regulation's later lifecycles (SPEC §4, Measures art. 8-13): providers, objections,
//! contracts, ratings, redemptions, announcements, disbursements, denials, audit samples, clawbacks and
//! referrals. Like `commands.rs`: parse a strict body, create ids at the edge, hand the command to the
//! writer, answer with the events recorded. The rules themselves (who may, when, how much) are the domain's.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::NaiveDate;
use domain::document::{Document, Sha256Hex};
use domain::event::{DenialGround, Finding, ObjectionTarget, ReviewOutcome, Ruling};
use domain::{Actor, Cny, Command, CreditCode, Jurisdiction, Role};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::commands::{CommandAnswer, EmptyRequest, credit_code_path, execute, uuid_path};
use super::{App, Authenticated, parse_body};
use crate::error::{ApiError, Problem};

/// The actor of a route anyone may call: the token's actor when a bearer token is sent (a bad token is
/// still 401), otherwise the public.
#[derive(Debug, Clone)]
pub struct AnyoneOrAuthenticated(pub Actor);

impl FromRequestParts<App> for AnyoneOrAuthenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(AnyoneOrAuthenticated(public()));
        }
        let Authenticated(actor) = Authenticated::from_request_parts(parts, app).await?;
        Ok(AnyoneOrAuthenticated(actor))
    }
}

/// The unauthenticated party of SPEC §2.
pub fn public() -> Actor {
    Actor { subject: "public".into(), role: Role::Public, jurisdiction: None, credit_code: None }
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
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ProviderApplicationRequest = parse_body(&body)?;
    let command = Command::ApplyAsProvider {
        name: request.name,
        categories: request.categories,
        qualifications: request.qualifications,
        contact: request.contact,
    };
    execute(&app, actor, &headers, "apply_as_provider", &body, command, StatusCode::CREATED).await
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
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let provider = credit_code_path(&credit_code)?;
    let request: ProviderDecisionRequest = parse_body(&body)?;
    let route = format!("provider_decision:{provider}");
    let command = Command::DecideProvider {
        provider,
        approve: request.decision == ProviderDecision::Approved,
        reason: request.reason,
    };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

/// `POST /v1/providers/{credit_code}/suspension`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

/// The bureau suspends a provider: no new contracts; its pending redemptions may be denied.
#[utoipa::path(post, path = "/v1/providers/{credit_code}/suspension", request_body = ReasonRequest,
    params(("credit_code" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn suspend_provider(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let provider = credit_code_path(&credit_code)?;
    let request: ReasonRequest = parse_body(&body)?;
    let route = format!("provider_suspension:{provider}");
    let command = Command::SuspendProvider { provider, reason: request.reason };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

// ---- objections (Measures art. 8, 11) ----

/// What an objection is raised against.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ObjectionTargetRequest {
    /// A provider during its admission announcement.
    Provider {
        #[schema(value_type = String, example = "91520100MA6DK0000X")]
        provider: CreditCode,
    },
    /// A redemption on an announcement list.
    Redemption { redemption_id: Uuid },
}

/// `POST /v1/objections`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    pub target: ObjectionTargetRequest,
    pub text: String,
}

/// Anyone objects during an announcement; no token is needed (with a token, its actor is recorded). Each
/// client address files at most `serve --objections-per-address` objections per window (429
/// `too_many_objections` with `Retry-After`); without a token the `Idempotency-Key` is ignored.
#[utoipa::path(post, path = "/v1/objections", request_body = ObjectionRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "ObjectionFiled with objection_id"),
        (status = 429, body = Problem, content_type = "application/problem+json",
            description = "too_many_objections: this address's objections for the window are used"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_objection(
    State(app): State<App>,
    AnyoneOrAuthenticated(actor): AnyoneOrAuthenticated,
    _allowed: crate::edge::ObjectionAllowed,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ObjectionRequest = parse_body(&body)?;
    let target = match request.target {
        ObjectionTargetRequest::Provider { provider } => ObjectionTarget::Provider { provider },
        ObjectionTargetRequest::Redemption { redemption_id } => ObjectionTarget::Redemption { redemption_id },
    };
    let command = Command::FileObjection { objection_id: Uuid::now_v7(), target, text: request.text };
    execute(&app, actor, &headers, "file_objection", &body, command, StatusCode::CREATED).await
}

/// `POST /v1/objections/{objection_id}/ruling`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulingRequest {
    #[schema(value_type = String, example = "dismissed")]
    pub ruling: Ruling,
    pub reason: String,
}

/// The bureau upholds (the provider is rejected, or the redemption struck) or dismisses an objection.
#[utoipa::path(post, path = "/v1/objections/{objection_id}/ruling", request_body = RulingRequest,
    params(("objection_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn rule_on_objection(
    State(app): State<App>,
    Path(objection_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let objection_id = uuid_path(&objection_id)?;
    let request: RulingRequest = parse_body(&body)?;
    let route = format!("objection_ruling:{objection_id}");
    let command = Command::RuleOnObjection { objection_id, ruling: request.ruling, reason: request.reason };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

// ---- contracts and ratings (Measures art. 9, 10) ----

/// `POST /v1/contracts`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractRequest {
    pub voucher_id: Uuid,
    #[schema(value_type = String, example = "91520100MA6DK0000X")]
    pub provider: CreditCode,
    pub category: String,
    pub description: String,
    pub term_start: NaiveDate,
    pub term_end: NaiveDate,
    #[schema(value_type = String, example = "100000.00")]
    pub total: Cny,
    #[schema(value_type = String, example = "80000.00")]
    pub voucher_amount: Cny,
    /// SHA-256 of the signed and sealed contract document, 64 lowercase hexadecimal characters.
    #[schema(value_type = String)]
    pub document_sha256: Sha256Hex,
}

/// The provider or the voucher's applicant submits a contract; the submission is its own signature.
#[utoipa::path(post, path = "/v1/contracts", request_body = ContractRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "ContractSubmitted with contract_id"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn submit_contract(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ContractRequest = parse_body(&body)?;
    let command = Command::SubmitContract {
        contract_id: Uuid::now_v7(),
        voucher_id: request.voucher_id,
        provider: request.provider,
        category: request.category,
        description: request.description,
        term_start: request.term_start,
        term_end: request.term_end,
        total: request.total,
        voucher_amount: request.voucher_amount,
        document_sha256: request.document_sha256,
    };
    execute(&app, actor, &headers, "submit_contract", &body, command, StatusCode::CREATED).await
}

/// The counterparty signs a submitted contract.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/signature",
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn sign_contract(
    State(app): State<App>,
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let _empty: EmptyRequest = parse_body(&body)?;
    let route = format!("contract_signature:{contract_id}");
    execute(&app, actor, &headers, &route, &body, Command::SignContract { contract_id }, StatusCode::OK).await
}

/// The service center (in guian also the bureau) files (备案) a signed contract, committing the voucher amount.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/filing",
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_contract(
    State(app): State<App>,
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let _empty: EmptyRequest = parse_body(&body)?;
    let route = format!("contract_filing:{contract_id}");
    execute(&app, actor, &headers, &route, &body, Command::FileContract { contract_id }, StatusCode::OK).await
}

/// The service center (in guian also the bureau) refuses to file a contract.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/rejection", request_body = ReasonRequest,
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reject_contract(
    State(app): State<App>,
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let request: ReasonRequest = parse_body(&body)?;
    let route = format!("contract_rejection:{contract_id}");
    let command = Command::RejectContract { contract_id, reason: request.reason };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

/// Either party cancels a contract before completion; a filed commitment returns to the voucher.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/cancellation", request_body = ReasonRequest,
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel_contract(
    State(app): State<App>,
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let request: ReasonRequest = parse_body(&body)?;
    let route = format!("contract_cancellation:{contract_id}");
    let command = Command::CancelContract { contract_id, reason: request.reason };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

/// The applicant confirms the service complete: the committed amount becomes the provider's receivable.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/completion",
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn confirm_completion(
    State(app): State<App>,
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let _empty: EmptyRequest = parse_body(&body)?;
    let route = format!("contract_completion:{contract_id}");
    let command = Command::ConfirmCompletion { contract_id };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

/// `POST /v1/contracts/{contract_id}/rating`: scores 1 to 5.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    pub quality: u8,
    pub timeliness: u8,
    pub professionalism: u8,
    #[serde(default)]
    pub text: String,
}

/// The applicant rates a completed service, once.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/rating", request_body = RatingRequest,
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn rate_service(
    State(app): State<App>,
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let request: RatingRequest = parse_body(&body)?;
    let route = format!("contract_rating:{contract_id}");
    let command = Command::RateService {
        contract_id,
        quality: request.quality,
        timeliness: request.timeliness,
        professionalism: request.professionalism,
        text: request.text,
    };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
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
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: RedemptionRequest = parse_body(&body)?;
    let command = Command::RequestRedemption {
        redemption_id: Uuid::now_v7(),
        contract_id: request.contract_id,
        invoice: request.invoice,
        remittance_proof: request.remittance_proof,
        results: request.results,
    };
    execute(&app, actor, &headers, "request_redemption", &body, command, StatusCode::CREATED).await
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
    Path(redemption_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let redemption_id = uuid_path(&redemption_id)?;
    let request: ReviewRequest = parse_body(&body)?;
    let outcome = request.outcome()?;
    let route = format!("redemption_review:{redemption_id}");
    let command = Command::ReviewRedemption { redemption_id, outcome };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
}

/// `POST /v1/announcements`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementRequest {
    #[schema(value_type = String, example = "guiyang")]
    pub jurisdiction: Jurisdiction,
    pub redemption_ids: Vec<Uuid>,
}

/// The bureau puts approved redemptions on a public announcement list for 5 working days.
#[utoipa::path(post, path = "/v1/announcements", request_body = AnnouncementRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "RedemptionsAnnounced with announcement_id, announced_on and closes_on"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn announce_redemptions(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: AnnouncementRequest = parse_body(&body)?;
    let command = Command::AnnounceRedemptions {
        announcement_id: Uuid::now_v7(),
        jurisdiction: request.jurisdiction,
        redemption_ids: request.redemption_ids,
    };
    execute(&app, actor, &headers, "announce_redemptions", &body, command, StatusCode::CREATED).await
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
    Path(redemption_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let redemption_id = uuid_path(&redemption_id)?;
    let request: DisbursementRequest = parse_body(&body)?;
    let route = format!("redemption_disbursement:{redemption_id}");
    let command = Command::DisburseRedemption { redemption_id, payment_reference: request.payment_reference };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
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
    Path(redemption_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let redemption_id = uuid_path(&redemption_id)?;
    let request: DenialRequest = parse_body(&body)?;
    let route = format!("redemption_denial:{redemption_id}");
    let command = Command::DenyRedemption { redemption_id, ground: request.ground, reason: request.reason };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::OK).await
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
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: SampleRequest = parse_body(&body)?;
    let command = Command::DrawSample {
        sample_id: Uuid::now_v7(),
        jurisdiction: request.jurisdiction,
        year: request.year,
        size: request.size,
        seed: request.seed,
    };
    execute(&app, actor, &headers, "draw_sample", &body, command, StatusCode::CREATED).await
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
    Path(sample_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let sample_id = uuid_path(&sample_id)?;
    let request: FindingRequest = parse_body(&body)?;
    let route = format!("sample_finding:{sample_id}");
    let command = Command::RecordFinding {
        sample_id,
        contract_id: request.contract_id,
        finding: request.finding,
        note: request.note,
    };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::CREATED).await
}

/// `POST /v1/clawbacks`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClawbackRequest {
    pub redemption_id: Uuid,
    #[schema(value_type = String, example = "20000.00")]
    pub amount: Cny,
    pub reason: String,
}

/// The bureau orders money of a disbursed redemption back (never more than disbursed minus clawed back).
#[utoipa::path(post, path = "/v1/clawbacks", request_body = ClawbackRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "ClawbackOrdered with clawback_id"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn order_clawback(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ClawbackRequest = parse_body(&body)?;
    let command = Command::OrderClawback {
        clawback_id: Uuid::now_v7(),
        redemption_id: request.redemption_id,
        amount: request.amount,
        reason: request.reason,
    };
    execute(&app, actor, &headers, "order_clawback", &body, command, StatusCode::CREATED).await
}

/// `POST /v1/clawbacks/{clawback_id}/recoveries`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    #[schema(value_type = String, example = "5000.00")]
    pub amount: Cny,
}

/// The bureau records money recovered on a clawback (partial recoveries allowed, never more than due).
#[utoipa::path(post, path = "/v1/clawbacks/{clawback_id}/recoveries", request_body = RecoveryRequest,
    params(("clawback_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_recovery(
    State(app): State<App>,
    Path(clawback_id): Path<String>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let clawback_id = uuid_path(&clawback_id)?;
    let request: RecoveryRequest = parse_body(&body)?;
    let route = format!("clawback_recovery:{clawback_id}");
    let command = Command::RecordRecovery { clawback_id, amount: request.amount };
    execute(&app, actor, &headers, &route, &body, command, StatusCode::CREATED).await
}

/// `POST /v1/referrals`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    /// The applicant or provider referred.
    #[schema(value_type = String, example = "91520100MA6DK0000X")]
    pub party: CreditCode,
    pub authority: String,
    #[serde(default)]
    pub note: String,
}

/// The bureau records a referral of a party to the judicial authorities.
#[utoipa::path(post, path = "/v1/referrals", request_body = ReferralRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAnswer, description = "ReferralRecorded with referral_id"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_referral(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ReferralRequest = parse_body(&body)?;
    let command = Command::RecordReferral {
        referral_id: Uuid::now_v7(),
        party: request.party,
        authority: request.authority,
        note: request.note,
    };
    execute(&app, actor, &headers, "record_referral", &body, command, StatusCode::CREATED).await
}
