//! The read side's own query routes: lists of vouchers, batches and budgets, a provider's balance,
//! provider rankings, a voucher's history, a contract's dossier, redemptions by state, the public list of
//! announcements, and the anomaly signals. Every one accepts `as_of_position` / `as_of_date` and answers
//! CSV when asked (see [`super::read`]); list routes answer only the rows the caller may read.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use domain::event::Party;
use domain::{Event, Jurisdiction, Role};
use projections::Projections;
use projections::history::Entry;
use serde_json::{Value, json};

use super::access::{Access, record_access};
use super::commands::{credit_code_path, uuid_path};
use super::queries::{may_read, require_read};
use super::read::{ReadOptions, Rows, Snapshot, query_pairs, respond, snapshot, to_json};
use super::{App, Authenticated};
use crate::error::{ApiError, Problem};
use crate::views;

/// The query string's filters (every pair; each route reads the ones it knows).
pub struct Filters(pub HashMap<String, String>);

impl axum::extract::FromRequestParts<App> for Filters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _app: &App) -> Result<Self, Self::Rejection> {
        Ok(Filters(query_pairs(parts)?))
    }
}

impl Filters {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }

    fn jurisdiction(&self) -> Result<Option<Jurisdiction>, ApiError> {
        self.get("jurisdiction")
            .map(|text| {
                text.parse().map_err(|error: domain::UnknownName| {
                    ApiError::bad_request("invalid_query", error.to_string())
                })
            })
            .transpose()
    }

    /// Keeps the rows whose `field` is the filter's value (as CSV writes it), when the filter is given.
    fn keep(&self, name: &str, field: &str, rows: &mut Vec<Value>) {
        if let Some(wanted) = self.get(name) {
            rows.retain(|row| projections::csv::cell(&row[field]) == wanted);
        }
    }
}

fn jurisdiction_of(row: &Value) -> Option<Jurisdiction> {
    serde_json::from_value(row["jurisdiction"].clone()).ok()
}

fn credit_code_of(row: &Value, field: &str) -> Option<domain::CreditCode> {
    row[field].as_str().and_then(|text| domain::CreditCode::parse(text).ok())
}

/// The event's fields as JSON, without the variant's name.
pub fn payload(event: &Event) -> Value {
    match to_json(event) {
        Value::Object(mut tagged) if tagged.len() == 1 => {
            tagged.remove(event.event_type()).unwrap_or(Value::Object(tagged))
        }
        other => other,
    }
}

/// One record of a trail: its place in the chain and what it says.
pub fn entry_json(entry: &Entry) -> Value {
    entry_json_as(entry, Access::Full)
}

/// One record of a trail as a reader with `access` sees it: anonymised, without its actor.
fn entry_json_as(entry: &Entry, access: Access) -> Value {
    let actor = if access == Access::Anonymised {
        json!({ "subject": null, "role": null })
    } else {
        json!({ "subject": entry.actor_subject, "role": entry.actor_role })
    };
    json!({
        "position": entry.position,
        "stream": entry.stream,
        "stream_version": entry.stream_version,
        "type": entry.event.event_type(),
        "hash": hex::encode(entry.hash),
        "prev_hash": hex::encode(entry.prev_hash),
        "business_date": entry.business_date,
        "recorded_at": entry.recorded_at,
        "actor": actor,
        "payload": payload(&entry.event),
    })
}

/// The records of a trail that `actor` may see, each with how ([`record_access`], the one rule the feed
/// uses too). A hidden record is left out, not replaced by a placeholder: a trail is an excerpt of the log
/// (its positions have gaps anyway, and the chain is checked on the whole log), and a placeholder would
/// still tell a party that, say, an audit sample drew its contract.
fn visible<'a>(
    actor: &domain::Actor,
    projections: &Projections,
    trail: &[&'a Entry],
) -> Vec<(&'a Entry, Access)> {
    trail
        .iter()
        .filter_map(|entry| match record_access(actor, &entry.event, projections) {
            Access::Hidden => None,
            access => Some((*entry, access)),
        })
        .collect()
}

