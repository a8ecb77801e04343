//! Tests of the embedded file log: roundtrips across segment rolls, fencing, locking, recovery and corruption.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use store::file::{self, FileLog, FileLogOptions, ScanProblem};
use store::{EventLog, Hash, Head, Recovery, StoreError, StoredRecord};

/// Frame overhead: len + crc + position + flags + hash.
const OVERHEAD: u64 = 4 + 4 + 8 + 1 + 32;

fn hash_of(position: u64) -> Hash {
    let mut hash = [0xA5u8; 32];
    hash[..8].copy_from_slice(&position.to_le_bytes());
    hash
}

fn rec(position: u64, ends_command: bool, len: usize) -> StoredRecord {
    StoredRecord {
        position,
        ends_command,
        hash: hash_of(position),
        bytes: (0..len).map(|i| (position as usize * 31 + i) as u8).collect(),
    }
}

/// Single-record commands from `first`, each with a payload of `len` bytes.
fn commands(first: u64, count: u64, len: usize) -> Vec<StoredRecord> {
    (first..first + count).map(|p| rec(p, true, len)).collect()
}

fn head_of(records: &[StoredRecord]) -> Head {
    let last = records.last().unwrap();
    Head { position: last.position, hash: last.hash }
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        fs::read_dir(dir.join("segments")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

fn last_segment(dir: &Path) -> PathBuf {
    segments(dir).pop().unwrap()
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

fn set_len(path: &Path, len: u64) {
    OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap();
}

fn flip_byte(path: &Path, offset: u64) {
    let file = OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, offset).unwrap();
    byte[0] ^= 0x40;
    file.write_all_at(&byte, offset).unwrap();
}

fn tiny(segment_bytes_max: u64) -> FileLogOptions {
    FileLogOptions { segment_bytes_max }
}

/// A mixed workload: batches of 1..=4 records, commands of 1 or 2 records, payloads of 10..130 bytes.
async fn fill(log: &FileLog, batches: u64) -> Vec<StoredRecord> {
    let mut all = Vec::new();
    let mut head = log.head().await.unwrap();
    for b in 0..batches {
        let n = 1 + b % 4;
        let batch: Vec<StoredRecord> = (0..n)
            .map(|j| {
                let position = head.position + 1 + j;
                rec(position, j % 2 == 1 || j + 1 == n, 10 + (position as usize * 7) % 120)
            })
            .collect();
        let new_head = log.append(head, batch.clone()).await.unwrap();
        assert_eq!(new_head, head_of(&batch));
        head = new_head;
        all.extend(batch);
    }
    all
}

#[tokio::test]
async fn roundtrip_across_segment_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let (log, recovery) = FileLog::open_with(dir.path(), tiny(300)).unwrap();
    assert_eq!(recovery, Recovery::default());
    let all = fill(&log, 60).await;
    let count = all.len() as u64;

    let files = segments(dir.path());
    assert!(files.len() >= 10, "expected many segment rolls, got {}", files.len());
    let report = file::scan(dir.path());
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.positions, (1..=count).collect::<Vec<_>>());
    assert_eq!(report.segments.len(), files.len());
    for (i, segment) in report.segments.iter().enumerate() {
        // Named by the first position, rolled only between commands, within the limit unless one command.
        assert_eq!(
            segment.path.file_name().unwrap().to_str().unwrap(),
            format!("{:020}.seg", segment.first_position)
        );
        assert!(all[(segment.first_position - 1) as usize].position == segment.first_position);
        if i > 0 {
            assert!(all[(segment.first_position - 2) as usize].ends_command, "rolled inside a command");
        }
        // Over the limit only by the rest of a command (at most 2 records of at most 129 bytes here).
        assert!(segment.bytes <= 300 + 2 * (OVERHEAD + 129), "segment {} has {} bytes", i, segment.bytes);
    }

    assert_eq!(log.head().await.unwrap(), head_of(&all));
    assert_eq!(log.read_batch(1, usize::MAX).await.unwrap(), all);
    for from in 1..=count {
        let batch = log.read_batch(from, 7).await.unwrap();
        let end = (from as usize - 1 + 7).min(all.len());
        assert_eq!(batch, all[from as usize - 1..end], "read_batch({from}, 7)");
    }
    assert!(log.read_batch(count + 1, 10).await.unwrap().is_empty());
    assert!(log.read_batch(count + 100, 10).await.unwrap().is_empty());
    assert!(log.read_batch(1, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn reopen_restores_head_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let all = {
        let (log, _) = FileLog::open_with(dir.path(), tiny(500)).unwrap();
        fill(&log, 30).await
    };
    let (log, recovery) = FileLog::open_with(dir.path(), tiny(500)).unwrap();
    assert_eq!(recovery, Recovery::default());
    assert_eq!(log.head_now(), head_of(&all));
    assert_eq!(log.read_batch(1, usize::MAX).await.unwrap(), all);

    // And it keeps going from there.
    let next = commands(all.len() as u64 + 1, 3, 20);
    log.append(head_of(&all), next.clone()).await.unwrap();
    drop(log);
    let (log, _) = FileLog::open(dir.path()).unwrap();
    assert_eq!(log.head_now(), head_of(&next));
    assert_eq!(log.read_batch(all.len() as u64 + 1, 10).await.unwrap(), next);
}

#[tokio::test]
async fn empty_log_opens_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    {
        let (log, recovery) = FileLog::open(&data).unwrap();
        assert_eq!(recovery, Recovery::default());
        assert_eq!(log.head().await.unwrap(), Head::GENESIS);
        assert!(log.read_batch(1, 10).await.unwrap().is_empty());
    }
    assert_eq!(segments(&data), vec![data.join("segments/00000000000000000001.seg")]);
    let (log, _) = FileLog::open(&data).unwrap();
    assert_eq!(log.head_now(), Head::GENESIS);
    let records = commands(1, 2, 5);
    assert_eq!(log.append(Head::GENESIS, records.clone()).await.unwrap(), head_of(&records));
}

#[tokio::test]
async fn conflict_on_wrong_expected_head_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = FileLog::open(dir.path()).unwrap();
    let first = commands(1, 2, 40);
    let head = log.append(Head::GENESIS, first.clone()).await.unwrap();
    let segment = last_segment(dir.path());
    let len = file_len(&segment);

    let stale = log.append(Head::GENESIS, commands(1, 1, 40)).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { expected, actual }) if expected == Head::GENESIS && actual == head),
        "{stale:?}"
    );
    let wrong_hash = Head { position: 2, hash: [7; 32] };
    let forked = log.append(wrong_hash, commands(3, 1, 40)).await;
    assert!(matches!(forked, Err(StoreError::Conflict { actual, .. }) if actual == head), "{forked:?}");

    assert_eq!(file_len(&segment), len);
    assert_eq!(log.head_now(), head);
    assert_eq!(log.read_batch(1, 10).await.unwrap(), first);
}

