//! Damaged and tampered logs of the embedded file log: [`cases`] (one change at a time on a small ledger:
//! `voucher-ledger verify` fails and names the position), [`matrix`] (every kind of change at many positions
//! of a demo log) and [`evidence`] (what `serve` and `verify --expect-head` do with a damaged or cut log).
//! The segment format they take apart, and the small ledger they build, are here.

use std::path::{Path, PathBuf};

use domain::Jurisdiction;
use e2e::{Client, publish_batch, segment_files, verified_applicant};

mod cases;
mod evidence;
mod matrix;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;

/// Frame header: `len u32 | crc32c u32`.
const HEADER_LEN: usize = 8;
/// Body before the record bytes: `position u64 | flags u8 | hash [32]`.
const BODY_FIXED_LEN: usize = 8 + 1 + 32;
/// The flag bit of a record that ends its command.
const FLAG_ENDS_COMMAND: u8 = 1;

/// One frame of a segment file.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// Index of the segment (in `segment_files` order).
    segment: usize,
    /// Byte offset of the frame (its header) in the segment.
    offset: usize,
    /// Length of the whole frame, header included.
    len: usize,
    position: u64,
    ends_command: bool,
}

impl Frame {
    fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }

    fn body(&self) -> std::ops::Range<usize> {
        self.offset + HEADER_LEN..self.offset + self.len
    }

    /// The record bytes (after position, flags and hash).
    fn record(&self) -> std::ops::Range<usize> {
        self.offset + HEADER_LEN + BODY_FIXED_LEN..self.offset + self.len
    }

    /// The stored hash.
    fn hash(&self) -> std::ops::Range<usize> {
        self.offset + HEADER_LEN + 9..self.offset + HEADER_LEN + BODY_FIXED_LEN
    }
}

/// Parses every frame of a well-formed segment (number `segment`), checking each frame's CRC.
fn frames(segment: usize, bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let len = u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes")) as usize;
        assert!(len >= BODY_FIXED_LEN, "frame at {offset} has an impossible length {len}");
        let crc = u32::from_le_bytes(bytes[offset + 4..offset + 8].try_into().expect("4 bytes"));
        let body = &bytes[offset + HEADER_LEN..offset + HEADER_LEN + len];
        assert_eq!(crc32c::crc32c(body), crc, "the pristine frame at {offset} passes its CRC");
        let position = u64::from_le_bytes(body[0..8].try_into().expect("8 bytes"));
        frames.push(Frame {
            segment,
            offset,
            len: HEADER_LEN + len,
            position,
            ends_command: body[8] & FLAG_ENDS_COMMAND != 0,
        });
        offset += HEADER_LEN + len;
    }
    frames
}

/// Rewrites a frame's CRC to match its (changed) body.
fn fix_crc(bytes: &mut [u8], frame: &Frame) {
    let crc = crc32c::crc32c(&bytes[frame.body()]);
    bytes[frame.offset + 4..frame.offset + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The only segment of a data directory (the small ledger is far below the segment size limit).
fn only_segment(data: &Path) -> PathBuf {
    let segments = segment_files(data).expect("segments");
    assert_eq!(segments.len(), 1, "{segments:?}");
    segments.into_iter().next().expect("one segment")
}

/// The small ledger: an appropriation and a batch, then four verified applicants (10 records). Returns the
/// batch and the applicants' tokens.
async fn batch_and_four_applicants(client: &Client) -> (String, Vec<String>) {
    let batch = publish_batch(client, GUIYANG, "1000000.00", "1000000.00", "50000.00").await.expect("batch");
    let mut tokens = Vec::new();
    for n in 1..=4 {
        tokens.push(verified_applicant(client, GUIYANG, n, false).await.expect("applicant"));
    }
    (batch, tokens)
}
