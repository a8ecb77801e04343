//! The C2SP `tlog-checkpoint` note text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::hash::NodeHash;
use crate::note::{NoteError, SigningKey, VerifierKey, open_note};

/// A C2SP tlog-checkpoint body (the signed note's text): the origin line, the tree size in decimal, the
/// root hash in base64 and optional extension lines, each line ending in a newline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `ledger.example.gov.cn/vouchers`: non-empty.
    pub origin: String,
    /// The number of leaves the root covers.
    pub size: u64,
    /// The root of the tree at `size`.
    pub root: NodeHash,
    /// Opaque extension lines (non-empty each); usually none.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: `origin\nsize\nbase64(root)\n` followed by one line per extension.
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root));
        for extension in &self.extensions {
            text.push_str(extension);
            text.push('\n');
        }
        text
    }

    /// Parses a note text (as [`open_note`](crate::open_note) returns it): at least three non-empty lines,
    /// each ending in a newline, the size in decimal with no leading zeroes, the root the base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let bad = |why: &str| NoteError::Checkpoint(why.to_owned());
        let Some(body) = text.strip_suffix('\n') else {
            return Err(bad("the checkpoint text does not end with a newline"));
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(bad("a checkpoint has at least three lines (origin, tree size, root hash)"));
        }
        if lines.iter().any(|line| line.is_empty()) {
            return Err(bad("a checkpoint line is empty"));
        }
        let origin = lines[0];
        let size_text = lines[1];
        if !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(NoteError::Checkpoint(format!(
                "the tree size {size_text:?} is not a decimal number without leading zeroes"
            )));
        }
        let size = size_text
            .parse::<u64>()
            .map_err(|_| NoteError::Checkpoint(format!("the tree size {size_text:?} is too large")))?;
        let root_bytes = STANDARD
            .decode(lines[2])
            .map_err(|_| NoteError::Checkpoint(format!("the root hash {:?} is not base64", lines[2])))?;
        let root: NodeHash = root_bytes.try_into().map_err(|bytes: Vec<u8>| {
            NoteError::Checkpoint(format!("the root hash has {} bytes, not 32", bytes.len()))
        })?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: lines[3..].iter().map(|line| (*line).to_owned()).collect(),
        })
    }

    /// The signed checkpoint: [`to_text`](Self::to_text) signed by `key` as a C2SP signed note.
    pub fn sign(&self, key: &SigningKey) -> Result<String, NoteError> {
        if self.origin.is_empty() || self.origin.contains('\n') {
            return Err(NoteError::Checkpoint("the origin is empty or holds a newline".to_owned()));
        }
        if self.extensions.iter().any(|line| line.is_empty() || line.contains('\n')) {
            return Err(NoteError::Checkpoint("an extension line is empty or holds a newline".to_owned()));
        }
        key.sign_note(&self.to_text())
    }

    /// Opens a signed checkpoint: the note's signature by one of `keys` ([`open_note`]), then its text
    /// ([`parse`](Self::parse)).
    pub fn open(note: &str, keys: &[VerifierKey]) -> Result<Checkpoint, NoteError> {
        Checkpoint::parse(&open_note(note, keys)?)
    }
}
