//! Signed notes: keys, key ids, the C2SP format, and tampering refused with a clear reason.

use sha2::Digest as _;
use tlog::{Algorithm, NoteError, SigningKey, VerifierKey, open_note, split_note};

const TEXT: &str = "ledger.example.gov.cn/vouchers\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

fn key(name: &str) -> SigningKey {
    SigningKey::generate(name, Algorithm::Ed25519).expect("key")
}

#[test]
fn an_ed25519_note_has_the_c2sp_form() {
    let key = key("ledger.example.gov.cn/vouchers");
    let note = key.sign_note(TEXT).expect("sign");
    let (text, signatures) = note.split_once("\n\n").map(|(a, b)| (format!("{a}\n"), b)).expect("blank line");
    assert_eq!(text, TEXT);
    let line = signatures.strip_suffix('\n').expect("ends with a newline");
    assert!(!line.contains('\n'), "one signature line");
    let rest =
        line.strip_prefix("\u{2014} ledger.example.gov.cn/vouchers ").expect("em dash, space, name, space");
    let blob = base64_decode(rest);
    assert_eq!(blob.len(), 4 + 64, "key id and Ed25519 signature");
    let verifier = key.verifier();
    assert_eq!(blob[..4], verifier.key_id());
    // The key id: SHA-256(name || "\n" || 0x01 || public key)[:4].
    let digest = sha2::Sha256::new()
        .chain_update(b"ledger.example.gov.cn/vouchers\n\x01")
        .chain_update(verifier.public_key())
        .finalize();
    assert_eq!(verifier.key_id(), [digest[0], digest[1], digest[2], digest[3]]);
    // The signature is Ed25519 over the text up to and including its last newline.
    let public =
        ed25519_dalek::VerifyingKey::from_bytes(&verifier.public_key().try_into().expect("32 bytes"))
            .expect("public key");
    let signature = ed25519_dalek::Signature::from_slice(&blob[4..]).expect("signature");
    assert!(public.verify_strict(TEXT.as_bytes(), &signature).is_ok());
    assert_eq!(open_note(&note, &[verifier]), Ok(TEXT.to_owned()));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}

#[test]
fn the_verifier_key_text_is_name_key_id_and_base64_of_type_and_key() {
    let key = key("ledger.example");
    let verifier = key.verifier();
    let text = verifier.to_string();
    let parts: Vec<&str> = text.splitn(3, '+').collect();
    assert_eq!(parts[0], "ledger.example");
    assert_eq!(parts[1].len(), 8);
    assert_eq!(parts[1], verifier.key_id().iter().map(|b| format!("{b:02x}")).collect::<String>());
    let blob = base64_decode(parts[2]);
    assert_eq!(blob[0], 0x01);
    assert_eq!(&blob[1..], verifier.public_key());
    assert_eq!(text.parse::<VerifierKey>(), Ok(verifier.clone()));
    assert_eq!(format!("  {text}\n").parse::<VerifierKey>(), Ok(verifier), "surrounding whitespace ignored");
}

#[test]
fn the_key_file_round_trips_and_holds_the_secret_in_go_s_form() {
    let key = key("ledger.example");
    let file = key.to_file_text();
    assert!(file.starts_with("PRIVATE+KEY+ledger.example+"), "{file}");
    assert!(file.ends_with('\n'));
    let again = SigningKey::from_file_text(&file).expect("reads back");
    assert_eq!(again.verifier(), key.verifier());
    assert_eq!(again.name(), "ledger.example");
    assert_eq!(again.algorithm(), Algorithm::Ed25519);
    // Debug never shows the secret.
    let debug = format!("{key:?}");
    assert!(!debug.contains(file.trim().rsplit('+').next().expect("secret")), "{debug}");
}