#[tokio::test]
async fn out_of_sequence_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = FileLog::open(dir.path()).unwrap();
    let head = log.append(Head::GENESIS, commands(1, 1, 10)).await.unwrap();
    let segment = last_segment(dir.path());
    let len = file_len(&segment);

    let cases = vec![
        ("empty", vec![]),
        ("wrong start", commands(3, 1, 10)),
        ("repeats the head", commands(1, 1, 10)),
        ("gap inside", vec![rec(2, true, 10), rec(4, true, 10)]),
        ("last does not end a command", vec![rec(2, true, 10), rec(3, false, 10)]),
    ];
    for (name, batch) in cases {
        let result = log.append(head, batch).await;
        assert!(matches!(result, Err(StoreError::OutOfSequence(_))), "{name}: {result:?}");
        assert_eq!(file_len(&segment), len, "{name} wrote something");
        assert_eq!(log.head_now(), head);
    }
    // The log is not poisoned by a refused batch.
    log.append(head, commands(2, 1, 10)).await.unwrap();
}

#[tokio::test]
async fn second_open_in_the_same_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = FileLog::open(dir.path()).unwrap();
    match FileLog::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert!(path.ends_with("LOCK"), "{path}"),
        other => panic!("expected Locked, got {other:?}"),
    }
    // Still locked after the failed attempt; free once the first one is dropped.
    assert!(matches!(FileLog::open(dir.path()), Err(StoreError::Locked { .. })));
    drop(log);
    let (_log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(recovery, Recovery::default());
}

#[tokio::test]
async fn torn_tail_mid_frame_is_cut_and_appends_resume_there() {
    let dir = tempfile::tempdir().unwrap();
    let records = commands(1, 3, 50);
    let frame = OVERHEAD + 50;
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(Head::GENESIS, records.clone()).await.unwrap();
    }
    let segment = last_segment(dir.path());
    set_len(&segment, 3 * frame - 10);

    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 2]);
    assert!(
        matches!(report.first_problem(), Some(ScanProblem::TornTail { position: 3, offset, .. }) if *offset == 2 * frame),
        "{:?}",
        report.problems
    );
    assert!(report.first_corruption().is_none());

    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!((recovery.truncated_bytes, recovery.truncated_from_position), (frame - 10, Some(3)));
    assert_eq!(file_len(&segment), 2 * frame);
    assert_eq!(log.head_now(), head_of(&records[..2]));
    let again = vec![rec(3, true, 9)];
    log.append(log.head_now(), again.clone()).await.unwrap();
    drop(log);

    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(recovery, Recovery::default());
    let mut expected = records[..2].to_vec();
    expected.extend(again);
    assert_eq!(log.read_batch(1, 10).await.unwrap(), expected);
}

#[tokio::test]
async fn torn_header_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let frame = OVERHEAD + 20;
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(Head::GENESIS, commands(1, 2, 20)).await.unwrap();
    }
    set_len(&last_segment(dir.path()), frame + 3);
    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!((recovery.truncated_bytes, recovery.truncated_from_position), (3, Some(2)));
    assert_eq!(log.head_now().position, 1);
}

#[tokio::test]
async fn a_zero_filled_tail_is_space_written_ahead_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let frame = OVERHEAD + 20;
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(Head::GENESIS, commands(1, 2, 20)).await.unwrap();
    }
    let segment = last_segment(dir.path());
    set_len(&segment, 2 * frame + 4096);
    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(recovery, Recovery::default(), "zeros after the last frame are not a torn tail");
    assert_eq!(log.head_now().position, 2);
    assert!(file::scan(dir.path()).problems.is_empty());
    let head = log.head_now();
    log.append(head, commands(3, 1, 20)).await.unwrap();
    assert_eq!(log.read_batch(1, 10).await.unwrap(), commands(1, 3, 20));
    drop(log);
    assert_eq!(file_len(&segment), 3 * frame, "closing cuts the space written ahead");
}

