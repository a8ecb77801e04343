//! The engine's integration tests: one test binary, one module per area, each module a file beside this
//! one. A new test goes into the module of its area (the writer, verify, the read models, the workload, the
//! demo, the as-of cache); a new area gets a new file and a `mod` line here. Helpers that more than one
//! module needs go into a `support` module here, never into copies. Tests that need HTTP are `api`'s
//! (`api/tests/it/`); tests across processes and backends are the `e2e` crate's (`tests/`).

mod as_of_limits;
mod close;
mod demo;
mod read_models;
mod snapshot;
mod support;
mod verify;
mod workload;
mod writer;
