//! The tree against RFC 6962's reference test values.
//!
//! Source of every value here: the test data of the Certificate Transparency / Trillian Merkle tree
//! implementations, as kept in `github.com/transparency-dev/merkle` (Apache-2.0): `testonly/constants.go`
//! (`LeafInputs`, `NodeHashes`, `RootHashes`, `EmptyRootHash`) and `proof/verify_test.go`
//! (`inclusionProofs`, `consistencyProofs`; there the leaf number is 1-based, here it is the 0-based leaf
//! index). The same values are in `google/certificate-transparency`'s `cpp/merkletree/merkle_tree_test.cc`.

use tlog::{MerkleTree, NodeHash, ProofError, TreeHash, verify_consistency, verify_inclusion};

use crate::support::{h, hex};

/// The eight reference leaves (`LeafInputs`).
fn leaves() -> Vec<Vec<u8>> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|leaf| hex(leaf))
        .collect()
}

/// The roots of the trees of 0..=8 reference leaves (`RootHashes`, with `EmptyRootHash` first).
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// The leaf hashes of the eight leaves (`NodeHashes()[0]`).
const LEAF_HASHES: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];

/// (leaf index, tree size, audit path): `inclusionProofs` of `verify_test.go`.
fn inclusion_vectors() -> Vec<(u64, u64, Vec<NodeHash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (2, 3, vec![h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// (first size, second size, proof): `consistencyProofs` of `verify_test.go`.
fn consistency_vectors() -> Vec<(u64, u64, Vec<NodeHash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

fn reference_tree() -> MerkleTree {
    let mut tree = MerkleTree::new(TreeHash::Sha256);
    for leaf in leaves() {
        tree.push(&leaf);
    }
    tree
}

#[test]
fn leaf_hashes_are_the_reference_values() {
    let tree = reference_tree();
    for (index, expected) in LEAF_HASHES.iter().enumerate() {
        assert_eq!(tree.leaf_hash(index as u64), Some(h(expected)), "leaf {index}");
        assert_eq!(TreeHash::Sha256.leaf(&leaves()[index]), h(expected), "leaf {index}");
    }
    assert_eq!(tree.leaf_hash(8), None);
}

#[test]
fn roots_of_the_trees_of_0_to_8_leaves_are_the_reference_values() {
    // Both ways: the roots at every size of the full tree, and the roots of trees grown to each size.
    let tree = reference_tree();
    for (size, expected) in ROOTS.iter().enumerate() {
        assert_eq!(tree.root(size as u64), Ok(h(expected)), "root at size {size} of the 8-leaf tree");
        let mut grown = MerkleTree::new(TreeHash::Sha256);
        for leaf in &leaves()[..size] {
            grown.push(leaf);
        }
        assert_eq!(grown.root(size as u64), Ok(h(expected)), "root of a tree of {size} leaves");
    }
}

#[test]
fn inclusion_proofs_are_the_reference_values_and_verify() {
    let tree = reference_tree();
    for (index, size, path) in inclusion_vectors() {
        assert_eq!(tree.inclusion_proof(index, size).as_ref(), Ok(&path), "proof of {index} in {size}");
        let root = h(ROOTS[size as usize]);
        let leaf = h(LEAF_HASHES[index as usize]);
        assert_eq!(verify_inclusion(TreeHash::Sha256, &leaf, index, size, &path, &root), Ok(()));
    }
}

#[test]
fn consistency_proofs_are_the_reference_values_and_verify() {
    let tree = reference_tree();
    for (first, second, proof) in consistency_vectors() {
        assert_eq!(tree.consistency_proof(first, second).as_ref(), Ok(&proof), "proof {first} -> {second}");
        let (first_root, second_root) = (h(ROOTS[first as usize]), h(ROOTS[second as usize]));
        assert_eq!(
            verify_consistency(TreeHash::Sha256, first, second, &first_root, &second_root, &proof),
            Ok(()),
            "{first} -> {second}"
        );
    }
}

/// The corruptions of `verify_test.go`'s `corruptInclusionProof`: every one is refused.
#[test]
fn corrupted_reference_inclusion_proofs_are_refused() {
    let some_hash = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let empty_root = h(ROOTS[0]);
    for (index, size, path) in inclusion_vectors() {
        let root = h(ROOTS[size as usize]);
        let leaf = h(LEAF_HASHES[index as usize]);
        let mut probes: Vec<(String, u64, u64, NodeHash, NodeHash, Vec<NodeHash>)> = vec![
            ("index + 1".into(), index + 1, size, root, leaf, path.clone()),
            ("index ^ 2".into(), index ^ 2, size, root, leaf, path.clone()),
            ("size * 2".into(), index, size * 2, root, leaf, path.clone()),
            ("size / 2".into(), index, size / 2, root, leaf, path.clone()),
            ("wrong leaf".into(), index, size, root, some_hash, path.clone()),
            ("empty root".into(), index, size, empty_root, leaf, path.clone()),
            ("random root".into(), index, size, some_hash, leaf, path.clone()),
            ("trailing root".into(), index, size, root, leaf, [path.clone(), vec![root]].concat()),
            ("preceding root".into(), index, size, root, leaf, [vec![root], path.clone()].concat()),
        ];
        if index > 0 {
            probes.push(("index - 1".into(), index - 1, size, root, leaf, path.clone()));
        }
        for i in 0..path.len() {
            let mut wrong = path.clone();
            wrong[i][0] ^= 8;
            probes.push((format!("proof[{i}] bit 3"), index, size, root, leaf, wrong));
        }
        if !path.is_empty() {
            probes.push(("removed hash".into(), index, size, root, leaf, path[..path.len() - 1].to_vec()));
        }
        if path.len() > 1 {
            let inserted = [&path[..1], &[some_hash], &path[1..]].concat();
            probes.push(("inserted hash".into(), index, size, root, leaf, inserted));
        }
        for (what, index_, size_, root_, leaf_, path_) in probes {
            let outcome = verify_inclusion(TreeHash::Sha256, &leaf_, index_, size_, &path_, &root_);
            assert!(outcome.is_err(), "{what} of the proof of {index} in {size} verified");
        }
    }
}

/// The corruptions of `verify_test.go`'s `corruptConsistencyProof`: every one is refused.
#[test]
fn corrupted_reference_consistency_proofs_are_refused() {
    let wrong_root = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (first, second, proof) in consistency_vectors() {
        if proof.is_empty() {
            continue;
        }
        let (r1, r2) = (h(ROOTS[first as usize]), h(ROOTS[second as usize]));
        let mut probes: Vec<(String, u64, u64, NodeHash, NodeHash, Vec<NodeHash>)> = vec![
            ("first - 1".into(), first - 1, second, r1, r2, proof.clone()),
            ("first + 1".into(), first + 1, second, r1, r2, proof.clone()),
            ("first ^ 2".into(), first ^ 2, second, r1, r2, proof.clone()),
            ("second * 2".into(), first, second * 2, r1, r2, proof.clone()),
            ("second / 2".into(), first, second / 2, r1, r2, proof.clone()),
            ("wrong first root".into(), first, second, wrong_root, r2, proof.clone()),
            ("wrong second root".into(), first, second, r1, wrong_root, proof.clone()),
            ("swapped roots".into(), first, second, r2, r1, proof.clone()),
            ("empty proof".into(), first, second, r1, r2, vec![]),
            ("trailing first root".into(), first, second, r1, r2, [proof.clone(), vec![r1]].concat()),
            ("trailing second root".into(), first, second, r1, r2, [proof.clone(), vec![r2]].concat()),
            ("preceding first root".into(), first, second, r1, r2, [vec![r1], proof.clone()].concat()),
            ("preceding second root".into(), first, second, r1, r2, [vec![r2], proof.clone()].concat()),
            ("preceding proof[0]".into(), first, second, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            ("truncated".into(), first, second, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i][0] ^= 16;
            probes.push((format!("proof[{i}] bit 4"), first, second, r1, r2, wrong));
        }
        for (what, f, s, a, b, p) in probes {
            let outcome = verify_consistency(TreeHash::Sha256, f, s, &a, &b, &p);
            assert!(outcome.is_err(), "{what} of the proof {first} -> {second} verified");
        }
    }
}

/// The edge cases of `verify_test.go`'s `TestVerifyConsistency` and `TestVerifyInclusion`.
#[test]
fn edge_cases_of_the_reference_verifiers() {
    let (r1, r2) = (h(ROOTS[1]), h(ROOTS[2]));
    let empty = h(ROOTS[0]);
    let sha = TreeHash::Sha256;
    // Sizes that are always consistent, with an empty proof.
    assert_eq!(verify_consistency(sha, 0, 0, &empty, &empty, &[]), Ok(()));
    assert_eq!(verify_consistency(sha, 0, 1, &empty, &r1, &[]), Ok(()));
    assert_eq!(verify_consistency(sha, 1, 1, &r1, &r1, &[]), Ok(()));
    // Same size, different roots.
    assert_eq!(verify_consistency(sha, 1, 1, &r1, &r2, &[]), Err(ProofError::SecondRootMismatch));
    // Time travel to the past.
    assert_eq!(
        verify_consistency(sha, 2, 1, &r2, &r1, &[]),
        Err(ProofError::FirstAfterSecond { first: 2, second: 1 })
    );
    // An empty proof between different sizes.
    assert_eq!(verify_consistency(sha, 1, 2, &r1, &r2, &[]), Err(ProofError::ProofTooShort { len: 0 }));
    // Roots match but the proof is not empty.
    assert_eq!(verify_consistency(sha, 1, 1, &r1, &r1, &[empty]), Err(ProofError::ProofTooLong { len: 1 }));
    assert_eq!(
        verify_consistency(sha, 0, 1, &empty, &r1, &[empty]),
        Err(ProofError::ProofTooLong { len: 1 })
    );
    // Inclusion in impossible trees.
    for (index, size) in [(0, 0), (1, 0), (2, 1)] {
        assert_eq!(
            verify_inclusion(sha, &r1, index, size, &[], &r1),
            Err(ProofError::IndexOutOfRange { index, size })
        );
    }
    // The one-leaf tree: the root is the leaf hash and the path is empty.
    assert_eq!(verify_inclusion(sha, &r1, 0, 1, &[], &r1), Ok(()));
    assert_eq!(verify_inclusion(sha, &r1, 0, 1, &[], &empty), Err(ProofError::RootMismatch));
}