#[tokio::test]
async fn the_current_segment_is_written_ahead_while_open_and_cut_back_at_close() {
    let dir = tempfile::tempdir().unwrap();
    let frame = OVERHEAD + 20;
    let (log, _) = FileLog::open(dir.path()).unwrap();
    log.append(Head::GENESIS, commands(1, 2, 20)).await.unwrap();
    let segment = last_segment(dir.path());
    assert_eq!(file_len(&segment), 2 * frame + file::PREALLOCATE_BYTES);
    // A reader of the running log (verify, a read-only snapshot) sees the frames and no problem.
    assert!(file::scan(dir.path()).problems.is_empty());
    let snapshot = FileLog::open_read_only(dir.path()).unwrap();
    assert_eq!(snapshot.head_now().position, 2);
    drop(log);
    assert_eq!(file_len(&segment), 2 * frame);
    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(recovery, Recovery::default());
    assert_eq!(log.head_now().position, 2);
}

#[tokio::test]
async fn a_torn_frame_in_the_space_written_ahead_is_cut_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let frame = OVERHEAD + 20;
    // Frame 3 is long enough that the part a crash never wrote is more than `TORN_ZEROS_MIN` zeros.
    let torn_len = 200;
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(Head::GENESIS, commands(1, 2, 20)).await.unwrap();
    }
    let segment = last_segment(dir.path());
    {
        // The state a crash in the middle of writing frame 3 leaves: the space written ahead, with frame 3's
        // header and part of its body in it, the rest still zeros.
        set_len(&segment, 2 * frame + file::PREALLOCATE_BYTES);
        let torn = rec(3, true, torn_len);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&((OVERHEAD - 8) as u32 + torn_len as u32).to_le_bytes());
        bytes.extend_from_slice(&0xdead_beef_u32.to_le_bytes());
        bytes.extend_from_slice(&torn.position.to_le_bytes());
        bytes.push(1);
        bytes.extend_from_slice(&torn.hash[..10]);
        let file = OpenOptions::new().write(true).open(&segment).unwrap();
        file.write_all_at(&bytes, 2 * frame).unwrap();
    }
    let problems = file::scan(dir.path()).problems;
    assert!(matches!(problems.as_slice(), [ScanProblem::TornTail { position: 3, .. }]), "{problems:?}");
    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(recovery.truncated_from_position, Some(3));
    assert_eq!(recovery.truncated_bytes, 27, "the torn bytes, not the zeros after them");
    assert_eq!(file_len(&segment), 2 * frame);
    assert_eq!(log.head_now().position, 2);
}

#[tokio::test]
async fn a_sealed_segment_ends_with_its_last_frame_while_the_log_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let frame = OVERHEAD + 50;
    let (log, _) = FileLog::open_with(dir.path(), tiny(3 * frame)).unwrap();
    let mut head = Head::GENESIS;
    for first in 1..=7 {
        head = log.append(head, commands(first, 1, 50)).await.unwrap();
    }
    let all = segments(dir.path());
    assert_eq!(all.len(), 3);
    for sealed in &all[..2] {
        assert_eq!(file_len(sealed), 3 * frame, "{}", sealed.display());
    }
    assert_eq!(file_len(&all[2]), 3 * frame, "the current segment is written ahead up to the limit");
    assert!(file::scan(dir.path()).problems.is_empty());
    drop(log);
    assert_eq!(file_len(&all[2]), frame);
}

#[tokio::test]
async fn partial_command_is_cut_back_to_the_last_command_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let first = commands(1, 1, 30);
    let command = vec![rec(2, false, 40), rec(3, false, 50), rec(4, true, 60)];
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let head = log.append(Head::GENESIS, first.clone()).await.unwrap();
        log.append(head, command).await.unwrap();
    }
    let segment = last_segment(dir.path());
    // Chop the whole last frame: frames 2 and 3 are complete but their command never finished.
    let keep = (OVERHEAD + 30) + (OVERHEAD + 40) + (OVERHEAD + 50);
    set_len(&segment, keep);

    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 2, 3]);
    assert!(
        matches!(report.first_problem(), Some(ScanProblem::IncompleteCommand { position: 2, frames: 2, .. })),
        "{:?}",
        report.problems
    );

    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(
        (recovery.truncated_bytes, recovery.truncated_from_position),
        ((OVERHEAD + 40) + (OVERHEAD + 50), Some(2))
    );
    assert_eq!(log.head_now(), head_of(&first));
    assert_eq!(file_len(&segment), OVERHEAD + 30);
    assert_eq!(log.read_batch(1, 10).await.unwrap(), first);
}

#[tokio::test]
async fn flipped_byte_in_a_middle_record_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let frame = OVERHEAD + 40;
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(Head::GENESIS, commands(1, 5, 40)).await.unwrap();
    }
    let segment = last_segment(dir.path());
    flip_byte(&segment, frame + OVERHEAD + 3);

    let opened = FileLog::open(dir.path());
    assert!(matches!(opened, Err(StoreError::Corrupt { position: 2, .. })), "{opened:?}");
    assert_eq!(file_len(&segment), 5 * frame, "a corrupt log must not be repaired");
    let read_only = FileLog::open_read_only(dir.path());
    assert!(matches!(read_only, Err(StoreError::Corrupt { position: 2, .. })), "{read_only:?}");

    let report = file::scan(dir.path());
    assert_eq!(report.positions, vec![1, 3, 4, 5]);
    let problem = report.first_corruption().unwrap();
    assert_eq!(problem.position(), 2);
    assert!(matches!(problem, ScanProblem::Corrupt { offset, .. } if *offset == frame), "{problem:?}");
    assert!(problem.to_string().contains("CRC"), "{problem}");
}

