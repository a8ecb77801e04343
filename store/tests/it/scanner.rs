//! The segment scanner against damaged valid logs: every byte of a valid multi-frame log written by the
//! file log itself, damaged one at a time with several values, and what `file::scan` and the open must say.
//!
//! Random bytes almost never form a frame with a valid CRC, so they only reach the scanner's first branch;
//! a valid log with one damaged byte reaches every branch: a damaged length (too short, past the end,
//! shorter but plausible), CRC, position, flags, hash or payload, in the first, a middle or the last frame,
//! in a sealed segment or the last one, with or without the zeros written ahead after the last frame.
//!
//! What must hold for a byte of a complete frame (every frame of the log was acknowledged):
//! - the damage is seen: the report is never clean, and the frames before the damaged one are reported
//!   intact;
//! - a damaged frame followed by a complete frame (in its segment or a later one) is `Corrupt` at exactly
//!   its position and offset: opening the log refuses it and changes nothing. Never a torn tail: cutting
//!   there would silently drop the acknowledged frames after it;
//! - the last frame may be reported a torn tail only when the damage made it look unwritten (a zeroed byte at
//!   a sector boundary: what a write stopped by a power cut leaves); then the open cuts that frame alone and
//!   moves its bytes to quarantine.
//!
//! For a byte of the zeros written ahead after the last frame (garbage a crash left there): a torn tail after
//! every frame, repaired by the open without losing any frame.

use std::fs;
use std::path::Path;

use store::file::{self, FileLog, FileLogOptions, ScanProblem, ScanReport};
use store::{EventLog, Hash, Head, StoreError, StoredRecord};

/// Frame overhead: len + crc + position + flags + hash.
const OVERHEAD: usize = 4 + 4 + 8 + 1 + 32;

/// The damage done to one byte: XOR with a low bit, a high bit, every bit, and zeroing (the only one that
/// can make written bytes look unwritten).
const DAMAGE: [Damage; 4] = [Damage::Xor(0x01), Damage::Xor(0x80), Damage::Xor(0xFF), Damage::Set(0x00)];

#[derive(Clone, Copy, Debug)]
enum Damage {
    Xor(u8),
    Set(u8),
}

impl Damage {
    fn apply(self, byte: u8) -> u8 {
        match self {
            Damage::Xor(mask) => byte ^ mask,
            Damage::Set(value) => value,
        }
    }
}

fn hash_of(position: u64) -> Hash {
    let mut hash = [0xA5u8; 32];
    hash[..8].copy_from_slice(&position.to_le_bytes());
    hash
}

/// A record of `len` payload bytes, none of them zero (so that a zeroed byte is always a change).
fn rec(position: u64, ends_command: bool, len: usize) -> StoredRecord {
    StoredRecord {
        position,
        ends_command,
        hash: hash_of(position),
        bytes: (0..len).map(|i| 1 + ((position as usize * 31 + i) % 255) as u8).collect(),
    }
}

/// The layout of the log the tests damage: commands of one, two and three records with payloads of 0 to 70
/// bytes, appended in batches of one or more commands.
fn batches() -> Vec<Vec<StoredRecord>> {
    let commands: [&[usize]; 6] = [&[20], &[0, 35], &[70], &[5, 9, 13], &[41], &[3]];
    let mut position = 0;
    let mut out = Vec::new();
    let mut batch = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        for (j, &len) in command.iter().enumerate() {
            position += 1;
            batch.push(rec(position, j + 1 == command.len(), len));
        }
        if i % 2 == 1 {
            out.push(std::mem::take(&mut batch));
        }
    }
    out
}

/// Writes the layout with the file log and closes it; returns the records.
fn write_log(dir: &Path, options: FileLogOptions) -> Vec<StoredRecord> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let (log, _) = FileLog::open_with(dir, options).expect("open");
        let mut head = Head::GENESIS;
        let mut all = Vec::new();
        for batch in batches() {
            head = log.append(head, batch.clone()).await.expect("append");
            all.extend(batch);
        }
        all
    })
}

/// A segment file of the log: its name, its bytes, and where its frames start (position, offset, length).
struct Segment {
    name: std::ffi::OsString,
    bytes: Vec<u8>,
    frames: Vec<(u64, usize, usize)>,
}

fn read_segments(dir: &Path, records: &[StoredRecord]) -> Vec<Segment> {
    let mut paths: Vec<_> =
        fs::read_dir(dir.join("segments")).expect("segments").map(|e| e.expect("entry").path()).collect();
    paths.sort();
    let mut records = records.iter().peekable();
    paths
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).expect("segment");
            let mut frames = Vec::new();
            let mut offset = 0;
            while offset < bytes.len() {
                let record = records.next().expect("a frame for every record");
                let len = OVERHEAD + record.bytes.len();
                frames.push((record.position, offset, len));
                offset += len;
            }
            assert_eq!(offset, bytes.len(), "a closed log's segments end with their last frame");
            Segment { name: path.file_name().expect("name").to_owned(), bytes, frames }
        })
        .collect()
}

