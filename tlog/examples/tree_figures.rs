//! The tree's costs at the size of the full benchmark ledger (1.1 million records): building it, a root,
//! an inclusion proof and a consistency proof at a size in the middle, and its memory.
//!
//! Run: `cargo run --release -p tlog --example tree_figures [LEAVES [LEAF_BYTES]]` (defaults 1 100 000 and
//! 300 bytes a leaf).

use std::time::Instant;

use tlog::{MerkleTree, TreeHash, verify_consistency, verify_inclusion};

fn main() {
    let mut args = std::env::args().skip(1);
    let leaves: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_100_000);
    let leaf_bytes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    for hash in [TreeHash::Sha256, TreeHash::Sm3] {
        let mut leaf = vec![0u8; leaf_bytes];
        let mut tree = MerkleTree::new(hash);
        let start = Instant::now();
        tree.reserve(leaves); // as a rebuild at start does, knowing the log's length
        for i in 0..leaves {
            leaf[..8].copy_from_slice(&i.to_le_bytes());
            tree.push(&leaf);
        }
        let build = start.elapsed();
        let size = leaves - leaves / 3 - 1; // a ragged size
        let rounds = 10_000u32;

        let start = Instant::now();
        let mut root = tree.root(size).expect("root");
        for _ in 1..rounds {
            root = tree.root(size).expect("root");
        }
        let root_time = start.elapsed() / rounds;

        let index = size / 2 + 7;
        let start = Instant::now();
        let mut proof = tree.inclusion_proof(index, size).expect("proof");
        for _ in 1..rounds {
            proof = tree.inclusion_proof(index, size).expect("proof");
        }
        let inclusion_time = start.elapsed() / rounds;
        let leaf_hash = tree.leaf_hash(index).expect("leaf");
        verify_inclusion(hash, &leaf_hash, index, size, &proof, &root).expect("verifies");

        let first = size / 3 + 5;
        let start = Instant::now();
        let mut consistency = tree.consistency_proof(first, size).expect("proof");
        for _ in 1..rounds {
            consistency = tree.consistency_proof(first, size).expect("proof");
        }
        let consistency_time = start.elapsed() / rounds;
        let first_root = tree.root(first).expect("root");
        verify_consistency(hash, first, size, &first_root, &root, &consistency).expect("verifies");

        println!(
            "{hash}: {leaves} leaves of {leaf_bytes} bytes: build {:.2} s ({:.0} leaves/s), memory {:.1} MiB; \
             at size {size}: root {root_time:?}, inclusion proof ({} hashes) {inclusion_time:?}, \
             consistency proof from {first} ({} hashes) {consistency_time:?}",
            build.as_secs_f64(),
            leaves as f64 / build.as_secs_f64(),
            tree.memory_bytes() as f64 / (1024.0 * 1024.0),
            proof.len(),
            consistency.len(),
        );
    }
}
