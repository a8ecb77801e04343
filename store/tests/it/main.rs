//! The integration tests of the `store` crate, in one test binary. `file_log` tests the embedded file log
//! (roundtrips across segment rolls, fencing, locking, recovery and corruption) through its public API;
//! `recovery` the scan's branches that only crafted frames and files reach; `scanner` every byte of a valid
//! log damaged.
//! A new test goes into the module of the backend it tests; the backend conformance suite that every store
//! must pass is in the end-to-end crate (`tests/tests/it/conformance.rs`).
#![allow(clippy::unwrap_used)]

mod file_log;
mod recovery;
mod scanner;
