//! The record codec and the hash chain: sealing an envelope into a stored record, opening it, verifying a chain.
//!
//! A record's bytes are the encoded [`Envelope`] (which carries the previous record's hash), and its hash is
//! `SHA-256(prev_hash || bytes)`; the genesis previous hash is 32 zero bytes. [`seal`] encodes once: the bytes
//! it returns are the bytes stored and hashed, and verification hashes the stored bytes as they are, never a
//! re-encoding of the decoded envelope.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use prost::Message;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::stored::{GENESIS_HASH, Hash, Head, StoredRecord};
use crate::v1::Envelope;

/// Days from 0001-01-01 (day 1 of the common era in chrono's count) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Errors of decoding a record or one of its fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not a valid encoded message.
    #[error("undecodable record: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The envelope's position is not the position the record is stored at.
    #[error("envelope says position {envelope} but the record is stored at position {record}")]
    PositionMismatch { record: u64, envelope: u64 },
    /// A hash field does not hold exactly 32 bytes.
    #[error("a hash must be 32 bytes, found {0}")]
    HashLength(usize),
    /// A UUID field does not hold exactly 16 bytes.
    #[error("a UUID must be 16 bytes, found {0}")]
    UuidLength(usize),
    /// A business date (days since 1970-01-01) outside the range of dates.
    #[error("business date out of range: {0} days since 1970-01-01")]
    DateOutOfRange(i32),
    /// A timestamp (microseconds since the Unix epoch) outside the range of times.
    #[error("timestamp out of range: {0} microseconds since the Unix epoch")]
    TimeOutOfRange(i64),
    /// The record's event type, at this schema version, is not one this build can decode: the log was
    /// written by a newer build (upgrade) or names a type that never existed (a damaged or foreign log).
    #[error("unknown event type {event_type:?} at schema version {schema_version}")]
    UnknownEventType { event_type: String, schema_version: u32 },
    /// A field of the envelope or the payload holds a value its type refuses (a malformed amount, credit
    /// code, name, UUID or date, or a required message that is absent). `field` is `Message.field`.
    #[error("invalid field {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
}

/// The hash of a record: `SHA-256(prev_hash || bytes)`.
#[must_use]
pub fn record_hash(prev_hash: &Hash, bytes: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(bytes);
    hasher.finalize().into()
}

/// Seals `envelope` as the record at `position` following a record whose hash is `prev_hash`.
///
/// Sets `envelope.position` and `envelope.prev_hash`, encodes the envelope once, and hashes those bytes.
/// `ends_command` marks the last record of a command (the store's unit of atomic append).
#[must_use]
pub fn seal(envelope: &mut Envelope, position: u64, prev_hash: Hash, ends_command: bool) -> StoredRecord {
    envelope.position = position;
    envelope.prev_hash = prev_hash.to_vec();
    let bytes = envelope.encode_to_vec();
    let hash = record_hash(&prev_hash, &bytes);
    StoredRecord { position, ends_command, hash, bytes }
}

/// Decodes a stored record's envelope.
///
/// Does not verify the hash chain (that is [`ChainVerifier::check`]).
///
/// # Errors
/// [`CodecError::Decode`] when the bytes are not an envelope, [`CodecError::PositionMismatch`] when the
/// envelope's position is not the record's, [`CodecError::HashLength`] when `prev_hash` is not 32 bytes.
pub fn open(record: &StoredRecord) -> Result<Envelope, CodecError> {
    let envelope = Envelope::decode(record.bytes.as_slice())?;
    if envelope.position != record.position {
        return Err(CodecError::PositionMismatch { record: record.position, envelope: envelope.position });
    }
    hash_from_bytes(&envelope.prev_hash)?;
    Ok(envelope)
}

/// A hash from a `bytes` field.
///
/// # Errors
/// [`CodecError::HashLength`] unless `bytes` holds exactly 32 bytes.
pub fn hash_from_bytes(bytes: &[u8]) -> Result<Hash, CodecError> {
    Hash::try_from(bytes).map_err(|_| CodecError::HashLength(bytes.len()))
}