#[tokio::test]
async fn a_flipped_byte_in_the_last_acknowledged_record_is_corrupt_not_cut() {
    // A complete last frame whose CRC fails but that shows no unwritten space was written in full (and may
    // have been acknowledged): the open refuses it and changes nothing, whether the log was closed (cut back
    // to its frames) or crashed (zeros written ahead after it), and wherever the byte is: body, CRC, length.
    let frame = OVERHEAD + 40;
    for (zeros_ahead, at) in [
        (false, 4 * frame + OVERHEAD + 3),
        (true, 4 * frame + OVERHEAD + 3),
        (false, 4 * frame + 5),
        (false, 4 * frame + 12),
        (false, 4 * frame + 2),
        (true, 4 * frame + 1),
    ] {
        let dir = tempfile::tempdir().unwrap();
        {
            let (log, _) = FileLog::open(dir.path()).unwrap();
            log.append(Head::GENESIS, commands(1, 5, 40)).await.unwrap();
        }
        let segment = last_segment(dir.path());
        if zeros_ahead {
            set_len(&segment, 5 * frame + 4096);
        }
        let before = fs::read(&segment).unwrap();
        flip_byte(&segment, at);
        let damaged = fs::read(&segment).unwrap();
        assert_ne!(before, damaged);

        let case = format!("flip at {at}, zeros ahead: {zeros_ahead}");
        let report = file::scan(dir.path());
        assert_eq!(
            report.first_corruption().map(ScanProblem::position),
            Some(5),
            "{case}: {:?}",
            report.problems
        );
        let opened = FileLog::open(dir.path());
        assert!(matches!(opened, Err(StoreError::Corrupt { position: 5, .. })), "{case}: {opened:?}");
        assert_eq!(fs::read(&segment).unwrap(), damaged, "{case}: a refused open changes nothing");
        assert!(!dir.path().join("quarantine").exists(), "{case}");
    }
}

#[tokio::test]
async fn a_torn_tail_is_moved_to_quarantine_with_its_bytes_intact() {
    let dir = tempfile::tempdir().unwrap();
    let records = commands(1, 3, 50);
    let frame = OVERHEAD + 50;
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(Head::GENESIS, records.clone()).await.unwrap();
    }
    let segment = last_segment(dir.path());
    set_len(&segment, 3 * frame - 10);
    let torn = fs::read(&segment).unwrap()[2 * frame as usize..].to_vec();
    assert!(file::quarantined(dir.path()).unwrap().is_empty());

    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(log.head_now(), head_of(&records[..2]));
    assert_eq!(file_len(&segment), 2 * frame);
    let quarantine = recovery.quarantine.expect("the cut bytes are quarantined");
    assert_eq!(
        fs::read(&quarantine.path).unwrap(),
        torn,
        "the quarantine file holds the cut bytes unchanged"
    );
    assert_eq!(quarantine.segment, segment);
    assert_eq!(quarantine.offset, 2 * frame);
    assert_eq!(quarantine.bytes, frame - 10);
    assert!(quarantine.frames.is_empty());
    assert_eq!(quarantine.damaged_position, Some(3));
    let name = quarantine.path.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with(&format!("{:020}-{}-", 1, 2 * frame)) && name.ends_with(".bin"), "{name}");

    // It stays listed (for `verify`) after the log is reopened and appended to.
    log.append(log.head_now(), vec![rec(3, true, 9)]).await.unwrap();
    drop(log);
    let (_log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(recovery, Recovery::default());
    let listed = file::quarantined(dir.path()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].path, quarantine.path);
    assert_eq!(listed[0].bytes, frame - 10);
    assert_eq!(listed[0].damaged_position, Some(3));
}

#[tokio::test]
async fn an_unfinished_command_is_quarantined_with_its_positions_and_hashes() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let head = log.append(Head::GENESIS, commands(1, 1, 30)).await.unwrap();
        log.append(head, vec![rec(2, false, 40), rec(3, false, 50), rec(4, true, 60)]).await.unwrap();
    }
    let segment = last_segment(dir.path());
    set_len(&segment, (OVERHEAD + 30) + (OVERHEAD + 40) + (OVERHEAD + 50) + 26);
    let (_log, recovery) = FileLog::open(dir.path()).unwrap();
    let quarantine = recovery.quarantine.unwrap();
    assert_eq!(quarantine.frames, vec![(2, hash_of(2)), (3, hash_of(3))]);
    assert_eq!(quarantine.damaged_position, Some(4));
    assert_eq!(quarantine.bytes, (OVERHEAD + 40) + (OVERHEAD + 50) + 26);
}

#[tokio::test]
async fn the_log_creates_its_directories_0700_and_its_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    {
        let (log, _) = FileLog::open_with(&dir, tiny(2 * (OVERHEAD + 20))).unwrap();
        let head = log.append(Head::GENESIS, commands(1, 2, 20)).await.unwrap();
        log.append(head, commands(3, 2, 20)).await.unwrap();
    }
    set_len(&last_segment(&dir), OVERHEAD + 20 + 5);
    let (_log, recovery) = FileLog::open(&dir).unwrap();
    let quarantine = recovery.quarantine.unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("segments")), 0o700);
    assert_eq!(mode(&dir.join("quarantine")), 0o700);
    assert_eq!(mode(&dir.join("LOCK")), 0o600);
    assert_eq!(mode(&quarantine.path), 0o600);
    let all = segments(&dir);
    assert_eq!(all.len(), 2);
    for segment in all {
        assert_eq!(mode(&segment), 0o600, "{}", segment.display());
    }
}

