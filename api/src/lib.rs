//! The voucher-ledger service and command line: the writer pipeline, the HTTP API, authentication, the
//! clock, offline verification, and the glue that opens a store and serves it.

pub mod auth;
pub mod clock;
pub mod demo;
pub mod edge;
pub mod error;
pub mod http;
pub mod replay;
pub mod replica;
pub mod sample;
pub mod server;
pub mod verify;
pub mod views;
pub mod workload;
pub mod writer;
