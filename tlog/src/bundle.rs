//! The proof bundle a party downloads: its records, their inclusion proofs and the signed checkpoint.

use crate::checkpoint::Checkpoint;
use crate::hash::TreeHash;
use crate::merkle::ProofError;
use crate::note::{NoteError, VerifierKey};

/// The value of [`Bundle::format`] this crate writes and checks.
pub const BUNDLE_FORMAT: &str = "voucher-ledger-proof/v1";

/// The proof bundle a party downloads (serde JSON) and checks offline with [`Bundle::check`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bundle {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// Whose records these are, e.g. the enterprise's credit code.
    pub subject: String,
    /// The tree's hash function.
    pub tree_hash: TreeHash,
    /// The signed checkpoint (the signed note, as served) the records are proven against.
    pub checkpoint: String,
    /// The records with their proofs.
    pub records: Vec<BundleRecord>,
}

/// One record of a [`Bundle`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BundleRecord {
    /// The record's position in the log (1-based; leaf index = position − 1).
    pub position: u64,
    /// The base64 of the record's stored bytes (the leaf's content).
    pub stored: String,
    /// The inclusion proof's hashes in base64, for leaf index position − 1 in the tree of the checkpoint's
    /// size.
    pub audit_path: Vec<String>,
}

/// What [`Bundle::check`] returns: the verified checkpoint and each record's (position, stored bytes).
pub type Checked = (Checkpoint, Vec<(u64, Vec<u8>)>);

/// Why a bundle does not check (in words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The bundle's format is not [`BUNDLE_FORMAT`].
    #[error("unknown bundle format {0:?} (expected \"voucher-ledger-proof/v1\")")]
    Format(String),
    /// The checkpoint's signature does not check, or the note is malformed.
    #[error("the checkpoint's signature does not check: {0}")]
    Signature(NoteError),
    /// The signed text is not a checkpoint.
    #[error("the signed text is not a checkpoint: {0}")]
    Checkpoint(NoteError),
    /// A record's bytes or a proof hash is not valid base64 (or a hash is not 32 bytes).
    #[error("record at position {position}: {what}")]
    Encoding {
        /// The record's position.
        position: u64,
        /// What is wrong.
        what: String,
    },
    /// A record's inclusion proof does not verify against the checkpoint's root.
    #[error("record at position {position} is not proven in the checkpoint's tree: {reason}")]
    Inclusion {
        /// The record's position.
        position: u64,
        /// Why.
        reason: ProofError,
    },
}

impl Bundle {
    /// Checks the checkpoint's signature (by `key`), its format, and every record's inclusion in the tree
    /// at the checkpoint's size; returns the checkpoint and each record's (position, stored bytes). Decoding
    /// the bytes into words is the caller's.
    pub fn check(&self, key: &VerifierKey) -> Result<Checked, BundleError> {
        let _ = key;
        todo!()
    }
}
