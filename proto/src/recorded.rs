//! Records as the rest of the service sees them: a domain event with its metadata and its place in the chain,
//! sealed into a [`StoredRecord`] by [`seal_event`] and decoded again by [`decode_record`].
//!
//! This is the one place where the envelope's fields meet domain types; [`crate::record`] below it only
//! knows bytes and hashes, and [`crate::convert`] beside it only knows payloads.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::convert::{date, decode_event, encode_event, invalid, parse, uuid};
use crate::record::{
    CodecError, days_from_date, hash_from_bytes, micros_from_time, open, seal, time_from_micros,
    uuid_to_bytes,
};
use crate::stored::{Hash, StoredRecord};
use crate::v1;

/// Everything about a record except its event payload.
///
/// Stored with the envelope's encodings, which make two values indistinguishable after a roundtrip:
/// `recorded_at` keeps microseconds (finer parts are dropped), and an empty `idempotency_key` is stored
/// as none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    /// The record's id (UUID v7).
    pub id: Uuid,
    /// The stream of the event's entity, e.g. `voucher-<uuid>`.
    pub stream: String,
    /// The record's version within its stream, from 1.
    pub stream_version: u64,
    /// When the writer recorded it (UTC, microsecond precision).
    pub recorded_at: DateTime<Utc>,
    /// The Asia/Shanghai business date the command was judged on.
    pub business_date: NaiveDate,
    /// Who issued the command.
    pub actor: domain::Actor,
    /// The command that produced the record (shared by all records of one command).
    pub correlation_id: Uuid,
    /// What caused the record.
    pub causation_id: Uuid,
    /// The command's idempotency key, if it had one.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the command's request, kept with an idempotency key to tell a replay from a reuse.
    pub request_digest: Option<[u8; 32]>,
}

/// A decoded record: its place in the chain, its metadata and the domain event.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// The global position, from 1.
    pub position: u64,
    /// The record's hash as stored (checked by [`crate::ChainVerifier`], not by [`decode_record`]).
    pub hash: Hash,
    /// The previous record's hash as carried by the envelope.
    pub prev_hash: Hash,
    /// Everything else the envelope says about the record.
    pub meta: RecordMeta,
    /// The recorded fact.
    pub event: domain::Event,
    /// True on the last record of a command.
    pub ends_command: bool,
}

impl Recorded {
    /// The event's type name as stored.
    #[must_use]
    pub fn event_type(&self) -> &'static str {
        self.event.event_type()
    }
}

/// Seals `event` with `meta` as the record at `position` following a record whose hash is `prev_hash`.
///
/// Encodes the payload and the envelope once; the returned record's bytes are the bytes to store and its
/// hash covers them (see [`crate::seal`]).
#[must_use]
pub fn seal_event(
    meta: &RecordMeta,
    event: &domain::Event,
    position: u64,
    prev_hash: Hash,
    ends_command: bool,
) -> StoredRecord {
    let (event_type, schema_version, payload) = encode_event(event);
    let mut envelope = v1::Envelope {
        id: uuid_to_bytes(meta.id),
        stream: meta.stream.clone(),
        stream_version: meta.stream_version,
        position,
        event_type: event_type.to_owned(),
        schema_version,
        recorded_at_micros: micros_from_time(meta.recorded_at),
        business_date_days: days_from_date(meta.business_date),
        actor: Some((&meta.actor).into()),
        correlation_id: uuid_to_bytes(meta.correlation_id),
        causation_id: uuid_to_bytes(meta.causation_id),
        idempotency_key: meta.idempotency_key.clone().unwrap_or_default(),
        request_digest: meta.request_digest.map(|digest| digest.to_vec()).unwrap_or_default(),
        payload,
        prev_hash: prev_hash.to_vec(),
    };
    seal(&mut envelope, position, prev_hash, ends_command)
}

/// Decodes a stored record: its envelope, metadata and event.
///
/// Does not verify the hash chain (that is [`crate::ChainVerifier::check`], run first when reading a log).
///
/// # Errors
/// Any error of [`crate::open`] (undecodable bytes, wrong position, short previous hash), of
/// [`decode_event`] (unknown event type or version, undecodable payload, invalid field), and
/// [`CodecError::InvalidField`] for an invalid envelope field (a UUID that is not 16 bytes, a time or date
/// out of range, an unknown role or jurisdiction, an invalid credit code, a request digest that is not
/// 32 bytes, or no actor).
pub fn decode_record(record: &StoredRecord) -> Result<Recorded, CodecError> {
    decode_opened(record, open(record)?)
}

