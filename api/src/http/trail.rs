//! The records behind an answer (a voucher's history, a contract's dossier): read back from the log by the
//! positions the read models keep, shown to each reader by the one rule of [`super::access`].

use std::collections::BTreeMap;

use axum::http::StatusCode;
use domain::Event;
use projections::Projections;
use projections::history::Entry;
use serde_json::{Value, json};

pub use super::access::Access;
use super::access::record_access;
use super::app::App;
use super::read::Snapshot;
use crate::error::ApiError;

/// The event's fields as JSON, without the variant's name: the JSON mapping of its stored protobuf message,
/// the same as the feed's `payload` (`ledger_proto::event_payload_json`, pinned by proto's golden file).
pub fn payload(event: &Event) -> Value {
    ledger_proto::event_payload_json(event)
}

/// One record of a trail: its place in the chain and what it says.
pub fn entry_json(entry: &Entry) -> Value {
    entry_json_as(entry, Access::Full)
}

/// One record of a trail as a reader with `access` sees it: anonymised, without its actor.
pub fn entry_json_as(entry: &Entry, access: Access) -> Value {
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
pub fn visible<'a>(
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
pub async fn with_trail<T>(
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