/// The records at `positions` (ascending), read back from the log as trail entries: consecutive positions
/// in one read.
///
/// # Errors
/// 503 `unavailable` when the log cannot be read; 500 `log_unreadable` when a record does not decode or is
/// not at its position (`verify` says more).
async fn read_entries(log: &dyn store::EventLog, positions: &[u64]) -> Result<Vec<Entry>, ApiError> {
    let unreadable = |position: u64, reason: String| {
        tracing::error!(position, %reason, "a trail's record could not be read back");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "log_unreadable",
            format!("the record at position {position} could not be read back: {reason}"),
        )
    };
    let mut entries = Vec::with_capacity(positions.len());
    let mut rest = positions;
    while let Some(&first) = rest.first() {
        let run = rest.iter().zip(first..).take_while(|(position, expected)| **position == *expected).count();
        let records = read_run(log, first, run).await?;
        if records.len() != run {
            return Err(unreadable(first, format!("{} of {run} records read", records.len())));
        }
        for (record, position) in records.iter().zip(first..) {
            let recorded = ledger_proto::decode_record(record)
                .map_err(|error| unreadable(position, error.to_string()))?;
            if recorded.position != position {
                return Err(unreadable(position, format!("the log answered position {}", recorded.position)));
            }
            entries.push(Entry::of(&recorded));
        }
        rest = &rest[run..];
    }
    Ok(entries)
}

/// `max` records from `from`, a store failure as 503.
async fn read_run(
    log: &dyn store::EventLog,
    from: u64,
    max: usize,
) -> Result<Vec<store::StoredRecord>, ApiError> {
    log.read_batch(from, max).await.map_err(|error| {
        tracing::error!(%error, from, "reading a trail from the log failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the log could not be read: {error}"),
        )
    })
}

/// How many times a trail is read again when the live read models moved it while it was being read.
const TRAIL_ATTEMPTS: usize = 5;

/// A trail rendered with the read models it belongs to: `select` checks access and names the trail's
/// positions under one read of the models, the records are read from the log (the model keeps positions
/// only), and `render` runs under a second read that selects again: when the live models have moved the
/// trail in between (a new record about it), the new records are read and the answer is made again, so
/// the trail and the rest of the answer are of one position.
async fn with_trail<T>(
    app: &App,
    snapshot: &Snapshot,
    select: impl Fn(&Projections) -> Result<Vec<u64>, ApiError>,
    render: impl Fn(&Projections, &[&Entry]) -> T,
) -> Result<T, ApiError> {
    let mut read: BTreeMap<u64, Entry> = BTreeMap::new();
    let mut positions = snapshot.read(&select)?;
    for attempt in 1..=TRAIL_ATTEMPTS {
        let missing: Vec<u64> =
            positions.iter().copied().filter(|position| !read.contains_key(position)).collect();
        for entry in read_entries(app.log.as_ref(), &missing).await? {
            read.insert(entry.position, entry);
        }
        let answer = snapshot.read(|projections| {
            let now = select(projections)?;
            if now != positions && attempt < TRAIL_ATTEMPTS {
                return Ok(Err(now));
            }
            let trail: Vec<&Entry> = now.iter().filter_map(|position| read.get(position)).collect();
            Ok::<_, ApiError>(Ok(render(projections, &trail)))
        })?;
        match answer {
            Ok(rendered) => return Ok(rendered),
            Err(now) => positions = now,
        }
    }
    // Unreachable: the last attempt renders whatever it has.
    Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the trail kept moving; try again"))
}

