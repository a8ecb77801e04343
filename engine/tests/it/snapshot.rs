//! Snapshots (`engine::snapshot`): a snapshot read back equals a fold of the log from scratch; a snapshot
//! plus the log's tail equals a fold from scratch; a damaged, foreign, stale or newer snapshot is ignored
//! and the log folded from its first record.

use std::path::Path;
use std::sync::Arc;

use domain::Command;
use engine::clock::Clock;
use engine::demo::{self, DemoOptions};
use engine::snapshot::{self, Unusable};
use engine::writer::{self, Loaded};
use store::EventLog;
use store::file::FileLog;
use tlog::TreeHash;

use crate::support::{self, finance};

/// A demo program year in `dir`.
async fn demo_ledger(dir: &Path, seed: u64) {
    demo::run(dir, DemoOptions { seed, applicants: 40, providers: 8 }).await.expect("demo");
}

/// After the demo's last record, so that starting the writer records nothing by itself.
fn clock() -> Clock {
    support::clock_at("2026-03-02T09:00:00+08:00")
}

fn appropriation(fen: u64) -> Command {
    support::appropriation_in(2026, fen)
}

fn open(dir: &Path) -> Arc<dyn EventLog> {
    let (log, _) = FileLog::open(dir).expect("open");
    Arc::new(log)
}

/// Starts the writer on `dir` (from its snapshot when usable), submits `commands` appropriations (the first
/// with an idempotency key), then closes the writer (`close = true`: a snapshot is written) or drops it.
async fn write_through_writer(dir: &Path, commands: u64, close: bool) {
    let log = open(dir);
    let loaded = engine::open::load_with_snapshot(log.as_ref(), TreeHash::Sha256, dir).await.expect("load");
    let (handle, _shared, task) = writer::spawn_with_task(log, loaded, clock());
    for n in 0..commands {
        let key = (n == 0).then(|| format!("key-{n}"));
        handle.submit(appropriation(100 + n), finance(), key, [7; 32]).await.expect("accepted");
    }
    if close {
        handle.close().await;
    } else {
        drop(handle);
    }
    task.await.expect("writer task");
}

async fn from_scratch(dir: &Path) -> Loaded {
    let log = open(dir);
    Loaded::from_log(log.as_ref()).await.expect("fold from scratch")
}

async fn with_snapshot(dir: &Path) -> Loaded {
    let log = open(dir);
    let mut loaded =
        engine::open::load_with_snapshot(log.as_ref(), TreeHash::Sha256, dir).await.expect("load");
    loaded.snapshot_dir = None;
    loaded
}

