//! The tree's own behaviour: sizes, truncation, errors, memory, a large tree.

use tlog::{MerkleTree, ProofError, TreeHash, verify_consistency, verify_inclusion};

use crate::support::{h, tree_of};

#[test]
fn an_empty_tree_has_the_hash_of_the_empty_string_as_root() {
    let sha = MerkleTree::new(TreeHash::Sha256);
    assert!(sha.is_empty());
    assert_eq!(sha.len(), 0);
    assert_eq!(sha.root(0), Ok(h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")));
    // SM3 of the empty string (GB/T 32905's hash of zero bytes, as computed by every SM3 implementation).
    let sm3 = MerkleTree::new(TreeHash::Sm3);
    assert_eq!(sm3.root(0), Ok(h("1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b")));
}

#[test]
fn sizes_and_indexes_outside_the_tree_are_refused_in_words() {
    let tree = tree_of(TreeHash::Sha256, 5);
    assert_eq!(tree.root(6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
    assert_eq!(tree.inclusion_proof(0, 6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
    assert_eq!(tree.inclusion_proof(5, 5), Err(ProofError::IndexOutOfRange { index: 5, size: 5 }));
    assert_eq!(tree.inclusion_proof(0, 0), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    assert_eq!(tree.consistency_proof(3, 6), Err(ProofError::SizeBeyondTree { size: 6, len: 5 }));
    assert_eq!(tree.consistency_proof(4, 3), Err(ProofError::FirstAfterSecond { first: 4, second: 3 }));
    assert_eq!(tree.consistency_proof(0, 5), Ok(vec![]));
    assert_eq!(tree.consistency_proof(5, 5), Ok(vec![]));
    let message = ProofError::SizeBeyondTree { size: 6, len: 5 }.to_string();
    assert_eq!(message, "tree size 6 is beyond the tree's 5 leaves");
    assert_eq!(
        ProofError::RootMismatch.to_string(),
        "the inclusion proof does not lead to the root: the leaf or a proof hash differs"
    );
}

#[test]
fn truncating_forgets_the_leaves_after_the_size_and_nothing_else() {
    let full = tree_of(TreeHash::Sha256, 37);
    let mut tree = full.clone();
    tree.truncate(100); // beyond the end: nothing changes
    assert_eq!(tree.len(), 37);
    tree.truncate(20);
    assert_eq!(tree.len(), 20);
    assert_eq!(tree.root(20), full.root(20));
    assert_eq!(tree.root(21), Err(ProofError::SizeBeyondTree { size: 21, len: 20 }));
    assert_eq!(tree.leaf_hash(20), None);
    for i in 20..37u64 {
        tree.push(i.to_string().as_bytes());
    }
    for size in 0..=37 {
        assert_eq!(tree.root(size), full.root(size), "size {size}");
    }
    tree.truncate(0);
    assert!(tree.is_empty());
    assert_eq!(tree.root(0), Ok(TreeHash::Sha256.empty()));
}

#[test]
fn pushing_a_leaf_hash_is_pushing_its_bytes() {
    let mut by_bytes = MerkleTree::new(TreeHash::Sm3);
    let mut by_hash = MerkleTree::new(TreeHash::Sm3);
    for i in 0..19u32 {
        by_bytes.push(&i.to_le_bytes());
        by_hash.push_leaf_hash(TreeHash::Sm3.leaf(&i.to_le_bytes()));
    }
    assert_eq!(by_bytes.root(19), by_hash.root(19));
    assert_eq!(by_bytes.hash(), TreeHash::Sm3);
}

#[test]
fn the_two_hash_functions_give_different_trees() {
    let sha = tree_of(TreeHash::Sha256, 3);
    let sm3 = tree_of(TreeHash::Sm3, 3);
    assert_ne!(sha.root(3), sm3.root(3));
    // A proof of one does not verify under the other.
    let proof = sha.inclusion_proof(1, 3).expect("proof");
    let leaf = sha.leaf_hash(1).expect("leaf");
    let root = sha.root(3).expect("root");
    assert_eq!(verify_inclusion(TreeHash::Sha256, &leaf, 1, 3, &proof, &root), Ok(()));
    assert_eq!(verify_inclusion(TreeHash::Sm3, &leaf, 1, 3, &proof, &root), Err(ProofError::RootMismatch));
}

#[test]
fn tree_hash_names_round_trip() {
    for hash in [TreeHash::Sha256, TreeHash::Sm3] {
        assert_eq!(hash.as_str().parse::<TreeHash>(), Ok(hash));
        assert_eq!(serde_json::to_string(&hash).expect("json"), format!("\"{}\"", hash.as_str()));
    }
    assert_eq!(TreeHash::default(), TreeHash::Sha256);
    let error = "md5".parse::<TreeHash>().expect_err("unknown");
    assert_eq!(error.to_string(), "unknown tree hash \"md5\": expected \"sha256\" or \"sm3\"");
}

/// A tree of 2^15 + 3 leaves (a ragged right edge at every level): proofs at large, odd sizes verify, and
/// the nodes take about two hashes per leaf.
#[test]
fn a_large_tree_answers_at_any_size_and_keeps_two_hashes_per_leaf() {
    let n: u64 = (1 << 15) + 3;
    let tree = tree_of(TreeHash::Sha256, n);
    let bytes = tree.memory_bytes();
    // Two hashes (64 bytes) per leaf, plus the vectors' spare capacity (at most as much again).
    assert!(bytes >= 64 * (n as usize - 1) && bytes <= 2 * 64 * n as usize, "{bytes} bytes for {n} leaves");
    for (index, size) in [(0, n), (n - 1, n), (17_777, 30_001), (16_383, 16_384), (16_384, 16_385)] {
        let proof = tree.inclusion_proof(index, size).expect("proof");
        let leaf = tree.leaf_hash(index).expect("leaf");
        let root = tree.root(size).expect("root");
        assert_eq!(verify_inclusion(TreeHash::Sha256, &leaf, index, size, &proof, &root), Ok(()));
    }
    for (first, second) in [(1, n), (16_384, n), (29_999, 30_001), (n - 1, n)] {
        let proof = tree.consistency_proof(first, second).expect("proof");
        let (r1, r2) = (tree.root(first).expect("root"), tree.root(second).expect("root"));
        assert_eq!(verify_consistency(TreeHash::Sha256, first, second, &r1, &r2, &proof), Ok(()));
    }
}

#[test]
fn reserving_before_a_rebuild_keeps_the_memory_at_two_hashes_per_leaf() {
    let n: u64 = 10_000;
    let mut tree = MerkleTree::new(TreeHash::Sha256);
    tree.reserve(n);
    for i in 0..n {
        tree.push(i.to_string().as_bytes());
    }
    let grown = tree_of(TreeHash::Sha256, n);
    assert_eq!(tree.root(n), grown.root(n));
    assert_eq!(tree.root(n - 17), grown.root(n - 17));
    let bytes = tree.memory_bytes();
    // 2n - 1 nodes of 32 bytes, plus the level vectors themselves.
    assert!(bytes >= 64 * (n as usize - 1) && bytes < 64 * n as usize + 1024, "{bytes} bytes for {n} leaves");
    // Reserving on a tree that has leaves keeps them.
    let mut more = grown.clone();
    more.reserve(5);
    assert_eq!(more.root(n), grown.root(n));
}
