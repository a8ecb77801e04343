//! The RFC 6962 / RFC 9162 Merkle tree, kept in memory, and the verifiers of its proofs.

use crate::hash::{NodeHash, TreeHash};

/// Why a tree could not answer, or why a proof does not verify (in words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A size beyond the leaves the tree holds.
    #[error("tree size {size} is beyond the tree's {len} leaves")]
    SizeBeyondTree {
        /// The size asked for.
        size: u64,
        /// The leaves the tree holds.
        len: u64,
    },
    /// A leaf index that is not below the tree size.
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof asked or given from a larger tree to a smaller one.
    #[error("the first tree size {first} is larger than the second {second}")]
    FirstAfterSecond {
        /// The first (older) size.
        first: u64,
        /// The second (newer) size.
        second: u64,
    },
    /// The proof has more hashes than the sizes call for.
    #[error("the proof has {len} hashes, more than a proof for these sizes has")]
    ProofTooLong {
        /// The proof's number of hashes.
        len: usize,
    },
    /// The proof has fewer hashes than the sizes call for.
    #[error("the proof has {len} hashes, fewer than a proof for these sizes has")]
    ProofTooShort {
        /// The proof's number of hashes.
        len: usize,
    },
    /// The inclusion proof leads to a root other than the expected one.
    #[error("the inclusion proof does not lead to the root: the leaf or a proof hash differs")]
    RootMismatch,
    /// The consistency proof does not reproduce the first tree's root.
    #[error("the consistency proof does not reproduce the first tree's root")]
    FirstRootMismatch,
    /// The consistency proof does not reproduce the second tree's root.
    #[error("the consistency proof does not reproduce the second tree's root")]
    SecondRootMismatch,
}

/// An append-only Merkle tree (RFC 6962 / RFC 9162) kept in memory.
///
/// It stores every level's complete nodes: level 0 holds the leaf hashes, level `k` the hashes of the
/// aligned subtrees of 2^k leaves. A subtree of the form RFC 9162's algorithms ask for (starting at a
/// multiple of the power of two at or above its length) is then one stored node or a chain of at most
/// log2(n) of them, so [`root`](Self::root), [`inclusion_proof`](Self::inclusion_proof) and
/// [`consistency_proof`](Self::consistency_proof) at any size up to [`len`](Self::len) cost O(log² n) hash
/// computations at most, and appending costs one leaf hash plus O(1) node hashes amortised. Memory is about
/// two hashes (64 bytes) per leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    hash: TreeHash,
    /// `levels[k][i]` = the hash of leaves `i * 2^k .. (i + 1) * 2^k`.
    levels: Vec<Vec<NodeHash>>,
}

impl MerkleTree {
    /// An empty tree hashing with `hash`.
    pub fn new(hash: TreeHash) -> Self {
        MerkleTree { hash, levels: vec![Vec::new()] }
    }