async fn snapshot_outcome(dir: &Path) -> Result<u64, Unusable> {
    let log = open(dir);
    snapshot::load(dir, log.as_ref(), TreeHash::Sha256).await.map(|snapshot| snapshot.head.position)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_read_back_equals_a_fold_from_scratch() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_ledger(dir.path(), 7).await;
    assert!(matches!(snapshot_outcome(dir.path()).await, Err(Unusable::Missing)));
    write_through_writer(dir.path(), 3, true).await;

    let head = open(dir.path()).head().await.expect("head").position;
    assert_eq!(snapshot_outcome(dir.path()).await.expect("usable"), head, "written at the head on close");
    let log = open(dir.path());
    let read_back = Loaded::from_snapshot(
        snapshot::load(dir.path(), log.as_ref(), TreeHash::Sha256).await.expect("load"),
    );
    drop(log);
    let scratch = from_scratch(dir.path()).await;
    assert!(scratch.projections.position() > 300, "a real ledger: {}", scratch.projections.position());
    assert!(!scratch.state.vouchers.is_empty());
    assert!(read_back.state == scratch.state, "the decision state differs");
    assert!(read_back.projections == scratch.projections, "the read models differ");
    assert!(read_back.tree == scratch.tree, "the Merkle tree differs");
    assert_eq!(read_back.head, scratch.head);
    assert!(read_back == scratch, "the stream versions or idempotency keys differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_and_the_tail_after_it_equal_a_fold_from_scratch() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_ledger(dir.path(), 11).await;
    write_through_writer(dir.path(), 2, true).await;
    let at = snapshot_outcome(dir.path()).await.expect("usable");
    // More records after the snapshot, and no new snapshot (the writer is not closed, only dropped).
    write_through_writer(dir.path(), 5, false).await;
    let head = open(dir.path()).head().await.expect("head").position;
    assert_eq!(snapshot_outcome(dir.path()).await.expect("still usable"), at);
    assert!(head > at, "the log has a tail after the snapshot");

    let resumed = with_snapshot(dir.path()).await;
    let scratch = from_scratch(dir.path()).await;
    assert_eq!(resumed.head, scratch.head);
    assert!(resumed == scratch, "snapshot + tail differs from a fold from scratch");
}

/// Each way a snapshot can be wrong, and the outcome it is reported with; the load then folds from scratch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_mismatched_snapshot_is_ignored_and_the_log_folded_from_scratch() {
    let dir = tempfile::tempdir().expect("tempdir");
    demo_ledger(dir.path(), 13).await;
    write_through_writer(dir.path(), 1, true).await;
    let file = snapshot::path(dir.path());
    let good = std::fs::read(&file).expect("snapshot");
    let scratch = from_scratch(dir.path()).await;

    // A flipped byte in the body.
    let mut damaged = good.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    std::fs::write(&file, &damaged).expect("write");
    assert!(matches!(snapshot_outcome(dir.path()).await, Err(Unusable::Damaged(_))));
    assert!(with_snapshot(dir.path()).await == scratch);

    // Cut short.
    std::fs::write(&file, &good[..good.len() - 100]).expect("write");
    assert!(matches!(snapshot_outcome(dir.path()).await, Err(Unusable::Damaged(_))));
    assert!(with_snapshot(dir.path()).await == scratch);

    // Another format version.
    let mut version = good.clone();
    version[8] = version[8].wrapping_add(1);
    std::fs::write(&file, &version).expect("write");
    assert!(matches!(snapshot_outcome(dir.path()).await, Err(Unusable::Version { .. })));
    assert!(with_snapshot(dir.path()).await == scratch);

    // Another tree hash than the ledger's.
    std::fs::write(&file, &good).expect("write");
    let log = open(dir.path());
    assert!(matches!(
        snapshot::load(dir.path(), log.as_ref(), TreeHash::Sm3).await,
        Err(Unusable::TreeHash { .. })
    ));
    drop(log);

    // Another ledger's snapshot (same length of log or longer: a hash mismatch; longer: beyond the head).
    let other = tempfile::tempdir().expect("tempdir");
    demo_ledger(other.path(), 17).await;
    std::fs::write(snapshot::path(other.path()), &good).expect("write");
    let other_scratch = from_scratch(other.path()).await;
    let outcome = snapshot_outcome(other.path()).await;
    assert!(
        matches!(outcome, Err(Unusable::HashMismatch { .. } | Unusable::BeyondHead { .. })),
        "{outcome:?}"
    );
    assert!(with_snapshot(other.path()).await == other_scratch);

    // A snapshot beyond the log's head (the log is empty).
    let empty = tempfile::tempdir().expect("tempdir");
    drop(open(empty.path()));
    std::fs::write(snapshot::path(empty.path()), &good).expect("write");
    assert!(matches!(snapshot_outcome(empty.path()).await, Err(Unusable::BeyondHead { .. })));
    assert!(with_snapshot(empty.path()).await == Loaded::empty());

    // The good snapshot again: used.
    std::fs::write(&file, &good).expect("write");
    assert_eq!(snapshot_outcome(dir.path()).await.expect("usable"), scratch.head.position);
    assert!(with_snapshot(dir.path()).await == scratch);
}

/// An idempotency key keeps where its first answer is in the log, not the answer: a retry after a start
/// from a snapshot reads the first answer's records back and answers them, the same events, hashes and
/// stream versions, marked replayed; the same key with another request is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_start_from_a_snapshot_answers_the_first_answer_read_back_from_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    let loaded =
        engine::open::load_with_snapshot(log.as_ref(), TreeHash::Sha256, dir.path()).await.expect("load");
    let (handle, _shared, task) = writer::spawn_with_task(log, loaded, clock());
    handle.submit(appropriation(100), finance(), None, [1; 32]).await.expect("first");
    let first = handle.submit(appropriation(200), finance(), Some("k".into()), [2; 32]).await.expect("keyed");
    handle.submit(appropriation(300), finance(), None, [3; 32]).await.expect("after");
    handle.close().await;
    task.await.expect("writer task");
    assert!(!first.replayed && !first.events.is_empty());

    assert_eq!(snapshot_outcome(dir.path()).await.expect("a usable snapshot"), 3);
    let log = open(dir.path());
    let loaded =
        engine::open::load_with_snapshot(log.as_ref(), TreeHash::Sha256, dir.path()).await.expect("load");
    let (handle, _shared, task) = writer::spawn_with_task(log.clone(), loaded, clock());
    let again =
        handle.submit(appropriation(200), finance(), Some("k".into()), [2; 32]).await.expect("replay");
    assert!(again.replayed);
    assert_eq!((again.position, &again.events), (first.position, &first.events));
    let reused = handle.submit(appropriation(999), finance(), Some("k".into()), [9; 32]).await;
    assert!(matches!(reused, Err(writer::WriteError::IdempotencyKeyReused(_))), "{reused:?}");
    assert_eq!(log.head().await.expect("head").position, 3, "nothing recorded by the retries");
    handle.close().await;
    task.await.expect("writer task");
}
