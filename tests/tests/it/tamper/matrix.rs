//! The tamper matrix: a demo log (the real program year through the writer, small segments so there are
//! several), and every kind of change at many positions — a byte of the frame header (length, CRC), of the
//! body's header (position, flags), of the stored hash, of the payload; the payload or the hash changed with
//! the CRC fixed up (only the hash chain can tell); a record deleted, duplicated, moved; a segment removed; the
//! tail truncated inside a frame. Verification (what `voucher-ledger verify` runs) must catch 100% and name the
//! exact position. Prints `tamper_matrix: cases=N caught=C named_right=R`.
//!
//! Two changes cannot be caught from the log alone, by design, and are checked differently: removing the
//! *last* segment, or cutting the tail exactly at a command boundary, leaves a shorter log that is itself
//! intact. They are caught by comparing with a head published earlier (RFC 9162's signed tree head): the test
//! checks verify then reports a head below the published one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use e2e::{copy_dir, run_verify, segment_files};
use engine::verify::{Verdict, verify_dir};

use super::{Frame, HEADER_LEN, fix_crc};
use store::file::{FileLog, FileLogOptions};

/// One way of damaging the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    HeaderLength,
    HeaderCrc,
    BodyPosition,
    BodyFlags,
    HashByte,
    PayloadByte,
    PayloadByteCrcFixed,
    HashByteCrcFixed,
    Deleted,
    Duplicated,
    MovedLater,
    TruncatedInside,
}

const KINDS: [Kind; 12] = [
    Kind::HeaderLength,
    Kind::HeaderCrc,
    Kind::BodyPosition,
    Kind::BodyFlags,
    Kind::HashByte,
    Kind::PayloadByte,
    Kind::PayloadByteCrcFixed,
    Kind::HashByteCrcFixed,
    Kind::Deleted,
    Kind::Duplicated,
    Kind::MovedLater,
    Kind::TruncatedInside,
];

struct Demo {
    dir: tempfile::TempDir,
    segments: Vec<PathBuf>,
    frames: Vec<Frame>,
    head: u64,
}

async fn demo() -> Demo {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, _) =
        FileLog::open_with(dir.path(), FileLogOptions { segment_bytes_max: 32 * 1024 }).expect("log");
    let options = engine::demo::DemoOptions { seed: 8, applicants: 24, providers: 6 };
    let summary = engine::demo::run_on(Arc::new(log), options).await.expect("demo");
    let segments = segment_files(dir.path()).expect("segments");
    let mut frames = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        frames.extend(super::frames(index, &std::fs::read(segment).expect("segment")));
    }
    assert!(frames.iter().zip(1..).all(|(frame, position)| frame.position == position));
    assert_eq!(frames.len() as u64, summary.head_position);
    Demo { dir, segments, frames, head: summary.head_position }
}

/// The positions damaged: the first and last, the first and last of every segment, and every 7th.
fn positions(demo: &Demo) -> Vec<u64> {
    let mut positions: Vec<u64> = (1..=demo.head).filter(|p| p % 7 == 3).collect();
    for (index, _) in demo.segments.iter().enumerate() {
        let in_segment: Vec<u64> =
            demo.frames.iter().filter(|f| f.segment == index).map(|f| f.position).collect();
        positions.extend(in_segment.first());
        positions.extend(in_segment.last());
    }
    positions.extend([1, demo.head]);
    positions.sort_unstable();
    positions.dedup();
    positions
}

/// Applies `kind` at position `k` to the copy's segment files; returns the position verify must name, or
/// None when the change does not apply there.
fn apply(kind: Kind, k: u64, demo: &Demo, copy: &Path) -> Option<u64> {
    let frame = demo.frames[(k - 1) as usize];
    let next = demo.frames.get(k as usize).filter(|next| next.segment == frame.segment).copied();
    let segment = copy.join("segments").join(demo.segments[frame.segment].file_name().expect("name"));
    let mut bytes = std::fs::read(&segment).expect("segment");
    let middle = |range: std::ops::Range<usize>| range.start + range.len() / 2;
    let expected = match kind {
        Kind::HeaderLength => {
            bytes[frame.offset] ^= 0x10;
            k
        }
        Kind::HeaderCrc => {
            bytes[frame.offset + 5] ^= 0x01;
            k
        }
        Kind::BodyPosition => {
            bytes[frame.offset + HEADER_LEN] ^= 0x02;
            k
        }
        Kind::BodyFlags => {
            bytes[frame.offset + HEADER_LEN + 8] ^= 0x80;
            k
        }
        Kind::HashByte => {
            bytes[middle(frame.hash())] ^= 0x01;
            k
        }
        Kind::PayloadByte => {
            bytes[middle(frame.record())] ^= 0x01;
            k
        }
        Kind::PayloadByteCrcFixed => {
            bytes[middle(frame.record())] ^= 0x01;
            fix_crc(&mut bytes, &frame);
            k
        }
        Kind::HashByteCrcFixed => {
            bytes[frame.hash().start] ^= 0x01;
            fix_crc(&mut bytes, &frame);
            k
        }
        Kind::Deleted => {
            // Deleting the very last record leaves an intact shorter log (see the module comment).
            if k == demo.head {
                return None;
            }
            bytes.drain(frame.range());
            k
        }
        Kind::Duplicated => {
            let copy = bytes[frame.range()].to_vec();
            let end = frame.offset + frame.len;
            bytes.splice(end..end, copy);
            k + 1
        }
        Kind::MovedLater => {
            let next = next?;
            let mut swapped = bytes[next.range()].to_vec();
            swapped.extend_from_slice(&bytes[frame.range()]);
            bytes.splice(frame.offset..next.offset + next.len, swapped);
            k
        }
        // The segment holding k cut in the middle of k's frame (later segments, if any, kept).
        Kind::TruncatedInside => {
            bytes.truncate(frame.offset + frame.len / 2);
            k
        }
    };
    std::fs::write(&segment, &bytes).expect("write segment");
    Some(expected)
}

