//! The proof bundle a party downloads: its records, their inclusion proofs and the signed checkpoint.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::Checkpoint;
use crate::hash::{NodeHash, TreeHash, hash_to_base64};
use crate::merkle::{ProofError, verify_inclusion};
use crate::note::{NoteError, VerifierKey, open_note};

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

impl Bundle {
    /// A bundle of [`BUNDLE_FORMAT`].
    pub fn new(subject: &str, tree_hash: TreeHash, checkpoint: String, records: Vec<BundleRecord>) -> Bundle {
        Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            subject: subject.to_owned(),
            tree_hash,
            checkpoint,
            records,
        }
    }
}

impl BundleRecord {
    /// A record at `position` (1-based) with its stored bytes and its inclusion proof.
    pub fn new(position: u64, stored: &[u8], audit_path: &[NodeHash]) -> BundleRecord {
        BundleRecord {
            position,
            stored: STANDARD.encode(stored),
            audit_path: audit_path.iter().map(hash_to_base64).collect(),
        }
    }
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
        if self.format != BUNDLE_FORMAT {
            return Err(BundleError::Format(self.format.clone()));
        }
        let text = open_note(&self.checkpoint, std::slice::from_ref(key)).map_err(BundleError::Signature)?;
        let checkpoint = Checkpoint::parse(&text).map_err(BundleError::Checkpoint)?;
        let mut records = Vec::with_capacity(self.records.len());
        for record in &self.records {
            let position = record.position;
            let encoding = |what: String| BundleError::Encoding { position, what };
            let stored = STANDARD
                .decode(&record.stored)
                .map_err(|_| encoding("the record's stored bytes are not base64".to_owned()))?;
            let path = record
                .audit_path
                .iter()
                .enumerate()
                .map(|(i, hash)| {
                    let bytes = STANDARD
                        .decode(hash)
                        .map_err(|_| encoding(format!("proof hash {i} is not base64")))?;
                    NodeHash::try_from(bytes.as_slice())
                        .map_err(|_| encoding(format!("proof hash {i} has {} bytes, not 32", bytes.len())))
                })
                .collect::<Result<Vec<NodeHash>, BundleError>>()?;
            let Some(index) = position.checked_sub(1) else {
                return Err(encoding("positions start at 1".to_owned()));
            };
            let leaf = self.tree_hash.leaf(&stored);
            verify_inclusion(self.tree_hash, &leaf, index, checkpoint.size, &path, &checkpoint.root)
                .map_err(|reason| BundleError::Inclusion { position, reason })?;
            records.push((position, stored));
        }
        Ok((checkpoint, records))
    }
}
