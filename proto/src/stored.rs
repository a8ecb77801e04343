//! The sealed record as the store keeps it, and the hashes that chain records: the types the codec here
//! produces and the `store` crate keeps (it re-exports them), defined in this lower crate so that the codec
//! compiles without any storage backend.

use std::fmt;

/// A hash of a record: SHA-256, computed by the codec ([`crate::record_hash`]); the store only keeps it.
pub type Hash = [u8; 32];

/// The genesis "previous hash": 32 zero bytes.
pub const GENESIS_HASH: Hash = [0u8; 32];

/// The last record of the log: its position (0 when the log is empty) and hash (zeros when empty).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub position: u64,
    pub hash: Hash,
}

impl Head {
    /// The head of an empty log.
    pub const GENESIS: Head = Head { position: 0, hash: GENESIS_HASH };
}

impl fmt::Debug for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Head({}, {})", self.position, hex_short(&self.hash))
    }
}

/// The first 6 bytes of a hash in hexadecimal: enough to tell hashes apart in a debug line.
fn hex_short(hash: &Hash) -> String {
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// One sealed record as the store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Global position, from 1, without gaps.
    pub position: u64,
    /// True on the last record of a command: an append is atomic per command, so recovery never keeps a
    /// command's records without its last one.
    pub ends_command: bool,
    /// The record's hash (SHA-256 of the previous hash and `bytes`).
    pub hash: Hash,
    /// The encoded record without its hash (the envelope, which itself carries the previous hash).
    pub bytes: Vec<u8>,
}

impl fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredRecord")
            .field("position", &self.position)
            .field("ends_command", &self.ends_command)
            .field("hash", &hex_short(&self.hash))
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_a_short_hash() {
        let head = Head { position: 7, hash: [0xab; 32] };
        assert_eq!(format!("{head:?}"), "Head(7, abababababab)");
        let record = StoredRecord { position: 7, ends_command: true, hash: [1; 32], bytes: vec![0; 3] };
        assert_eq!(
            format!("{record:?}"),
            "StoredRecord { position: 7, ends_command: true, hash: \"010101010101\", len: 3 }"
        );
    }
}
