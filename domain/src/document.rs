//! Documents the ledger refers to by hash (contracts, invoices, remittance proofs, service results,
//! qualifications): the ledger keeps the SHA-256, name and size, never the bytes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A SHA-256 digest as 64 lowercase hexadecimal characters, kept inline (no allocation).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex([u8; 64]);

impl fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sha256Hex").field(&self.as_str()).finish()
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
        let valid = text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        match <[u8; 64]>::try_from(text.as_bytes()) {
            Ok(bytes) if valid => Ok(Sha256Hex(bytes)),
            _ => Err(DocumentError::BadDigest(text.to_owned())),
        }
    }

    /// The digest's text.
    pub fn as_str(&self) -> &str {
        // Always ASCII: only checked digests are stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
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
        digest.as_str().to_owned()
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