/// A UUID as the 16 bytes of a `bytes` field.
#[must_use]
pub fn uuid_to_bytes(id: Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

/// A UUID from a `bytes` field.
///
/// # Errors
/// [`CodecError::UuidLength`] unless `bytes` holds exactly 16 bytes.
pub fn uuid_from_bytes(bytes: &[u8]) -> Result<Uuid, CodecError> {
    Uuid::from_slice(bytes).map_err(|_| CodecError::UuidLength(bytes.len()))
}

/// A date as days since 1970-01-01 (negative before).
#[must_use]
pub fn days_from_date(date: NaiveDate) -> i32 {
    // chrono's dates span about ±262,000 years, so neither the count nor the difference overflows an i32.
    date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

/// A date from days since 1970-01-01.
///
/// # Errors
/// [`CodecError::DateOutOfRange`] when the day is outside the dates chrono can represent.
pub fn date_from_days(days: i32) -> Result<NaiveDate, CodecError> {
    days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or(CodecError::DateOutOfRange(days))
}

/// A UTC time as microseconds since the Unix epoch.
///
/// Times beyond ±292,000 years of 1970 do not fit and saturate (chrono's own range is smaller).
#[must_use]
pub fn micros_from_time(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// A UTC time from microseconds since the Unix epoch.
///
/// # Errors
/// [`CodecError::TimeOutOfRange`] when the time is outside the times chrono can represent.
pub fn time_from_micros(micros: i64) -> Result<DateTime<Utc>, CodecError> {
    DateTime::from_timestamp_micros(micros).ok_or(CodecError::TimeOutOfRange(micros))
}

/// Why the hash chain breaks at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// The next record read is at a higher position than expected: the records in between are missing
    /// (deleted, or moved later by a reordering: a streaming check cannot tell the two apart).
    Missing { expected: u64, found: u64 },
    /// The next record read is at a lower position than the last one verified: records are out of order.
    Reordered { expected: u64, found: u64 },
    /// The next record read is at the same position as the last one verified.
    Duplicated { position: u64 },
    /// The record's bytes are not an envelope.
    Undecodable { reason: String },
    /// The envelope inside the record says another position than the one the record is stored at.
    PositionMismatch { envelope: u64 },
    /// The envelope's previous hash is not the hash of the previous record (`found` as stored, which may
    /// not even be 32 bytes long).
    BrokenLink { expected: Hash, found: Vec<u8> },
    /// The record's stored hash is not the hash of its bytes: the bytes or the hash were changed.
    Changed,
}

impl fmt::Display for BreakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { expected, found } => {
                write!(f, "record missing (expected position {expected}, found position {found})")
            }
            Self::Reordered { expected, found } => {
                write!(f, "records reordered (expected position {expected}, found position {found})")
            }
            Self::Duplicated { position } => write!(f, "record duplicated (position {position} again)"),
            Self::Undecodable { reason } => write!(f, "record undecodable ({reason})"),
            Self::PositionMismatch { envelope } => {
                write!(f, "record stored at the wrong position (its envelope says position {envelope})")
            }
            Self::BrokenLink { expected, found } => write!(
                f,
                "broken link (previous hash should be {}, the record carries {})",
                hex::encode(expected),
                hex::encode(found)
            ),
            Self::Changed => f.write_str("record changed (hash mismatch)"),
        }
    }
}

/// The first position at which a chain does not verify, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {position}: {kind}")]
pub struct ChainBreak {
    /// The position the verifier expected next: the first position that does not verify.
    pub position: u64,
    /// Why.
    pub kind: BreakKind,
}

