//! The tests of `domain`, in one test binary (one link of the crate and its dependencies instead of one per
//! file). Run them with `cargo test -p domain`; one area with `cargo test -p domain --test it rules::`.
//!
//! Where a new test goes: in the module of its area below; a new area is a new file here plus a `mod`
//! line. Helpers that more than one module needs (folding a history, `check` with the invariants, the
//! constructors of dates, amounts, codes, ids, actors, documents, the shared fixtures) go in `support`,
//! never copied into a module. Proptest keeps the seeds of past failures in
//! `domain/tests/proptest-regressions/<module>.txt` (its default place for a test binary whose `main.rs`
//! is in `tests/it/`).

/// Joint policy versions signed by both bureaus, and project entities (art. 6).
mod boundaries_joint;
/// Rules of the later lifecycles at the edges of the Measures: their end, money on expired vouchers.
mod boundaries_money;
/// The bounds every command is checked against before any rule (`domain::bounds`).
mod bounds;
/// The scheduler's deadline index: exactly the open deadlines; `due_commands` from it equals the full scan.
mod deadlines;
/// The manifest of `domain`: no runtime, protobuf, web or database dependency.
mod dependencies;
/// The double-entry ledger alone: account names and kinds, trial balances, violations.
mod ledger;
/// Amounts, balances and shares as written: every parser's path and its errors.
mod money;
/// Arbitrary commands against a populated state: `decide` never panics and the invariants hold.
mod no_panic;
/// Random command sequences: the ledger's invariants hold after every accepted command.
mod properties;
/// Given/when/then tests of the regulation's later lifecycles (providers to audits, deadlines).
mod regulation;
/// Given/when/then tests of the ledger core (policy, budgets, batches, applicants, claims, caps).
mod rules;
/// What the modules share: `check`, `fold`, `step`, the constructors and fixtures.
mod support;