async fn verdict(dir: &Path) -> Verdict {
    verify_dir(dir).await.expect("verify reads the directory")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_catches_every_change_at_every_position_and_names_it() {
    let demo = demo().await;
    assert!(demo.segments.len() >= 3, "the matrix needs several segments: {:?}", demo.segments);
    assert!(matches!(verdict(demo.dir.path()).await, Verdict::Intact { .. }), "the pristine demo verifies");
    let positions = positions(&demo);

    let mut cases = 0u64;
    let mut caught = 0u64;
    let mut named_right = 0u64;
    let mut failures = Vec::new();
    let mut by_kind = std::collections::BTreeMap::<String, u64>::new();
    let mut check = |label: String, verdict: Verdict, expected: u64| {
        cases += 1;
        match verdict {
            Verdict::Broken { position, reason } => {
                caught += 1;
                if position == expected {
                    named_right += 1;
                } else {
                    failures
                        .push(format!("{label}: named position {position}, expected {expected} ({reason})"));
                }
            }
            other => failures.push(format!("{label}: not caught: {other}")),
        }
    };

    for &k in &positions {
        for kind in KINDS {
            let copy = tempfile::tempdir().expect("tempdir");
            copy_dir(demo.dir.path(), copy.path()).expect("copy");
            let Some(expected) = apply(kind, k, &demo, copy.path()) else { continue };
            *by_kind.entry(format!("{kind:?}")).or_default() += 1;
            check(format!("{kind:?} at {k}"), verdict(copy.path()).await, expected);
        }
    }
    // A segment removed (every one but the last): the positions it held are missing.
    for (index, segment) in demo.segments.iter().enumerate().take(demo.segments.len() - 1) {
        let copy = tempfile::tempdir().expect("tempdir");
        copy_dir(demo.dir.path(), copy.path()).expect("copy");
        std::fs::remove_file(copy.path().join("segments").join(segment.file_name().expect("name")))
            .expect("remove");
        let first = demo.frames.iter().find(|f| f.segment == index).expect("a frame").position;
        *by_kind.entry("SegmentRemoved".into()).or_default() += 1;
        check(format!("segment {index} removed"), verdict(copy.path()).await, first);
    }

    // The two changes only a published head can reveal: the log verifies, with a head below the published.
    let mut shortened = 0u64;
    let last_segment = demo.segments.last().expect("segments");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(demo.dir.path(), copy.path()).expect("copy");
    std::fs::remove_file(copy.path().join("segments").join(last_segment.file_name().expect("name")))
        .expect("rm");
    match verdict(copy.path()).await {
        Verdict::Intact { head_position, .. } if head_position < demo.head => shortened += 1,
        Verdict::Broken { .. } => shortened += 1,
        other => failures.push(format!("last segment removed: {other}")),
    }
    let last = *demo.frames.last().expect("frames");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(demo.dir.path(), copy.path()).expect("copy");
    let segment = copy.path().join("segments").join(last_segment.file_name().expect("name"));
    let mut bytes = std::fs::read(&segment).expect("segment");
    bytes.truncate(last.offset);
    std::fs::write(&segment, &bytes).expect("write");
    match verdict(copy.path()).await {
        // The last record alone: the cut is inside the last command (caught), or at its boundary (shorter).
        Verdict::Broken { .. } => shortened += 1,
        Verdict::Intact { head_position, .. } if head_position < demo.head => shortened += 1,
        other => failures.push(format!("tail cut at a frame boundary: {other}")),
    }

    // The real command line names the position the same way, for one change of each detection path.
    for kind in [Kind::PayloadByte, Kind::PayloadByteCrcFixed, Kind::Deleted] {
        let k = positions[positions.len() / 2];
        let copy = tempfile::tempdir().expect("tempdir");
        copy_dir(demo.dir.path(), copy.path()).expect("copy");
        let expected = apply(kind, k, &demo, copy.path()).expect("applies");
        let verification = run_verify(copy.path()).expect("verify runs");
        if verification.success || !verification.stdout.contains(&format!("position={expected} ")) {
            failures.push(format!("voucher-ledger verify after {kind:?} at {k}: {verification:?}"));
        }
    }

    println!(
        "tamper_matrix: records={} segments={} positions={} cases={cases} caught={caught} named_right={named_right} shortened_logs_seen={shortened}/2",
        demo.head,
        demo.segments.len(),
        positions.len()
    );
    println!("tamper_matrix: by kind {by_kind:?}");
    assert!(
        failures.is_empty(),
        "{} of {cases} tamperings mishandled:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(caught, cases);
    assert_eq!(named_right, cases);
}
