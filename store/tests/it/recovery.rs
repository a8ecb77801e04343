//! The file log's recovery, at the branches a damaged byte cannot reach: frames crafted with a valid CRC but
//! a wrong position or unknown flags, segment files misnamed, missing, overlapping or listed in the record of
//! started segments, an unfinished command, the quarantine's listing, and what each scan problem says of
//! itself (position, repairable, message). Each pins a branch of `store/src/file.rs`'s scan and recovery
//! functions, so that a mutant of it fails here (`scripts/mutants.sh recovery`, RELIABILITY.md "Mutation
//! testing").

use std::fs;
use std::path::{Path, PathBuf};

use store::StoreError;
use store::file::{self, FileLog, ScanProblem};

/// A frame as the file log writes it: length, CRC-32C of the body, then the body (position, flags, hash,
/// payload).
fn frame(position: u64, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&position.to_le_bytes());
    body.push(flags);
    body.extend_from_slice(&[0xA5; 32]);
    body.extend_from_slice(payload);
    let mut out = Vec::new();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Single-record commands at `positions`.
fn frames(positions: impl IntoIterator<Item = u64>) -> Vec<u8> {
    positions.into_iter().flat_map(|p| frame(p, 1, b"payload")).collect()
}

fn log_with(segments: &[(u64, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("segments")).expect("segments");
    for (first, bytes) in segments {
        fs::write(segment(dir.path(), *first), bytes).expect("write");
    }
    dir
}

fn segment(dir: &Path, first: u64) -> PathBuf {
    dir.join("segments").join(format!("{first:020}.seg"))
}

fn frame_len() -> u64 {
    frame(1, 1, b"payload").len() as u64
}

#[test]
fn a_frame_with_a_valid_crc_and_unknown_flags_is_corrupt_and_the_scan_goes_on() {
    let mut bytes = frames([1, 2]);
    bytes.extend(frame(3, 0x03, b"payload"));
    bytes.extend(frames([4, 5]));
    let dir = log_with(&[(1, bytes)]);
    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 2, 4, 5], "the frames after it are still read");
    match report.problems.as_slice() {
        [ScanProblem::Corrupt { position: 3, offset, reason, .. }] => {
            assert_eq!(*offset, 2 * frame_len());
            assert_eq!(reason, "unknown flags 0x03");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.first_corruption().map(ScanProblem::position), Some(3));
    assert!(matches!(FileLog::open(dir.path()), Err(StoreError::Corrupt { position: 3, .. })));
}

#[test]
fn a_frame_with_a_valid_crc_and_the_wrong_position_is_out_of_order() {
    // Positions 1, 2, 2, 3: the second 2 is where 3 was expected.
    let dir = log_with(&[(1, frames([1, 2, 2, 3]))]);
    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 2, 2, 3]);
    match report.problems.as_slice() {
        [first @ ScanProblem::OutOfOrder { expected: 3, found: 2, offset, .. }, ..] => {
            assert_eq!(*offset, 2 * frame_len());
            assert_eq!(first.position(), 3);
            assert!(!first.is_repairable());
            assert!(first.to_string().contains("holds position 2 where 3 was expected"), "{first}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(FileLog::open(dir.path()), Err(StoreError::Corrupt { position: 3, .. })));
}

#[test]
fn a_crc_mismatch_in_a_middle_frame_is_corrupt_and_the_frames_after_it_are_still_read() {
    let mut bytes = frames([1, 2, 3]);
    let at = (frame_len() + 20) as usize;
    bytes[at] ^= 0x10;
    let dir = log_with(&[(1, bytes)]);
    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 3]);
    assert!(
        matches!(report.problems.as_slice(), [ScanProblem::Corrupt { position: 2, reason, .. }] if reason == "CRC mismatch"),
        "{:?}",
        report.problems
    );
    assert_eq!(report.segments[0].frames, 2);
    assert_eq!(report.segments[0].frames_end, 3 * frame_len());
}

