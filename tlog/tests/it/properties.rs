//! Properties of the tree: it agrees with RFC 9162's recursive definitions, every inclusion and consistency
//! proof it makes verifies, and altering any hash (a proof hash, the leaf, a root) makes the proof fail.
//!
//! Case count: 64 per property. Every shape below 41 leaves is checked exhaustively (every index, every
//! pair of sizes, under both hash functions) by `all_proofs_of_the_small_trees_verify_and_match_the_definition`;
//! the random cases are there for the larger shapes (up to 300 leaves, depth 9, random contents, random hash
//! function, random bit flipped). A debug build hashes slowly (the hash crates are unoptimised there: about
//! 25 µs a hash), so 64 cases keep each property near a second; a run at 20 000 cases per property in a
//! release build (`PROPTEST_CASES` is not read, the count is set here: change it and run with `--release`)
//! found nothing either.

use proptest::prelude::*;
use tlog::{MerkleTree, NodeHash, TreeHash, verify_consistency, verify_inclusion};

/// RFC 9162's recursive definitions (MTH, PATH, SUBPROOF of sections 2.1.1, 2.1.3.1 and 2.1.4.1), written
/// from the text over a list of leaf hashes, with no stored nodes. Subtree hashes are memoised so that the
/// definitions stay cheap enough to run for every proof.
struct Definition {
    hash: TreeHash,
    leaves: Vec<NodeHash>,
    memo: std::cell::RefCell<std::collections::HashMap<(usize, usize), NodeHash>>,
}

impl Definition {
    fn new(hash: TreeHash, leaves: Vec<NodeHash>) -> Self {
        Definition { hash, leaves, memo: Default::default() }
    }

    /// MTH(D[start .. start + n]).
    fn mth(&self, start: usize, n: usize) -> NodeHash {
        if let Some(hash) = self.memo.borrow().get(&(start, n)) {
            return *hash;
        }
        let hash = match n {
            0 => self.hash.empty(),
            1 => self.leaves[start],
            n => {
                let k = largest_power_of_two_below(n);
                self.hash.node(&self.mth(start, k), &self.mth(start + k, n - k))
            }
        };
        self.memo.borrow_mut().insert((start, n), hash);
        hash
    }

    /// PATH(m, D[start .. start + n]).
    fn path(&self, m: usize, start: usize, n: usize) -> Vec<NodeHash> {
        if n <= 1 {
            return Vec::new();
        }
        let k = largest_power_of_two_below(n);
        if m < k {
            [self.path(m, start, k), vec![self.mth(start + k, n - k)]].concat()
        } else {
            [self.path(m - k, start + k, n - k), vec![self.mth(start, k)]].concat()
        }
    }

