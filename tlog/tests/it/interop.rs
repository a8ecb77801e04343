//! Our signed checkpoints and proofs checked by implementations this project did not write:
//! - Go's `golang.org/x/mod/sumdb/note` published example (its package documentation and `note_test.go`):
//!   the PeterNeumann signer key, verifier key, text and signed note;
//! - Cloudflare's `signed_note` (a port of Go's note package) verifying our Ed25519 notes, and signing notes
//!   we open, with keys in each other's text forms;
//! - Cloudflare's `tlog_tiles` (a port of Go's `sumdb/tlog`) parsing our checkpoints, hashing our leaves and
//!   checking our inclusion (`check_record`) and consistency (`check_tree`) proofs.

use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog::{Algorithm, Checkpoint, MerkleTree, SigningKey, TreeHash, VerifierKey, open_note};

use crate::support::tree_of;

const GO_SIGNER_KEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VERIFIER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIGNATURE: &str =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

/// Go's published note, reproduced byte for byte from Go's signer key (Ed25519 is deterministic), and
/// opened with Go's verifier key.
#[test]
fn go_s_published_note_is_reproduced_and_opened() {
    let go_note = format!("{GO_TEXT}\n\u{2014} PeterNeumann {GO_SIGNATURE}\n");
    let signer = SigningKey::from_file_text(GO_SIGNER_KEY).expect("Go's signer key");
    assert_eq!(signer.verifier().to_string(), GO_VERIFIER_KEY);
    assert_eq!(signer.to_file_text().trim_end(), GO_SIGNER_KEY);
    assert_eq!(signer.sign_note(GO_TEXT), Ok(go_note.clone()));
    let verifier: VerifierKey = GO_VERIFIER_KEY.parse().expect("Go's verifier key");
    assert_eq!(open_note(&go_note, std::slice::from_ref(&verifier)), Ok(GO_TEXT.to_owned()));
    let altered = go_note.replace("cryptography", "cryptographY");
    assert!(open_note(&altered, &[verifier]).is_err());
}

fn cloudflare_verifiers(key: &VerifierKey) -> VerifierList {
    let verifier = StandardVerifier::new(&key.to_string()).expect("signed_note reads our verifier key");
    VerifierList::new(vec![Box::new(verifier)])
}

/// Our Ed25519 signed checkpoint, verified by `signed_note` and parsed by `tlog_tiles`.
#[test]
fn our_signed_checkpoint_is_verified_by_cloudflare_s_signed_note_and_tlog_tiles() {
    let key = SigningKey::generate("ledger.example.gov.cn/vouchers", Algorithm::Ed25519).expect("key");
    let tree = tree_of(TreeHash::Sha256, 1000);
    let checkpoint = Checkpoint {
        origin: "ledger.example.gov.cn/vouchers".to_owned(),
        size: 1000,
        root: tree.root(1000).expect("root"),
        extensions: vec![],
    };
    let signed = checkpoint.sign(&key).expect("sign");

    let note = Note::from_bytes(signed.as_bytes()).expect("signed_note parses our note");
    let (verified, unverified) = note.verify(&cloudflare_verifiers(&key.verifier())).expect("verifies");
    assert_eq!((verified.len(), unverified.len()), (1, 0));
    assert_eq!(verified[0].name(), "ledger.example.gov.cn/vouchers");
    assert_eq!(verified[0].id().to_be_bytes(), key.verifier().key_id());
    assert_eq!(note.text(), checkpoint.to_text().as_bytes());
    assert_eq!(note.to_bytes(), signed.as_bytes(), "signed_note writes our note back byte for byte");

    let theirs = tlog_tiles::Checkpoint::from_bytes(note.text()).expect("tlog_tiles parses our checkpoint");
    assert_eq!(theirs.origin(), "ledger.example.gov.cn/vouchers");
    assert_eq!(theirs.size(), 1000);
    assert_eq!(theirs.hash().0, checkpoint.root);

    // Tampered: signed_note refuses it too.
    let tampered = signed.replacen("\n1000\n", "\n1001\n", 1);
    let note = Note::from_bytes(tampered.as_bytes()).expect("still well-formed");
    assert!(note.verify(&cloudflare_verifiers(&key.verifier())).is_err());
}

/// A note signed by `signed_note` with our key file's text opens with our verifier key (and our key file is
/// a key `signed_note` reads).
#[test]
fn a_note_signed_by_cloudflare_s_signed_note_opens_here() {
    let key = SigningKey::generate("ledger.example", Algorithm::Ed25519).expect("key");
    let signer = StandardSigner::new(key.to_file_text().trim_end()).expect("signed_note reads our key file");
    let text = "ledger.example\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    let mut note = Note::new(text.as_bytes(), &[]).expect("note");
    note.add_sigs(&[&signer]).expect("sign");
    let signed = String::from_utf8(note.to_bytes()).expect("utf-8");
    assert_eq!(open_note(&signed, &[key.verifier()]), Ok(text.to_owned()));
    assert_eq!(key.sign_note(text), Ok(signed), "the same bytes as ours (Ed25519 is deterministic)");
}

fn theirs(hash: &tlog::NodeHash) -> tlog_tiles::Hash {
    tlog_tiles::Hash(*hash)
}

/// Our inclusion and consistency proofs, checked by `tlog_tiles::check_record` and `check_tree` at every
/// size up to 70 (all shapes of the small trees) and at a few sizes of a larger tree.
#[test]
fn our_proofs_are_checked_by_cloudflare_s_tlog_tiles() {
    let contents: Vec<Vec<u8>> = (0..1500u32).map(|i| format!("record {i}").into_bytes()).collect();
    let mut tree = MerkleTree::new(TreeHash::Sha256);
    for content in &contents {
        tree.push(content);
        // Their leaf hash is ours.
        assert_eq!(tlog_tiles::record_hash(content).0, TreeHash::Sha256.leaf(content));
    }
    let mut pairs: Vec<(u64, u64)> = (1..=70).flat_map(|t| (0..t).map(move |n| (n, t))).collect();
    pairs.extend([(0, 1500), (700, 1500), (1023, 1024), (1024, 1025), (1499, 1500), (511, 1000)]);
    for (n, t) in pairs {
        let root = theirs(&tree.root(t).expect("root"));
        let proof: Vec<tlog_tiles::Hash> =
            tree.inclusion_proof(n, t).expect("proof").iter().map(theirs).collect();
        let leaf = theirs(&tree.leaf_hash(n).expect("leaf"));
        assert!(tlog_tiles::check_record(&proof, t, root, n, leaf).is_ok(), "record {n} in {t}");
        // And a wrong leaf is refused by them too.
        let wrong = theirs(&TreeHash::Sha256.leaf(b"not in the log"));
        assert!(tlog_tiles::check_record(&proof, t, root, n, wrong).is_err(), "wrong record {n} in {t}");

        // Consistency from size n+1 to t (their check_tree takes 1 <= n <= t).
        let first = n + 1;
        let proof: Vec<tlog_tiles::Hash> =
            tree.consistency_proof(first, t).expect("proof").iter().map(theirs).collect();
        let first_root = theirs(&tree.root(first).expect("root"));
        assert!(tlog_tiles::check_tree(&proof, t, root, first, first_root).is_ok(), "tree {first} in {t}");
        if first < t {
            let wrong = theirs(&tree.root(first - 1).expect("root"));
            assert!(
                tlog_tiles::check_tree(&proof, t, root, first, wrong).is_err(),
                "wrong tree {first} in {t}"
            );
        }
    }
}