#[test]
fn a_misnamed_segment_is_reported_and_other_files_are_ignored() {
    let dir = log_with(&[(1, frames([1, 2]))]);
    fs::write(dir.path().join("segments").join("1.seg"), frames([3])).expect("write");
    fs::write(dir.path().join("segments").join("0000000000000000000x.seg"), frames([3])).expect("write");
    fs::write(dir.path().join("segments").join("notes.txt"), b"not a segment").expect("write");
    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 2]);
    let mut misnamed: Vec<String> = report
        .problems
        .iter()
        .map(|problem| match problem {
            ScanProblem::BadSegmentName { path } => {
                assert_eq!(problem.position(), 0);
                assert!(!problem.is_repairable());
                path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    misnamed.sort();
    assert_eq!(misnamed, ["0000000000000000000x.seg", "1.seg"]);
    assert!(matches!(FileLog::open(dir.path()), Err(StoreError::Corrupt { position: 0, .. })));
}

#[test]
fn segments_with_missing_or_overlapping_positions_are_gaps() {
    let len = frame_len();
    // 1..=2, then a segment starting at 5: positions 3..4 are missing.
    let dir = log_with(&[(1, frames([1, 2])), (5, frames([5, 6]))]);
    let report = file::scan(dir.path());
    let gap = report.first_corruption().expect("a gap");
    assert!(matches!(gap, ScanProblem::Gap { expected: 3, found: 5, .. }), "{gap:?}");
    assert_eq!(gap.position(), 3);
    assert!(gap.to_string().contains("positions 3..4 are missing"), "{gap}");
    assert_eq!(
        report.segments.iter().map(|s| (s.first_position, s.bytes)).collect::<Vec<_>>(),
        [(1, 2 * len), (5, 2 * len)]
    );

    // 1..=3, then a segment starting at 3: overlapping.
    let dir = log_with(&[(1, frames([1, 2, 3])), (3, frames([3, 4]))]);
    let gap = file::scan(dir.path()).first_corruption().cloned().expect("a gap");
    assert!(matches!(gap, ScanProblem::Gap { expected: 4, found: 3, .. }), "{gap:?}");
    assert!(gap.to_string().contains("overlapping the previous one (expected 4)"), "{gap}");

    // The first segment must start at 1.
    let dir = log_with(&[(2, frames([2, 3]))]);
    let gap = file::scan(dir.path()).first_corruption().cloned().expect("a gap");
    assert!(matches!(gap, ScanProblem::Gap { expected: 1, found: 2, .. }), "{gap:?}");
    assert!(matches!(FileLog::open(dir.path()), Err(StoreError::Corrupt { position: 1, .. })));
}

#[test]
fn the_record_of_started_segments_takes_the_highest_readable_line() {
    let dir = log_with(&[(1, frames([1, 2])), (3, frames([3, 4]))]);
    // Out of order, with a torn last line: the highest whole line is 3, which exists.
    fs::write(dir.path().join("SEGMENTS_STARTED"), "3\n1\n 2 \n9x").expect("write");
    assert!(file::scan(dir.path()).is_clean(), "{:?}", file::scan(dir.path()).problems);
    // A line naming a segment after the last one: it was deleted.
    fs::write(dir.path().join("SEGMENTS_STARTED"), "3\n7\n5\n").expect("write");
    let report = file::scan(dir.path());
    match report.problems.as_slice() {
        [problem @ ScanProblem::MissingSegment { expected: 7, record }] => {
            assert_eq!(record, &dir.path().join("SEGMENTS_STARTED"));
            assert_eq!(problem.position(), 7);
            assert!(!problem.is_repairable());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(FileLog::open(dir.path()), Err(StoreError::Corrupt { position: 7, .. })));
    // Every segment deleted, the record left: missing too.
    fs::remove_file(segment(dir.path(), 1)).expect("remove");
    fs::remove_file(segment(dir.path(), 3)).expect("remove");
    let report = file::scan(dir.path());
    assert!(
        matches!(report.problems.as_slice(), [ScanProblem::MissingSegment { expected: 7, .. }]),
        "{:?}",
        report.problems
    );
}

#[test]
fn an_unfinished_command_is_repairable_and_is_the_only_thing_cut() {
    // 1, then 2 and 3 of a command whose last record (4) was never written.
    let mut bytes = frames([1]);
    bytes.extend(frame(2, 0, b"payload"));
    bytes.extend(frame(3, 0, b"payload"));
    let dir = log_with(&[(1, bytes.clone())]);
    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 2, 3]);
    match report.problems.as_slice() {
        [problem @ ScanProblem::IncompleteCommand { position: 2, offset, frames: 2, .. }] => {
            assert_eq!(*offset, frame_len());
            assert!(problem.is_repairable());
            assert_eq!(problem.position(), 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.first_corruption(), None);
    let (log, recovery) = FileLog::open(dir.path()).expect("repaired");
    assert_eq!(log.head_now().position, 1);
    assert_eq!(recovery.truncated_from_position, Some(2));
    assert_eq!(recovery.truncated_bytes, 2 * frame_len());
    let quarantine = recovery.quarantine.expect("quarantined");
    assert_eq!(quarantine.frames.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(quarantine.damaged_position, None);
    assert_eq!(fs::read(&quarantine.path).expect("quarantine"), bytes[frame_len() as usize..]);
    // What the quarantine listing reads back from the file's name and bytes.
    let listed = file::quarantined(dir.path()).expect("listing");
    assert_eq!(listed, vec![quarantine]);
}

#[test]
fn a_sealed_segment_ending_inside_a_command_is_corrupt_when_the_last_keeps_nothing() {
    // Segment 1 ends with record 2 of a command; segment 3 holds its record 3 torn (a bad header only).
    let mut first = frames([1]);
    first.extend(frame(2, 0, b"payload"));
    let dir = log_with(&[(1, first), (3, vec![0x01, 0x02, 0x03])]);
    let report = file::scan(dir.path());
    let problem = report.first_corruption().expect("corrupt");
    assert!(matches!(problem, ScanProblem::EndsInsideCommand { position: 2, .. }), "{problem:?}");
    assert_eq!(problem.position(), 2);
    assert!(problem.to_string().contains("ends inside a command"), "{problem}");
}

#[test]
fn the_quarantine_listing_reads_the_segment_and_offset_from_the_name_and_the_claimed_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let quarantine = dir.path().join("quarantine");
    fs::create_dir(&quarantine).expect("quarantine");
    // A complete frame, then a damaged one whose position field is readable.
    let mut bytes = frames([7]);
    let mut damaged = frame(8, 1, b"payload");
    damaged[20] ^= 0xFF;
    bytes.extend(&damaged);
    fs::write(quarantine.join("00000000000000000005-120-1700000000.bin"), &bytes).expect("write");
    // Only a header's worth: no position to claim.
    fs::write(quarantine.join("00000000000000000009-40-1700000001.bin"), [1u8, 0, 0, 0, 9]).expect("write");
    fs::create_dir(quarantine.join("a directory")).expect("dir");
    let listed = file::quarantined(dir.path()).expect("listing");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].segment, segment(dir.path(), 5));
    assert_eq!(listed[0].offset, 120);
    assert_eq!(listed[0].bytes, bytes.len() as u64);
    assert_eq!(listed[0].frames.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [7]);
    assert_eq!(listed[0].damaged_position, Some(8));
    assert_eq!(listed[1].segment, segment(dir.path(), 9));
    assert_eq!(listed[1].offset, 40);
    assert!(listed[1].frames.is_empty());
    assert_eq!(listed[1].damaged_position, None);
}

#[test]
fn a_log_directory_without_its_segments_is_reported_unreadable_not_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = file::scan(dir.path());
    match report.problems.as_slice() {
        [problem @ ScanProblem::Io { path, .. }] => {
            assert_eq!(path, &dir.path().join("segments"));
            assert_eq!(problem.position(), 0);
            assert!(!problem.is_repairable());
        }
        other => panic!("{other:?}"),
    }
    assert!(!report.is_clean());
    assert!(report.segments.is_empty() && report.positions.is_empty());
    assert!(matches!(FileLog::open_read_only(dir.path()), Err(StoreError::Unavailable(_))));
}