/// Vouchers with their balances, in issuance order: those the caller may read, filtered by `jurisdiction`,
/// `applicant` or `batch_id`. As CSV, one row per voucher.
#[utoipa::path(get, path = "/v1/vouchers", security(("bearer" = [])),
    params(super::read::ReadParams, ("jurisdiction" = Option<String>, Query), ("applicant" = Option<String>, Query), ("batch_id" = Option<String>, Query)),
    responses((status = 200, description = "vouchers [{voucher_id, batch_id, applicant, face_value, available, committed, ...}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn vouchers(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    let jurisdiction = filters.jurisdiction()?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::vouchers(projections);
        rows.retain(|row| {
            let (Some(row_jurisdiction), owner) = (jurisdiction_of(row), credit_code_of(row, "applicant"))
            else {
                return false;
            };
            may_read(&actor, row_jurisdiction, owner.as_ref())
                && jurisdiction.is_none_or(|j| j == row_jurisdiction)
        });
        filters.keep("applicant", "applicant", &mut rows);
        filters.keep("batch_id", "batch_id", &mut rows);
        json!({ "vouchers": rows, "position": projections.position() })
    });
    Ok(respond(options.format, body, Rows::Field("vouchers")))
}

/// Every batch with what it issued and what remains, in publication order (batch guides are public to every
/// authenticated party). As CSV, one row per batch.
#[utoipa::path(get, path = "/v1/batches", security(("bearer" = [])), params(super::read::ReadParams, ("jurisdiction" = Option<String>, Query)),
    responses((status = 200, description = "batches [...], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn batches(
    State(app): State<App>,
    Authenticated(_actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    filters.jurisdiction()?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::batches(projections);
        filters.keep("jurisdiction", "jurisdiction", &mut rows);
        json!({ "batches": rows, "position": projections.position() })
    });
    Ok(respond(options.format, body, Rows::Field("batches")))
}

/// Every budget the caller may read (its jurisdiction's, or all for auditors). As CSV, one row per budget.
#[utoipa::path(get, path = "/v1/budgets", params(super::read::ReadParams), security(("bearer" = [])),
    responses((status = 200, description = "budgets [{jurisdiction, fiscal_year, appropriated, available, ...}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn budgets(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::budgets(projections);
        rows.retain(|row| jurisdiction_of(row).is_some_and(|j| may_read(&actor, j, None)));
        json!({ "budgets": rows, "position": projections.position() })
    });
    Ok(respond(options.format, body, Rows::Field("budgets")))
}

/// A provider's money: services completed, returned to the budget, disbursed, clawed back and recovered,
/// and its open receivable. Readable by the provider, staff of its jurisdiction and auditors.
#[utoipa::path(get, path = "/v1/providers/{credit_code}/balance", params(super::read::ReadParams, ("credit_code" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "provider, name, jurisdiction (of admission), the totals over the jurisdictions it was paid in: completed, returned, disbursed, clawed_back, recovered, receivable; and by_jurisdiction: the same figures per jurisdiction"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn provider_balance(
    State(app): State<App>,
    Path(credit_code): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let credit_code = credit_code_path(&credit_code)?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let jurisdiction = projections
            .lifecycle
            .provider(&credit_code)
            .map(|view| view.application.jurisdiction)
            .or_else(|| projections.balances.provider(&credit_code).map(|(view, _)| view.jurisdiction))
            .filter(|jurisdiction| may_read(&actor, *jurisdiction, Some(&credit_code)))
            .ok_or_else(|| super::queries::provider_not_found(&credit_code))?;
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