/// Frame 3's length field damaged to claim more than the rest of the file: it looks torn, but frame 4 follows
/// it intact, so it is corruption at that frame, never a torn tail that would cut the frames after it. Also
/// when its body is damaged too (a bad sector across its header and body), so that its checksum matches no
/// shorter body either.
#[tokio::test]
async fn damaged_length_field_in_the_last_segment_is_not_taken_for_a_torn_tail() {
    let frame = OVERHEAD + 40;
    for damaged in [vec![2 * frame + 2], vec![2 * frame + 2, 3 * frame - 10]] {
        let dir = tempfile::tempdir().unwrap();
        {
            let (log, _) = FileLog::open(dir.path()).unwrap();
            log.append(Head::GENESIS, commands(1, 5, 40)).await.unwrap();
        }
        let segment = last_segment(dir.path());
        for offset in &damaged {
            flip_byte(&segment, *offset);
        }
        let before = fs::read(&segment).unwrap();

        let opened = FileLog::open(dir.path());
        assert!(matches!(opened, Err(StoreError::Corrupt { position: 3, .. })), "{damaged:?}: {opened:?}");
        assert_eq!(fs::read(&segment).unwrap(), before, "{damaged:?}: nothing cut");
        let scan = file::scan(dir.path());
        assert_eq!(scan.first_corruption().map(ScanProblem::position), Some(3), "{damaged:?}");
        assert!(
            !scan.problems.iter().any(|problem| matches!(problem, ScanProblem::TornTail { .. })),
            "{damaged:?}: taken for a torn tail: {:?}",
            scan.problems
        );
    }
}

/// A length field damaged to below a frame's fixed size (0 or a few bytes) in a frame of the last segment
/// that acknowledged frames follow: corruption at that frame, never a torn tail that would cut them.
#[tokio::test]
async fn an_impossibly_short_length_in_a_middle_frame_of_the_last_segment_is_corrupt_not_cut() {
    let frame = OVERHEAD + 40;
    for damaged in [0u32, 1, 40] {
        let dir = tempfile::tempdir().unwrap();
        let records = commands(1, 5, 40);
        {
            let (log, _) = FileLog::open(dir.path()).unwrap();
            log.append(Head::GENESIS, records.clone()).await.unwrap();
        }
        let segment = last_segment(dir.path());
        let before = fs::read(&segment).unwrap();
        // Frame 3's length field now says `damaged` bytes: fewer than position, flags and hash take.
        let file = OpenOptions::new().write(true).open(&segment).unwrap();
        file.write_all_at(&damaged.to_le_bytes(), 2 * frame).unwrap();
        drop(file);

        let opened = FileLog::open(dir.path());
        assert!(
            matches!(opened, Err(StoreError::Corrupt { position: 3, .. })),
            "length {damaged}: {opened:?}"
        );
        let after = fs::read(&segment).unwrap();
        assert_eq!(after.len(), before.len(), "length {damaged}: nothing cut");
        assert_eq!(after[..2 * frame as usize], before[..2 * frame as usize]);
        assert_eq!(after[2 * frame as usize + 4..], before[2 * frame as usize + 4..]);
        let quarantined = fs::read_dir(dir.path().join("quarantine")).map_or(0, Iterator::count);
        assert_eq!(quarantined, 0, "length {damaged}: nothing quarantined");
        let scan = file::scan(dir.path());
        assert_eq!(scan.first_corruption().map(ScanProblem::position), Some(3), "length {damaged}");
        assert!(
            !scan.problems.iter().any(|problem| matches!(problem, ScanProblem::TornTail { .. })),
            "length {damaged}: taken for a torn tail: {:?}",
            scan.problems
        );
    }
}

#[tokio::test]
async fn missing_or_damaged_sealed_segments_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open_with(dir.path(), tiny(400)).unwrap();
        fill(&log, 40).await;
    }
    let files = segments(dir.path());
    assert!(files.len() >= 5);
    let report = file::scan(dir.path());
    let first_of = |i: usize| report.segments[i].first_position;

    // A sealed segment cut short (not the last one): never repaired.
    let middle = &files[2];
    let saved = fs::read(middle).unwrap();
    let len = file_len(middle);
    set_len(middle, len - 5);
    let opened = FileLog::open_with(dir.path(), tiny(400));
    assert!(matches!(opened, Err(StoreError::Corrupt { .. })), "{opened:?}");
    assert_eq!(file_len(middle), len - 5);
    assert!(file::scan(dir.path()).first_corruption().is_some());
    fs::write(middle, &saved).unwrap();
    assert!(file::scan(dir.path()).is_clean());

    // A missing segment in the middle.
    fs::remove_file(&files[2]).unwrap();
    let opened = FileLog::open_with(dir.path(), tiny(400));
    assert!(
        matches!(opened, Err(StoreError::Corrupt { position, .. }) if position == first_of(2)),
        "{opened:?}"
    );
    let scanned = file::scan(dir.path());
    assert!(
        matches!(scanned.first_problem(), Some(ScanProblem::Gap { expected, found, .. }) if *expected == first_of(2) && *found == first_of(3)),
        "{:?}",
        scanned.problems
    );
    fs::write(&files[2], saved).unwrap();

    // A missing first segment.
    fs::remove_file(&files[0]).unwrap();
    let opened = FileLog::open_with(dir.path(), tiny(400));
    assert!(matches!(opened, Err(StoreError::Corrupt { position: 1, .. })), "{opened:?}");
    let read_only = FileLog::open_read_only(dir.path());
    assert!(matches!(read_only, Err(StoreError::Corrupt { position: 1, .. })), "{read_only:?}");
}

