//! The transparency log over the ledger (RFC 6962 / RFC 9162 Merkle tree, C2SP signed checkpoints): what
//! lets anyone check the ledger without its database.
//!
//! - **The tree.** Leaf `i` is the stored bytes of the record at position `i + 1` (`StoredRecord::bytes`,
//!   never re-encoded), hashed `H(0x00 || bytes)`; nodes `H(0x01 || left || right)`. It is rebuilt at start
//!   while [`crate::writer::Loaded::from_log`] reads the log (the leaf hashes are computed in the same
//!   blocking stage that verifies the chain, so the rebuild costs one more hash per record and one per node)
//!   and extended by the writer after each durable append, before the read models are applied: whatever a
//!   query reads from the read models is in the tree. After a failed append the reload rebuilds it.
//! - **The hash function** follows the signing key: an Ed25519 key signs a SHA-256 tree (the default), an
//!   SM2 key an SM3 tree (the 国密 option, GB/T 32918 / GB/T 32905). The record chain stays SHA-256 either
//!   way. The tree's hash is fixed when the log is loaded (`serve --signing-key` decides it).
//! - **Checkpoints** are signed lazily: on request, at the tree's size then, and kept until the tree grows,
//!   so a commit pays nothing for signing. Without a key the tree and proofs are still served, a checkpoint
//!   is not ([`CheckpointError::NoSigningKey`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tlog::{Algorithm, Checkpoint, MerkleTree, NodeHash, ProofError, SigningKey, TreeHash};

/// The tree hash a signing algorithm goes with: SM2 signs SM3 trees, Ed25519 SHA-256 trees.
pub fn tree_hash_for(algorithm: Algorithm) -> TreeHash {
    match algorithm {
        Algorithm::Ed25519 => TreeHash::Sha256,
        Algorithm::Sm2 => TreeHash::Sm3,
    }
}

/// The checkpoint's origin line when `--origin` is not given: the signing key's name (C2SP notes usually
/// name the key after the log's origin, and the key is what a verifier pins).
pub fn default_origin(key: &SigningKey) -> String {
    key.name().to_owned()
}

/// The key and origin checkpoints are signed with.
pub struct Signer {
    pub key: SigningKey,
    pub origin: String,
}

/// A checkpoint signed at one tree size.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    pub size: u64,
    pub root: NodeHash,
    /// The signed note, as served (`text/plain; charset=utf-8`).
    pub note: Arc<str>,
}

/// Why no checkpoint could be given.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The service runs without `--signing-key` (and not `--dev`).
    #[error("this ledger signs no checkpoints: it was started without --signing-key")]
    NoSigningKey,
    #[error("signing the checkpoint failed: {0}")]
    Sign(String),
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// Why a signer cannot be used with this ledger.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error(
        "the ledger's tree is hashed with {tree}, but the key signs {algorithm} checkpoints (SM2 goes with an SM3 tree, Ed25519 with SHA-256)"
    )]
    Mismatch { tree: &'static str, algorithm: &'static str },
    #[error("a signing key is already set")]
    AlreadySet,
}

/// The Merkle tree over the log, the signing key, and the last checkpoint signed: shared by the writer (which
/// extends the tree) and the queries (which read proofs and checkpoints), like the read models.
pub struct Transparency {
    hash: TreeHash,
    tree: RwLock<MerkleTree>,
    signer: OnceLock<Signer>,
    signed: Mutex<Option<SignedCheckpoint>>,
    /// False only in the benchmark's "off" run ([`Transparency::disable`]).
    enabled: AtomicBool,
}

impl std::fmt::Debug for Transparency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transparency").field("hash", &self.hash).field("size", &self.size()).finish()
    }
}

impl Transparency {
    /// Over a tree rebuilt from the log, without a signing key yet.
    pub fn new(tree: MerkleTree) -> Transparency {
        Transparency {
            hash: tree.hash(),
            tree: RwLock::new(tree),
            signer: OnceLock::new(),
            signed: Mutex::new(None),
            enabled: AtomicBool::new(true),
        }
    }

