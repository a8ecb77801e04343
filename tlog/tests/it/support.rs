//! What the modules share: hex, the reference leaves, a tree of n leaves.

use tlog::{MerkleTree, NodeHash, TreeHash};

/// Bytes from hex (spaces and underscores ignored). Panics on bad hex: test data only.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert_eq!(digits.len() % 2, 0, "odd number of hex digits in {text:?}");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex digit"))
        .collect()
}

/// A 32-byte hash from hex.
pub fn h(text: &str) -> NodeHash {
    hex(text).try_into().expect("32 bytes")
}

/// A tree of `n` leaves whose contents are the leaf's index in decimal.
pub fn tree_of(hash: TreeHash, n: u64) -> MerkleTree {
    let mut tree = MerkleTree::new(hash);
    for i in 0..n {
        tree.push(i.to_string().as_bytes());
    }
    tree
}