#[test]
fn a_sealed_segment_ending_in_a_whole_header_is_a_frame_cut_short_not_a_short_header() {
    // Exactly a header (8 bytes) after the last frame of a sealed segment: the header is complete, its body
    // is missing; fewer bytes are an incomplete header.
    let len = frame_len();
    for (tail, reason) in [
        (frame(3, 1, b"payload")[..8].to_vec(), "extends past the end of the segment"),
        (vec![0x02, 0, 0, 0, 0, 0, 0, 0], "impossible frame length 2"),
        (frame(3, 1, b"payload")[..7].to_vec(), "incomplete frame header"),
    ] {
        let mut first = frames([1, 2]);
        first.extend(&tail);
        let dir = log_with(&[(1, first), (3, frames([3]))]);
        let report = file::scan(dir.path());
        match report.first_corruption() {
            Some(ScanProblem::Corrupt { position: 3, offset, reason: found, .. }) => {
                assert_eq!(*offset, 2 * len);
                assert!(found.contains(reason), "{} tail bytes: {found}", tail.len());
            }
            other => panic!("{} tail bytes: {other:?}", tail.len()),
        }
    }
}

#[test]
fn a_segment_that_cannot_be_read_is_a_problem_of_that_segment_for_scan_and_an_error_for_open() {
    // A directory under a segment's name opens but cannot be read (EISDIR), even for root, which the test
    // suite runs as here: an I/O error in the middle of the scan, not a damaged byte.
    let len = frame_len();
    let dir = log_with(&[(1, frames([1, 2])), (5, frames([5, 6]))]);
    let unreadable = segment(dir.path(), 3);
    fs::create_dir(&unreadable).expect("a directory named as segment 3");

    // `scan` (verify, the operator's view) reports the I/O error against that segment and goes on.
    let report = file::scan(dir.path());
    let io: Vec<_> = report.problems.iter().filter(|p| matches!(p, ScanProblem::Io { .. })).collect();
    match io.as_slice() {
        [ScanProblem::Io { path, error }] => {
            assert_eq!(path, &unreadable, "the problem names the unreadable segment");
            assert!(error.to_lowercase().contains("directory"), "{error}");
        }
        other => panic!("one I/O problem, of segment 3: {other:?}; all: {:?}", report.problems),
    }
    assert_eq!(report.positions, vec![1, 2, 5, 6], "the segments around it are still read");
    assert_eq!(report.segments.len(), 3);
    assert_eq!(report.segments[0].bytes, 2 * len);
    assert!(!report.is_clean());

    // Opening (strict) stops on the error itself: the log is unavailable, not corrupt at some position,
    // and nothing is cut or quarantined.
    for open in [FileLog::open_read_only(dir.path()).map(drop), FileLog::open(dir.path()).map(drop)] {
        match open {
            Err(StoreError::Unavailable(error)) => {
                assert!(error.to_string().to_lowercase().contains("directory"), "{error}")
            }
            Err(other) => panic!("an I/O error, not {other}"),
            Ok(()) => panic!("a log with an unreadable segment opened"),
        }
    }
    assert_eq!(fs::read(segment(dir.path(), 5)).expect("segment 5"), frames([5, 6]));
    assert!(!dir.path().join("quarantine").exists(), "nothing quarantined");
}