    /// The tree's hash function.
    pub fn hash(&self) -> TreeHash {
        self.hash
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// Reserves room for `additional` more leaves (and their nodes), e.g. before rebuilding the tree of a
    /// log whose length is known, so the levels are not regrown by doubling (which leaves up to half of
    /// [`memory_bytes`](Self::memory_bytes) unused).
    pub fn reserve(&mut self, additional: u64) {
        let target = self.len().saturating_add(additional);
        let mut level = 0;
        while level == 0 || target >> level > 0 {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let want = usize::try_from(target >> level).unwrap_or(usize::MAX);
            let nodes = &mut self.levels[level];
            nodes.reserve(want.saturating_sub(nodes.len()));
            level += 1;
        }
    }

    /// Every level's complete nodes: `levels()[k][i]` is the hash of leaves `i * 2^k .. (i + 1) * 2^k`
    /// (level 0: the leaf hashes). What a snapshot keeps so that the tree is not rehashed at start.
    pub fn levels(&self) -> &[Vec<NodeHash>] {
        &self.levels
    }

    /// A tree from its levels, as [`levels`](Self::levels) gave them. The shape is checked (each level holds
    /// half of the one below, rounded down, and the top level fewer than two nodes), the hashes are not: the
    /// caller vouches for them (a snapshot checked against its checksum and the log's record hash).
    ///
    /// # Errors
    /// The levels' lengths do not form a tree (the level whose length is wrong).
    pub fn from_levels(hash: TreeHash, mut levels: Vec<Vec<NodeHash>>) -> Result<Self, usize> {
        if levels.is_empty() {
            levels.push(Vec::new());
        }
        for k in 1..levels.len() {
            if levels[k].len() != levels[k - 1].len() / 2 {
                return Err(k);
            }
        }
        let top = levels.len() - 1;
        if levels[top].len() >= 2 {
            return Err(top + 1);
        }
        Ok(MerkleTree { hash, levels })
    }

    /// Appends a leaf whose content is `leaf_bytes` (its hash is H(0x00 || bytes)).
    pub fn push(&mut self, leaf_bytes: &[u8]) {
        self.push_leaf_hash(self.hash.leaf(leaf_bytes));
    }

    /// Appends a leaf by its leaf hash (already H(0x00 || bytes)).
    pub fn push_leaf_hash(&mut self, leaf: NodeHash) {
        self.levels[0].push(leaf);
        let mut level = 0;
        // Each time a level's count becomes even, its last two nodes complete a node of the level above.
        while self.levels[level].len().is_multiple_of(2) {
            let nodes = &self.levels[level];
            let parent = self.hash.node(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// Forgets the leaves after the first `size` (after an append that did not commit). A `size` at or
    /// beyond [`len`](Self::len) changes nothing.
    pub fn truncate(&mut self, size: u64) {
        for (k, nodes) in self.levels.iter_mut().enumerate() {
            let keep = usize::try_from(size >> k).unwrap_or(usize::MAX);
            nodes.truncate(keep);
        }
        while self.levels.len() > 1 && self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// The leaf hash at `index` (0-based), if the tree has it.
    pub fn leaf_hash(&self, index: u64) -> Option<NodeHash> {
        usize::try_from(index).ok().and_then(|index| self.levels[0].get(index)).copied()
    }

    /// The root of the tree at `size` (the first `size` leaves); size 0 is H() of the empty string.
    pub fn root(&self, size: u64) -> Result<NodeHash, ProofError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(self.hash.empty());
        }
        Ok(self.subtree(0, size))
    }

    /// The inclusion proof (RFC 9162 section 2.1.3.1, the audit path) of leaf `index` in the tree at `size`,
    /// the sibling nearest the leaf first.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<NodeHash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The consistency proof (RFC 9162 section 2.1.4.1) between the trees at `first` and `second`. Empty
    /// when `first` is 0 or equals `second` (any tree extends the empty one, and a tree itself).
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<NodeHash>, ProofError> {
        self.check_size(second)?;
        if first > second {
            return Err(ProofError::FirstAfterSecond { first, second });
        }
        let mut proof = Vec::new();
        if first > 0 && first < second {
            self.subproof(first, 0, second, true, &mut proof);
        }
        Ok(proof)
    }

    /// The bytes the tree's nodes occupy (the vectors' capacity), for the operators' figures.
    pub fn memory_bytes(&self) -> usize {
        self.levels.iter().map(|nodes| nodes.capacity() * std::mem::size_of::<NodeHash>()).sum::<usize>()
            + self.levels.capacity() * std::mem::size_of::<Vec<NodeHash>>()
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.len() {
            return Err(ProofError::SizeBeyondTree { size, len: self.len() });
        }
        Ok(())
    }

    /// MTH(D[start .. start + n]) for n >= 1 and `start` a multiple of the power of two at or above `n`
    /// (every subtree RFC 9162's algorithms name is of this form).
    fn subtree(&self, start: u64, n: u64) -> NodeHash {
        if n.is_power_of_two() {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start >> level) as usize];
        }
        let k = split(n);
        let left = self.subtree(start, k);
        let right = self.subtree(start + k, n - k);
        self.hash.node(&left, &right)
    }

    /// PATH(m, D[start .. start + n]), appended to `proof`.
    fn path(&self, m: u64, start: u64, n: u64, proof: &mut Vec<NodeHash>) {
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, k, proof);
            proof.push(self.subtree(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, proof);
            proof.push(self.subtree(start, k));
        }
    }

    /// SUBPROOF(m, D[start .. start + n], b), appended to `proof`.
    fn subproof(&self, m: u64, start: u64, n: u64, whole: bool, proof: &mut Vec<NodeHash>) {
        if m == n {
            if !whole {
                proof.push(self.subtree(start, n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, k, whole, proof);
            proof.push(self.subtree(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, proof);
            proof.push(self.subtree(start, k));
        }
    }
}

/// The largest power of two smaller than `n` (n >= 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// Verifies an inclusion proof (RFC 9162 section 2.1.3.2): that `leaf` (a leaf hash) is at `index` in the
/// tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    hash: TreeHash,
    leaf: &NodeHash,
    index: u64,
    size: u64,
    path: &[NodeHash],
    root: &NodeHash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return Err(ProofError::ProofTooLong { len: path.len() });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = hash.node(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = hash.node(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::ProofTooShort { len: path.len() });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 section 2.1.4.2): that the tree of `second` leaves with root
/// `second_root` extends the tree of `first` leaves with root `first_root`. With `first` 0 the proof must be
/// empty (every tree extends the empty one); with `first == second` it must be empty and the roots equal.
pub fn verify_consistency(
    hash: TreeHash,
    first: u64,
    second: u64,
    first_root: &NodeHash,
    second_root: &NodeHash,
    proof: &[NodeHash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::FirstAfterSecond { first, second });
    }
    if first == second || first == 0 {
        if !proof.is_empty() {
            return Err(ProofError::ProofTooLong { len: proof.len() });
        }
        if first == second && first_root != second_root {
            return Err(ProofError::SecondRootMismatch);
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::ProofTooShort { len: 0 });
    }
    // Step 2: when `first` is a power of two, its root is the first node of the walk.
    let (seed, rest) = if first.is_power_of_two() { (first_root, proof) } else { (&proof[0], &proof[1..]) };
    let (mut f_n, mut s_n) = (first - 1, second - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*seed, *seed);
    for c in rest {
        if s_n == 0 {
            return Err(ProofError::ProofTooLong { len: proof.len() });
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = hash.node(c, &f_r);
            s_r = hash.node(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = hash.node(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::ProofTooShort { len: proof.len() });
    }
    if f_r != *first_root {
        return Err(ProofError::FirstRootMismatch);
    }
    if s_r != *second_root {
        return Err(ProofError::SecondRootMismatch);
    }
    Ok(())
}
