//! The writer against the real embedded log: group commit, atomicity, refusals append nothing, a failed
//! append is never acknowledged and the writer recovers from the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use domain::{Actor, Jurisdiction, Role};
use engine::writer::{self, Loaded, WriteError};

use crate::support::{Outage, appropriation, clock, finance};
use store::file::FileLog;
use store::{EventLog, Head, StoreError, StoredRecord};

/// Counts appends, and fails the appends whose number is in `fail_on` (1-based) without writing.
struct Instrumented {
    inner: FileLog,
    appends: AtomicUsize,
    fail_on: Vec<usize>,
}

#[async_trait]
impl EventLog for Instrumented {
    async fn head(&self) -> Result<Head, StoreError> {
        self.inner.head().await
    }

    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        let number = self.appends.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_on.contains(&number) {
            return Err(StoreError::Unavailable(std::io::Error::other("injected fsync failure")));
        }
        self.inner.append(expected, records).await
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.inner.read_batch(from, max).await
    }
}

/// Holds its first append until `release` is notified (after saying so on `entered`), and fails the
/// appends whose number is in `fail_on` (1-based) without writing; counts appends and their records.
struct Gated {
    inner: FileLog,
    appends: AtomicUsize,
    records: std::sync::Mutex<Vec<usize>>,
    fail_on: Vec<usize>,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

#[async_trait]
impl EventLog for Gated {
    async fn head(&self) -> Result<Head, StoreError> {
        self.inner.head().await
    }

    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        let number = self.appends.fetch_add(1, Ordering::SeqCst) + 1;
        self.records.lock().expect("records").push(records.len());
        if number == 1 {
            self.entered.notify_one();
            self.release.notified().await;
        }
        if self.fail_on.contains(&number) {
            return Err(StoreError::Unavailable(std::io::Error::other("injected fsync failure")));
        }
        self.inner.append(expected, records).await
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.inner.read_batch(from, max).await
    }
}