    /// Stops extending the tree (its proofs and checkpoints are stale from then on): for the benchmark that
    /// measures the writer with the tree off (`voucher-bench inprocess --transparency off`), nothing else.
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Relaxed);
    }

    /// Sets the key checkpoints are signed with (once).
    ///
    /// # Errors
    /// The key's algorithm does not go with the tree's hash, or a key is set already.
    pub fn set_signer(&self, signer: Signer) -> Result<(), SignerError> {
        let wanted = tree_hash_for(signer.key.algorithm());
        if wanted != self.hash {
            return Err(SignerError::Mismatch {
                tree: self.hash.as_str(),
                algorithm: match signer.key.algorithm() {
                    Algorithm::Ed25519 => "Ed25519",
                    Algorithm::Sm2 => "SM2",
                },
            });
        }
        self.signer.set(signer).map_err(|_| SignerError::AlreadySet)
    }

    /// The signer, when the service has a key.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.get()
    }

    /// The tree's hash function.
    pub fn hash(&self) -> TreeHash {
        self.hash
    }

    /// The number of leaves (the durable head's position once the writer has extended it).
    pub fn size(&self) -> u64 {
        self.read(MerkleTree::len)
    }

    /// Runs `read` under the tree's read lock (never held across an await).
    pub fn read<T>(&self, read: impl FnOnce(&MerkleTree) -> T) -> T {
        read(&self.tree.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// The leaf hashes of records about to be appended (computed before the append, so the writer needs no
    /// copy of their bytes after it).
    pub fn leaf_hashes<'a>(&self, records: impl IntoIterator<Item = &'a [u8]>) -> Vec<NodeHash> {
        if !self.enabled.load(Ordering::Relaxed) {
            return Vec::new();
        }
        records.into_iter().map(|bytes| self.hash.leaf(bytes)).collect()
    }

    /// Appends the leaves of records that became durable after position `after`. Leaves the tree alone (and
    /// logs an error) when it is not at `after`: a bug, which the next reload repairs.
    pub fn extend(&self, after: u64, leaves: &[NodeHash]) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        let mut tree = self.tree.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if tree.len() != after {
            tracing::error!(
                tree = tree.len(),
                after,
                "the Merkle tree is not at the appended records' start"
            );
            return;
        }
        for leaf in leaves {
            tree.push_leaf_hash(*leaf);
        }
    }

    /// Replaces the tree (the writer's reload after a failed append).
    pub fn replace(&self, tree: MerkleTree) {
        *self.tree.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = tree;
    }

    /// The signed checkpoint of the tree as it is now: signed at most once per size.
    ///
    /// # Errors
    /// No signing key, or signing failed.
    pub fn latest(&self) -> Result<SignedCheckpoint, CheckpointError> {
        let signer = self.signer.get().ok_or(CheckpointError::NoSigningKey)?;
        let (size, root) = self.read(|tree| tree.root(tree.len()).map(|root| (tree.len(), root)))?;
        let mut signed = self.signed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(checkpoint) = signed.as_ref()
            && checkpoint.size == size
        {
            return Ok(checkpoint.clone());
        }
        let checkpoint = sign(signer, size, root)?;
        *signed = Some(checkpoint.clone());
        Ok(checkpoint)
    }
}

/// Signs the checkpoint of a tree of `size` leaves with root `root`.
///
/// # Errors
/// [`CheckpointError::Sign`].
pub fn sign(signer: &Signer, size: u64, root: NodeHash) -> Result<SignedCheckpoint, CheckpointError> {
    let body = Checkpoint { origin: signer.origin.clone(), size, root, extensions: Vec::new() };
    let note =
        signer.key.sign_note(&body.to_text()).map_err(|error| CheckpointError::Sign(error.to_string()))?;
    Ok(SignedCheckpoint { size, root, note: note.into() })
}

/// Builds the tree of a whole log (offline: `voucher-ledger proof`, `verify --checkpoint`), reading it in
/// batches, `hash` over each record's stored bytes.
///
/// # Errors
/// The store cannot be read.
pub async fn build_tree(
    log: &dyn store::EventLog,
    hash: TreeHash,
    last: u64,
) -> Result<MerkleTree, store::StoreError> {
    const BATCH: usize = 4096;
    let mut tree = MerkleTree::new(hash);
    tree.reserve(last);
    let mut next = 1;
    while next <= last {
        let want = usize::try_from(last - next + 1).unwrap_or(BATCH).min(BATCH);
        let batch = log.read_batch(next, want).await?;
        if batch.is_empty() {
            break;
        }
        for record in &batch {
            tree.push(&record.bytes);
        }
        next += batch.len() as u64;
    }
    Ok(tree)
}
