//! The C2SP tlog-checkpoint body: its form, and what is refused.

use tlog::{Algorithm, Checkpoint, NoteError, SigningKey, TreeHash, hash_from_base64, hash_to_base64};

use crate::support::{h, tree_of};

fn checkpoint() -> Checkpoint {
    let tree = tree_of(TreeHash::Sha256, 8);
    Checkpoint {
        origin: "ledger.example.gov.cn/vouchers".to_owned(),
        size: 8,
        root: tree.root(8).expect("root"),
        extensions: vec![],
    }
}

#[test]
fn the_text_is_origin_size_and_base64_root_each_on_its_line() {
    let checkpoint = Checkpoint {
        origin: "example.com/behind-the-sofa".to_owned(),
        size: 20852163,
        root: hash_from_base64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=").expect("hash"),
        extensions: vec![],
    };
    // The example of c2sp.org/tlog-checkpoint, byte for byte.
    assert_eq!(
        checkpoint.to_text(),
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
    assert_eq!(Checkpoint::parse(&checkpoint.to_text()), Ok(checkpoint));
}

#[test]
fn extension_lines_round_trip() {
    let mut with = checkpoint();
    with.extensions = vec!["tree_hash sm3".to_owned(), "another line".to_owned()];
    let text = with.to_text();
    assert!(text.ends_with("\ntree_hash sm3\nanother line\n"), "{text}");
    assert_eq!(Checkpoint::parse(&text), Ok(with));
}

#[test]
fn the_empty_tree_has_size_0() {
    let empty =
        Checkpoint { origin: "o".to_owned(), size: 0, root: TreeHash::Sha256.empty(), extensions: vec![] };
    assert_eq!(empty.to_text(), "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    assert_eq!(Checkpoint::parse(&empty.to_text()), Ok(empty));
}

#[test]
fn malformed_checkpoints_are_refused_in_words() {
    let root = hash_to_base64(&h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"));
    let cases = [
        (format!("o\n8\n{root}"), "does not end with a newline"),
        ("o\n8\n".to_owned(), "at least three lines"),
        (format!("\n8\n{root}\n"), "a checkpoint line is empty"),
        (format!("o\n8\n{root}\n\nx\n"), "a checkpoint line is empty"),
        (format!("o\n08\n{root}\n"), "not a decimal number without leading zeroes"),
        (format!("o\n+8\n{root}\n"), "not a decimal number without leading zeroes"),
        (format!("o\n8 \n{root}\n"), "not a decimal number without leading zeroes"),
        (format!("o\n99999999999999999999\n{root}\n"), "too large"),
        ("o\n8\nnot base64!\n".to_owned(), "is not base64"),
        ("o\n8\nAAAA\n".to_owned(), "has 3 bytes, not 32"),
    ];
    for (text, reason) in cases {
        let error = Checkpoint::parse(&text).expect_err(&text);
        assert!(matches!(error, NoteError::Checkpoint(_)), "{text:?}");
        assert!(error.to_string().contains(reason), "{text:?}: {error}");
    }
}

#[test]
fn a_signed_checkpoint_opens_with_its_key_only() {
    let key = SigningKey::generate("ledger.example.gov.cn/vouchers", Algorithm::Ed25519).expect("key");
    let checkpoint = checkpoint();
    let note = checkpoint.sign(&key).expect("sign");
    assert!(note.starts_with(&format!("{}\n", checkpoint.to_text())));
    assert_eq!(Checkpoint::open(&note, &[key.verifier()]), Ok(checkpoint.clone()));
    let other = SigningKey::generate("ledger.example.gov.cn/vouchers", Algorithm::Ed25519).expect("key");
    assert!(matches!(Checkpoint::open(&note, &[other.verifier()]), Err(NoteError::NoKnownSignature(_))));
    // A signed text that is not a checkpoint opens as a note but not as a checkpoint.
    let not_a_checkpoint = key.sign_note("hello\n").expect("sign");
    assert!(matches!(Checkpoint::open(&not_a_checkpoint, &[key.verifier()]), Err(NoteError::Checkpoint(_))));
    // What cannot be a checkpoint is not signed.
    let mut bad = checkpoint;
    bad.extensions = vec![String::new()];
    assert!(matches!(bad.sign(&key), Err(NoteError::Checkpoint(_))));
}
