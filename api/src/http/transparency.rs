//! The transparency log (`engine::transparency`): the signed checkpoint, inclusion and consistency proofs
//! (public: hashes only, no record content), and a party's proof bundle (its own records with their
//! inclusion proofs against the latest signed checkpoint, checked offline by `voucher-ledger check-proof`).
//!
//! The contract (issue 17): leaf hash = H(0x00 || a record's stored bytes), node hash = H(0x01 || left ||
//! right), the tree at size S covers positions 1..S (leaf index = position - 1); H is SHA-256, or SM3 when
//! the ledger signs with SM2.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use domain::{CreditCode, Event, Role};
use engine::transparency::{CheckpointError, SignedCheckpoint};
use projections::Projections;
use serde::Serialize;
use serde_json::Value;
use store::EventLog;
use tlog::{Bundle, BundleRecord, MerkleTree, NodeHash, TreeHash};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::app::App;
use super::extract::{Authenticated, Param};
use super::read::{Filters, applicant_not_found, may_read};
use crate::error::{ApiError, Problem};

/// The `format` of a proof bundle.
pub const BUNDLE_FORMAT: &str = tlog::BUNDLE_FORMAT;

/// Records read from the log per batch while a bundle is assembled.
const READ_BATCH: usize = 4096;

/// This resource's routes, each with its OpenAPI description (one list: see [`super::routes`]).
pub fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(inclusion_proof))
        .routes(routes!(consistency_proof))
        .routes(routes!(applicant_proof))
}

/// The latest signed checkpoint, or the problem answered without one.
///
/// # Errors
/// 404 `no_signing_key` when the service signs no checkpoints; 500 `signing_failed`.
pub fn latest_checkpoint(app: &App) -> Result<SignedCheckpoint, ApiError> {
    app.shared.transparency.latest().map_err(|error| match error {
        CheckpointError::NoSigningKey => ApiError::not_found("no_signing_key", error.to_string()),
        CheckpointError::Sign(_) | CheckpointError::Proof(_) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "signing_failed", error.to_string())
        }
    })
}

/// The `checkpoint` field of an announcement list: the signed note of the latest checkpoint, which covers
/// every record the read models hold (the writer extends the tree before it applies a command to them),
/// or null when the service signs no checkpoints.
pub fn checkpoint_field(app: &App) -> Value {
    match app.shared.transparency.latest() {
        Ok(checkpoint) => Value::String(checkpoint.note.to_string()),
        Err(_) => Value::Null,
    }
}

/// The latest signed checkpoint: C2SP tlog-checkpoint (origin, tree size, base64 root hash) as a C2SP
/// signed note. Public, no token needed. 404 `no_signing_key` when the service was started without a key.
#[utoipa::path(get, path = "/v1/checkpoint",
    responses((status = 200, content_type = "text/plain; charset=utf-8", body = String,
            description = "The signed note: origin line, tree size, base64 root hash, a blank line, then `— <key name> <base64(key id || signature)>`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn checkpoint(State(app): State<App>) -> Result<Response, ApiError> {
    let checkpoint = latest_checkpoint(&app)?;
    let mut response = checkpoint.note.to_string().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    Ok(response)
}

/// An inclusion proof (RFC 9162 §2.1.3).
#[derive(Serialize, ToSchema)]
pub struct InclusionProof {
    /// position - 1.
    pub leaf_index: u64,
    pub tree_size: u64,
    /// base64 of H(0x00 || the record's stored bytes).
    pub leaf_hash: String,
    /// base64 hashes, from the leaf up.
    pub audit_path: Vec<String>,
}

/// A consistency proof (RFC 9162 §2.1.4).
#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    /// base64 hashes.
    pub consistency: Vec<String>,
}

/// A whole number from the query string.
fn number(filters: &Filters, name: &str) -> Result<u64, ApiError> {
    let text = filters
        .get(name)
        .ok_or_else(|| ApiError::bad_request("invalid_query", format!("the query needs {name}=N")))?;
    text.parse()
        .map_err(|_| ApiError::bad_request("invalid_query", format!("{name} {text:?} is not a whole number")))
}

