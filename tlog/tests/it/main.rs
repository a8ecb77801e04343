//! The tests of `tlog`, in one test binary. Run them with `cargo test -p tlog`; one area with
//! `cargo test -p tlog --test it reference::`.
//!
//! Proptest keeps the seeds of past failures in `tlog/tests/proptest-regressions/<module>.txt`.

/// Bundles: checked offline; a changed record byte, proof hash or signature fails with its reason.
mod bundle;
/// The C2SP tlog-checkpoint body: its form, and what is refused.
mod checkpoint;
/// Our notes and proofs checked by implementations this project did not write (Cloudflare's
/// `signed_note` and `tlog_tiles`, Go's `sumdb/note` published vector).
mod interop;
/// SM3 and SM2 against the standards' published examples; SM2-signed notes and SM3 trees.
mod national;
/// Signed notes: keys, key ids, the format, and every kind of tampering refused with its reason.
mod notes;
/// Properties of the tree: every proof it makes verifies, and any altered hash fails.
mod properties;
/// The tree against RFC 6962's reference values (the Certificate Transparency / Trillian test data).
mod reference;
/// What the modules share.
mod support;
/// The tree's own behaviour: sizes, truncation, errors, memory.
mod tree;