#[tokio::test]
async fn read_only_open_while_the_writer_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, _) = FileLog::open_with(dir.path(), tiny(1000)).unwrap();
    let all = fill(&writer, 20).await;

    let reader = FileLog::open_read_only(dir.path()).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(reader.head().await.unwrap(), head_of(&all));
    assert_eq!(reader.read_batch(1, usize::MAX).await.unwrap(), all);
    let refused = reader.append(head_of(&all), commands(all.len() as u64 + 1, 1, 5)).await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");

    // The reader is a snapshot; a new one sees later appends.
    let more = commands(all.len() as u64 + 1, 2, 5);
    writer.append(head_of(&all), more.clone()).await.unwrap();
    assert_eq!(reader.head_now(), head_of(&all));
    let fresh = FileLog::open_read_only(dir.path()).unwrap();
    assert_eq!(fresh.head_now(), head_of(&more));
    assert!(file::scan(dir.path()).is_clean());

    // Not a log at all.
    assert!(matches!(FileLog::open_read_only(&dir.path().join("nothing")), Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn read_from_yields_everything_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = FileLog::open_with(dir.path(), tiny(4096)).unwrap();
    let mut all = Vec::new();
    let mut head = Head::GENESIS;
    for _ in 0..100 {
        let batch = commands(head.position + 1, 100, 24);
        head = log.append(head, batch.clone()).await.unwrap();
        all.extend(batch);
    }
    let read: Vec<StoredRecord> = log.read_from(1).map(Result::unwrap).collect().await;
    assert_eq!(read.len(), 10_000);
    assert_eq!(read, all);
    let tail: Vec<StoredRecord> = log.read_from(1234).map(Result::unwrap).collect().await;
    assert_eq!(tail, all[1233..]);
    assert_eq!(log.read_from(0).count().await, 10_000);
    assert_eq!(log.read_from(10_001).count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_during_appends_see_consistent_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = FileLog::open_with(dir.path(), tiny(2048)).unwrap();
    let log = std::sync::Arc::new(log);
    let reader = {
        let log = std::sync::Arc::clone(&log);
        tokio::spawn(async move {
            let mut seen = 0;
            while seen < 2000 {
                let records = log.read_batch(1, usize::MAX).await.unwrap();
                assert!(records.len() >= seen, "the log shrank");
                for (i, record) in records.iter().enumerate() {
                    assert_eq!(record, &rec(i as u64 + 1, true, 16 + i % 50));
                }
                seen = records.len();
            }
        })
    };
    let mut head = Head::GENESIS;
    for b in 0..200u64 {
        let batch: Vec<StoredRecord> =
            (0..10).map(|j| b * 10 + j).map(|i| rec(i + 1, true, 16 + i as usize % 50)).collect();
        head = log.append(head, batch).await.unwrap();
    }
    reader.await.unwrap();
}

#[tokio::test]
async fn failed_append_poisons_the_log_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let frame = OVERHEAD + 50;
    let (log, _) = FileLog::open_with(dir.path(), tiny(3 * frame + 1)).unwrap();
    let head = log.append(Head::GENESIS, commands(1, 1, 50)).await.unwrap();
    let segment = last_segment(dir.path());
    assert_eq!(file_len(&segment), 3 * frame + 1, "written ahead up to the segment limit");

    // Records 2 and 3 fit in the first segment; 4 rolls to a new segment, whose file name is taken by a
    // directory, so creating it fails after 2 and 3 were written.
    let blocker = dir.path().join("segments/00000000000000000004.seg");
    fs::create_dir(&blocker).unwrap();
    let failed = log.append(head, commands(2, 3, 50)).await;
    assert!(matches!(failed, Err(StoreError::Unavailable(_))), "{failed:?}");
    assert_eq!(file_len(&segment), frame, "the partial append was not rolled back");
    assert_eq!(log.head_now(), head);
    let poisoned = log.append(head, commands(2, 1, 50)).await;
    assert!(matches!(poisoned, Err(StoreError::Unavailable(_))), "{poisoned:?}");
    assert_eq!(log.read_batch(1, 10).await.unwrap(), commands(1, 1, 50));
    drop(log);

    fs::remove_dir(&blocker).unwrap();
    let (log, recovery) = FileLog::open_with(dir.path(), tiny(3 * frame + 1)).unwrap();
    assert_eq!(recovery, Recovery::default());
    assert_eq!(log.head_now(), head);
    let batch = commands(2, 3, 50);
    log.append(head, batch.clone()).await.unwrap();
    assert_eq!(segments(dir.path()).len(), 2);
    assert_eq!(log.read_batch(2, 10).await.unwrap(), batch);
}

#[tokio::test]
async fn log_ending_inside_a_command_in_a_sealed_segment_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(Head::GENESIS, vec![rec(1, false, 10), rec(2, true, 10)]).await.unwrap();
    }
    // Cut record 2 and start an (empty) segment after record 1, as if the writer had rolled inside a command.
    let segment = last_segment(dir.path());
    set_len(&segment, OVERHEAD + 10);
    fs::write(dir.path().join("segments/00000000000000000002.seg"), b"").unwrap();

    let opened = FileLog::open(dir.path());
    assert!(matches!(opened, Err(StoreError::Corrupt { position: 1, .. })), "{opened:?}");
    assert!(
        matches!(
            file::scan(dir.path()).first_corruption(),
            Some(ScanProblem::EndsInsideCommand { position: 1, .. })
        ),
        "{:?}",
        file::scan(dir.path()).problems
    );
}