/// 400 `tree_size_beyond_log` when `size` is beyond the tree.
fn within_tree(size: u64, tree: &MerkleTree) -> Result<(), ApiError> {
    if size > tree.len() {
        return Err(ApiError::bad_request(
            "tree_size_beyond_log",
            format!("tree size {size} is beyond the log, which holds {} records", tree.len()),
        ));
    }
    Ok(())
}

fn proof_failed(error: tlog::ProofError) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "proof_failed", error.to_string())
}

fn base64_all(hashes: &[NodeHash]) -> Vec<String> {
    hashes.iter().map(|hash| BASE64.encode(hash)).collect()
}

/// The inclusion proof of the record at `position` in the tree of `tree_size` records. Public: hashes only.
/// 400 `invalid_query` (missing or not a number), `position_out_of_range` (0, or beyond tree_size),
/// `tree_size_beyond_log`.
#[utoipa::path(get, path = "/v1/proofs/inclusion",
    params(("position" = u64, Query, description = "the record's log position, from 1"),
        ("tree_size" = u64, Query, description = "the tree size the proof is for (a checkpoint's)")),
    responses((status = 200, body = InclusionProof),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn inclusion_proof(
    State(app): State<App>,
    filters: Filters,
) -> Result<axum::Json<InclusionProof>, ApiError> {
    let position = number(&filters, "position")?;
    let tree_size = number(&filters, "tree_size")?;
    if position == 0 || position > tree_size {
        return Err(ApiError::bad_request(
            "position_out_of_range",
            format!("position {position} is not in a tree of {tree_size} records (1 to {tree_size})"),
        ));
    }
    let proof = app.shared.transparency.read(|tree| {
        within_tree(tree_size, tree)?;
        let leaf = tree.leaf_hash(position - 1).ok_or_else(|| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "proof_failed", "the leaf is missing")
        })?;
        let path = tree.inclusion_proof(position - 1, tree_size).map_err(proof_failed)?;
        Ok::<_, ApiError>(InclusionProof {
            leaf_index: position - 1,
            tree_size,
            leaf_hash: BASE64.encode(leaf),
            audit_path: base64_all(&path),
        })
    })?;
    Ok(axum::Json(proof))
}

/// The consistency proof between the trees of `from` and `to` records. Public: hashes only. 400
/// `invalid_query`, `consistency_out_of_range` (from 0, or from > to), `tree_size_beyond_log`.
#[utoipa::path(get, path = "/v1/proofs/consistency",
    params(("from" = u64, Query, description = "the older tree size, from 1"),
        ("to" = u64, Query, description = "the newer tree size, at least from")),
    responses((status = 200, body = ConsistencyProof),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn consistency_proof(
    State(app): State<App>,
    filters: Filters,
) -> Result<axum::Json<ConsistencyProof>, ApiError> {
    let first = number(&filters, "from")?;
    let second = number(&filters, "to")?;
    if first == 0 || first > second {
        return Err(ApiError::bad_request(
            "consistency_out_of_range",
            format!("from {first} to {second}: a consistency proof needs 1 <= from <= to"),
        ));
    }
    let proof = app.shared.transparency.read(|tree| {
        within_tree(second, tree)?;
        let proof = tree.consistency_proof(first, second).map_err(proof_failed)?;
        Ok::<_, ApiError>(ConsistencyProof { first, second, consistency: base64_all(&proof) })
    })?;
    Ok(axum::Json(proof))
}

/// A party's proof bundle: every record that concerns the applicant (or provider) — the records the read
/// rule names it a party of — with its stored bytes and its inclusion proof against the latest signed
/// checkpoint. Readable by the party itself, the bureau of its jurisdiction and auditors. Check it offline
/// with `voucher-ledger check-proof FILE --key VERIFIER_KEY`. Assembling it reads the log up to the
/// checkpoint.
#[utoipa::path(get, path = "/v1/applicants/{credit_code}/proof", params(("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "format (voucher-ledger-proof/v1), subject, tree_hash, checkpoint (the signed note), records [{position, stored (base64), audit_path [base64]}]"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn applicant_proof(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    Param(credit_code): Param<CreditCode>,
) -> Result<axum::Json<Bundle>, ApiError> {
    let jurisdiction = {
        let projections = app.shared.projections.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        party_jurisdiction(&projections, &credit_code)
    };
    let jurisdiction = jurisdiction
        .filter(|jurisdiction| may_read(&actor, *jurisdiction, Some(&credit_code)))
        .ok_or_else(|| applicant_not_found(&credit_code))?;
    let allowed = actor.role == Role::Auditor
        || actor.is(Role::Bureau, jurisdiction)
        || actor.credit_code.as_ref() == Some(&credit_code);
    if !allowed {
        return Err(ApiError::forbidden(format!(
            "a proof bundle is given to the party itself, the bureau of its jurisdiction and auditors, not to {}",
            actor.role.as_str()
        )));
    }
    let checkpoint = latest_checkpoint(&app)?;
    let transparency = &app.shared.transparency;
    let projections = &app.shared.projections;
    let bundle = assemble(
        app.log.as_ref(),
        &checkpoint,
        transparency.hash(),
        &credit_code,
        &|events| {
            let projections = projections.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            events.iter().map(|event| super::access::concerns(event, &projections, &credit_code)).collect()
        },
        &|indexes| {
            transparency.read(|tree| {
                indexes.iter().map(|index| tree.inclusion_proof(*index, checkpoint.size)).collect()
            })
        },
    )
    .await?;
    Ok(axum::Json(bundle))
}

