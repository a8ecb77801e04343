//! The C2SP `signed-note` format: signing keys, verifier keys, signing and opening notes.
//!
//! # Algorithms and their signature type bytes
//! - Ed25519 (RFC 8032): type byte `0x01`, as C2SP assigns; the public key is its 32-byte encoding.
//! - SM2 (GB/T 32918.2, signature with the SM3 digest over Z_A || M, Z_A computed with the default
//!   distinguishing identifier `1234567812345678` of GB/T 35276 / GM/T 0009): C2SP signed-note assigns no
//!   byte to SM2. Its list reserves `0xfa`–`0xfe` for future assignments and `0xff` "for signature types
//!   without an identifier byte assigned by this specification", RECOMMENDING that `0xff` be followed by a
//!   longer identifier unlikely to collide. So the SM2 type is the bytes `0xff` followed by the ASCII
//!   identifier [`SM2_TYPE_IDENTIFIER`] (`"gbt32918-sm2-sm3"`); the public key is its 65-byte uncompressed
//!   SEC1 encoding (`0x04 || x || y`). The key id is computed as C2SP recommends, with those type bytes:
//!   SHA-256(name || "\n" || 0xff || "gbt32918-sm2-sm3" || public key)[:4], and the verifier key text
//!   carries base64(0xff || identifier || public key). The signature is the 64 bytes r || s.
//!
//! # Key files
//! [`SigningKey::to_file_text`] writes `PRIVATE+KEY+<name>+<key id hex>+<base64(type || secret)>`, the form
//! of Go's `golang.org/x/mod/sumdb/note` signer keys (for Ed25519 the secret is the 32-byte seed; for SM2
//! the 32-byte big-endian private scalar).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest as _;

/// The identifier that follows the `0xff` type byte for SM2 (see the module documentation).
pub const SM2_TYPE_IDENTIFIER: &[u8] = b"gbt32918-sm2-sm3";

/// The SM2 distinguishing identifier used for Z_A: the default of GB/T 35276 (GM/T 0009).
const SM2_DISTID: &str = "1234567812345678";

/// The signature line's prefix: em dash (U+2014) and a space.
const DASH: &str = "\u{2014} ";

/// The prefix of a signing key file's text.
const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// The most signature lines a note may have (C2SP: at least 16 must be accepted; Go's note package takes
/// 100).
const MAX_SIGNATURES: usize = 100;

/// The signature algorithm of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), signed-note type `0x01`: the default.
    #[default]
    Ed25519,
    /// SM2 (GB/T 32918) with SM3 and the default distinguishing identifier, signed-note type `0xff` followed
    /// by [`SM2_TYPE_IDENTIFIER`] (the module documentation says why).
    Sm2,
}

impl Algorithm {
    /// The signature type bytes that precede the public key in key ids and verifier keys.
    fn type_bytes(self) -> Vec<u8> {
        match self {
            Algorithm::Ed25519 => vec![0x01],
            Algorithm::Sm2 => [&[0xff][..], SM2_TYPE_IDENTIFIER].concat(),
        }
    }

    /// Splits `type || key` into the algorithm and the key bytes.
    fn split(bytes: &[u8]) -> Option<(Algorithm, &[u8])> {
        for algorithm in [Algorithm::Ed25519, Algorithm::Sm2] {
            if let Some(key) = bytes.strip_prefix(algorithm.type_bytes().as_slice()) {
                return Some((algorithm, key));
            }
        }
        None
    }

    /// The algorithm's name in words.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Sm2 => "sm2",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = NoteError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "ed25519" => Ok(Algorithm::Ed25519),
            "sm2" => Ok(Algorithm::Sm2),
            other => Err(NoteError::Algorithm(format!("{other:?} (expected \"ed25519\" or \"sm2\")"))),
        }
    }
}

/// Why a note, key or checkpoint was refused (in words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name that C2SP forbids.
    #[error("invalid key name {0:?}: a key name is non-empty and has no spaces and no '+'")]
    KeyName(String),
    /// An algorithm this crate does not know.
    #[error("unknown signature algorithm {0}")]
    Algorithm(String),
    /// A verifier key text that does not parse.
    #[error("invalid verifier key: {0}")]
    VerifierKey(String),
    /// A signing key text that does not parse.
    #[error("invalid signing key: {0}")]
    SigningKey(String),
    /// A note that is not in the signed-note form.
    #[error("malformed signed note: {0}")]
    Malformed(String),
    /// Note text that cannot be signed.
    #[error("cannot sign this text: {0}")]
    Text(String),
    /// None of the note's signatures is by one of the given keys.
    #[error("the note has no signature by the given key ({0})")]
    NoKnownSignature(String),
    /// A signature by a known key (name and key id match) that does not verify.
    #[error(
        "the signature by {name} (key id {key_id}) does not verify: the note was altered or signed by another key"
    )]
    BadSignature {
        /// The key name.
        name: String,
        /// The key id in hex.
        key_id: String,
    },
    /// The note's text is not a well-formed checkpoint.
    #[error("malformed checkpoint: {0}")]
    Checkpoint(String),
    /// Signing failed (randomness or the algorithm).
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Checks a key name as C2SP says: non-empty, no Unicode spaces, no '+'. Control characters are refused
/// too (a note may hold none).
fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+') {
        return Err(NoteError::KeyName(name.to_owned()));
    }
    Ok(())
}