/// Writes `segments` into a fresh log directory, with `damaged` in place of segment `which`.
fn damaged_log(segments: &[Segment], which: usize, damaged: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("segments")).expect("segments");
    for (i, segment) in segments.iter().enumerate() {
        let bytes = if i == which { damaged } else { &segment.bytes };
        fs::write(dir.path().join("segments").join(&segment.name), bytes).expect("write");
    }
    dir
}

fn positions_before(position: u64) -> Vec<u64> {
    (1..position).collect()
}

/// What the scan of a log whose frame (`position`, `offset`) in segment `which` was damaged must say;
/// returns whether it was reported a torn tail (repairable).
fn assert_damage_seen(
    report: &ScanReport,
    case: &str,
    frame: (u64, usize),
    last_frame_of_log: bool,
    damage: Damage,
) -> bool {
    let (position, offset) = frame;
    assert!(!report.is_clean(), "{case}: the damage went unseen");
    let first = report.first_problem().expect("a problem");
    assert_eq!(
        &report.positions[..(position - 1) as usize],
        positions_before(position).as_slice(),
        "{case}: the frames before the damaged one are intact"
    );
    assert!(
        !report.positions.contains(&position),
        "{case}: the damaged frame is reported valid: {:?}",
        report.positions
    );
    match first {
        ScanProblem::Corrupt { position: at, offset: off, .. } => {
            assert_eq!((*at, *off), (position, offset as u64), "{case}: {first:?}");
            assert!(report.first_corruption().is_some(), "{case}");
            false
        }
        ScanProblem::TornTail { position: at, offset: off, .. } => {
            assert!(
                last_frame_of_log,
                "{case}: a damaged frame followed by complete ones taken for a torn tail: {first:?}"
            );
            assert!(
                matches!(damage, Damage::Set(0)),
                "{case}: only a zeroed byte may make a written frame look unwritten: {first:?}"
            );
            assert_eq!((*at, *off), (position, offset as u64), "{case}: {first:?}");
            assert_eq!(report.first_corruption(), None, "{case}: {:?}", report.problems);
            true
        }
        other => panic!("{case}: expected Corrupt or TornTail at {position}, got {other:?}"),
    }
}

/// Opens the damaged log: refused with `Corrupt` at `position` and unchanged when the scan found corruption;
/// otherwise the damaged last frame alone cut, its bytes in quarantine, and every frame before it readable.
fn assert_open(
    dir: &Path,
    case: &str,
    segments: &[Segment],
    which: usize,
    damaged: &[u8],
    position: u64,
    torn: bool,
) {
    let opened = FileLog::open(dir);
    if !torn {
        assert!(
            matches!(opened, Err(StoreError::Corrupt { position: at, .. }) if at == position),
            "{case}: {opened:?}"
        );
        let after = fs::read(dir.join("segments").join(&segments[which].name)).expect("segment");
        assert_eq!(after, damaged, "{case}: a refused open changes nothing");
        assert!(!dir.join("quarantine").exists(), "{case}");
        return;
    }
    let (log, recovery) = opened.unwrap_or_else(|error| panic!("{case}: {error}"));
    assert_eq!(recovery.truncated_from_position, Some(position), "{case}: {recovery:?}");
    let quarantine = recovery.quarantine.unwrap_or_else(|| panic!("{case}: the cut bytes are kept"));
    let offset = segments[which].frames.iter().find(|f| f.0 == position).map(|f| f.1).expect("frame");
    assert_eq!(fs::read(&quarantine.path).expect("quarantine"), damaged[offset..], "{case}");
    assert_eq!(log.head_now().position, position - 1, "{case}");
}

/// Damages every byte of every frame of the log written with `options` by every value of [`DAMAGE`] that
/// changes it; returns the cases reported corrupt, those reported torn, and the log's segments. Every torn
/// case is opened too; with `check_open`, so is every corrupt case of one damage value (XOR 0x01), so that
/// the open's verdict is checked at every byte without an open per damage value.
fn damage_every_byte(options: FileLogOptions, check_open: bool) -> (usize, usize, Vec<Segment>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = write_log(dir.path(), options);
    let segments = read_segments(dir.path(), &records);
    let last_position = records.last().expect("records").position;
    let (mut corrupt, mut torn) = (0, 0);
    for (which, segment) in segments.iter().enumerate() {
        for &(position, offset, len) in &segment.frames {
            for at in offset..offset + len {
                for damage in DAMAGE {
                    let mut bytes = segment.bytes.clone();
                    bytes[at] = damage.apply(bytes[at]);
                    if bytes[at] == segment.bytes[at] {
                        continue;
                    }
                    let case = format!(
                        "segment {which} of {}, frame {position} at {offset}, byte {} of it, {damage:?}",
                        segments.len(),
                        at - offset
                    );
                    let log = damaged_log(&segments, which, &bytes);
                    let report = file::scan(log.path());
                    let is_torn = assert_damage_seen(
                        &report,
                        &case,
                        (position, offset),
                        position == last_position,
                        damage,
                    );
                    if is_torn {
                        torn += 1
                    } else {
                        corrupt += 1
                    }
                    if (check_open && matches!(damage, Damage::Xor(0x01))) || is_torn {
                        assert_open(log.path(), &case, &segments, which, &bytes, position, is_torn);
                    }
                }
            }
        }
    }
    (corrupt, torn, segments)
}

