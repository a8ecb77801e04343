//! Conversions between domain events and their stored payloads (the messages of `proto/v1/events.proto`).
//!
//! The stored format is written here, field by field, and nowhere else: domain types carry no protobuf
//! attributes, so renaming a domain field or variant cannot change the bytes of a record. Each event lives
//! in the file of its lifecycle (`funding.rs`, `applicants.rs`, ...), its encoding
//! ([`EventMessage::from_event`]) beside its decoding (`TryFrom<v1::X> for Event`, which parses every amount, name, credit code, UUID and
//! date with the domain's own parsers and names the field it refuses), followed by the nested messages the
//! lifecycle's events carry. [`EVENTS`] below is the one list of event types: it drives the type names, the
//! encoding dispatch and the decoding dispatch, so adding an event is its message in `events.proto`, its
//! conversions in its lifecycle's file and one line in that list.
//!
//! Decoding checks the types, not the business rules: a recorded event is a fact that `decide` accepted, and
//! folding it again must not depend on today's rules.

mod announcements;
mod applicants;
mod audits;
mod contracts;
mod deadlines;
mod fields;
mod funding;
mod policy;
mod providers;
mod redemptions;

#[cfg(test)]
mod tests;

use domain::Event;
use prost::Message;

pub(crate) use fields::{date, invalid, parse, uuid};

use crate::record::CodecError;
use crate::v1;

/// An event's stored message: built from the domain event here, converted back by `TryFrom`.
trait EventMessage: Message + Default + serde::Serialize + TryInto<Event, Error = CodecError> {
    /// The message holding `event`; `None` when `event` is of another type.
    fn from_event(event: &Event) -> Option<Self>;
}

/// Lists every event type with the schema version it is written in, and generates from that one list
/// [`EVENTS`], [`encode_event`] (an exhaustive match: a domain variant missing here fails to compile),
/// [`decode_event`] and [`payload_json`]. The message of each type is `v1::<type>`, and the type name is the
/// domain variant's name.
macro_rules! events {
    ($($event:ident => $version:literal),+ $(,)?) => {
        /// Every event type this build writes, with the schema version it writes it in.
        pub const EVENTS: &[(&str, u32)] = &[$((stringify!($event), $version)),+];

        /// Encodes `event` as its stored payload.
        ///
        /// Returns the event type (`event.event_type()`, stored in the envelope), the schema version of
        /// the payload message (the newest one: an event is always written in the current version) and the
        /// payload bytes.
        #[must_use]
        pub fn encode_event(event: &Event) -> (&'static str, u32, Vec<u8>) {
            let (schema_version, message) = match event {
                $(Event::$event { .. } => {
                    ($version, v1::$event::from_event(event).map(|message| message.encode_to_vec()))
                })+
            };
            let Some(payload) = message else {
                unreachable!("{} is encoded by its own message", event.event_type())
            };
            (event.event_type(), schema_version, payload)
        }

        /// Decodes a stored payload of type `event_type` at `schema_version` into the domain event.
        ///
        /// An older schema version of a type is decoded and upcast here (an arm before the list's), so
        /// callers only ever see current events.
        ///
        /// # Errors
        /// [`CodecError::UnknownEventType`] when this build does not know the type at that version,
        /// [`CodecError::Decode`] when the bytes are not the type's message, [`CodecError::InvalidField`]
        /// when a field holds a value its domain type refuses (or a required nested message is absent).
        pub fn decode_event(
            event_type: &str,
            schema_version: u32,
            payload: &[u8],
        ) -> Result<Event, CodecError> {
            match (event_type, schema_version) {
                $((stringify!($event), $version) => decode::<v1::$event>(payload),)+
                _ => Err(CodecError::UnknownEventType { event_type: event_type.to_owned(), schema_version }),
            }
        }

        /// The JSON of a stored payload of type `event_type` at `schema_version`: the JSON mapping of the
        /// stored message ([`crate::json`]), which the event feed sends as a record's `payload`.
        ///
        /// # Errors
        /// As [`decode_event`]: the payload must decode (so a bad field is named as decoding names it).
        pub fn payload_json(
            event_type: &str,
            schema_version: u32,
            payload: &[u8],
        ) -> Result<serde_json::Value, CodecError> {
            match (event_type, schema_version) {
                $((stringify!($event), $version) => crate::json::message_json(v1::$event::decode(payload)?),)+
                _ => Err(CodecError::UnknownEventType { event_type: event_type.to_owned(), schema_version }),
            }
        }
    };
}

events! {
    // policy.rs
    PolicyPublished => 1,
    PolicySigned => 1,
    CalendarYearPublished => 1,
    // funding.rs
    BudgetAppropriated => 1,
    BatchPublished => 1,
    BatchClosed => 1,
    // applicants.rs
    ApplicantRegistered => 1,
    ApplicantVerified => 1,
    ApplicantRejected => 1,
    ApplicantSuspended => 1,
    VoucherIssued => 1,
    // providers.rs
    ProviderApplied => 1,
    ProviderApproved => 1,
    ProviderRejected => 1,
    ProviderAdmitted => 1,
    ProviderSuspended => 1,
    // contracts.rs
    ContractSubmitted => 1,
    ContractSigned => 1,
    ContractFiled => 1,
    ContractRejected => 1,
    ContractCancelled => 1,
    ServiceCompleted => 1,
    ServiceRated => 1,
    // redemptions.rs
    RedemptionRequested => 1,
    RedemptionReviewed => 1,
    RedemptionDisbursed => 1,
    RedemptionDenied => 1,
    // announcements.rs
    ObjectionFiled => 1,
    ObjectionRuled => 1,
    RedemptionsAnnounced => 1,
    RedemptionAnnouncementClosed => 1,
    RedemptionStruck => 1,
    // audits.rs
    SampleDrawn => 1,
    FindingRecorded => 1,
    ClawbackOrdered => 1,
    ClawbackRecovered => 1,
    ReferralRecorded => 1,
    // deadlines.rs
    VoucherExpired => 1,
    RedemptionWindowLapsed => 1,
    ReturnedAfterExpiry => 1,
}

/// The JSON payload of `event` as the feed sends it: [`payload_json`] of the payload [`encode_event`] writes
/// for it (the bytes stored for it).
///
/// A payload encoded from a domain event always maps (its UUIDs are 16 bytes, its dates in range; the
/// every-event test shows it); were it ever not to, the payload is `null` rather than a failed feed.
#[must_use]
pub fn event_payload_json(event: &Event) -> serde_json::Value {
    let (event_type, schema_version, payload) = encode_event(event);
    payload_json(event_type, schema_version, &payload).unwrap_or(serde_json::Value::Null)
}

/// Decodes `payload` as message `M` and converts it to the domain event.
fn decode<M: EventMessage>(payload: &[u8]) -> Result<Event, CodecError> {
    M::decode(payload)?.try_into()
}
