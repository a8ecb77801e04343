//! The event feed: `GET /v1/events?from=POSITION` streams the recorded events in log order as NDJSON (or as
//! server-sent events with `Accept: text/event-stream`) and then follows the log as commands commit, so that
//! read models can live outside the process (`api/examples/feed_consumer.rs`).
//!
//! The feed reads the log itself (`App::log`), never the writer's memory: it sends exactly the records
//! stored, up to the durable head the writer publishes on its `watch` channel, and waits on that channel
//! for more. A slow client therefore only lags, it never makes the writer wait or loses records, and a
//! client that reconnects with `from` (or SSE's `Last-Event-ID`) resumes where it stopped.
//!
//! Each reader gets only the records it may read, by the one rule of [`super::access::record_access`] (a
//! bureau its jurisdiction's records and the province's policy and calendar, auditors all). A record left out
//! leaves a gap in the positions, which stay the log's, so resuming from the last position seen is right.
//! An open feed ends when its token expires, with a last line saying so and where to resume.

use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use domain::Actor;
use futures::StreamExt;
use ledger_proto::Recorded;
use projections::Projections;
use serde_json::{Value, json};
use store::{EventLog, Head};
use tokio::sync::watch;

use super::access::{Access, record_access};
use super::app::App;
use super::extract::AuthenticatedUntil;
use super::read::{accepts, query_pairs};
use crate::error::{ApiError, Problem};

/// Records read from the log per chunk sent.
const FEED_BATCH: usize = 512;

/// The feed's options: where to start and whether to follow live appends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedOptions {
    /// The first position sent (1 when not given).
    pub from: u64,
    /// False with `?follow=false`: the feed ends at the head it reached.
    pub follow: bool,
    /// Server-sent events instead of NDJSON.
    pub sse: bool,
}

impl axum::extract::FromRequestParts<App> for FeedOptions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _app: &App) -> Result<Self, Self::Rejection> {
        let pairs = query_pairs(parts)?;
        let number = |name: &str, text: &str| {
            text.parse::<u64>().map_err(|_| {
                ApiError::bad_request("invalid_query", format!("{name} {text:?} is not a log position"))
            })
        };
        let mut from = pairs.get("from").map(|text| number("from", text)).transpose()?.unwrap_or(1);
        // An SSE client reconnecting says the last event it saw.
        if let Some(last) = parts.headers.get("last-event-id").and_then(|value| value.to_str().ok()) {
            from = number("Last-Event-ID", last)?.saturating_add(1);
        }
        let follow = match pairs.get("follow").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("follow {other:?} is not true or false"),
                ));
            }
        };
        Ok(FeedOptions { from: from.max(1), follow, sse: accepts(&parts.headers, "text/event-stream") })
    }
}

/// One record as the feed sends it.
pub fn feed_line(record: &Recorded) -> Value {
    feed_line_as(record, Access::Full)
}

/// One record as a reader with `access` to it sees it: anonymised, without who made it (actor and
/// correlation id).
fn feed_line_as(record: &Recorded, access: Access) -> Value {
    let actor = &record.meta.actor;
    let anonymised = access == Access::Anonymised;
    let (actor, correlation_id) = if anonymised {
        (json!({ "subject": null, "role": null, "jurisdiction": null, "credit_code": null }), Value::Null)
    } else {
        (
            json!({
                "subject": actor.subject,
                "role": actor.role,
                "jurisdiction": actor.jurisdiction,
                "credit_code": actor.credit_code,
            }),
            json!(record.meta.correlation_id),
        )
    };
    json!({
        "position": record.position,
        "stream": record.meta.stream,
        "stream_version": record.meta.stream_version,
        "type": record.event_type(),
        "hash": hex::encode(record.hash),
        "prev_hash": hex::encode(record.prev_hash),
        "business_date": record.meta.business_date,
        "recorded_at": record.meta.recorded_at,
        "actor": actor,
        "correlation_id": correlation_id,
        "ends_command": record.ends_command,
        "payload": ledger_proto::event_payload_json(&record.event),
    })
}

/// Where a feed stands between chunks.
struct Cursor {
    log: Arc<dyn EventLog>,
    head: watch::Receiver<Head>,
    closing: watch::Receiver<bool>,
    next: u64,
    follow: bool,
    failed: bool,
    /// The reader, whose access to each record decides whether it is sent.
    actor: Actor,
    /// The live read models, which name the jurisdiction and parties of the records an id names.
    projections: Arc<RwLock<Projections>>,
    /// When the reader's token expires: the feed ends then.
    expires: tokio::time::Instant,
}

/// One record as sent: its position, type and line.
struct Line {
    position: u64,
    event_type: &'static str,
    line: Value,
}

/// What the feed sends next: records, or an error line before it ends.
enum Chunk {
    Records(Vec<Line>),
    Failed(String),
    /// The token expired; the reader may resume at this position with a fresh one.
    Expired(u64),
}

/// When a token whose `exp` is `expires_unix` expires, on the runtime's clock.
fn expiry_instant(expires_unix: i64) -> tokio::time::Instant {
    let left = expires_unix.saturating_sub(chrono::Utc::now().timestamp());
    let left = std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0));
    let now = tokio::time::Instant::now();
    now.checked_add(left).unwrap_or(now + std::time::Duration::from_secs(u64::from(u32::MAX)))
}

