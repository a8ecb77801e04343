//! The `api` crate's integration tests (HTTP in process): one test binary, one module per area, each module
//! a file beside this one. A new test goes into the module of its area; a new area gets a new file and a
//! `mod` line here. Helpers that more than one module needs go into a `support` module here, never into
//! copies. Tests of the engine alone (writer, verify, replay, workload, demo) are `engine`'s
//! (`engine/tests/it/`); tests that start the `voucher-ledger` binary are the `e2e` crate's (`tests/`).

mod writer_stop;