/// SHA-256(name || "\n" || type || public key)[:4].
fn key_id(name: &str, algorithm: Algorithm, public: &[u8]) -> [u8; 4] {
    let digest = sha2::Sha256::new()
        .chain_update(name)
        .chain_update(b"\n")
        .chain_update(algorithm.type_bytes())
        .chain_update(public)
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses 8 hex digits into a key id.
fn parse_key_id(text: &str) -> Option<[u8; 4]> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok().map(u32::to_be_bytes)
}

/// A signing key with its name (the checkpoint's key name, usually the origin).
#[derive(Clone)]
pub struct SigningKey {
    name: String,
    secret: Secret,
}

#[derive(Clone)]
enum Secret {
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("SigningKey").field("verifier", &self.verifier().to_string()).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key named `name` from the operating system's randomness.
    pub fn generate(name: &str, algorithm: Algorithm) -> Result<SigningKey, NoteError> {
        check_name(name)?;
        let secret = match algorithm {
            Algorithm::Ed25519 => {
                Secret::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng)))
            }
            Algorithm::Sm2 => {
                let secret = sm2::SecretKey::random(&mut rand_core::OsRng);
                let key = sm2::dsa::SigningKey::new(SM2_DISTID, &secret)
                    .map_err(|error| NoteError::Signing(error.to_string()))?;
                Secret::Sm2(Box::new(key))
            }
        };
        Ok(SigningKey { name: name.to_owned(), secret })
    }

    /// A key from its secret bytes: the Ed25519 seed or the SM2 private scalar (32 bytes, big-endian).
    pub fn from_secret(name: &str, algorithm: Algorithm, secret: &[u8]) -> Result<SigningKey, NoteError> {
        check_name(name)?;
        let secret = match algorithm {
            Algorithm::Ed25519 => {
                let seed: [u8; 32] = secret.try_into().map_err(|_| {
                    NoteError::SigningKey(format!("an Ed25519 secret has 32 bytes, not {}", secret.len()))
                })?;
                Secret::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)))
            }
            Algorithm::Sm2 => {
                if secret.len() != 32 {
                    return Err(NoteError::SigningKey(format!(
                        "an SM2 secret has 32 bytes, not {}",
                        secret.len()
                    )));
                }
                let key = sm2::dsa::SigningKey::from_slice(SM2_DISTID, secret).map_err(|_| {
                    NoteError::SigningKey(
                        "the SM2 secret is not a valid private key (zero or not below the order)".to_owned(),
                    )
                })?;
                Secret::Sm2(Box::new(key))
            }
        };
        Ok(SigningKey { name: name.to_owned(), secret })
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.secret {
            Secret::Ed25519(_) => Algorithm::Ed25519,
            Secret::Sm2(_) => Algorithm::Sm2,
        }
    }

    fn secret_bytes(&self) -> Vec<u8> {
        match &self.secret {
            Secret::Ed25519(key) => key.to_bytes().to_vec(),
            Secret::Sm2(key) => key.to_bytes().to_vec(),
        }
    }

    /// The key file's text, `PRIVATE+KEY+<name>+<key id hex>+<base64(type || secret)>` and a newline (the
    /// file's mode 0600 is the caller's to set).
    pub fn to_file_text(&self) -> String {
        let algorithm = self.algorithm();
        let key_id = self.verifier().key_id;
        let encoded = STANDARD.encode([algorithm.type_bytes(), self.secret_bytes()].concat());
        format!("{PRIVATE_PREFIX}{}+{}+{encoded}\n", self.name, hex(&key_id))
    }

    /// Reads a key file's text (surrounding whitespace ignored).
    pub fn from_file_text(text: &str) -> Result<SigningKey, NoteError> {
        let bad = |why: &str| NoteError::SigningKey(why.to_owned());
        let rest = text
            .trim()
            .strip_prefix(PRIVATE_PREFIX)
            .ok_or_else(|| bad("a signing key starts with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_text), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected PRIVATE+KEY+<name>+<key id>+<base64 key>"));
        };
        let key_id = parse_key_id(id_text).ok_or_else(|| bad("the key id is not 8 hex digits"))?;
        let bytes = STANDARD.decode(encoded).map_err(|_| bad("the key is not base64"))?;
        let (algorithm, secret) = Algorithm::split(&bytes)
            .ok_or_else(|| bad("unknown signature type (neither Ed25519 nor SM2)"))?;
        let key = SigningKey::from_secret(name, algorithm, secret)?;
        if key.verifier().key_id != key_id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(key)
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        let public = match &self.secret {
            Secret::Ed25519(key) => key.verifying_key().to_bytes().to_vec(),
            Secret::Sm2(key) => sm2_public_bytes(key.verifying_key()),
        };
        let algorithm = self.algorithm();
        VerifierKey {
            key_id: key_id(&self.name, algorithm, &public),
            name: self.name.clone(),
            algorithm,
            public,
        }
    }

    /// The signature of `message` (the bytes after the key id on a signature line).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, NoteError> {
        match &self.secret {
            Secret::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                Ok(key.sign(message).to_bytes().to_vec())
            }
            Secret::Sm2(key) => {
                use sm2::dsa::signature::Signer as _;
                let signature: sm2::dsa::Signature =
                    key.try_sign(message).map_err(|error| NoteError::Signing(error.to_string()))?;
                Ok(signature.to_bytes().to_vec())
            }
        }
    }

    /// Signs `text` (which must end with a newline, and hold no control characters other than newlines)
    /// as a signed note: `text` + `"\n"` + `"— <name> <base64(key id || signature)>\n"`.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        if text.is_empty() || !text.ends_with('\n') {
            return Err(NoteError::Text("the text is empty or does not end with a newline".to_owned()));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::Text("the text holds a control character other than newline".to_owned()));
        }
        let signature = self.sign(text.as_bytes())?;
        let key_id = self.verifier().key_id;
        let encoded = STANDARD.encode([&key_id[..], &signature].concat());
        Ok(format!("{text}\n{DASH}{} {encoded}\n", self.name))
    }
}

