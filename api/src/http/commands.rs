//! What every command route shares: the one extractor of a command request (caller, typed path, strict
//! body, idempotency key) and the answer (the events recorded and the log position). The routes themselves
//! live in their resource's file.

use std::marker::PhantomData;

use axum::Json;

use axum::body::Bytes;

use axum::extract::{FromRequest, Request};

use axum::http::{HeaderValue, StatusCode};

use axum::response::{IntoResponse, Response};

use domain::{Actor, Command, Event};

use serde::de::DeserializeOwned;

use serde::{Deserialize, Serialize};

use serde_json::{Map, Value};

use utoipa::ToSchema;

use super::extract::{
    Authenticated, Caller, PathParams, idempotency_key_value, parse_body, raw_path_values, request_digest,
};

use super::app::App;
use super::idempotency;

use crate::error::ApiError;

use engine::writer::Committed;

/// A command request: the caller (`A`, a bearer token by default), the path's parameters parsed into `P`,
/// the body parsed strictly into `B`, and what [`Submitter::execute`] needs to hand the command to the
/// writer with its idempotency key.
///
/// They are read in this order, so that the first problem is the one answered: the caller (401), the body's
/// size (413), the path (400 `invalid_path`, `invalid_credit_code`), the body (400 `invalid_json`,
/// `invalid_amount`, ...); the `Idempotency-Key` is checked when the command is submitted.
pub struct CommandRequest<B, P = (), A = Authenticated> {
    pub path: P,
    pub body: B,
    pub submitter: Submitter,
    pub caller: PhantomData<A>,
}

/// What submits a parsed command request: its actor, its key and its exact body bytes.
pub struct Submitter {
    actor: Actor,
    key: Option<HeaderValue>,
    raw: Bytes,
}

impl<B, P, A> FromRequest<App> for CommandRequest<B, P, A>
where
    B: DeserializeOwned,
    P: PathParams,
    A: Caller,
{
    type Rejection = Response;

    async fn from_request(request: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let values = if P::COUNT == 0 { Vec::new() } else { raw_path_values(&mut parts, app).await? };
        let actor =
            A::from_request_parts(&mut parts, app).await.map_err(IntoResponse::into_response)?.actor();
        let key = parts.headers.get("idempotency-key").cloned();
        let raw = Bytes::from_request(Request::from_parts(parts, body), app)
            .await
            .map_err(IntoResponse::into_response)?;
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let path = P::parse(&values).map_err(IntoResponse::into_response)?;
        let body = parse_body(&raw).map_err(IntoResponse::into_response)?;
        Ok(CommandRequest { path, body, submitter: Submitter { actor, key, raw }, caller: PhantomData })
    }
}

impl Submitter {
    /// Who submits.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Submits `command` and renders the answer: `status` with the events recorded and the log position,
    /// plus the fields of the command's main event at the top level (e.g. `voucher_id`, `face_value`). The
    /// idempotency key is bound to the command's route ([`idempotency::route`]) and the exact body.
    ///
    /// # Errors
    /// 400 `invalid_idempotency_key`; the writer's refusals.
    pub async fn execute(
        self,
        app: &App,
        command: Command,
        status: StatusCode,
    ) -> Result<Response, ApiError> {
        let key = idempotency_key_value(self.key.as_ref())?;
        let route = idempotency::route(&command).unwrap_or_default();
        let digest = request_digest(&route, &self.raw);
        let committed = app.writer.submit(command, self.actor, key, digest).await?;
        Ok((status, Json(committed_json(&committed))).into_response())
    }
}

/// The JSON answer to an accepted command.
pub fn committed_json(committed: &Committed) -> Value {
    let mut answer = Map::new();
    // Each event's fields are rendered once; the first event's are also the answer's top level.
    let events: Vec<Value> = committed
        .events
        .iter()
        .enumerate()
        .map(|(index, recorded)| {
            let data = event_fields(&recorded.event).unwrap_or(Value::Null);
            if index == 0
                && let Value::Object(fields) = &data
            {
                answer.extend(fields.iter().map(|(name, value)| (name.clone(), value.clone())));
            }
            serde_json::json!({
                "position": recorded.position,
                "hash": hex::encode(recorded.hash),
                "stream": recorded.stream,
                "stream_version": recorded.stream_version,
                "type": recorded.event.event_type(),
                "data": data,
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

/// A body with no fields (`{}` or nothing).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

/// A body with a reason only (a suspension, a contract's rejection or cancellation).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}