/// Verifies records one by one, in log order, against the hash chain.
///
/// After a break, the verifier's head stays at the last record that verified; the caller reports the break
/// and stops (later records cannot be trusted to chain to anything verified).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    head: Head,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// A verifier for a log from its first record (previous hash: 32 zero bytes).
    #[must_use]
    pub fn new() -> Self {
        Self { head: Head { position: 0, hash: GENESIS_HASH } }
    }

    /// A verifier continuing after `head`, a record already verified (or trusted).
    #[must_use]
    pub fn resume(head: Head) -> Self {
        Self { head }
    }

    /// The last record verified (the genesis head, or the head resumed from, when none was).
    #[must_use]
    pub fn head(&self) -> Head {
        self.head
    }

    /// Checks the next record and, when it verifies, advances past it and returns its envelope.
    ///
    /// The checks, in order (the first failure is reported): the record's position follows the last one;
    /// its bytes decode; the envelope's position is the record's; the envelope's previous hash is the last
    /// record's hash; the stored hash is the hash of the previous hash and the stored bytes.
    ///
    /// # Errors
    /// A [`ChainBreak`] at the first position that does not verify; the verifier does not advance.
    pub fn check(&mut self, record: &StoredRecord) -> Result<Envelope, ChainBreak> {
        let expected = self.head.position.saturating_add(1);
        let found = record.position;
        if found != expected {
            let kind = if found > expected {
                BreakKind::Missing { expected, found }
            } else if found == self.head.position && found > 0 {
                BreakKind::Duplicated { position: found }
            } else {
                BreakKind::Reordered { expected, found }
            };
            return Err(ChainBreak { position: expected, kind });
        }
        let at = |kind| ChainBreak { position: expected, kind };
        let envelope = Envelope::decode(record.bytes.as_slice())
            .map_err(|error| at(BreakKind::Undecodable { reason: error.to_string() }))?;
        if envelope.position != found {
            return Err(at(BreakKind::PositionMismatch { envelope: envelope.position }));
        }
        if envelope.prev_hash.as_slice() != self.head.hash.as_slice() {
            return Err(at(BreakKind::BrokenLink { expected: self.head.hash, found: envelope.prev_hash }));
        }
        if record.hash != record_hash(&self.head.hash, &record.bytes) {
            return Err(at(BreakKind::Changed));
        }
        self.head = Head { position: found, hash: record.hash };
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use proptest::prelude::*;

    use super::*;
    use crate::v1::Actor;

    fn envelope(n: u64) -> Envelope {
        Envelope {
            id: uuid_to_bytes(Uuid::now_v7()),
            stream: format!("voucher-{n}"),
            stream_version: 1,
            position: 0,
            event_type: "VoucherIssued".to_owned(),
            schema_version: 1,
            recorded_at_micros: 1_700_000_000_000_000 + i64::try_from(n).unwrap(),
            business_date_days: 19_700,
            actor: Some(Actor {
                subject: "alice".to_owned(),
                role: "issuer".to_owned(),
                jurisdiction: "310000".to_owned(),
                credit_code: String::new(),
            }),
            correlation_id: uuid_to_bytes(Uuid::now_v7()),
            causation_id: uuid_to_bytes(Uuid::now_v7()),
            idempotency_key: format!("key-{n}"),
            request_digest: vec![7; 32],
            payload: format!("payload of record {n}").into_bytes(),
            prev_hash: Vec::new(),
        }
    }

    /// A chain of `len` records, positions 1..=len.
    fn chain(len: u64) -> Vec<StoredRecord> {
        let mut prev = GENESIS_HASH;
        (1..=len)
            .map(|position| {
                let record = seal(&mut envelope(position), position, prev, position % 3 == 0);
                prev = record.hash;
                record
            })
            .collect()
    }

    /// Checks every record; the head after the last one, or the first break.
    fn verify(records: &[StoredRecord]) -> Result<Head, ChainBreak> {
        let mut verifier = ChainVerifier::new();
        for record in records {
            verifier.check(record)?;
        }
        Ok(verifier.head())
    }

    #[test]
    fn record_hash_is_sha256_of_prev_hash_then_bytes() {
        let prev = [1u8; 32];
        let mut joined = prev.to_vec();
        joined.extend_from_slice(b"abc");
        let expected: Hash = Sha256::digest(&joined).into();
        assert_eq!(record_hash(&prev, b"abc"), expected);
    }

    #[test]
    fn seal_open_roundtrip() {
        let mut original = envelope(1);
        let record = seal(&mut original, 1, GENESIS_HASH, true);
        assert_eq!(record.position, 1);
        assert!(record.ends_command);
        assert_eq!(original.position, 1);
        assert_eq!(original.prev_hash, GENESIS_HASH.to_vec());
        assert_eq!(record.bytes, original.encode_to_vec());
        assert_eq!(record.hash, record_hash(&GENESIS_HASH, &record.bytes));
        assert_eq!(open(&record).unwrap(), original);
    }

    #[test]
    fn open_refuses_a_record_at_another_position() {
        let mut record = seal(&mut envelope(1), 1, GENESIS_HASH, true);
        record.position = 2;
        assert_eq!(open(&record), Err(CodecError::PositionMismatch { record: 2, envelope: 1 }));
    }

    #[test]
    fn open_refuses_a_short_prev_hash() {
        let mut original = envelope(1);
        original.position = 1;
        original.prev_hash = vec![0; 31];
        let record =
            StoredRecord { position: 1, ends_command: true, hash: [0; 32], bytes: original.encode_to_vec() };
        assert_eq!(open(&record), Err(CodecError::HashLength(31)));
    }

    #[test]
    fn open_refuses_garbage() {
        let record = StoredRecord { position: 1, ends_command: true, hash: [0; 32], bytes: vec![0xff; 5] };
        assert!(matches!(open(&record), Err(CodecError::Decode(_))));
    }

    #[test]
    fn chain_of_100_records_verifies() {
        let records = chain(100);
        let head = verify(&records).unwrap();
        assert_eq!(head, Head { position: 100, hash: records[99].hash });
    }

    #[test]
    fn check_returns_the_envelopes() {
        let records = chain(3);
        let mut verifier = ChainVerifier::new();
        for record in &records {
            assert_eq!(verifier.check(record).unwrap(), open(record).unwrap());
        }
    }

    #[test]
    fn resume_continues_after_a_head() {
        let records = chain(10);
        let mut verifier = ChainVerifier::resume(Head { position: 6, hash: records[5].hash });
        for record in &records[6..] {
            verifier.check(record).unwrap();
        }
        assert_eq!(verifier.head(), Head { position: 10, hash: records[9].hash });
    }

    #[test]
    fn resume_from_a_wrong_head_breaks_the_link() {
        let records = chain(10);
        let mut verifier = ChainVerifier::resume(Head { position: 6, hash: [9; 32] });
        let error = verifier.check(&records[6]).unwrap_err();
        assert_eq!(error.position, 7);
        assert!(matches!(error.kind, BreakKind::BrokenLink { expected, .. } if expected == [9; 32]));
    }

    #[test]
    fn changed_payload_byte_is_changed_at_that_position() {
        let mut records = chain(100);
        let payload = b"payload of record 42";
        let at = records[41].bytes.windows(payload.len()).position(|w| w == payload).unwrap();
        records[41].bytes[at + 3] ^= 0x01;
        let error = verify(&records).unwrap_err();
        assert_eq!(error, ChainBreak { position: 42, kind: BreakKind::Changed });
        assert_eq!(error.to_string(), "position 42: record changed (hash mismatch)");
    }

    #[test]
    fn changed_stored_hash_is_changed_at_that_position() {
        let mut records = chain(100);
        records[41].hash[0] ^= 0x80;
        assert_eq!(verify(&records), Err(ChainBreak { position: 42, kind: BreakKind::Changed }));
    }

    #[test]
    fn changed_payload_with_rehash_breaks_the_link_at_the_next_position() {
        let mut records = chain(100);
        let payload = b"payload of record 42";
        let at = records[41].bytes.windows(payload.len()).position(|w| w == payload).unwrap();
        records[41].bytes[at] ^= 0x01;
        records[41].hash = record_hash(&records[40].hash, &records[41].bytes);
        let error = verify(&records).unwrap_err();
        assert_eq!(error.position, 43);
        assert!(matches!(error.kind, BreakKind::BrokenLink { .. }));
    }

    #[test]
    fn deleted_record_is_missing_at_its_position() {
        let mut records = chain(100);
        records.remove(41);
        let error = verify(&records).unwrap_err();
        assert_eq!(error, ChainBreak { position: 42, kind: BreakKind::Missing { expected: 42, found: 43 } });
    }

    #[test]
    fn swapped_records_break_at_the_first_swapped_slot() {
        let mut records = chain(100);
        records.swap(41, 42);
        let error = verify(&records).unwrap_err();
        assert_eq!(error, ChainBreak { position: 42, kind: BreakKind::Missing { expected: 42, found: 43 } });
    }

    #[test]
    fn swapped_contents_at_store_positions_break_at_the_first_swapped_slot() {
        // A store that numbers records by where they sit: the swapped bytes disagree with their slots.
        let mut records = chain(100);
        let (a, b) = (records[41].bytes.clone(), records[42].bytes.clone());
        records[41].bytes = b;
        records[42].bytes = a;
        let error = verify(&records).unwrap_err();
        assert_eq!(error, ChainBreak { position: 42, kind: BreakKind::PositionMismatch { envelope: 43 } });
    }

    #[test]
    fn earlier_record_is_reordered() {
        let records = chain(10);
        let mut verifier = ChainVerifier::new();
        for record in &records[..5] {
            verifier.check(record).unwrap();
        }
        let error = verifier.check(&records[2]).unwrap_err();
        assert_eq!(error, ChainBreak { position: 6, kind: BreakKind::Reordered { expected: 6, found: 3 } });
        assert_eq!(verifier.head(), Head { position: 5, hash: records[4].hash });
    }

    #[test]
    fn repeated_record_is_duplicated() {
        let records = chain(10);
        let mut verifier = ChainVerifier::new();
        for record in &records[..5] {
            verifier.check(record).unwrap();
        }
        let error = verifier.check(&records[4]).unwrap_err();
        assert_eq!(error, ChainBreak { position: 6, kind: BreakKind::Duplicated { position: 5 } });
    }

    #[test]
    fn garbage_bytes_are_undecodable() {
        let mut records = chain(10);
        records[4].bytes = vec![0xff; 8];
        let error = verify(&records).unwrap_err();
        assert_eq!(error.position, 5);
        assert!(matches!(error.kind, BreakKind::Undecodable { .. }));
    }

    #[test]
    fn truncated_chain_verifies_up_to_its_end() {
        // Truncation is only visible against an expected head, which the caller compares with `head()`.
        let records = chain(10);
        assert_eq!(verify(&records[..7]).unwrap(), Head { position: 7, hash: records[6].hash });
    }

    #[test]
    fn display_names_the_position_and_the_reason() {
        let error = ChainBreak { position: 3, kind: BreakKind::Missing { expected: 3, found: 5 } };
        assert_eq!(error.to_string(), "position 3: record missing (expected position 3, found position 5)");
        let error =
            ChainBreak { position: 9, kind: BreakKind::BrokenLink { expected: [0; 32], found: vec![1] } };
        assert!(error.to_string().starts_with("position 9: broken link (previous hash should be 0000"));
    }

    #[test]
    fn uuid_roundtrip_and_wrong_length() {
        let id = Uuid::now_v7();
        assert_eq!(uuid_from_bytes(&uuid_to_bytes(id)), Ok(id));
        assert_eq!(uuid_from_bytes(&[1, 2, 3]), Err(CodecError::UuidLength(3)));
        assert_eq!(uuid_from_bytes(&[]), Err(CodecError::UuidLength(0)));
    }

    #[test]
    fn date_days_match_the_unix_epoch() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        assert_eq!(days_from_date(epoch), 0);
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(days_from_date(date), 19_782);
        assert_eq!(date_from_days(19_782), Ok(date));
        assert_eq!(date_from_days(-1), Ok(NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()));
        assert_eq!(date_from_days(i32::MAX), Err(CodecError::DateOutOfRange(i32::MAX)));
        assert_eq!(date_from_days(i32::MIN), Err(CodecError::DateOutOfRange(i32::MIN)));
        assert_eq!(date_from_days(days_from_date(NaiveDate::MAX)), Ok(NaiveDate::MAX));
        assert_eq!(date_from_days(days_from_date(NaiveDate::MIN)), Ok(NaiveDate::MIN));
    }

    #[test]
    fn time_micros_roundtrip() {
        let time = time_from_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(micros_from_time(time), 1_700_000_000_123_456);
        assert_eq!(time_from_micros(i64::MAX), Err(CodecError::TimeOutOfRange(i64::MAX)));
    }

    fn arb_actor() -> impl Strategy<Value = Option<Actor>> {
        proptest::option::of((".{0,12}", ".{0,12}", "[0-9]{0,6}", "[0-9A-Z]{0,18}").prop_map(
            |(subject, role, jurisdiction, credit_code)| Actor { subject, role, jurisdiction, credit_code },
        ))
    }

    prop_compose! {
        fn arb_envelope()(
            id in proptest::collection::vec(any::<u8>(), 0..=16),
            stream in ".{0,40}",
            stream_version in any::<u64>(),
            position in any::<u64>(),
            event_type in "[A-Za-z]{0,24}",
            schema_version in any::<u32>(),
            recorded_at_micros in any::<i64>(),
            business_date_days in any::<i32>(),
            actor in arb_actor(),
            correlation_id in proptest::collection::vec(any::<u8>(), 0..=16),
            causation_id in proptest::collection::vec(any::<u8>(), 0..=16),
            idempotency_key in ".{0,32}",
            request_digest in proptest::collection::vec(any::<u8>(), 0..=32),
            payload in proptest::collection::vec(any::<u8>(), 0..512),
            prev_hash in proptest::collection::vec(any::<u8>(), 0..=32),
        ) -> Envelope {
            Envelope {
                id, stream, stream_version, position, event_type, schema_version, recorded_at_micros,
                business_date_days, actor, correlation_id, causation_id, idempotency_key, request_digest,
                payload, prev_hash,
            }
        }
    }

    proptest! {
        #[test]
        fn prop_open_seal_roundtrips_and_hash_is_deterministic(
            original in arb_envelope(),
            position in 1u64..u64::MAX,
            prev_hash in any::<[u8; 32]>(),
            ends_command in any::<bool>(),
        ) {
            let mut sealed = original.clone();
            let record = seal(&mut sealed, position, prev_hash, ends_command);
            let mut expected = original.clone();
            expected.position = position;
            expected.prev_hash = prev_hash.to_vec();
            prop_assert_eq!(&sealed, &expected);
            prop_assert_eq!(open(&record).unwrap(), expected);
            prop_assert_eq!(record.position, position);
            prop_assert_eq!(record.ends_command, ends_command);
            prop_assert_eq!(record.hash, record_hash(&prev_hash, &record.bytes));

            let again = seal(&mut original.clone(), position, prev_hash, ends_command);
            prop_assert_eq!(&again, &record);

            let mut verifier = ChainVerifier::resume(Head { position: position - 1, hash: prev_hash });
            prop_assert!(verifier.check(&record).is_ok());
            prop_assert_eq!(verifier.head(), Head { position, hash: record.hash });
        }
    }
}