/// The uncompressed SEC1 encoding (65 bytes, `0x04 || x || y`) of an SM2 public key.
fn sm2_public_bytes(key: &sm2::dsa::VerifyingKey) -> Vec<u8> {
    use sm2::elliptic_curve::sec1::ToEncodedPoint as _;
    key.to_encoded_point(false).as_bytes().to_vec()
}

/// A verifier key, as printed: `NAME+<key id hex>+<base64(type || public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: [u8; 4],
    algorithm: Algorithm,
    /// The public key's encoding (without the type bytes), checked to be a valid key when made.
    public: Vec<u8>,
}

impl VerifierKey {
    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id: the first 4 bytes of SHA-256(name || "\n" || type || public key).
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public key's encoding (32 bytes for Ed25519, 65 bytes uncompressed SEC1 for SM2).
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// A verifier key from its parts (checks the name and the public key).
    pub fn new(name: &str, algorithm: Algorithm, public: &[u8]) -> Result<VerifierKey, NoteError> {
        check_name(name)?;
        check_public(algorithm, public)?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: key_id(name, algorithm, public),
            algorithm,
            public: public.to_vec(),
        })
    }

    /// Whether `signature` is this key's signature of `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self.algorithm {
            Algorithm::Ed25519 => {
                let Ok(public) = <[u8; 32]>::try_from(self.public.as_slice()) else { return false };
                let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&public) else { return false };
                let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else { return false };
                key.verify_strict(message, &signature).is_ok()
            }
            Algorithm::Sm2 => {
                use sm2::dsa::signature::Verifier as _;
                let Ok(key) = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, &self.public) else {
                    return false;
                };
                let Ok(signature) = sm2::dsa::Signature::from_slice(signature) else { return false };
                key.verify(message, &signature).is_ok()
            }
        }
    }
}

/// Checks that `public` is a valid public key of `algorithm` in the encoding this crate uses.
fn check_public(algorithm: Algorithm, public: &[u8]) -> Result<(), NoteError> {
    let bad = |why: String| NoteError::VerifierKey(why);
    match algorithm {
        Algorithm::Ed25519 => {
            let bytes: [u8; 32] = public
                .try_into()
                .map_err(|_| bad(format!("an Ed25519 public key has 32 bytes, not {}", public.len())))?;
            ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| bad("not a valid Ed25519 public key".to_owned()))?;
        }
        Algorithm::Sm2 => {
            if public.len() != 65 || public[0] != 0x04 {
                return Err(bad(
                    "an SM2 public key is 65 bytes of uncompressed SEC1 (0x04 || x || y)".to_owned()
                ));
            }
            sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, public)
                .map_err(|_| bad("not a point of the SM2 curve".to_owned()))?;
        }
    }
    Ok(())
}