async fn start(
    dir: &std::path::Path,
    fail_on: Vec<usize>,
) -> (writer::WriterHandle, writer::Shared, Arc<Instrumented>) {
    let (inner, _) = FileLog::open(dir).expect("open");
    let log = Arc::new(Instrumented { inner, appends: AtomicUsize::new(0), fail_on });
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let (handle, shared) = writer::spawn(log.clone(), loaded, clock());
    (handle, shared, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commands_share_appends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (handle, shared, log) = start(dir.path(), vec![]).await;
    let submissions = (1..=200u64).map(|n| {
        let handle = handle.clone();
        tokio::spawn(async move { handle.submit(appropriation(n), finance(), None, [0; 32]).await })
    });
    let answers = futures::future::join_all(submissions).await;
    let committed = answers.into_iter().filter(|answer| matches!(answer, Ok(Ok(_)))).count();
    assert_eq!(committed, 200);
    let appends = log.appends.load(Ordering::SeqCst);
    assert!(appends < 200, "200 concurrent commands took {appends} appends: no group commit");
    assert_eq!(shared.head.borrow().position, 200);
    assert_eq!(shared.projections.read().expect("lock").position(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_appends_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (handle, shared, log) = start(dir.path(), vec![]).await;
    let bureau = Actor { role: Role::Bureau, ..finance() };
    let refused = handle.submit(appropriation(100), bureau, None, [0; 32]).await;
    assert!(matches!(refused, Err(WriteError::Rejected(domain::Rejection::Forbidden { .. }))), "{refused:?}");
    assert_eq!(log.appends.load(Ordering::SeqCst), 0);
    assert_eq!(shared.head.borrow().position, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_append_is_not_acknowledged_and_the_writer_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (handle, shared, _log) = start(dir.path(), vec![2]).await;
    let first = handle.submit(appropriation(100), finance(), Some("k1".into()), [1; 32]).await;
    assert!(first.is_ok(), "{first:?}");
    let failed = handle.submit(appropriation(200), finance(), Some("k2".into()), [2; 32]).await;
    assert!(matches!(failed, Err(WriteError::Unavailable(_))), "{failed:?}");
    // The failed command left no trace: the same key is free, and the head did not move.
    assert_eq!(shared.head.borrow().position, 1);
    let retried =
        handle.submit(appropriation(200), finance(), Some("k2".into()), [2; 32]).await.expect("retry");
    assert_eq!(retried.position, 2);
    assert!(!retried.replayed);
    let balances =
        shared.projections.read().expect("lock").balances.budget(Jurisdiction::Guiyang, 2025).map(|b| b.1);
    assert_eq!(balances.map(|b| b.to_string()), Some("3.00".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_survive_a_reload_from_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = {
        let (handle, _shared, log) = start(dir.path(), vec![]).await;
        let first =
            handle.submit(appropriation(100), finance(), Some("key".into()), [7; 32]).await.expect("first");
        let released = Arc::downgrade(&log);
        drop(log);
        tokio::time::timeout(std::time::Duration::from_secs(10), handle.close()).await.expect("close");
        assert_eq!(released.strong_count(), 0, "the closed writer still holds the log");
        first
    };
    // The first writer's log is free once it is closed: `close` resolves after the task released it.
    let (handle, shared, log) = start(dir.path(), vec![]).await;
    let again =
        handle.submit(appropriation(100), finance(), Some("key".into()), [7; 32]).await.expect("replay");
    assert!(again.replayed);
    assert_eq!(again.position, first.position);
    assert_eq!(again.events, first.events);
    assert_eq!(log.appends.load(Ordering::SeqCst), 0);
    let other = handle.submit(appropriation(999), finance(), Some("key".into()), [8; 32]).await;
    assert!(matches!(other, Err(WriteError::IdempotencyKeyReused(_))), "{other:?}");
    assert_eq!(shared.head.borrow().position, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_log_is_down_commands_are_answered_unavailable_and_the_writer_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inner, _) = FileLog::open(dir.path()).expect("open");
    let log = Arc::new(Outage::up(inner));
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let (handle, shared) = writer::spawn(log.clone(), loaded, clock());
    handle.submit(appropriation(100), finance(), Some("k1".into()), [1; 32]).await.expect("first");

    log.down.store(true, Ordering::SeqCst);
    let failed = handle.submit(appropriation(200), finance(), Some("k2".into()), [2; 32]).await;
    assert!(matches!(failed, Err(WriteError::Unavailable(_))), "{failed:?}");
    // The writer cannot reload now; a command that arrives meanwhile is answered at once, not held for as
    // long as the outage lasts (and a replay of an acknowledged key too: nothing is decided meanwhile).
    for (key, digest) in [("k3", [3; 32]), ("k1", [1; 32])] {
        let during = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            handle.submit(appropriation(300), finance(), Some(key.into()), digest),
        )
        .await;
        assert!(matches!(during, Ok(Err(WriteError::Unavailable(_)))), "{key}: {during:?}");
    }
    assert_eq!(shared.head.borrow().position, 1);

    log.down.store(false, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let retried = loop {
        match handle.submit(appropriation(200), finance(), Some("k2".into()), [2; 32]).await {
            Err(WriteError::Unavailable(_)) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => break other.expect("accepted once the log is back"),
        }
    };
    assert_eq!((retried.position, retried.replayed), (2, false));
    let replayed =
        handle.submit(appropriation(100), finance(), Some("k1".into()), [1; 32]).await.expect("k1");
    assert!(replayed.replayed && replayed.position == 1, "{replayed:?}");
    assert_eq!(log.inner.head().await.expect("head").position, 2);
}

/// A retry with the same key that lands in the same commit group as its first submission is answered only
/// with that group's append: when the append fails, both are `Unavailable`, never a `replayed` answer for a
/// position the log does not hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_in_the_same_group_is_not_answered_replayed_before_the_append_is_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inner, _) = FileLog::open(dir.path()).expect("open");
    let log = Arc::new(Gated {
        inner,
        appends: AtomicUsize::new(0),
        records: std::sync::Mutex::new(Vec::new()),
        fail_on: vec![2],
        entered: tokio::sync::Notify::new(),
        release: tokio::sync::Notify::new(),
    });
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let (handle, shared) = writer::spawn(log.clone(), loaded, clock());

    // The writer is held inside its first append (another command, keyless) ...
    let held = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.submit(appropriation(100), finance(), None, [0; 32]).await })
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), log.entered.notified())
        .await
        .expect("the first append starts");
    // ... while a command and its retry (same key, same request) are queued behind it: one group.
    let mut first = Box::pin(handle.submit(appropriation(200), finance(), Some("k".into()), [2; 32]));
    let mut retry = Box::pin(handle.submit(appropriation(200), finance(), Some("k".into()), [2; 32]));
    assert!(futures::poll!(first.as_mut()).is_pending(), "queued, not answered");
    assert!(futures::poll!(retry.as_mut()).is_pending(), "queued, not answered");
    log.release.notify_one();
    held.await.expect("task").expect("the held command commits");

    let (first, retry) = tokio::join!(first, retry);
    // Both were in the second append (one command's records: the retry adds none), and it failed.
    assert_eq!(log.appends.load(Ordering::SeqCst), 2, "the command and its retry were not one group");
    assert_eq!(log.records.lock().expect("records").as_slice(), &[1, 1]);
    assert!(matches!(first, Err(WriteError::Unavailable(_))), "{first:?}");
    assert!(matches!(retry, Err(WriteError::Unavailable(_))), "the retry was answered {retry:?} with head 1");
    assert_eq!(shared.head.borrow().position, 1);
    assert_eq!(log.inner.head().await.expect("head").position, 1);

    // Retried after the reload: decided afresh and recorded once.
    let again = handle.submit(appropriation(200), finance(), Some("k".into()), [2; 32]).await.expect("retry");
    assert_eq!((again.position, again.replayed), (2, false));
}
