//! Documents the ledger refers to by hash (contracts, invoices, remittance proofs, service results,
//! qualifications): the ledger keeps the SHA-256, name and size, never the bytes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A SHA-256 digest, written as 64 lowercase hexadecimal characters; kept as its 32 bytes (no allocation;
/// the order of the bytes is the order of the text).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex([u8; 32]);

impl fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hex(\"{self}\")")
    }
}

/// The value of a lowercase hexadecimal digit.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// A malformed digest or document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("invalid SHA-256 \"{0}\": expected 64 lowercase hexadecimal characters")]
    BadDigest(String),
    #[error("document name must not be empty")]
    EmptyName,
    #[error("document \"{0}\" is empty (size 0)")]
    EmptyFile(String),
}

impl Sha256Hex {
    /// Parses a digest.
    ///
    /// # Errors
    /// `BadDigest` unless exactly 64 characters of `0-9a-f`.
    pub fn parse(text: &str) -> Result<Sha256Hex, DocumentError> {
        let bad = || DocumentError::BadDigest(text.to_owned());
        let digits = <&[u8; 64]>::try_from(text.as_bytes()).map_err(|_| bad())?;
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let (high, low) =
                (pair.first().copied().and_then(hex_value), pair.get(1).copied().and_then(hex_value));
            *byte = (high.ok_or_else(bad)? << 4) | low.ok_or_else(bad)?;
        }
        Ok(Sha256Hex(bytes))
    }

    /// The digest's 32 bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = DocumentError;

    fn try_from(text: String) -> Result<Sha256Hex, DocumentError> {
        Sha256Hex::parse(&text)
    }
}

impl From<Sha256Hex> for String {
    fn from(digest: Sha256Hex) -> String {
        digest.to_string()
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// A document by reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub sha256: Sha256Hex,
    pub name: String,
    pub size_bytes: u64,
}

impl Document {
    /// Checks the name and size.
    ///
    /// # Errors
    /// An empty name or an empty file.
    pub fn validate(&self) -> Result<(), DocumentError> {
        if self.name.trim().is_empty() {
            return Err(DocumentError::EmptyName);
        }
        if self.size_bytes == 0 {
            return Err(DocumentError::EmptyFile(self.name.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    #[test]
    fn a_document_needs_a_name_and_some_bytes() {
        let digest = Sha256Hex::parse(&"ab".repeat(32)).expect("digest");
        let document =
            |name: &str, size_bytes| Document { sha256: digest.clone(), name: name.into(), size_bytes };
        assert_eq!(document("contract.pdf", 1).validate(), Ok(()));
        assert_eq!(document(" \t", 10).validate(), Err(DocumentError::EmptyName));
        assert_eq!(
            document("contract.pdf", 0).validate(),
            Err(DocumentError::EmptyFile("contract.pdf".into()))
        );
    }

    #[test]
    fn a_digest_reads_back_as_the_same_text_and_orders_like_it() {
        let text = "00ff10a9".repeat(8);
        let digest = Sha256Hex::parse(&text).expect("digest");
        assert_eq!(digest.to_string(), text);
        assert_eq!(String::from(digest.clone()), text);
        assert_eq!(digest.bytes()[..4], [0x00, 0xff, 0x10, 0xa9]);
        assert_eq!(serde_json::to_value(&digest).expect("json"), serde_json::json!(text));
        let lower = Sha256Hex::parse(&"0a".repeat(32)).expect("digest");
        let higher = Sha256Hex::parse(&"a0".repeat(32)).expect("digest");
        assert!(lower < higher && "0a" < "a0");
    }

    #[test]
    fn uppercase_short_long_and_non_hex_digests_are_refused() {
        for text in [
            "AB".repeat(32),
            "ab".repeat(31),
            "ab".repeat(33),
            "zz".repeat(32),
            format!("{}é", "a".repeat(62)),
        ] {
            assert_eq!(Sha256Hex::parse(&text), Err(DocumentError::BadDigest(text.clone())), "{text}");
        }
    }
}
