//! The voucher-ledger engine, without HTTP: the writer and the scheduler ([`writer`]), opening a store and
//! loading its log ([`open`]), replay and the as-of cache ([`replay`]), offline verification ([`verify`]),
//! copying a ledger between backends ([`migrate`]), a read-only replica's follower ([`follow`]), the audit
//! sample recheck ([`sample`]), the service's clock ([`clock`]), and the workload generator with the demo
//! built on it ([`workload`], [`demo`]).
//!
//! Modules point one way: `writer` and `open` at the bottom (with `clock` and `replay`), the others above
//! them; nothing here knows about HTTP (that is the `api` crate's).

pub mod backup;
pub mod clock;
pub mod demo;
pub mod follow;
pub mod metrics;
pub mod migrate;
pub mod open;
pub mod replay;
pub mod sample;
pub mod snapshot;
pub mod transparency;
pub mod verify;
pub mod workload;
pub mod writer;
