//! Transparency-log formats and math, with no I/O and no clock: the RFC 6962 / RFC 9162 Merkle tree over
//! the log with its inclusion and consistency proofs, the C2SP `tlog-checkpoint` body, the C2SP
//! `signed-note` format (Ed25519, and SM2 with SM3 as the 国密 option) and the proof bundle a party
//! downloads and checks offline.
//!
//! This crate depends on no crate of the ledger: it knows leaves only as bytes. The ledger (the engine's
//! writer, the API, the CLI) feeds it the records' stored bytes and serves what it computes.
//!
//! # Contract
//! - Leaf hash = H(0x00 || bytes), node hash = H(0x01 || left || right), H = SHA-256 (default) or SM3
//!   ([`TreeHash`]); the tree at size S covers leaves 0..S-1 (the ledger's positions 1..S).
//! - A checkpoint ([`Checkpoint`]) is the origin line, the size in decimal, the root in base64 and optional
//!   extension lines, signed as a C2SP signed note ([`SigningKey::sign_note`], [`open_note`]).

mod bundle;
mod checkpoint;
mod hash;
mod merkle;
mod note;

pub use bundle::{BUNDLE_FORMAT, Bundle, BundleError, BundleRecord, Checked};
pub use checkpoint::Checkpoint;
pub use hash::{BadHash, NodeHash, TreeHash, UnknownTreeHash, hash_from_base64, hash_to_base64};
pub use merkle::{MerkleTree, ProofError, verify_consistency, verify_inclusion};
pub use note::{
    Algorithm, NoteError, SM2_TYPE_IDENTIFIER, SignatureLines, SigningKey, VerifierKey, open_note, split_note,
};
