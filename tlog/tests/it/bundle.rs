//! Bundles: checked offline against the signed checkpoint; a changed record byte, proof hash or signature
//! fails with its reason.

use tlog::{
    Algorithm, Bundle, BundleError, BundleRecord, Checkpoint, MerkleTree, NoteError, ProofError, SigningKey,
    TreeHash, hash_from_base64, hash_to_base64,
};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A log of 50 records, a signed checkpoint at size 45, and a bundle of the records at positions 3, 17
/// and 45 (the party's), proven against it.
fn setup(hash: TreeHash, algorithm: Algorithm) -> (Bundle, SigningKey) {
    let records: Vec<Vec<u8>> = (1..=50u32).map(|p| format!("record at position {p}").into_bytes()).collect();
    let mut tree = MerkleTree::new(hash);
    for record in &records {
        tree.push(record);
    }
    let key = SigningKey::generate("ledger.example.gov.cn/vouchers", algorithm).expect("key");
    let size = 45;
    let checkpoint = Checkpoint {
        origin: "ledger.example.gov.cn/vouchers".to_owned(),
        size,
        root: tree.root(size).expect("root"),
        extensions: vec![],
    };
    let note = checkpoint.sign(&key).expect("sign");
    let bundle_records = [3u64, 17, 45]
        .iter()
        .map(|&position| {
            let path = tree.inclusion_proof(position - 1, size).expect("proof");
            BundleRecord::new(position, &records[position as usize - 1], &path)
        })
        .collect();
    (Bundle::new("91110000600037341L", hash, note, bundle_records), key)
}

#[test]
fn a_bundle_checks_and_gives_the_records_and_the_checkpoint() {
    for (hash, algorithm) in [(TreeHash::Sha256, Algorithm::Ed25519), (TreeHash::Sm3, Algorithm::Sm2)] {
        let (bundle, key) = setup(hash, algorithm);
        let (checkpoint, records) = bundle.check(&key.verifier()).expect("checks");
        assert_eq!(checkpoint.size, 45);
        assert_eq!(checkpoint.origin, "ledger.example.gov.cn/vouchers");
        let positions: Vec<u64> = records.iter().map(|(position, _)| *position).collect();
        assert_eq!(positions, vec![3, 17, 45]);
        assert_eq!(records[1].1, b"record at position 17");
        // Through JSON and back (what is downloaded), the same.
        let json = serde_json::to_string_pretty(&bundle).expect("json");
        assert!(json.contains("\"format\": \"voucher-ledger-proof/v1\""), "{json}");
        assert!(json.contains(&format!("\"tree_hash\": \"{}\"", hash.as_str())), "{json}");
        let back: Bundle = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, bundle);
        assert!(back.check(&key.verifier()).is_ok());
    }
}

#[test]
fn a_changed_byte_of_a_record_fails_naming_its_position() {
    let (mut bundle, key) = setup(TreeHash::Sha256, Algorithm::Ed25519);
    let mut stored = STANDARD.decode(&bundle.records[1].stored).expect("base64");
    stored[7] ^= 0x01;
    bundle.records[1].stored = STANDARD.encode(&stored);
    let error = bundle.check(&key.verifier()).expect_err("tampered record");
    assert_eq!(error, BundleError::Inclusion { position: 17, reason: ProofError::RootMismatch });
    assert_eq!(
        error.to_string(),
        "record at position 17 is not proven in the checkpoint's tree: the inclusion proof does not lead to \
         the root: the leaf or a proof hash differs"
    );
}