#[tokio::test]
async fn follow_yields_the_log_then_records_appended_after_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = FileLog::open(dir.path()).unwrap();
    let first = commands(1, 3, 10);
    let head = log.append(Head::GENESIS, first.clone()).await.unwrap();

    let mut follow = log.follow(2);
    for want in &first[1..] {
        let got = tokio::time::timeout(Duration::from_secs(5), follow.next()).await.unwrap();
        assert_eq!(got.unwrap().unwrap(), *want);
    }
    // Caught up: nothing more until the next append.
    let idle = tokio::time::timeout(store::FOLLOW_POLL_INTERVAL * 2, follow.next()).await;
    assert!(idle.is_err(), "follow yielded past the head: {idle:?}");

    let later = commands(4, 2, 10);
    log.append(head, later.clone()).await.unwrap();
    for want in &later {
        let got = tokio::time::timeout(Duration::from_secs(5), follow.next()).await;
        let got = got.expect("a record appended after following started arrives");
        assert_eq!(got.unwrap().unwrap(), *want);
    }
}

#[tokio::test]
async fn a_deleted_last_segment_is_caught_by_the_record_of_started_segments() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open_with(dir.path(), tiny(400)).unwrap();
        fill(&log, 40).await;
    }
    let files = segments(dir.path());
    assert!(files.len() >= 3);
    let last = files.last().unwrap().clone();
    let last_first: u64 = last.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    assert!(file::scan(dir.path()).is_clean());
    fs::remove_file(&last).unwrap();

    let report = file::scan(dir.path());
    assert!(
        matches!(report.first_corruption(), Some(ScanProblem::MissingSegment { expected, .. }) if *expected == last_first),
        "{:?}",
        report.problems
    );
    let opened = FileLog::open_with(dir.path(), tiny(400));
    assert!(
        matches!(opened, Err(StoreError::Corrupt { position, .. }) if position == last_first),
        "{opened:?}"
    );
    assert!(matches!(FileLog::open_read_only(dir.path()), Err(StoreError::Corrupt { .. })));
}

#[tokio::test]
async fn an_older_log_without_the_record_of_started_segments_gets_one_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open_with(dir.path(), tiny(400)).unwrap();
        fill(&log, 40).await;
    }
    fs::remove_file(dir.path().join("SEGMENTS_STARTED")).unwrap();
    assert!(file::scan(dir.path()).is_clean(), "a log written before the record is not damaged");
    drop(FileLog::open_with(dir.path(), tiny(400)).unwrap());
    let last = last_segment(dir.path());
    fs::remove_file(&last).unwrap();
    assert!(matches!(file::scan(dir.path()).first_corruption(), Some(ScanProblem::MissingSegment { .. })));
}

#[tokio::test]
async fn a_frame_whose_write_stopped_at_a_sector_boundary_is_a_torn_tail() {
    // A killed process's write stops between pages: the frame has its full length (the space written ahead)
    // and is zeros from a page (sector) boundary on, even when fewer than TORN_ZEROS_MIN bytes are missing.
    let dir = tempfile::tempdir().unwrap();
    let first = OVERHEAD + 400;
    let second_len = 60;
    let second = OVERHEAD + second_len as u64;
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let head = log.append(Head::GENESIS, vec![rec(1, true, 400)]).await.unwrap();
        log.append(head, vec![rec(2, true, second_len)]).await.unwrap();
    }
    let segment = last_segment(dir.path());
    assert!(first < 512 && first + second > 512 && first + second - 512 < file::TORN_ZEROS_MIN as u64);
    set_len(&segment, first + second + 4096);
    let file = OpenOptions::new().write(true).open(&segment).unwrap();
    file.write_all_at(&vec![0u8; (first + second - 512) as usize], 512).unwrap();
    let problems = file::scan(dir.path()).problems;
    assert!(matches!(problems.as_slice(), [ScanProblem::TornTail { position: 2, .. }]), "{problems:?}");
    let (log, recovery) = FileLog::open(dir.path()).unwrap();
    assert_eq!(log.head_now().position, 1);
    assert_eq!(recovery.quarantine.unwrap().damaged_position, Some(2));
}

