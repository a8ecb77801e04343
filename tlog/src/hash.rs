//! The tree's hash function and its two domain-separated uses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest as _;

/// A node of the tree (a leaf hash, an interior node or a root): 32 bytes for both hash functions.
pub type NodeHash = [u8; 32];

/// The tree's hash function: SHA-256 (the default, RFC 6962) or SM3 (GB/T 32905), a ledger setting. The
/// record chain is not hashed with this; it stays SHA-256 whatever the setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeHash {
    /// SHA-256 (FIPS 180-4), as RFC 6962 and C2SP specify.
    #[default]
    Sha256,
    /// SM3 (GB/T 32905-2016), the 国密 option.
    Sm3,
}

/// A hash name that is neither `sha256` nor `sm3`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tree hash {0:?}: expected \"sha256\" or \"sm3\"")]
pub struct UnknownTreeHash(pub String);

impl TreeHash {
    /// The hash of the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> NodeHash {
        match self {
            TreeHash::Sha256 => {
                let mut hasher = sha2::Sha256::new();
                for part in parts {
                    hasher.update(part);
                }
                hasher.finalize().into()
            }
            TreeHash::Sm3 => {
                let mut hasher = sm3::Sm3::new();
                for part in parts {
                    hasher.update(part);
                }
                hasher.finalize().into()
            }
        }
    }

    /// The hash of a leaf: H(0x00 || bytes).
    pub fn leaf(self, bytes: &[u8]) -> NodeHash {
        self.digest(&[&[0x00], bytes])
    }

    /// The hash of an interior node: H(0x01 || left || right).
    pub fn node(self, left: &NodeHash, right: &NodeHash) -> NodeHash {
        self.digest(&[&[0x01], left, right])
    }

    /// The root of the empty tree: H() of the empty string.
    pub fn empty(self) -> NodeHash {
        self.digest(&[])
    }

    /// The setting's name: `"sha256"` or `"sm3"` (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            TreeHash::Sha256 => "sha256",
            TreeHash::Sm3 => "sm3",
        }
    }
}

impl std::fmt::Display for TreeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TreeHash {
    type Err = UnknownTreeHash;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "sha256" => Ok(TreeHash::Sha256),
            "sm3" => Ok(TreeHash::Sm3),
            other => Err(UnknownTreeHash(other.to_owned())),
        }
    }
}

/// A hash in base64 (RFC 4648 standard alphabet, padded), as checkpoints and proofs carry it.
pub fn hash_to_base64(hash: &NodeHash) -> String {
    STANDARD.encode(hash)
}

/// A text that is not the base64 of a 32-byte hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not the base64 of a 32-byte hash")]
pub struct BadHash(pub String);

/// Reads a hash from its base64 (RFC 4648 standard alphabet, padded).
pub fn hash_from_base64(text: &str) -> Result<NodeHash, BadHash> {
    let bytes = STANDARD.decode(text).map_err(|_| BadHash(text.to_owned()))?;
    NodeHash::try_from(bytes.as_slice()).map_err(|_| BadHash(text.to_owned()))
}
