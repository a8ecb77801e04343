//! The JSON of a stored payload, as the event feed sends it: the stored message's own fields, written by the
//! `serde::Serialize` that `build.rs` derives for every event message. So a payload's JSON is the stored
//! format's, not the domain types': renaming a domain field changes neither the bytes nor the feed.
//!
//! The mapping, from the schema's conventions (`v1/events.proto`): a field keeps its name and its value as
//! stored (amounts, shares, names and credit codes are the stored strings, counts are numbers, an absent
//! optional field is `null`, a repeated field is an array in the stored order), except that a UUID (a `bytes`
//! field) is written as its hyphenated text, and a date (an `int32` field named `*_days`) as `YYYY-MM-DD`
//! under the name without `_days`. The two messages with a oneof are written below: `ObjectionTarget` as
//! `{"kind": "provider", "provider": ...}` or `{"kind": "redemption", "redemption_id": ...}`, `ReviewOutcome`
//! as `{"decision": "full"}`, `{"decision": "reduced", "approved": ..., "reason": ...}` or
//! `{"decision": "rejected", "reason": ...}`. `tests/payloads.json` pins the JSON of every event type.

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::record::{CodecError, date_from_days, uuid_from_bytes};
use crate::v1;

/// The JSON of `message`, a payload just decoded; checked first as the domain event it holds (the
/// conversion that names a bad field), so that the JSON is only ever of a payload that decodes.
pub(crate) fn message_json<M>(message: M) -> Result<Value, CodecError>
where
    M: Serialize + TryInto<domain::Event, Error = CodecError>,
{
    let json = serde_json::to_value(&message);
    let _event: domain::Event = message.try_into()?;
    json.map_err(|error| CodecError::InvalidField { field: "payload", reason: error.to_string() })
}

/// A UUID field: its hyphenated text.
pub(crate) fn uuid<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    uuid_from_bytes(bytes).map_err(S::Error::custom)?.serialize(serializer)
}

/// A repeated UUID field: an array of their texts, in the stored order.
pub(crate) fn uuids<S: Serializer>(values: &[Vec<u8>], serializer: S) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(values.len()))?;
    for bytes in values {
        seq.serialize_element(&uuid_from_bytes(bytes).map_err(S::Error::custom)?)?;
    }
    seq.end()
}

/// A date field (days since 1970-01-01): `YYYY-MM-DD`.
pub(crate) fn date<S: Serializer>(days: &i32, serializer: S) -> Result<S::Ok, S::Error> {
    date_from_days(*days).map_err(S::Error::custom)?.serialize(serializer)
}

/// A repeated date field: an array of dates, in the stored order.
pub(crate) fn dates<S: Serializer>(values: &[i32], serializer: S) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(values.len()))?;
    for &days in values {
        seq.serialize_element(&date_from_days(days).map_err(S::Error::custom)?)?;
    }
    seq.end()
}

impl Serialize for v1::ObjectionTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use v1::objection_target::Target;
        let mut map = serializer.serialize_map(Some(2))?;
        match &self.target {
            Some(Target::Provider(provider)) => {
                map.serialize_entry("kind", "provider")?;
                map.serialize_entry("provider", provider)?;
            }
            Some(Target::RedemptionId(redemption_id)) => {
                map.serialize_entry("kind", "redemption")?;
                map.serialize_entry(
                    "redemption_id",
                    &uuid_from_bytes(redemption_id).map_err(S::Error::custom)?,
                )?;
            }
            None => return Err(S::Error::custom("ObjectionTarget.target is missing")),
        }
        map.end()
    }
}

impl Serialize for v1::ReviewOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use v1::review_outcome::Decision;
        let mut map = serializer.serialize_map(None)?;
        match &self.decision {
            Some(Decision::Full(_)) => map.serialize_entry("decision", "full")?,
            Some(Decision::Reduced(reduced)) => {
                map.serialize_entry("decision", "reduced")?;
                map.serialize_entry("approved", &reduced.approved)?;
                map.serialize_entry("reason", &reduced.reason)?;
            }
            Some(Decision::Rejected(rejected)) => {
                map.serialize_entry("decision", "rejected")?;
                map.serialize_entry("reason", &rejected.reason)?;
            }
            None => return Err(S::Error::custom("ReviewOutcome.decision is missing")),
        }
        map.end()
    }
}