#[test]
fn every_damaged_byte_of_a_one_segment_log_is_corruption_or_a_torn_last_frame() {
    let (corrupt, torn, segments) = damage_every_byte(FileLogOptions::default(), true);
    assert_eq!(segments.len(), 1);
    let bytes: usize = batches().iter().flatten().map(|r| OVERHEAD + r.bytes.len()).sum();
    // Every byte of every frame, damaged by every value that changes it (zeroing leaves a zero unchanged).
    assert!(corrupt + torn >= 3 * bytes, "{corrupt} + {torn} cases for {bytes} bytes");
    assert!(corrupt > 0);
}

#[test]
fn every_damaged_byte_of_a_sealed_segment_is_corruption() {
    // Segments of at most 200 bytes: the layout fills four, three of them sealed. A sealed segment's last
    // frame is followed by the next segment's, so no damage in it may look like a torn tail.
    let (corrupt, torn, segments) = damage_every_byte(FileLogOptions { segment_bytes_max: 200 }, false);
    assert!(segments.len() >= 3, "{} segments", segments.len());
    assert!(corrupt > 0);
    // Only the last frame of the last segment may be torn.
    let last = segments.last().expect("segments").frames.last().expect("frame").2;
    assert!(torn <= last, "{torn} torn cases, the last frame has {last} bytes");
}

#[test]
fn garbage_in_the_space_written_ahead_is_a_torn_tail_only_where_a_frame_could_have_started() {
    // A crash leaves the current segment with zeros written ahead after the last frame. A byte of garbage
    // there that makes a plausible frame length (at least the fixed body) is what a write of the next frame
    // torn by a power cut leaves: a torn tail after the last acknowledged frame, cut at open. Any other
    // garbage (an impossible length, bytes after a zero length) is nothing the writer writes: corruption,
    // refused. Either way every acknowledged frame is reported intact.
    let dir = tempfile::tempdir().expect("tempdir");
    let records = write_log(dir.path(), FileLogOptions::default());
    let segments = read_segments(dir.path(), &records);
    let segment = &segments[0];
    let end = segment.bytes.len();
    let next = records.len() as u64 + 1;
    let (mut corrupt, mut torn) = (0, 0);
    for at in (end..end + 2 * OVERHEAD).chain([end + 511, end + 512, end + 4000]) {
        for value in [0x01u8, 0x80, 0xFF] {
            let mut bytes = segment.bytes.clone();
            bytes.resize(end + 4096, 0);
            bytes[at] = value;
            let length = u32::from_le_bytes(bytes[end..end + 4].try_into().expect("4 bytes")) as usize;
            let plausible = length >= OVERHEAD - 8;
            let case = format!("garbage {value:#04x} at {} after the last frame (length {length})", at - end);
            let log = damaged_log(&segments, 0, &bytes);
            let report = file::scan(log.path());
            assert_eq!(report.positions, (1..next).collect::<Vec<_>>(), "{case}");
            let opened = FileLog::open(log.path());
            if plausible {
                torn += 1;
                assert!(
                    matches!(report.problems.as_slice(), [ScanProblem::TornTail { position, offset, .. }]
                        if *position == next && *offset == end as u64),
                    "{case}: {:?}",
                    report.problems
                );
                let (log, recovery) = opened.unwrap_or_else(|error| panic!("{case}: {error}"));
                assert_eq!(log.head_now().position, next - 1, "{case}");
                assert_eq!(recovery.truncated_from_position, Some(next), "{case}");
                // What was written of the torn frame: up to the garbage, at least its header.
                assert_eq!(recovery.truncated_bytes, (at - end + 1).max(8) as u64, "{case}: {recovery:?}");
            } else {
                corrupt += 1;
                assert!(
                    matches!(report.problems.as_slice(), [ScanProblem::Corrupt { position, offset, .. }]
                        if *position == next && *offset == end as u64),
                    "{case}: {:?}",
                    report.problems
                );
                assert!(
                    matches!(opened, Err(StoreError::Corrupt { position, .. }) if position == next),
                    "{case}"
                );
            }
        }
    }
    assert!(torn >= 8 && corrupt >= 200, "{torn} torn, {corrupt} corrupt");
}

#[test]
fn arbitrary_bytes_as_a_segment_give_a_report_never_a_panic() {
    // The stable-toolchain form of the `segment_scan` fuzz target (fuzz/): random bytes rarely form a frame,
    // so this reaches only the first checks; the tests above reach the rest.
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(256));
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..4096), |data| {
            let dir = tempfile::tempdir().expect("tempdir");
            fs::create_dir_all(dir.path().join("segments")).expect("segments");
            fs::write(dir.path().join("segments").join("00000000000000000001.seg"), &data).expect("write");
            let report = file::scan(dir.path());
            prop_assert!(data.iter().all(|&b| b == 0) || !report.is_clean() || !report.positions.is_empty());
            let _ = FileLog::open_read_only(dir.path());
            Ok(())
        })
        .expect("no panic");
}