/// A voucher's full history in log order: its issue and expiry, and every record about the contracts it
/// paid for, their redemptions, announcements, objections, disbursements, clawbacks and audit findings,
/// each with its position, stream, hash and previous hash. Readable like the voucher. As CSV, one row per
/// record.
#[utoipa::path(get, path = "/v1/vouchers/{voucher_id}/history", params(super::read::ReadParams, ("voucher_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "voucher_id, records [{position, stream, type, hash, prev_hash, business_date, recorded_at, actor, payload}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn voucher_history(
    State(app): State<App>,
    Path(voucher_id): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let voucher_id = uuid_path(&voucher_id)?;
    let snapshot = snapshot(&app, &options).await?;
    let select = |projections: &Projections| {
        let (view, _, _) = projections.balances.voucher(voucher_id).ok_or_else(|| {
            ApiError::not_found("voucher_not_found", format!("voucher {voucher_id} does not exist"))
        })?;
        require_read(&actor, view.jurisdiction, Some(&view.applicant))?;
        Ok(projections.history.voucher(voucher_id).unwrap_or_default())
    };
    let body = with_trail(&app, &snapshot, select, |projections, trail| {
        let records: Vec<Value> = visible(&actor, projections, trail)
            .into_iter()
            .map(|(entry, access)| entry_json_as(entry, access))
            .collect();
        json!({
            "voucher_id": voucher_id,
            "records": records,
            "position": projections.position(),
        })
    })
    .await?;
    Ok(respond(options.format, body, Rows::Field("records")))
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
    Path(contract_id): Path<String>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
) -> Result<Response, ApiError> {
    let contract_id = uuid_path(&contract_id)?;
    let snapshot = snapshot(&app, &options).await?;
    let select = |projections: &Projections| {
        let view = projections.lifecycle.contract(contract_id).ok_or_else(|| {
            ApiError::not_found("contract_not_found", format!("contract {contract_id} does not exist"))
        })?;
        if !super::queries::may_read_contract(&actor, &view.terms) {
            return Err(super::queries::forbidden_read(&actor));
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

/// Redemptions by state (`?status=requested|approved|announced|payable|disbursed|rejected|struck|denied`),
/// optionally of one `jurisdiction` or `provider`, with the count of each status: those the caller may read
/// (auditors all, staff their jurisdiction's, a provider its own). As CSV, one row per redemption.
#[utoipa::path(get, path = "/v1/redemptions", security(("bearer" = [])),
    params(super::read::ReadParams, ("status" = Option<String>, Query), ("jurisdiction" = Option<String>, Query), ("provider" = Option<String>, Query)),
    responses((status = 200, description = "status, counts {status: n}, redemptions [...], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn redemptions(
    State(app): State<App>,
    Authenticated(actor): Authenticated,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    let jurisdiction = filters.jurisdiction()?;
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows: Vec<Value> = projections
            .lifecycle
            .redemptions()
            .into_iter()
            .filter(|view| {
                let applicant = projections
                    .lifecycle
                    .contract(view.contract_id)
                    .map(|contract| &contract.terms.applicant);
                (may_read(&actor, view.jurisdiction, Some(&view.provider))
                    || may_read(&actor, view.jurisdiction, applicant))
                    && jurisdiction.is_none_or(|j| j == view.jurisdiction)
            })
            .map(to_json)
            .collect();
        filters.keep("provider", "provider", &mut rows);
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for row in &rows {
            *counts.entry(projections::csv::cell(&row["status"])).or_default() += 1;
        }
        filters.keep("status", "status", &mut rows);
        json!({
            "status": filters.get("status"),
            "counts": counts,
            "redemptions": rows,
            "position": projections.position(),
        })
    });
    Ok(respond(options.format, body, Rows::Field("redemptions")))
}

/// The public list of redemption announcement lists, in publication order: public, no token needed.
/// `?jurisdiction=` and `?open=true|false` filter it. As CSV, one row per list.
#[utoipa::path(get, path = "/v1/announcements",
    params(super::read::ReadParams, ("jurisdiction" = Option<String>, Query), ("open" = Option<bool>, Query)),
    responses((status = 200, description = "announcements [{announcement_id, jurisdiction, announced_on, closes_on, closed, item_count, ...}], position"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn announcements(
    State(app): State<App>,
    options: ReadOptions,
    filters: Filters,
) -> Result<Response, ApiError> {
    filters.jurisdiction()?;
    let open = match filters.get("open") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("open {other:?} is not true or false"),
            ));
        }
    };
    let body = snapshot(&app, &options).await?.read(|projections| {
        let mut rows = views::announcements(projections);
        filters.keep("jurisdiction", "jurisdiction", &mut rows);
        if let Some(open) = open {
            rows.retain(|row| row["closed"].as_bool() == Some(!open));
        }
        json!({ "announcements": rows, "position": projections.position() })
    });
    Ok(respond(options.format, body, Rows::Field("announcements")))
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
        _ => return Err(super::queries::forbidden_read(&actor)),
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
