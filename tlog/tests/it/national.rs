//! The national (国密) algorithms against the standards' published examples, and used in notes and trees.

use sha2::Digest as _;
use sm2::dsa::signature::Verifier as _;
use tlog::{Algorithm, Checkpoint, MerkleTree, NoteError, SigningKey, TreeHash, VerifierKey, open_note};

use crate::support::{h, hex};

/// GB/T 32905-2016 (SM3), appendix A: example 1 ("abc") and example 2 ("abcd" repeated 16 times, 512
/// bits).
#[test]
fn sm3_gives_the_examples_of_gb_t_32905() {
    assert_eq!(
        TreeHash::Sm3.digest(&[b"abc"]),
        h("66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0")
    );
    let message = b"abcd".repeat(16);
    assert_eq!(message.len(), 64);
    assert_eq!(
        TreeHash::Sm3.digest(&[&message]),
        h("debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732")
    );
    // The same message in parts hashes the same (the tree's leaf and node hashes are fed in parts).
    assert_eq!(TreeHash::Sm3.digest(&[&message[..5], &message[5..]]), TreeHash::Sm3.digest(&[&message]));
}

/// The tree's SM3 leaf and node hashes are SM3 over the RFC 6962 domain-separated inputs.
#[test]
fn the_sm3_tree_hashes_are_sm3_of_the_domain_separated_inputs() {
    let leaf = TreeHash::Sm3.leaf(b"abc");
    let expected: [u8; 32] = sm3::Sm3::digest(b"\x00abc").into();
    assert_eq!(leaf, expected);
    let node = TreeHash::Sm3.node(&leaf, &leaf);
    let expected: [u8; 32] =
        sm3::Sm3::new().chain_update([1u8]).chain_update(leaf).chain_update(leaf).finalize().into();
    assert_eq!(node, expected);
    let mut tree = MerkleTree::new(TreeHash::Sm3);
    tree.push(b"abc");
    tree.push(b"abc");
    assert_eq!(tree.root(2), Ok(node));
}

/// GB/T 32918.5-2017 (SM2 parameters), appendix A.2: the digital signature example on the recommended
/// curve, with the default distinguishing identifier `1234567812345678`, the message "message digest",
/// the private key, the public key and the signature (r, s) printed in the standard.
///
/// Why not the `ALICE123@YAHOO.COM` example: that one (GB/T 32918.2-2016 appendix A, GM/T 0003.2) is on
/// the standard's 256-bit *test* curve (p = 8542D69E…), which the `sm2` crate does not implement (it has the
/// recommended curve only); the GB/T 32918.5 example is the standard's example on the curve we use.
#[test]
fn sm2_verifies_the_example_of_gb_t_32918_5() {
    let private = hex("3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8");
    let public = hex("04 09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020
            CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13");
    let signature = hex("F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3
         B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA");
    // The private key gives the printed public key.
    let signing = sm2::dsa::SigningKey::from_slice("1234567812345678", &private).expect("private key");
    let derived = {
        use sm2::elliptic_curve::sec1::ToEncodedPoint as _;
        signing.verifying_key().to_encoded_point(false).as_bytes().to_vec()
    };
    assert_eq!(derived, public);
    // The printed signature verifies, with the default identifier only, and over that message only.
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes("1234567812345678", &public).expect("public key");
    let signature = sm2::dsa::Signature::from_slice(&signature).expect("signature");
    assert!(key.verify(b"message digest", &signature).is_ok());
    assert!(key.verify(b"message digesT", &signature).is_err());
    let other_id = sm2::dsa::VerifyingKey::from_sec1_bytes("ALICE123@YAHOO.COM", &public).expect("key");
    assert!(other_id.verify(b"message digest", &signature).is_err());

    // The same private key through this crate: its verifier key carries the printed public key, and
    // what it signs opens.
    let ours = SigningKey::from_secret("gbt32918.example/A2", Algorithm::Sm2, &private).expect("key");
    assert_eq!(ours.verifier().public_key(), public.as_slice());
    let note = ours.sign_note("message digest\n").expect("sign");
    assert_eq!(open_note(&note, &[ours.verifier()]), Ok("message digest\n".to_owned()));
}

#[test]
fn sm2_keys_sign_and_open_checkpoints() {
    let key = SigningKey::generate("ledger.example.gov.cn/vouchers", Algorithm::Sm2).expect("key");
    assert_eq!(key.algorithm(), Algorithm::Sm2);
    let verifier = key.verifier();
    assert_eq!(verifier.algorithm(), Algorithm::Sm2);
    assert_eq!(verifier.public_key().len(), 65);
    // The key id is SHA-256(name || "\n" || 0xff || "gbt32918-sm2-sm3" || public key)[:4].
    let digest = sha2::Sha256::new()
        .chain_update("ledger.example.gov.cn/vouchers\n")
        .chain_update([0xff])
        .chain_update(tlog::SM2_TYPE_IDENTIFIER)
        .chain_update(verifier.public_key())
        .finalize();
    assert_eq!(verifier.key_id(), [digest[0], digest[1], digest[2], digest[3]]);
    // The verifier key text round-trips and starts with the 0xff type byte.
    let text = verifier.to_string();
    assert_eq!(text.parse::<VerifierKey>(), Ok(verifier.clone()));
    // The key file round-trips.
    let again = SigningKey::from_file_text(&key.to_file_text()).expect("key file");
    assert_eq!(again.verifier(), verifier);

    let mut tree = MerkleTree::new(TreeHash::Sm3);
    for i in 0..10u8 {
        tree.push(&[i]);
    }
    let checkpoint = Checkpoint {
        origin: "ledger.example.gov.cn/vouchers".to_owned(),
        size: 10,
        root: tree.root(10).expect("root"),
        extensions: vec![],
    };
    let note = checkpoint.sign(&again).expect("sign");
    assert_eq!(Checkpoint::open(&note, std::slice::from_ref(&verifier)), Ok(checkpoint.clone()));
    // The signature line holds the 4-byte key id and the 64-byte r || s.
    let (_, lines) = tlog::split_note(&note).expect("split");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].1.len(), 4 + 64);
    // A changed byte fails, naming the key.
    let tampered = note.replacen("\n10\n", "\n11\n", 1);
    assert!(matches!(
        Checkpoint::open(&tampered, std::slice::from_ref(&verifier)),
        Err(NoteError::BadSignature { .. })
    ));
    // An Ed25519 key of the same name does not open it (another key id: ignored, so no known signature).
    let ed = SigningKey::generate("ledger.example.gov.cn/vouchers", Algorithm::Ed25519).expect("key");
    assert!(matches!(Checkpoint::open(&note, &[ed.verifier()]), Err(NoteError::NoKnownSignature(_))));
}