/// The jurisdiction of an applicant or provider, when the read models know it.
pub fn party_jurisdiction(projections: &Projections, code: &CreditCode) -> Option<domain::Jurisdiction> {
    projections
        .applicants
        .get(code)
        .map(|view| view.registration.jurisdiction)
        .or_else(|| projections.lifecycle.provider(code).map(|view| view.application.jurisdiction))
}

/// Which of a batch of events concern the party.
pub type Concerns<'a> = dyn Fn(&[Event]) -> Vec<bool> + Sync + 'a;
/// The inclusion proofs of leaf indexes at the checkpoint's size.
pub type Proofs<'a> = dyn Fn(&[u64]) -> Result<Vec<Vec<NodeHash>>, tlog::ProofError> + Sync + 'a;

/// Assembles `subject`'s bundle: reads the log up to the checkpoint's size, keeps the records `concerns`
/// says are the party's, and proves each with `proofs`. The same for the API and `voucher-ledger proof`.
///
/// # Errors
/// 503 `unavailable` when the log cannot be read; 500 `log_unreadable` for a record that does not decode,
/// `proof_failed` when a proof cannot be made.
pub async fn assemble(
    log: &dyn EventLog,
    checkpoint: &SignedCheckpoint,
    tree_hash: TreeHash,
    subject: &CreditCode,
    concerns: &Concerns<'_>,
    proofs: &Proofs<'_>,
) -> Result<Bundle, ApiError> {
    let mut kept: Vec<store::StoredRecord> = Vec::new();
    let mut next = 1;
    while next <= checkpoint.size {
        let want = usize::try_from(checkpoint.size - next + 1).unwrap_or(READ_BATCH).min(READ_BATCH);
        let batch = log.read_batch(next, want).await.map_err(|error| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("the log could not be read: {error}"),
            )
        })?;
        if batch.is_empty() {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "log_unreadable",
                format!("the log ends before position {next}"),
            ));
        }
        next += batch.len() as u64;
        let mut events = Vec::with_capacity(batch.len());
        for record in &batch {
            let recorded = ledger_proto::decode_record(record).map_err(|error| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "log_unreadable",
                    format!("the record at position {} does not decode: {error}", record.position),
                )
            })?;
            events.push(recorded.event);
        }
        let keep = concerns(&events);
        kept.extend(batch.into_iter().zip(keep).filter(|(_, keep)| *keep).map(|(record, _)| record));
    }
    let indexes: Vec<u64> = kept.iter().map(|record| record.position - 1).collect();
    let paths = proofs(&indexes).map_err(proof_failed)?;
    let records = kept
        .into_iter()
        .zip(paths)
        .map(|(record, path)| BundleRecord {
            position: record.position,
            stored: BASE64.encode(&record.bytes),
            audit_path: base64_all(&path),
        })
        .collect();
    Ok(Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        subject: subject.as_str().to_owned(),
        tree_hash,
        checkpoint: checkpoint.note.to_string(),
        records,
    })
}