/// Decodes a stored record whose envelope was already opened (by [`crate::open`] or by
/// [`crate::ChainVerifier::check`], which returns it): reading a log decodes each envelope once.
///
/// # Errors
/// As [`decode_record`], less the errors of opening.
pub fn decode_opened(record: &StoredRecord, envelope: v1::Envelope) -> Result<Recorded, CodecError> {
    let prev_hash = hash_from_bytes(&envelope.prev_hash)?;
    let event = decode_event(&envelope.event_type, envelope.schema_version, &envelope.payload)?;
    let meta = RecordMeta::try_from(envelope)?;
    Ok(Recorded {
        position: record.position,
        hash: record.hash,
        prev_hash,
        meta,
        event,
        ends_command: record.ends_command,
    })
}

impl TryFrom<v1::Envelope> for RecordMeta {
    type Error = CodecError;

    /// The envelope's metadata; its position, event type, payload and previous hash are not part of it.
    fn try_from(envelope: v1::Envelope) -> Result<Self, CodecError> {
        let request_digest = if envelope.request_digest.is_empty() {
            None
        } else {
            let digest = <[u8; 32]>::try_from(envelope.request_digest.as_slice()).map_err(|_| {
                invalid(
                    "Envelope.request_digest",
                    format_args!("a digest must be 32 bytes, found {}", envelope.request_digest.len()),
                )
            })?;
            Some(digest)
        };
        Ok(RecordMeta {
            id: uuid("Envelope.id", &envelope.id)?,
            stream: envelope.stream,
            stream_version: envelope.stream_version,
            recorded_at: time_from_micros(envelope.recorded_at_micros)
                .map_err(|error| invalid("Envelope.recorded_at_micros", error))?,
            business_date: date("Envelope.business_date_days", envelope.business_date_days)?,
            actor: envelope.actor.ok_or_else(|| invalid("Envelope.actor", "missing"))?.try_into()?,
            correlation_id: uuid("Envelope.correlation_id", &envelope.correlation_id)?,
            causation_id: uuid("Envelope.causation_id", &envelope.causation_id)?,
            idempotency_key: Some(envelope.idempotency_key).filter(|key| !key.is_empty()),
            request_digest,
        })
    }
}

impl From<&domain::Actor> for v1::Actor {
    fn from(actor: &domain::Actor) -> Self {
        v1::Actor {
            subject: actor.subject.clone(),
            role: actor.role.as_str().to_owned(),
            jurisdiction: actor
                .jurisdiction
                .map(|jurisdiction| jurisdiction.as_str().to_owned())
                .unwrap_or_default(),
            credit_code: actor.credit_code.as_ref().map(|code| code.as_str().to_owned()).unwrap_or_default(),
        }
    }
}

impl TryFrom<v1::Actor> for domain::Actor {
    type Error = CodecError;