#[test]
fn malformed_keys_are_refused_in_words() {
    let good = key("ledger.example").verifier().to_string();
    let parts: Vec<&str> = good.splitn(3, '+').collect();
    let (name_id, encoded) = (format!("{}+{}", parts[0], parts[1]), parts[2]);
    let cases: Vec<(String, &str)> = vec![
        ("ledger.example".to_owned(), "expected <name>+<key id>+<base64 key>"),
        (good.replacen("ledger.example", "other.example", 1), "the key id does not match"),
        (format!("{name_id}+{}", &encoded[..encoded.len() - 1]), "not base64"),
        (format!("{}+zzzzzzzz+{encoded}", "ledger.example"), "the key id is not 8 hex digits"),
        (format!("{name_id}+{}", base64_encode(&[0x09; 33])), "unknown signature type"),
        (format!("{name_id}+{}", base64_encode(&[0x01; 20])), "32 bytes"),
    ];
    for (text, reason) in cases {
        let error = text.parse::<VerifierKey>().expect_err(&text);
        assert!(error.to_string().contains(reason), "{text}: {error}");
    }
    assert!(matches!(
        SigningKey::from_file_text("ledger.example+00000000+AAAA"),
        Err(NoteError::SigningKey(_))
    ));
    let file = key("ledger.example").to_file_text();
    let renamed = file.replacen("+ledger.example+", "+other.example+", 1);
    let error = SigningKey::from_file_text(&renamed).expect_err("renamed key file");
    assert_eq!(error, NoteError::SigningKey("the key id does not match the name and key".to_owned()));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn key_names_are_validated_as_the_spec_says() {
    for bad in
        ["", "with space", "with+plus", "tab\there", "new\nline", "no\u{a0}break", "ideographic\u{3000}space"]
    {
        assert_eq!(
            SigningKey::generate(bad, Algorithm::Ed25519).map(|_| ()),
            Err(NoteError::KeyName(bad.to_owned())),
            "{bad:?}"
        );
    }
    for good in ["ledger.example.gov.cn/vouchers", "凭证账本", "a"] {
        assert!(SigningKey::generate(good, Algorithm::Ed25519).is_ok(), "{good:?}");
    }
    let error = NoteError::KeyName("with+plus".to_owned()).to_string();
    assert_eq!(error, "invalid key name \"with+plus\": a key name is non-empty and has no spaces and no '+'");
}

#[test]
fn a_changed_byte_of_the_text_fails_naming_the_key() {
    let key = key("ledger.example");
    let note = key.sign_note(TEXT).expect("sign");
    let verifier = key.verifier();
    let key_id: String = verifier.key_id().iter().map(|b| format!("{b:02x}")).collect();
    // Every byte position of the text, changed.
    for position in 0..TEXT.len() {
        let mut bytes = note.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let Ok(tampered) = String::from_utf8(bytes) else { continue };
        let outcome = open_note(&tampered, std::slice::from_ref(&verifier));
        assert!(outcome.is_err(), "byte {position} changed and the note still opens");
        if TEXT.as_bytes()[position] != b'\n' {
            assert_eq!(
                outcome,
                Err(NoteError::BadSignature { name: "ledger.example".to_owned(), key_id: key_id.clone() }),
                "byte {position}"
            );
        }
    }
    let error = NoteError::BadSignature { name: "ledger.example".to_owned(), key_id: "0a1b2c3d".to_owned() };
    assert_eq!(
        error.to_string(),
        "the signature by ledger.example (key id 0a1b2c3d) does not verify: the note was altered or signed by another key"
    );
}

#[test]
fn a_changed_byte_of_the_signature_fails() {
    let key = key("ledger.example");
    let note = key.sign_note(TEXT).expect("sign");
    let (text, lines) = split_note(&note).expect("split");
    let (name, blob) = &lines[0];
    for position in 4..blob.len() {
        let mut altered = blob.clone();
        altered[position] ^= 0x20;
        let tampered = format!("{text}\n\u{2014} {name} {}\n", base64_encode(&altered));
        assert!(
            matches!(open_note(&tampered, &[key.verifier()]), Err(NoteError::BadSignature { .. })),
            "signature byte {position}"
        );
    }
    // A changed key id: the line is no longer by a known key, so the note has no known signature.
    let mut altered = blob.clone();
    altered[0] ^= 1;
    let tampered = format!("{text}\n\u{2014} {name} {}\n", base64_encode(&altered));
    assert!(matches!(open_note(&tampered, &[key.verifier()]), Err(NoteError::NoKnownSignature(_))));
}

#[test]
fn a_signature_by_another_key_does_not_open_the_note() {
    let ours = key("ledger.example");
    let theirs = key("ledger.example"); // same name, another key: another key id
    let note = theirs.sign_note(TEXT).expect("sign");
    let error = open_note(&note, &[ours.verifier()]).expect_err("another key");
    assert!(matches!(error, NoteError::NoKnownSignature(_)));
    assert!(error.to_string().starts_with("the note has no signature by the given key"), "{error}");

    // The other key's signature line, relabelled with our key id: a known key whose signature fails.
    let (text, lines) = split_note(&note).expect("split");
    let mut blob = lines[0].1.clone();
    blob[..4].copy_from_slice(&ours.verifier().key_id());
    let forged = format!("{text}\n\u{2014} ledger.example {}\n", base64_encode(&blob));
    assert!(matches!(open_note(&forged, &[ours.verifier()]), Err(NoteError::BadSignature { .. })));
}

#[test]
fn a_wrong_key_name_does_not_open_the_note() {
    let key = key("ledger.example");
    let note = key.sign_note(TEXT).expect("sign");
    // The signature line under another name: not by a known key.
    let renamed = note.replace("\u{2014} ledger.example ", "\u{2014} ledger.example.cn ");
    assert!(matches!(open_note(&renamed, &[key.verifier()]), Err(NoteError::NoKnownSignature(_))));
    // A verifier key of the same public key under another name has another key id: no known signature.
    let other =
        VerifierKey::new("other.example", Algorithm::Ed25519, key.verifier().public_key()).expect("key");
    assert_ne!(other.key_id(), key.verifier().key_id());
    assert!(matches!(open_note(&note, &[other]), Err(NoteError::NoKnownSignature(_))));
}

#[test]
fn unknown_signers_are_ignored_and_a_known_one_suffices() {
    let ours = key("ledger.example");
    let witness = key("witness.example");
    let note = ours.sign_note(TEXT).expect("sign");
    let (_, lines) = split_note(&witness.sign_note(TEXT).expect("sign")).expect("split");
    let cosigned = format!("{note}\u{2014} witness.example {}\n", base64_encode(&lines[0].1));
    assert_eq!(open_note(&cosigned, &[ours.verifier()]), Ok(TEXT.to_owned()));
    assert_eq!(open_note(&cosigned, &[witness.verifier()]), Ok(TEXT.to_owned()));
    assert_eq!(open_note(&cosigned, &[ours.verifier(), witness.verifier()]), Ok(TEXT.to_owned()));
    assert_eq!(split_note(&cosigned).expect("split").1.len(), 2);
}

#[test]
fn malformed_notes_are_refused_in_words() {
    let key = key("ledger.example");
    let note = key.sign_note(TEXT).expect("sign");
    let verifier = key.verifier();
    let signature_line = note.rsplit("\n\n").next().expect("line").to_owned();
    let cases: Vec<(String, &str)> = vec![
        (TEXT.to_owned(), "no blank line separates the text from the signatures"),
        (note.trim_end().to_owned(), "does not end with a newline"),
        (format!("{TEXT}\n"), "the note has no signature lines"),
        (format!("{TEXT}\n\n"), "the note has no signature lines"),
        (note.replace('\u{2014}', "-"), "does not start with an em dash and a space"),
        (note.replace("\u{2014} ", "\u{2014}"), "does not start with an em dash and a space"),
        (note.replacen(".example ", ".example", 1), "is not `— <name> <signature>`"),
        (note.replacen("ledger.example ", "ledger.example !!!!", 1), "is not base64"),
        (format!("{TEXT}\n\u{2014} ledger.example AAAA\n"), "too short to hold a key id and a signature"),
        (note.replacen("42", "4\r2", 1), "control character"),
        (format!("{TEXT}\n{}", signature_line.repeat(101)), "more than 100 signature lines"),
    ];
    for (text, reason) in cases {
        let error = open_note(&text, std::slice::from_ref(&verifier)).expect_err(&text);
        assert!(matches!(error, NoteError::Malformed(_)), "{text:?}: {error}");
        assert!(error.to_string().contains(reason), "{text:?}: {error}");
    }
}

#[test]
fn text_that_cannot_be_a_note_is_not_signed() {
    let key = key("ledger.example");
    for text in ["", "no newline", "a\tb\n"] {
        assert!(matches!(key.sign_note(text), Err(NoteError::Text(_))), "{text:?}");
    }
    // A text with blank lines inside is a valid note text: the last blank line separates.
    let text = "first\n\nsecond\n";
    let note = key.sign_note(text).expect("sign");
    assert_eq!(open_note(&note, &[key.verifier()]), Ok(text.to_owned()));
}