/// A read-only open beside a writer that keeps appending (what `backup` and `verify --expect-head` do on a
/// served ledger) sees the writer's next frame land while it scans: the header it read was still the zeros
/// written ahead, the bytes after it are no longer. That is a write in flight, not a damaged length field;
/// every open must succeed with a head the writer acknowledged.
#[test]
fn read_only_opens_beside_a_writer_that_keeps_appending_never_report_corruption() {
    let dir = tempfile::tempdir().unwrap();
    // Small segments, so that the writer also seals segments (cutting their zeros) under the scans.
    let (writer, _) = FileLog::open_with(dir.path(), tiny(256 << 10)).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let appender = {
        let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
        std::thread::spawn(move || {
            let mut head = Head::GENESIS;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && head.position < 100_000 {
                let batch = commands(head.position + 1, 3, 100);
                head = writer.append_blocking(head, batch).unwrap();
                acknowledged.store(head.position, std::sync::atomic::Ordering::Release);
            }
            head.position
        })
    };
    let (mut opens, mut grew) = (0, 0);
    let mut last = 0;
    // At least 300 opens, and on until 100 of them saw the head move: the opens overlap the appends however
    // fast either side runs on a loaded machine (the writer stops by itself at 100,000 records).
    while (opens < 300 || grew < 100) && !appender.is_finished() {
        let before = acknowledged.load(std::sync::atomic::Ordering::Acquire);
        let reader = FileLog::open_read_only(dir.path());
        let head =
            reader.unwrap_or_else(|error| panic!("open {opens} beside the writer: {error}")).head_now();
        assert!(head.position >= before, "open {opens}: head {} behind acknowledged {before}", head.position);
        grew += usize::from(head.position > last);
        last = head.position;
        opens += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = appender.join().unwrap();
    // The opens really overlapped the appends: the head they saw moved between 100 of them.
    assert!(grew >= 100, "only {grew} of {opens} opens saw new records (writer reached {written})");
    assert!(file::scan(dir.path()).is_clean());
}

/// Frames rewritten on disk under an open log, each with a valid checksum over its new length, read back
/// as corruption at the right position, never as records or a panic: a length shorter than a record's fixed
/// part (position, flags, hash), and a last frame shorter than the range the index holds for it (bytes left
/// after it, named at the position after the range).
#[tokio::test]
async fn frames_rewritten_under_an_open_log_with_valid_checksums_read_as_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = FileLog::open(dir.path()).unwrap();
    let records = commands(1, 3, 60);
    log.append(Head::GENESIS, records.clone()).await.unwrap();
    assert_eq!(log.read_batch(1, 3).await.unwrap(), records);
    let segment = dir.path().join("segments/00000000000000000001.seg");
    let file = OpenOptions::new().read(true).write(true).open(&segment).unwrap();
    // Each frame: an 8-byte header (length, CRC-32C of the body), then a body of 41 + 60 bytes.
    let frame = 8 + 41 + 60;
    let header_with = |offset: u64, len: u32| {
        let mut body = vec![0u8; len as usize];
        file.read_exact_at(&mut body, offset + 8).unwrap();
        let mut header = len.to_le_bytes().to_vec();
        header.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        header
    };
    let mut original = vec![0u8; 8];
    file.read_exact_at(&mut original, frame).unwrap();

    // Frame 2 says it is 4 bytes long, and its checksum agrees.
    file.write_all_at(&header_with(frame, 4), frame).unwrap();
    match log.read_batch(1, 3).await {
        Err(StoreError::Corrupt { position, reason }) => {
            assert_eq!(position, 2, "{reason}");
            assert!(reason.contains("length"), "{reason}");
        }
        other => panic!("a frame shorter than a record's fixed part read as {other:?}"),
    }
    file.write_all_at(&original, frame).unwrap();
    assert_eq!(log.read_batch(1, 3).await.unwrap(), records, "the frame restored reads again");

    // Frame 3, the last of the range, says it is 10 bytes shorter, and its checksum agrees.
    let last = 2 * frame;
    file.write_all_at(&header_with(last, 41 + 50), last).unwrap();
    match log.read_batch(1, 3).await {
        Err(StoreError::Corrupt { position, reason }) => {
            assert_eq!(position, 4, "the position after the range: {reason}");
            assert!(reason.contains("trailing"), "{reason}");
        }
        other => panic!("a frame shorter than its indexed range read as {other:?}"),
    }
}

/// Opening a log brings the record of started segments up to its last segment only when the record lags:
/// a log of one segment gets no record, a current record is left as it is (not appended to on every open),
/// and a record that stops at an earlier segment gets the last one, so that deleting it is noticed.
#[tokio::test]
async fn opening_a_log_records_its_last_segment_only_when_the_record_lags() {
    let recorded = |dir: &Path| -> Option<String> { fs::read_to_string(dir.join("SEGMENTS_STARTED")).ok() };
    let first_of = |segment: &Path| -> u64 {
        segment.file_stem().and_then(|stem| stem.to_str()).and_then(|stem| stem.parse().ok()).unwrap()
    };

    // One segment: nothing to record.
    let single = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open(single.path()).unwrap();
        fill(&log, 3).await;
    }
    drop(FileLog::open(single.path()).unwrap());
    assert_eq!(segments(single.path()).len(), 1);
    assert_eq!(recorded(single.path()), None, "a log of one segment records none");

    // Several segments, the record current: opening again leaves it byte for byte.
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open_with(dir.path(), tiny(400)).unwrap();
        fill(&log, 40).await;
    }
    let last = first_of(&last_segment(dir.path()));
    assert!(last > 1);
    let current = recorded(dir.path()).expect("a record of started segments");
    drop(FileLog::open_with(dir.path(), tiny(400)).unwrap());
    assert_eq!(recorded(dir.path()).as_deref(), Some(current.as_str()), "a current record is not written");

    // The record stops at the first segment: the open records the last one.
    fs::write(dir.path().join("SEGMENTS_STARTED"), "1\n").unwrap();
    drop(FileLog::open_with(dir.path(), tiny(400)).unwrap());
    let lines: Vec<u64> =
        recorded(dir.path()).unwrap().lines().filter_map(|line| line.trim().parse().ok()).collect();
    assert_eq!(lines, vec![1, last], "the lagging record gets the last segment");
    fs::remove_file(last_segment(dir.path())).unwrap();
    assert!(matches!(file::scan(dir.path()).first_corruption(), Some(ScanProblem::MissingSegment { .. })));
}
