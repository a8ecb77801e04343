//! What every projection query shares: the read options (`as_of_position`, `as_of_date`, `format`), the
//! snapshot of the read models they select (the live ones, or a rebuild as the ledger stood then), and the
//! answer as JSON or CSV; and who may read what (the read rules of the query routes).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::{CreditCode, Jurisdiction, Role};
use projections::Projections;
use serde_json::Value;

use super::app::App;
use crate::error::ApiError;
use engine::replay::AsOfError;

/// How an answer is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    /// `text/csv`: asked with `Accept: text/csv` or `?format=csv`; with `bom` (`?bom=true`) the body starts
    /// with a UTF-8 byte-order mark, so that Excel and WPS read it as UTF-8 (without one they read GBK on a
    /// Chinese Windows).
    Csv {
        bom: bool,
    },
    /// An XLSX workbook of one sheet ([`crate::xlsx`]): asked with `?format=xlsx` or `Accept:` its media type.
    Xlsx,
}

/// Which state of the ledger a query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// The ledger now.
    Now,
    /// The first N records (`?as_of_position=N`).
    Position(u64),
    /// As the ledger stood at the end of a business date (`?as_of_date=YYYY-MM-DD`).
    EndOf(NaiveDate),
}

/// The read options every projection query accepts, as the OpenAPI document describes them (they are read
/// by [`ReadOptions`]).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// Answer as the ledger stood after the first N records.
    pub as_of_position: Option<u64>,
    /// Answer as the ledger stood at the end of this business date (YYYY-MM-DD).
    pub as_of_date: Option<String>,
    /// `json` (the default), `csv` (also asked with `Accept: text/csv`) or `xlsx` (also asked with `Accept:
    /// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`): the rows as a spreadsheet with
    /// typed cells.
    pub format: Option<String>,
    /// `true`: the CSV starts with a UTF-8 byte-order mark (for Excel and WPS); only with CSV. Default `false`.
    pub bom: Option<bool>,
}

/// The read options of a projection query, from its query string and `Accept` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    pub as_of: AsOf,
    pub format: Format,
    /// Who asks for a past state: the key of the token's whole identity (role, jurisdiction, credit code,
    /// subject), which the as-of queue limits per caller. `None` without as-of.
    pub caller: Option<String>,
}

impl ReadOptions {
    /// Reads the options from a query string's pairs and the request's headers.
    ///
    /// # Errors
    /// 400 `invalid_query` for a position that is not a number, a date that is not `YYYY-MM-DD`, both at
    /// once, a format other than `json`, `csv` or `xlsx`, a `bom` other than `true` or `false`, or
    /// `bom=true` with a format other than CSV.
    pub fn parse(pairs: &HashMap<String, String>, headers: &HeaderMap) -> Result<ReadOptions, ApiError> {
        let position = pairs.get("as_of_position").map(|text| {
            text.parse::<u64>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("as_of_position {text:?} is not a log position"),
                )
            })
        });
        let date = pairs.get("as_of_date").map(|text| {
            text.parse::<NaiveDate>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("as_of_date {text:?} is not a YYYY-MM-DD date"),
                )
            })
        });
        let as_of = match (position, date) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    "give as_of_position or as_of_date, not both",
                ));
            }
            (Some(position), None) => AsOf::Position(position?),
            (None, Some(date)) => AsOf::EndOf(date?),
            (None, None) => AsOf::Now,
        };
        let bom = match pairs.get("bom").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("bom {other:?} is not true or false"),
                ));
            }
        };
        let format = match pairs.get("format").map(String::as_str) {
            Some("csv") => Format::Csv { bom },
            Some("json") => Format::Json,
            Some("xlsx") => Format::Xlsx,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("format {other:?} is not json, csv or xlsx"),
                ));
            }
            None if accepts(headers, "text/csv") => Format::Csv { bom },
            None if accepts(headers, crate::xlsx::MEDIA_TYPE) => Format::Xlsx,
            None => Format::Json,
        };
        if bom && !matches!(format, Format::Csv { .. }) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "bom=true puts a byte-order mark at the start of CSV: ask for CSV with it (format=csv or \
                 Accept: text/csv)",
            ));
        }
        Ok(ReadOptions { as_of, format, caller: None })
    }
}

/// True when the `Accept` header names `media_type`.
pub fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.split(';').next().is_some_and(|name| name.trim().eq_ignore_ascii_case(media_type)))
}

/// The query string's pairs.
///
/// # Errors
/// 400 `invalid_query` when it does not parse.
pub fn query_pairs(parts: &Parts) -> Result<HashMap<String, String>, ApiError> {
    Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
        .map(|Query(pairs)| pairs)
        .map_err(|error| ApiError::bad_request("invalid_query", error.body_text()))
}

impl FromRequestParts<App> for ReadOptions {
    type Rejection = ApiError;

    /// An as-of query needs a token (anonymous callers read the ledger now only: a rebuild is costly), and
    /// its caller is named for the queue's limit per caller.
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let mut options = ReadOptions::parse(&query_pairs(parts)?, &parts.headers)?;
        if options.as_of != AsOf::Now {
            if !parts.headers.contains_key(header::AUTHORIZATION) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "as_of_needs_token",
                    "as_of_position and as_of_date need a bearer token; without one, the ledger is read as it \
                     stands now",
                ));
            }
            let super::extract::Authenticated(actor) =
                super::extract::Authenticated::from_request_parts(parts, app).await?;
            options.caller = Some(caller_key(&actor));
        }
        Ok(options)
    }
}

/// The key of an actor's whole identity: role, jurisdiction, credit code and subject.
pub fn caller_key(actor: &domain::Actor) -> String {
    format!(
        "{}|{}|{}|{}",
        actor.role,
        actor.jurisdiction.map(|j| j.as_str()).unwrap_or_default(),
        actor.credit_code.as_ref().map(domain::CreditCode::as_str).unwrap_or_default(),
        actor.subject
    )
}