    fn try_from(actor: v1::Actor) -> Result<Self, CodecError> {
        let jurisdiction = match actor.jurisdiction.as_str() {
            "" => None,
            name => Some(parse("Actor.jurisdiction", name)?),
        };
        let credit_code = match actor.credit_code.as_str() {
            "" => None,
            code => Some(parse("Actor.credit_code", code)?),
        };
        Ok(domain::Actor {
            subject: actor.subject,
            role: parse("Actor.role", &actor.role)?,
            jurisdiction,
            credit_code,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::stored::GENESIS_HASH;
    use domain::{ApplicantKind, Event, Jurisdiction, Role};
    use prost::Message;

    use super::*;
    use crate::record::record_hash;

    fn meta() -> RecordMeta {
        let applicant = domain::credit_code::with_check_character("91520100MA6H00000").unwrap();
        RecordMeta {
            id: "01956a3e-7c1d-7b2a-9f00-000000000001".parse().unwrap(),
            stream: "voucher-01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b".to_owned(),
            stream_version: 1,
            recorded_at: time_from_micros(1_740_990_000_123_456).unwrap(),
            business_date: "2025-03-03".parse().unwrap(),
            actor: domain::Actor {
                subject: "enterprise-1".to_owned(),
                role: Role::Enterprise,
                jurisdiction: Some(Jurisdiction::Guiyang),
                credit_code: Some(applicant),
            },
            correlation_id: "01956a3e-7c1d-7b2a-9f00-000000000002".parse().unwrap(),
            causation_id: "01956a3e-7c1d-7b2a-9f00-000000000003".parse().unwrap(),
            idempotency_key: Some("claim-2025-03-03-1".to_owned()),
            request_digest: Some([0xab; 32]),
        }
    }

    fn event() -> Event {
        Event::VoucherIssued {
            voucher_id: "01956a3e-7c1d-7b2a-9f00-3c4d5e6f7a8b".parse().unwrap(),
            batch_id: "01956a3e-0000-7000-8000-000000000001".parse().unwrap(),
            jurisdiction: Jurisdiction::Guiyang,
            applicant: domain::credit_code::with_check_character("91520100MA6H00000").unwrap(),
            kind: ApplicantKind::Enterprise,
            face_value: "50000.00".parse().unwrap(),
            cap_year: 2025,
            annual_cap: "5000000.00".parse().unwrap(),
            valid_until: "2025-12-31".parse().unwrap(),
        }
    }

    #[test]
    fn seal_event_then_decode_record_gives_back_meta_and_event() {
        let prev_hash = [3; 32];
        let record = seal_event(&meta(), &event(), 7, prev_hash, true);
        assert_eq!(record.position, 7);
        assert!(record.ends_command);
        assert_eq!(record.hash, record_hash(&prev_hash, &record.bytes));

        let recorded = decode_record(&record).unwrap();
        assert_eq!(
            recorded,
            Recorded {
                position: 7,
                hash: record.hash,
                prev_hash,
                meta: meta(),
                event: event(),
                ends_command: true
            }
        );
        assert_eq!(recorded.event_type(), "VoucherIssued");
    }

    #[test]
    fn absent_optional_meta_roundtrips() {
        let meta = RecordMeta {
            actor: domain::Actor {
                subject: "anonymous".to_owned(),
                role: Role::Public,
                jurisdiction: None,
                credit_code: None,
            },
            idempotency_key: None,
            request_digest: None,
            ..meta()
        };
        let record = seal_event(&meta, &event(), 1, GENESIS_HASH, false);
        let recorded = decode_record(&record).unwrap();
        assert_eq!(recorded.meta, meta);
        assert!(!recorded.ends_command);
        let envelope = open(&record).unwrap();
        assert_eq!(envelope.actor.unwrap().jurisdiction, "");
        assert!(envelope.idempotency_key.is_empty() && envelope.request_digest.is_empty());
    }

    #[test]
    fn sealed_records_pass_the_chain_verifier() {
        let first = seal_event(&meta(), &event(), 1, GENESIS_HASH, false);
        let second = seal_event(&meta(), &event(), 2, first.hash, true);
        let mut verifier = crate::ChainVerifier::new();
        verifier.check(&first).unwrap();
        verifier.check(&second).unwrap();
        assert_eq!(decode_record(&second).unwrap().prev_hash, first.hash);
    }

    /// A sealed record whose envelope was changed by `change` before sealing, so that only that field is wrong.
    fn resealed(change: impl FnOnce(&mut v1::Envelope)) -> StoredRecord {
        let record = seal_event(&meta(), &event(), 1, GENESIS_HASH, true);
        let mut envelope = open(&record).unwrap();
        change(&mut envelope);
        seal(&mut envelope, 1, GENESIS_HASH, true)
    }

    #[test]
    fn unknown_event_type_is_refused() {
        let record = resealed(|envelope| envelope.event_type = "VoucherTeleported".to_owned());
        assert_eq!(
            decode_record(&record),
            Err(CodecError::UnknownEventType {
                event_type: "VoucherTeleported".to_owned(),
                schema_version: 1
            })
        );
    }

    /// A change that makes one envelope field invalid.
    type Damage = fn(&mut v1::Envelope);

    #[test]
    fn invalid_envelope_fields_are_named() {
        let cases: [(&str, Damage); 6] = [
            ("Envelope.id", |envelope| envelope.id.truncate(8)),
            ("Envelope.request_digest", |envelope| envelope.request_digest.truncate(31)),
            ("Envelope.actor", |envelope| envelope.actor = None),
            ("Actor.role", |envelope| envelope.actor.as_mut().unwrap().role = "mayor".to_owned()),
            ("Actor.jurisdiction", |envelope| {
                envelope.actor.as_mut().unwrap().jurisdiction = "zunyi".to_owned()
            }),
            ("Envelope.recorded_at_micros", |envelope| envelope.recorded_at_micros = i64::MAX),
        ];
        for (field, change) in cases {
            let error = decode_record(&resealed(change)).unwrap_err();
            assert!(
                matches!(&error, CodecError::InvalidField { field: found, .. } if *found == field),
                "{field}: {error}"
            );
        }
    }

    #[test]
    fn a_record_at_the_wrong_position_is_refused() {
        let mut record = seal_event(&meta(), &event(), 4, GENESIS_HASH, true);
        record.position = 5;
        assert_eq!(decode_record(&record), Err(CodecError::PositionMismatch { record: 5, envelope: 4 }));
    }

    #[test]
    fn envelope_carries_type_version_and_payload() {
        let record = seal_event(&meta(), &event(), 1, GENESIS_HASH, true);
        let envelope = v1::Envelope::decode(record.bytes.as_slice()).unwrap();
        let (event_type, schema_version, payload) = encode_event(&event());
        assert_eq!(envelope.event_type, event_type);
        assert_eq!(envelope.schema_version, schema_version);
        assert_eq!(envelope.payload, payload);
    }
}