impl std::str::FromStr for VerifierKey {
    type Err = NoteError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| NoteError::VerifierKey(why.to_owned());
        let text = text.trim();
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_text), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key id>+<base64 key>"));
        };
        check_name(name)?;
        let key_id = parse_key_id(id_text).ok_or_else(|| bad("the key id is not 8 hex digits"))?;
        let bytes = STANDARD.decode(encoded).map_err(|_| bad("the key is not base64"))?;
        let (algorithm, public) = Algorithm::split(&bytes)
            .ok_or_else(|| bad("unknown signature type (neither Ed25519 nor SM2)"))?;
        let key = VerifierKey::new(name, algorithm, public)?;
        if key.key_id != key_id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(key)
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let encoded = STANDARD.encode([self.algorithm.type_bytes(), self.public.clone()].concat());
        write!(f, "{}+{}+{encoded}", self.name, hex(&self.key_id))
    }
}

/// A signature line, split: the key name, the key id and the signature bytes.
struct SignatureLine {
    name: String,
    key_id: [u8; 4],
    signature: Vec<u8>,
}

/// Splits a signed note into its text (ending with the newline before the last blank line) and its
/// signature lines, checking the form C2SP gives.
fn parse_note(note: &str) -> Result<(&str, Vec<SignatureLine>), NoteError> {
    let bad = |why: String| NoteError::Malformed(why);
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad("the note holds a control character other than newline".to_owned()));
    }
    if !note.ends_with('\n') {
        return Err(bad("the note does not end with a newline".to_owned()));
    }
    let Some(split) = note.rfind("\n\n") else {
        return Err(bad("no blank line separates the text from the signatures".to_owned()));
    };
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    if signatures.is_empty() {
        return Err(bad("the note has no signature lines".to_owned()));
    }
    let mut lines = Vec::new();
    for (number, line) in signatures.lines().enumerate() {
        if number >= MAX_SIGNATURES {
            return Err(bad(format!("more than {MAX_SIGNATURES} signature lines")));
        }
        let Some(rest) = line.strip_prefix(DASH) else {
            return Err(bad(format!("signature line {line:?} does not start with an em dash and a space")));
        };
        let Some((name, encoded)) = rest.split_once(' ') else {
            return Err(bad(format!("signature line {line:?} is not `— <name> <signature>`")));
        };
        check_name(name).map_err(|_| bad(format!("signature line {line:?} has an invalid key name")))?;
        let bytes =
            STANDARD.decode(encoded).map_err(|_| bad(format!("the signature by {name} is not base64")))?;
        if bytes.len() < 5 {
            return Err(bad(format!(
                "the signature by {name} is too short to hold a key id and a signature"
            )));
        }
        lines.push(SignatureLine {
            name: name.to_owned(),
            key_id: [bytes[0], bytes[1], bytes[2], bytes[3]],
            signature: bytes[4..].to_vec(),
        });
    }
    Ok((text, lines))
}

/// Opens a signed note: checks that at least one signature line is by one of `keys` (same name and key id)
/// and that it verifies; returns the note's text (up to and including the newline before the blank line).
/// Signatures by unknown keys are ignored; a signature by a known key that fails to verify is an error.
pub fn open_note(note: &str, keys: &[VerifierKey]) -> Result<String, NoteError> {
    let (text, lines) = parse_note(note)?;
    let mut verified = false;
    for line in &lines {
        let Some(key) = keys.iter().find(|key| key.name == line.name && key.key_id == line.key_id) else {
            continue;
        };
        if !key.verify(text.as_bytes(), &line.signature) {
            return Err(NoteError::BadSignature { name: line.name.clone(), key_id: hex(&line.key_id) });
        }
        verified = true;
    }
    if !verified {
        let wanted: Vec<String> =
            keys.iter().map(|key| format!("{}+{}", key.name, hex(&key.key_id))).collect();
        let found: Vec<String> =
            lines.iter().map(|line| format!("{}+{}", line.name, hex(&line.key_id))).collect();
        return Err(NoteError::NoKnownSignature(format!(
            "wanted {}; signed by {}",
            wanted.join(", "),
            found.join(", ")
        )));
    }
    Ok(text.to_owned())
}

/// A note's signature lines as [`split_note`] gives them: (key name, key id || signature bytes).
pub type SignatureLines = Vec<(String, Vec<u8>)>;

/// Splits a signed note without verifying anything: its text and its signature lines as (key name,
/// decoded key id || signature bytes), for display.
pub fn split_note(note: &str) -> Result<(String, SignatureLines), NoteError> {
    let (text, lines) = parse_note(note)?;
    let lines =
        lines.into_iter().map(|line| (line.name, [&line.key_id[..], &line.signature].concat())).collect();
    Ok((text.to_owned(), lines))
}