/// The read models a query reads: the live ones (under their lock, briefly) or a past rebuild.
pub enum Snapshot {
    Live(Arc<RwLock<Projections>>),
    Past(Arc<Projections>),
}

impl Snapshot {
    /// Runs `read` over the read models. The live models are read-locked only for the call, so the writer
    /// waits at most that long to apply its next commit.
    pub fn read<T>(&self, read: impl FnOnce(&Projections) -> T) -> T {
        match self {
            Snapshot::Live(lock) => read(&lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())),
            Snapshot::Past(projections) => read(projections),
        }
    }
}

/// The read models as of the options' `as_of`.
///
/// # Errors
/// 400 `invalid_query` for a position past the head; 429 `as_of_caller_limit` when the caller already has
/// its share of rebuilds waiting, `as_of_queue_full` when the queue is full (both with `Retry-After`); 503
/// when the log cannot be read for a rebuild.
pub async fn snapshot(app: &App, options: &ReadOptions) -> Result<Snapshot, ApiError> {
    let as_of = options.as_of;
    let live = Snapshot::Live(app.shared.projections.clone());
    let (position, live_position) = match as_of {
        AsOf::Now => return Ok(live),
        AsOf::Position(position) => (position, live.read(Projections::position)),
        AsOf::EndOf(date) => live.read(|p| (p.timeline.position_at_end_of(date), p.position())),
    };
    if position == live_position {
        return Ok(live);
    }
    if position > live_position {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("as_of_position {position} is past the head of the log ({live_position})"),
        ));
    }
    let caller = options.caller.as_deref().unwrap_or("");
    let projections =
        app.as_of.at_for(app.log.as_ref(), position, caller).await.map_err(|error| match error {
            AsOfError::CallerLimit { .. } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "as_of_caller_limit", error.to_string())
            }
            AsOfError::QueueFull { .. } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "as_of_queue_full", error.to_string())
            }
            AsOfError::Replay(error) => {
                tracing::error!(%error, position, "as-of rebuild failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    format!("the log could not be read: {error}"),
                )
            }
        })?;
    Ok(Snapshot::Past(projections))
}

/// Which part of an answer's JSON is its table.
#[derive(Clone, Copy, Debug)]
pub enum Rows<'a> {
    /// The answer is one row: its top-level fields.
    Object,
    /// The rows are the array in this field.
    Field(&'a str),
}

/// The rows of `body` as CSV reads them.
pub fn rows_of(body: &Value, rows: Rows<'_>) -> Vec<Value> {
    match rows {
        Rows::Object => vec![body.clone()],
        Rows::Field(field) => body.get(field).and_then(Value::as_array).cloned().unwrap_or_default(),
    }
}

/// The sheet name of an answer's rows in XLSX: the field that holds them, or `answer` for a one-row answer.
fn sheet_name(rows: Rows<'_>) -> &str {
    match rows {
        Rows::Object => "answer",
        Rows::Field(field) => field,
    }
}

/// The answer: `body` as JSON, or its rows as `text/csv` (after a byte-order mark when asked), or as an
/// XLSX workbook (typed cells: [`crate::xlsx`]).
pub fn respond(format: Format, body: Value, rows: Rows<'_>) -> Response {
    match format {
        Format::Json => axum::Json(body).into_response(),
        Format::Csv { bom } => {
            let mut text = if bom { String::from(projections::csv::BOM) } else { String::new() };
            text.push_str(&projections::csv::to_string(&rows_of(&body, rows)));
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response()
        }
        Format::Xlsx => {
            let name = sheet_name(rows);
            match crate::xlsx::workbook(&[crate::xlsx::Sheet { name, rows: &rows_of(&body, rows) }]) {
                Ok(bytes) => {
                    let disposition = format!("attachment; filename=\"{name}.xlsx\"");
                    (
                        [
                            (header::CONTENT_TYPE, crate::xlsx::MEDIA_TYPE.to_owned()),
                            (header::CONTENT_DISPOSITION, disposition),
                        ],
                        bytes,
                    )
                        .into_response()
                }
                Err(error) => ApiError::from(error).into_response(),
            }
        }
    }
}

/// `view` as JSON (`Null` only if a view cannot be serialized, which the derived impls rule out).
pub use crate::views::to_json;

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

/// The query string's filters (every pair; each route reads the ones it knows).
pub struct Filters(pub HashMap<String, String>);

impl axum::extract::FromRequestParts<App> for Filters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _app: &App) -> Result<Self, Self::Rejection> {
        Ok(Filters(query_pairs(parts)?))
    }
}

impl Filters {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }

    pub fn jurisdiction(&self) -> Result<Option<Jurisdiction>, ApiError> {
        self.get("jurisdiction")
            .map(|text| {
                text.parse().map_err(|error: domain::UnknownName| {
                    ApiError::bad_request("invalid_query", error.to_string())
                })
            })
            .transpose()
    }

    /// Keeps the rows whose `field` is the filter's value (as CSV writes it), when the filter is given.
    pub fn keep(&self, name: &str, field: &str, rows: &mut Vec<Value>) {
        if let Some(wanted) = self.get(name) {
            rows.retain(|row| projections::csv::cell(&row[field]) == wanted);
        }
    }
}

pub fn jurisdiction_of(row: &Value) -> Option<Jurisdiction> {
    serde_json::from_value(row["jurisdiction"].clone()).ok()
}

pub fn credit_code_of(row: &Value, field: &str) -> Option<domain::CreditCode> {
    row[field].as_str().and_then(|text| domain::CreditCode::parse(text).ok())
}
