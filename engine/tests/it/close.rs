//! Closing the writer (a clean stop, `WriterHandle::close`): every command handed to it before is answered,
//! nothing after is taken, the log is released (the file log then closes, cutting the space written ahead),
//! and a close during an outage ends the writer instead of waiting for the store.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use engine::writer::{self, Loaded, WriteError};

use crate::support::{Outage, appropriation, clock, finance};
use store::EventLog;
use store::file::FileLog;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closing_answers_what_was_handed_over_takes_nothing_more_and_releases_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, _) = FileLog::open(dir.path()).expect("open");
    let log: Arc<dyn EventLog> = Arc::new(log);
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let released = Arc::downgrade(&log);
    let (handle, shared) = writer::spawn(log, loaded, clock());
    handle.submit(appropriation(1), finance(), None, [0; 32]).await.expect("first");

    let submissions: Vec<_> = (0..300u64)
        .map(|_| {
            let handle = handle.clone();
            tokio::spawn(async move { handle.submit(appropriation(1), finance(), None, [0; 32]).await })
        })
        .collect();
    // Some of them were handed over and committed before the close (a condition, not a pause).
    let mut head = shared.head.clone();
    tokio::time::timeout(Duration::from_secs(10), head.wait_for(|head| head.position >= 2))
        .await
        .expect("a command of the 300 commits within 10 s")
        .expect("the writer is running");
    tokio::time::timeout(Duration::from_secs(10), handle.close()).await.expect("close resolves");
    assert_eq!(released.strong_count(), 0, "the writer still holds the log after close");
    assert_eq!(handle.stopped().as_deref(), Some("the writer was closed"));

    let mut committed = 1;
    for submission in submissions {
        match submission.await.expect("task") {
            Ok(_) => committed += 1,
            Err(WriteError::Unavailable(_)) => {}
            Err(other) => panic!("answered {other:?}"),
        }
    }
    assert!(committed > 1, "no command handed over before the close was answered");
    let after = handle.submit(appropriation(1), finance(), None, [0; 32]).await;
    assert!(matches!(after, Err(WriteError::Unavailable(_))), "{after:?}");

    // The log was closed: opening it again is allowed (the lock is free), it holds every command answered
    // Ok and nothing else, and its segment ends at its last frame.
    let (reopened, recovery) = FileLog::open(dir.path()).expect("reopen after close");
    assert_eq!(recovery.truncated_bytes, 0);
    assert_eq!(reopened.head().await.expect("head").position, committed);
    drop(reopened);
    let segment = std::fs::read_dir(dir.path().join("segments"))
        .expect("segments")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .max()
        .expect("a segment");
    let bytes = std::fs::read(segment).expect("segment");
    assert!(
        bytes[bytes.len().saturating_sub(64)..].iter().any(|byte| *byte != 0),
        "zeros written ahead left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_while_the_store_is_down_ends_the_writer_instead_of_waiting_for_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inner, _) = FileLog::open(dir.path()).expect("open");
    let log = Arc::new(Outage::up(inner));
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let (handle, _shared) = writer::spawn(log.clone(), loaded, clock());
    handle.submit(appropriation(1), finance(), None, [0; 32]).await.expect("first");
    log.down.store(true, Ordering::SeqCst);
    let failed = handle.submit(appropriation(1), finance(), None, [0; 32]).await;
    assert!(matches!(failed, Err(WriteError::Unavailable(_))), "{failed:?}");
    // The writer is reloading (and cannot): the close still ends it, within a reload pause.
    tokio::time::timeout(Duration::from_secs(5), handle.close()).await.expect("close during the outage");
    assert_eq!(handle.stopped().as_deref(), Some("the writer was closed"));
    let after = handle.submit(appropriation(1), finance(), None, [0; 32]).await;
    assert!(matches!(after, Err(WriteError::Unavailable(_))), "{after:?}");
    assert_eq!(Arc::strong_count(&log), 1, "the writer still holds the log");
}