    /// SUBPROOF(m, D[start .. start + n], whole).
    fn subproof(&self, m: usize, start: usize, n: usize, whole: bool) -> Vec<NodeHash> {
        if m == n {
            return if whole { Vec::new() } else { vec![self.mth(start, n)] };
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            [self.subproof(m, start, k, whole), vec![self.mth(start + k, n - k)]].concat()
        } else {
            [self.subproof(m - k, start + k, n - k, false), vec![self.mth(start, k)]].concat()
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn flip(mut hash: NodeHash, bit: usize) -> NodeHash {
    hash[(bit / 8) % 32] ^= 1 << (bit % 8);
    hash
}

/// Checks the inclusion proof of `index` in the tree at `size`: it is the definition's and it verifies;
/// with `bit`, flipping that bit of any of its hashes, of the leaf or of the root makes it fail.
fn check_inclusion(tree: &MerkleTree, definition: &Definition, index: u64, size: u64, bit: Option<usize>) {
    let hash = tree.hash();
    let proof = tree.inclusion_proof(index, size).expect("a proof inside the tree");
    assert_eq!(proof, definition.path(index as usize, 0, size as usize), "PATH({index}, {size})");
    let root = tree.root(size).expect("root");
    let leaf = definition.leaves[index as usize];
    assert_eq!(verify_inclusion(hash, &leaf, index, size, &proof, &root), Ok(()), "{index} in {size}");
    let Some(bit) = bit else { return };
    for i in 0..proof.len() {
        let mut altered = proof.clone();
        altered[i] = flip(altered[i], bit);
        assert!(verify_inclusion(hash, &leaf, index, size, &altered, &root).is_err(), "altered proof[{i}]");
    }
    assert!(verify_inclusion(hash, &flip(leaf, bit), index, size, &proof, &root).is_err(), "altered leaf");
    assert!(verify_inclusion(hash, &leaf, index, size, &proof, &flip(root, bit)).is_err(), "altered root");
}

/// Checks the consistency proof from `first` to `second`: it is the definition's and it verifies; with
/// `bit`, flipping that bit of any of its hashes or of either root makes it fail (where anything can: from
/// the empty tree every tree is consistent).
fn check_consistency(
    tree: &MerkleTree,
    definition: &Definition,
    first: u64,
    second: u64,
    bit: Option<usize>,
) {
    let hash = tree.hash();
    let proof = tree.consistency_proof(first, second).expect("a proof inside the tree");
    let expected =
        if first == 0 { Vec::new() } else { definition.subproof(first as usize, 0, second as usize, true) };
    assert_eq!(proof, expected, "PROOF({first}, {second})");
    let (r1, r2) = (tree.root(first).expect("root"), tree.root(second).expect("root"));
    assert_eq!(verify_consistency(hash, first, second, &r1, &r2, &proof), Ok(()), "{first} -> {second}");
    let Some(bit) = bit else { return };
    if first == 0 {
        return;
    }
    for i in 0..proof.len() {
        let mut altered = proof.clone();
        altered[i] = flip(altered[i], bit);
        assert!(verify_consistency(hash, first, second, &r1, &r2, &altered).is_err(), "altered proof[{i}]");
    }
    assert!(verify_consistency(hash, first, second, &flip(r1, bit), &r2, &proof).is_err(), "altered root 1");
    assert!(verify_consistency(hash, first, second, &r1, &flip(r2, bit), &proof).is_err(), "altered root 2");
}

fn tree_of(hash: TreeHash, contents: &[Vec<u8>]) -> (MerkleTree, Definition) {
    let mut tree = MerkleTree::new(hash);
    for content in contents {
        tree.push(content);
    }
    let leaves = contents.iter().map(|content| hash.leaf(content)).collect();
    (tree, Definition::new(hash, leaves))
}

#[test]
fn all_proofs_of_the_small_trees_verify_and_match_the_definition() {
    let contents: Vec<Vec<u8>> = (0..40u32).map(|i| i.to_be_bytes().to_vec()).collect();
    for hash in [TreeHash::Sha256, TreeHash::Sm3] {
        let (tree, definition) = tree_of(hash, &contents);
        for size in 0..=40u64 {
            assert_eq!(tree.root(size), Ok(definition.mth(0, size as usize)), "MTH of {size} ({hash})");
            for index in 0..size {
                check_inclusion(&tree, &definition, index, size, None);
            }
            for first in 0..=size {
                check_consistency(&tree, &definition, first, size, None);
            }
        }
    }
}

fn tree_hash() -> impl Strategy<Value = TreeHash> {
    prop_oneof![Just(TreeHash::Sha256), Just(TreeHash::Sm3)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_inclusion_proof_verifies_and_any_altered_hash_fails(
        hash in tree_hash(),
        contents in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 1..300),
        size_seed in any::<u64>(),
        index_seed in any::<u64>(),
        bit in 0usize..256,
    ) {
        let (tree, definition) = tree_of(hash, &contents);
        let size = 1 + size_seed % tree.len();
        let index = index_seed % size;
        prop_assert_eq!(tree.root(size), Ok(definition.mth(0, size as usize)));
        check_inclusion(&tree, &definition, index, size, Some(bit));
    }

    #[test]
    fn every_consistency_proof_verifies_and_any_altered_hash_fails(
        hash in tree_hash(),
        contents in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 1..300),
        second_seed in any::<u64>(),
        first_seed in any::<u64>(),
        bit in 0usize..256,
    ) {
        let (tree, definition) = tree_of(hash, &contents);
        let second = 1 + second_seed % tree.len();
        let first = first_seed % (second + 1);
        check_consistency(&tree, &definition, first, second, Some(bit));
    }

    /// Truncating and regrowing gives the same tree as growing only (the writer's path after an append
    /// that did not commit).
    #[test]
    fn truncating_then_regrowing_gives_the_same_roots(
        contents in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 1..200),
        cut_seed in any::<u64>(),
    ) {
        let (tree, _) = tree_of(TreeHash::Sha256, &contents);
        let cut = cut_seed % (tree.len() + 1);
        let mut cut_tree = tree.clone();
        cut_tree.push(b"an append that did not commit");
        cut_tree.truncate(cut);
        prop_assert_eq!(cut_tree.len(), cut);
        for content in &contents[cut as usize..] {
            cut_tree.push(content);
        }
        for size in 0..=tree.len() {
            prop_assert_eq!(cut_tree.root(size), tree.root(size));
        }
    }
}
