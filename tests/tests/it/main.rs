//! The end-to-end tests of the voucher ledger, in one test binary (one link of the whole stack instead of
//! one per file). The harness they share (servers, stores, tokens, the HTTP client, scenario helpers) is the
//! `e2e` library, `tests/src/lib.rs`; helpers shared by a few modules only live in the module that holds
//! them (`roles/mod.rs`, `tamper/mod.rs`, `announcements/mod.rs`).
//!
//! Where a new test goes: in the module of its area below, as a `#[tokio::test]` (or `#[test]`) function;
//! a test that must hold on every store is an `async fn scenario(backend: Backend)` instantiated with
//! `e2e::per_backend!`. A new area is a new module here (a file, or a folder with `mod.rs` when it grows
//! parts sharing a setup). Run one area with `cargo test -p e2e --test it -- AREA::`.
//!
//! Areas:
//! - The HTTP contract: `http_api` (fields, codes, idempotency, the manual clock), `openapi` (the served
//!   document is valid OpenAPI), `read_side` (every query, CSV, as-of, the event feed), `hostile_input`,
//!   `bounds` (values out of bounds on the release-shaped binary).
//! - Who may do what: `roles` (the SPEC §2 matrices), `security` (tokens, jurisdictions), `edge_security`
//!   (idempotency scope, limits, timeouts, CSV injection, `/metrics`), `read_security` (who reads what),
//!   `joint_policy` (joint boundaries of the two jurisdictions).
//! - The regulation over HTTP: `articles` (one scenario per article of the Measures), `announcements`
//!   (announcement periods and the end of a policy), `concurrency` (racing claims).
//! - Stores and durability: `conformance` (the backend suite, per backend), `transport` (TLS to PostgreSQL),
//!   `restart` (SIGKILL and start again), `lock` (one writer per directory), `replica` (`serve
//!   --read-only`), `tamper` (damaged logs: verify, the tamper matrix, evidence kept), `soak` (the kill
//!   test), `simulation` (seeded simulation with injected storage faults), `power_loss` (power cuts on
//!   `lazyfs`: what was not synced is lost).
//! - Inputs: `fuzz_inputs` (the fuzz targets' inputs under proptest; `fuzz_commands` is shared with the
//!   cargo-fuzz target `fuzz/fuzz_targets/json_commands.rs`).
//! - Operations: `operations` (the shipped dashboard, alerts and systemd unit; metrics from the start; a
//!   clean stop on SIGTERM/SIGINT).
//! - The house: `cli` (the command line), `layout` (crate edges, module circles), `docs` (file paths named
//!   in the documentation exist).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod announcements;
mod articles;
mod backup;
mod bounds;
mod cli;
mod concurrency;
mod conformance;
mod console;
mod console_pages;
mod docs;
mod edge_security;
mod exports;
mod fuzz_commands;
mod fuzz_inputs;
mod hostile_input;
mod http_api;
mod joint_policy;
mod layout;
mod lock;
mod openapi;
mod operations;
mod power_loss;
mod read_security;
mod read_side;
mod replica;
mod restart;
mod roles;
mod security;
mod simulation;
mod soak;
mod tamper;
mod transparency;
mod transport;
