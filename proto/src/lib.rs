//! Protobuf schemas of the ledger's records, the record codec and the hash chain.
//!
//! - [`stored`]: the sealed record and its hash ([`StoredRecord`], [`Head`], [`Hash`], [`GENESIS_HASH`]), the
//!   types the `store` crate keeps and re-exports; this crate depends on no store.
//! - [`v1`]: the code prost generates from `proto/v1/*.proto` (package `voucher_ledger.v1`).
//! - [`record`]: sealing an [`v1::Envelope`] into a [`StoredRecord`], opening it again, and verifying
//!   the hash chain with [`record::ChainVerifier`]. These are pure functions over bytes: the bytes sealed are
//!   the bytes stored and hashed, and verification never re-encodes.
//! - [`convert`]: domain events to and from their stored payloads (`proto/v1/events.proto`):
//!   [`encode_event`], [`decode_event`], one module per lifecycle and one list of event types ([`EVENTS`]).
//!   [`payload_json`] (and [`event_payload_json`]) give a payload's JSON, the stored message's JSON mapping
//!   that the event feed sends.
//! - [`recorded`]: a domain event with its metadata ([`RecordMeta`]) sealed into a record ([`seal_event`])
//!   and decoded back into a [`Recorded`] ([`decode_record`]).

/// Messages generated from `proto/v1/*.proto` (package `voucher_ledger.v1`).
#[allow(clippy::all, clippy::pedantic)] // generated code
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/voucher_ledger.v1.rs"));
}

pub mod convert;
mod json;
pub mod record;
pub mod recorded;
pub mod stored;

pub use convert::{EVENTS, decode_event, encode_event, event_payload_json, payload_json};
pub use record::{BreakKind, ChainBreak, ChainVerifier, CodecError, open, record_hash, seal};
pub use recorded::{RecordMeta, Recorded, decode_opened, decode_record, seal_event};
pub use stored::{GENESIS_HASH, Hash, Head, StoredRecord};