#[test]
fn a_changed_proof_hash_fails_naming_its_position() {
    let (bundle, key) = setup(TreeHash::Sha256, Algorithm::Ed25519);
    for (r, record) in bundle.records.iter().enumerate() {
        for i in 0..record.audit_path.len() {
            let mut tampered = bundle.clone();
            let mut hash = hash_from_base64(&record.audit_path[i]).expect("hash");
            hash[31] ^= 0x80;
            tampered.records[r].audit_path[i] = hash_to_base64(&hash);
            assert_eq!(
                tampered.check(&key.verifier()),
                Err(BundleError::Inclusion { position: record.position, reason: ProofError::RootMismatch }),
                "record {r} hash {i}"
            );
        }
    }
    // A removed hash, a proof hash that is not 32 bytes, and a record moved to another position.
    let mut short = bundle.clone();
    short.records[0].audit_path.pop();
    assert!(matches!(
        short.check(&key.verifier()),
        Err(BundleError::Inclusion { position: 3, reason: ProofError::ProofTooShort { .. } })
    ));
    let mut wrong_length = bundle.clone();
    wrong_length.records[0].audit_path[0] = STANDARD.encode([0u8; 31]);
    let error = wrong_length.check(&key.verifier()).expect_err("31-byte hash");
    assert_eq!(error.to_string(), "record at position 3: proof hash 0 has 31 bytes, not 32");
    let mut moved = bundle.clone();
    moved.records[0].position = 4;
    assert!(matches!(moved.check(&key.verifier()), Err(BundleError::Inclusion { position: 4, .. })));
    let mut beyond = bundle;
    beyond.records[2].position = 46;
    assert_eq!(
        beyond.check(&key.verifier()),
        Err(BundleError::Inclusion {
            position: 46,
            reason: ProofError::IndexOutOfRange { index: 45, size: 45 }
        })
    );
}

#[test]
fn a_changed_signature_or_checkpoint_fails_with_the_reason() {
    let (bundle, key) = setup(TreeHash::Sha256, Algorithm::Ed25519);
    // A byte of the signature.
    let mut tampered = bundle.clone();
    let (text, signature_line) = bundle.checkpoint.rsplit_once("\n\n").expect("note");
    let (prefix, encoded) = signature_line.trim_end().rsplit_once(' ').expect("line");
    let mut blob = STANDARD.decode(encoded).expect("base64");
    blob[10] ^= 0x01;
    tampered.checkpoint = format!("{text}\n\n{prefix} {}\n", STANDARD.encode(&blob));
    let error = tampered.check(&key.verifier()).expect_err("tampered signature");
    assert!(matches!(error, BundleError::Signature(NoteError::BadSignature { .. })), "{error}");
    assert!(error.to_string().starts_with("the checkpoint's signature does not check: the signature by"));

    // The checkpoint's size or root, changed: the signature no longer checks.
    let mut resized = bundle.clone();
    resized.checkpoint = bundle.checkpoint.replacen("\n45\n", "\n50\n", 1);
    assert!(matches!(
        resized.check(&key.verifier()),
        Err(BundleError::Signature(NoteError::BadSignature { .. }))
    ));

    // Another key's checkpoint.
    let other = SigningKey::generate("ledger.example.gov.cn/vouchers", Algorithm::Ed25519).expect("key");
    assert!(matches!(
        bundle.check(&other.verifier()),
        Err(BundleError::Signature(NoteError::NoKnownSignature(_)))
    ));

    // A signed text that is not a checkpoint.
    let mut not_a_checkpoint = bundle.clone();
    not_a_checkpoint.checkpoint = key.sign_note("not a checkpoint\n").expect("sign");
    assert!(matches!(
        not_a_checkpoint.check(&key.verifier()),
        Err(BundleError::Checkpoint(NoteError::Checkpoint(_)))
    ));

    // An unknown format, and bytes that are not base64.
    let mut format = bundle.clone();
    format.format = "voucher-ledger-proof/v2".to_owned();
    assert_eq!(format.check(&key.verifier()), Err(BundleError::Format("voucher-ledger-proof/v2".to_owned())));
    let mut garbled = bundle.clone();
    garbled.records[0].stored = "not base64!".to_owned();
    assert_eq!(
        garbled.check(&key.verifier()).map_err(|error| error.to_string()),
        Err("record at position 3: the record's stored bytes are not base64".to_owned())
    );
    // The wrong tree hash: the proof leads elsewhere.
    let mut sm3 = bundle;
    sm3.tree_hash = TreeHash::Sm3;
    assert!(matches!(sm3.check(&key.verifier()), Err(BundleError::Inclusion { position: 3, .. })));
}
