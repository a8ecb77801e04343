//! The voucher-ledger service: the HTTP API, authentication, the limits at the door, the read models'
//! views, serving a ledger (and a read-only replica), and the `voucher-ledger` command line (`main.rs`). The
//! engine underneath (writer, replay, verify, the replica's follower, clock, workload) is the `engine` crate.

pub mod auth;
pub mod cli;
pub mod console;
pub mod edge;
pub mod error;
pub mod export;
pub mod http;
pub mod replica;
pub mod server;
pub mod stdout;
pub mod views;
pub mod xlsx;