/// Resolves when the server starts shutting down (never, for an app served without `server::serve`).
async fn closed(mut closing: watch::Receiver<bool>) {
    if closing.wait_for(|closing| *closing).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Cursor {
    /// The lines of the records the reader may read, as it may read them (one read of the live models).
    fn readable(&self, records: &[Recorded]) -> Vec<Line> {
        let projections = self.projections.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        records
            .iter()
            .filter_map(|record| match record_access(&self.actor, &record.event, &projections) {
                Access::Hidden => None,
                access => Some(Line {
                    position: record.position,
                    event_type: record.event_type(),
                    line: feed_line_as(record, access),
                }),
            })
            .collect()
    }

    /// The next chunk: records up to the durable head that the reader may read, waiting for appends when
    /// following; `None` at the end (the head reached without following, the writer gone, or the server
    /// shutting down). When the token has expired the chunk says so and the feed ends.
    async fn next_chunk(&mut self) -> Option<Chunk> {
        if self.failed {
            return None;
        }
        loop {
            if tokio::time::Instant::now() >= self.expires {
                self.failed = true;
                return Some(Chunk::Expired(self.next));
            }
            let head = self.head.borrow_and_update().position;
            if self.next <= head {
                let want = usize::try_from(head - self.next + 1).unwrap_or(FEED_BATCH).min(FEED_BATCH);
                let batch = match self.log.read_batch(self.next, want).await {
                    Ok(batch) => batch,
                    Err(error) => {
                        self.failed = true;
                        return Some(Chunk::Failed(format!("the log could not be read: {error}")));
                    }
                };
                let mut records = Vec::with_capacity(batch.len());
                for stored in &batch {
                    match ledger_proto::decode_record(stored) {
                        Ok(record) => records.push(record),
                        Err(error) => {
                            self.failed = true;
                            return Some(Chunk::Failed(format!("position {}: {error}", stored.position)));
                        }
                    }
                }
                if !records.is_empty() {
                    self.next += records.len() as u64;
                    let lines = self.readable(&records);
                    if !lines.is_empty() {
                        return Some(Chunk::Records(lines));
                    }
                    // Nothing here for this reader: read on.
                    continue;
                }
            }
            if !self.follow {
                return None;
            }
            tokio::select! {
                changed = self.head.changed() => if changed.is_err() { return None },
                () = closed(self.closing.clone()) => return None,
                () = tokio::time::sleep_until(self.expires) => {}
            }
        }
    }
}

/// The feed of recorded events from `from` on, in order, following live appends (unless `follow=false`).
/// Each NDJSON line (or SSE event's data, with the position as its id and the type as its event name) has
/// `position`, `stream`, `stream_version`, `type`, `hash`, `prev_hash` (hex), `business_date`,
/// `recorded_at`, `actor`, `correlation_id`, `ends_command` and `payload` (the event's fields as JSON).
/// Auditors (every record) and the bureau (its jurisdiction's records, and the policy and calendar) only;
/// the positions are the log's, with gaps where a record is not the reader's. A line `{"error": ...}` ends a
/// feed that could not go on; when the token expires the last line is `{"error", "code": "token_expired",
/// "next": POSITION}` (resume from `next` with a fresh token).
#[utoipa::path(get, path = "/v1/events", security(("bearer" = [])),
    params(("from" = Option<u64>, Query), ("follow" = Option<bool>, Query)),
    responses((status = 200, description = "application/x-ndjson, or text/event-stream when accepted"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn events(
    State(app): State<App>,
    AuthenticatedUntil(actor, expires): AuthenticatedUntil,
    options: FeedOptions,
) -> Result<Response, ApiError> {
    if !matches!(actor.role, domain::Role::Auditor | domain::Role::Bureau) {
        return Err(ApiError::forbidden(format!("role {} may not read the event feed", actor.role)));
    }
    let cursor = Cursor {
        log: app.log.clone(),
        head: app.shared.head.clone(),
        closing: app.closing.clone(),
        next: options.from,
        follow: options.follow,
        failed: false,
        actor,
        projections: app.shared.projections.clone(),
        expires: expiry_instant(expires),
    };
    let chunks = futures::stream::unfold(cursor, |mut cursor| async move {
        let chunk = cursor.next_chunk().await?;
        Some((chunk, cursor))
    });
    if options.sse {
        let events = chunks.flat_map(|chunk| {
            let events: Vec<SseEvent> = match chunk {
                Chunk::Records(lines) => lines
                    .iter()
                    .map(|line| {
                        SseEvent::default()
                            .id(line.position.to_string())
                            .event(line.event_type)
                            .data(line.line.to_string())
                    })
                    .collect(),
                Chunk::Failed(error) => {
                    vec![SseEvent::default().event("error").data(json!({ "error": error }).to_string())]
                }
                Chunk::Expired(next) => {
                    vec![SseEvent::default().event("error").data(expired_line(next).to_string())]
                }
            };
            futures::stream::iter(events.into_iter().map(Ok::<_, std::convert::Infallible>))
        });
        return Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response());
    }
    let bytes = chunks.map(|chunk| {
        let mut text = String::new();
        match chunk {
            Chunk::Records(lines) => {
                for line in &lines {
                    text.push_str(&line.line.to_string());
                    text.push('\n');
                }
            }
            Chunk::Failed(error) => {
                text.push_str(&json!({ "error": error }).to_string());
                text.push('\n');
            }
            Chunk::Expired(next) => {
                text.push_str(&expired_line(next).to_string());
                text.push('\n');
            }
        }
        Ok::<_, std::convert::Infallible>(Bytes::from(text))
    });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(bytes)).into_response())
}

/// The last line of a feed whose token expired.
fn expired_line(next: u64) -> Value {
    json!({
        "error": format!("the token expired; resume from position {next} with a fresh token"),
        "code": "token_expired",
        "next": next,
    })
}
