//! Contracts and ratings (Measures art. 9, 10): submission, signature, filing, rejection, cancellation,
//! completion and rating; a contract and its dossier.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use domain::document::Sha256Hex;
use domain::{Cny, Command, CreditCode, Event};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::app::App;
use super::commands::{CommandAnswer, CommandRequest, EmptyRequest, ReasonRequest};
use super::extract::{Authenticated, Param};
use super::read::{ReadOptions, Rows, respond, snapshot, to_json};
use super::trail::{Access, entry_json_as, visible, with_trail};
use crate::error::{ApiError, Problem};
use domain::event::Party;
use projections::Projections;
use projections::history::Entry;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(submit_contract))
        .routes(routes!(contract))
        .routes(routes!(dossier))
        .routes(routes!(sign_contract))
        .routes(routes!(file_contract))
        .routes(routes!(reject_contract))
        .routes(routes!(cancel_contract))
        .routes(routes!(confirm_completion))
        .routes(routes!(rate_service))
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
    CommandRequest { body: request, submitter, .. }: CommandRequest<ContractRequest>,
) -> Result<Response, ApiError> {
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
    submitter.execute(&app, command, StatusCode::CREATED).await
}

/// The counterparty signs a submitted contract.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/signature",
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn sign_contract(
    State(app): State<App>,
    CommandRequest { path: contract_id, body: _, submitter, .. }: CommandRequest<EmptyRequest, Uuid>,
) -> Result<Response, ApiError> {
    submitter.execute(&app, Command::SignContract { contract_id }, StatusCode::OK).await
}

/// The service center (in guian also the bureau) files (备案) a signed contract, committing the voucher amount.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/filing",
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_contract(
    State(app): State<App>,
    CommandRequest { path: contract_id, body: _, submitter, .. }: CommandRequest<EmptyRequest, Uuid>,
) -> Result<Response, ApiError> {
    submitter.execute(&app, Command::FileContract { contract_id }, StatusCode::OK).await
}

/// The service center (in guian also the bureau) refuses to file a contract.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/rejection", request_body = ReasonRequest,
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn reject_contract(
    State(app): State<App>,
    CommandRequest { path: contract_id, body: request, submitter, .. }: CommandRequest<ReasonRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::RejectContract { contract_id, reason: request.reason };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// Either party cancels a contract before completion; a filed commitment returns to the voucher.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/cancellation", request_body = ReasonRequest,
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn cancel_contract(
    State(app): State<App>,
    CommandRequest { path: contract_id, body: request, submitter, .. }: CommandRequest<ReasonRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::CancelContract { contract_id, reason: request.reason };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// The applicant confirms the service complete: the committed amount becomes the provider's receivable.
#[utoipa::path(post, path = "/v1/contracts/{contract_id}/completion",
    params(("contract_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 200, body = CommandAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn confirm_completion(
    State(app): State<App>,
    CommandRequest { path: contract_id, body: _, submitter, .. }: CommandRequest<EmptyRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::ConfirmCompletion { contract_id };
    submitter.execute(&app, command, StatusCode::OK).await
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
    CommandRequest { path: contract_id, body: request, submitter, .. }: CommandRequest<RatingRequest, Uuid>,
) -> Result<Response, ApiError> {
    let command = Command::RateService {
        contract_id,
        quality: request.quality,
        timeliness: request.timeliness,
        professionalism: request.professionalism,
        text: request.text,
    };
    submitter.execute(&app, command, StatusCode::OK).await
}

/// A contract's terms, signatures, filing, completion, rating and redemption. Readable by its two parties,
/// staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/contracts/{contract_id}", params(super::read::ReadParams, ("contract_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "contract_id, terms, status, signed_by, filed_on, completed_on, redemption_deadline, rating, redemption_id"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn contract(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(contract_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let view = projections.lifecycle.contract(contract_id).ok_or_else(|| {
            ApiError::not_found("contract_not_found", format!("contract {contract_id} does not exist"))
        })?;
        let terms = &view.terms;
        if !super::read::may_read_contract(&actor, terms) {
            return Err(super::read::forbidden_read(&actor));
        }
        let mut body = to_json(view);
        body["position"] = json!(projections.position());
        Ok::<_, ApiError>(body)
    })?;
    Ok(respond(options.format, body, Rows::Object))
}

/// A contract's dossier: its terms and status, every document (the contract and the redemption's invoice,
/// remittance proof and results), the signatures, filing, completion, rating, redemption, announcement,
/// objections, disbursement, clawbacks, audit findings, and the records behind them with positions and
/// hashes. Readable like the contract. As CSV, one row per record.
#[utoipa::path(get, path = "/v1/contracts/{contract_id}/dossier", params(super::read::ReadParams, ("contract_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "contract_id, contract, documents, signatures, filing, completion, rating, redemption, announcement, objections, disbursement, clawbacks, findings, records, position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn dossier(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    Param(contract_id): Param<Uuid>,
) -> Result<Response, ApiError> {
    let snapshot = snapshot(&app, &options).await?;
    let select = |projections: &Projections| {
        let view = projections.lifecycle.contract(contract_id).ok_or_else(|| {
            ApiError::not_found("contract_not_found", format!("contract {contract_id} does not exist"))
        })?;
        if !super::read::may_read_contract(&actor, &view.terms) {
            return Err(super::read::forbidden_read(&actor));
        }
        Ok(projections.history.contract(contract_id).unwrap_or_default())
    };
    let body = with_trail(&app, &snapshot, select, |projections, trail| {
        dossier_json(projections, contract_id, &visible(&actor, projections, trail))
    })
    .await?;
    Ok(respond(options.format, body, Rows::Field("records")))
}

/// The dossier of a contract that exists in `projections`, from the records of its trail the reader may see
/// (audit findings only from samples whose records the reader may see).
fn dossier_json(projections: &Projections, contract_id: uuid::Uuid, visible: &[(&Entry, Access)]) -> Value {
    let lifecycle = &projections.lifecycle;
    let Some(view) = lifecycle.contract(contract_id) else { return Value::Null };
    let mark = |entry: &Entry| {
        json!({ "position": entry.position, "hash": hex::encode(entry.hash), "business_date": entry.business_date,
                "actor": entry.actor_subject })
    };
    let mut documents = vec![
        json!({ "document": "contract", "sha256": view.terms.document_sha256, "name": null, "size_bytes": null }),
    ];
    let mut signatures = Vec::new();
    let (mut filing, mut completion, mut disbursement) = (Value::Null, Value::Null, Value::Null);
    let mut samples_seen = std::collections::HashSet::new();
    for &(entry, _) in visible {
        if let Event::SampleDrawn { sample_id, .. } | Event::FindingRecorded { sample_id, .. } = &entry.event
        {
            samples_seen.insert(*sample_id);
        }
        match &entry.event {
            Event::ContractSubmitted { submitted_by, .. } => {
                signatures.push(json!({ "party": submitted_by, "signed": mark(entry) }));
            }
            Event::ContractSigned { party, .. } => {
                signatures.push(json!({ "party": party, "signed": mark(entry) }));
            }
            Event::ContractFiled { filed_on, amount, .. } => {
                filing = json!({ "filed_on": filed_on, "committed": amount, "record": mark(entry) });
            }
            Event::ServiceCompleted { completed_on, redemption_deadline, amount, .. } => {
                completion = json!({ "completed_on": completed_on, "redemption_deadline": redemption_deadline,
                                     "receivable": amount, "record": mark(entry) });
            }
            Event::RedemptionRequested { invoice, remittance_proof, results, .. } => {
                let mut add = |role: &str, document: &domain::document::Document| {
                    let mut row = to_json(document);
                    row["document"] = json!(role);
                    documents.push(row);
                };
                add("invoice", invoice);
                add("remittance_proof", remittance_proof);
                for result in results {
                    add("result", result);
                }
            }
            Event::RedemptionDisbursed { amount, payment_reference, .. } => {
                disbursement = json!({ "amount": amount, "payment_reference": payment_reference, "record": mark(entry) });
            }
            _ => {}
        }
    }
    let signed_by_both =
        [Party::Provider, Party::Applicant].iter().all(|party| view.signed_by.contains(party));
    let redemption = view.redemption_id.and_then(|id| lifecycle.redemption(id));
    let announcement = redemption.and_then(|r| r.announcement_id).and_then(|id| lifecycle.announcement(id));
    let findings: Vec<Value> = lifecycle
        .samples_of(contract_id)
        .into_iter()
        .filter(|sample| samples_seen.contains(&sample.sample_id))
        .flat_map(|sample| {
            sample.findings.iter().filter(|f| f.contract_id == contract_id).map(move |finding| {
                let mut row = to_json(finding);
                row["sample_id"] = json!(sample.sample_id);
                row
            })
        })
        .collect();
    json!({
        "contract_id": contract_id,
        "contract": to_json(view),
        "documents": documents,
        "signatures": signatures,
        "signed_by_both": signed_by_both,
        "filing": filing,
        "completion": completion,
        "rating": view.rating,
        "redemption": redemption.map(to_json),
        "announcement": announcement.map(to_json),
        "objections": redemption.map(|r| to_json(&lifecycle.objections(&r.objections))).unwrap_or(json!([])),
        "disbursement": disbursement,
        "clawbacks": redemption.map(|r| to_json(&lifecycle.clawbacks(&r.clawbacks))).unwrap_or(json!([])),
        "findings": findings,
        "records": visible.iter().map(|&(entry, access)| entry_json_as(entry, access)).collect::<Vec<_>>(),
        "position": projections.position(),
    })
}
