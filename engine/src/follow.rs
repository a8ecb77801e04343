//! The follower of a read-only replica (`serve --read-only`): opens the store read-only (no writer lock, no
//! repair), folds the log like the writer does at start, then follows it: a task reads the records after its
//! head, verifies the chain from there, and applies each whole command to the read models before publishing
//! the new head. The replica's HTTP serving (commands refused with 405 `read_only_replica`) is `api`'s.
//!
//! Following reads [`EventLog::follow`]: on KurrentDB a gRPC catch-up subscription to the ledger's stream,
//! on PostgreSQL the default catch-up read loop (`read_batch` until the head, then again every
//! [`store::FOLLOW_POLL_INTERVAL`]). When the stream fails (the store is unreachable, a record is out of
//! place) the follower warns, keeps what it has, and follows again from its head after a backoff from
//! [`BACKOFF_MIN`] to [`BACKOFF_MAX`].
//!
//! A record that does not verify (the chain breaks, or it does not decode) stops following for good: the
//! task records why in [`Follower::follow_halted`] (the replica's `/readyz` answers 503 `log_not_verified`
//! from then on, so that a load balancer stops sending reads to a replica that will not move again).

use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use ledger_proto::ChainVerifier;
use projections::Projections;
use store::{EventLog, Head, StoreError, StoredRecord};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::open::{Access, OpenedStore, StartError, StoreSpec, open_store};
use crate::writer::{Loaded, Shared, WriterHandle};

/// First wait after following failed.
pub const BACKOFF_MIN: Duration = Duration::from_millis(200);
/// Longest wait between attempts while the store is unreachable.
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Why a replica stopped following the log: the first record that did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowHalt {
    /// The position of the record that did not verify.
    pub position: u64,
    /// Why it did not (a broken chain, or a record that does not decode).
    pub reason: String,
}

/// The log as a replica's (idle) writer task sees it: reads pass through, appends are refused.
struct RefusingLog(Arc<dyn EventLog>);

#[async_trait]
impl EventLog for RefusingLog {
    async fn head(&self) -> Result<Head, StoreError> {
        self.0.head().await
    }

    async fn append(&self, _expected: Head, _records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        Err(StoreError::Unavailable(std::io::Error::other("a read-only replica does not append")))
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.0.read_batch(from, max).await
    }

    fn follow(&self, from: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        self.0.follow(from)
    }
}

/// A replica's engine: the log it follows, the read models and head the follower task keeps current, and an
/// idle writer handle (the HTTP layer needs one; it is never reached, and it could not append anyway).
pub struct Follower {
    pub log: Arc<dyn EventLog>,
    pub writer: WriterHandle,
    pub shared: Shared,
    /// Set when a record did not verify and following stopped for good.
    pub follow_halted: Arc<OnceLock<FollowHalt>>,
}

/// Opens `spec` read-only, loads it and starts following it.
///
/// # Errors
/// A file log (its read-only open is a snapshot), the store cannot be reached, the log is corrupt, or its chain does not verify.
pub async fn start(spec: &StoreSpec, clock: Clock) -> Result<Follower, StartError> {
    if let StoreSpec::File(dir) = spec {
        // The file log opened read-only is a snapshot: a replica on it would never see new records.
        return Err(StartError::Store(StoreError::Unavailable(std::io::Error::other(format!(
            "a read-only replica follows a shared store (--store postgres://... or kurrentdb://...), not the \
             file log in {} (one process's)",
            dir.display()
        )))));
    }
    let OpenedStore { log, .. } = open_store(spec, Access::ReadOnly).await?;
    let loaded = Loaded::from_log(log.as_ref()).await?;
    let head = loaded.head;
    let transparency = Arc::new(crate::transparency::Transparency::new(loaded.tree));
    let projections = Arc::new(RwLock::new(loaded.projections));
    let (head_sender, head_receiver) = watch::channel(head);
    let (writer, _idle) = crate::writer::spawn(Arc::new(RefusingLog(log.clone())), Loaded::empty(), clock);
    let follow_halted = Arc::new(OnceLock::new());
    let models = Models { projections: projections.clone(), transparency: transparency.clone() };
    tokio::spawn(follow(log.clone(), models, head_sender, head, follow_halted.clone()));
    let shared = Shared { projections, head: head_receiver, transparency };
    Ok(Follower { log, writer, shared, follow_halted })
}

/// What the follower keeps current: the read models and the Merkle tree.
struct Models {
    projections: Arc<RwLock<Projections>>,
    transparency: Arc<crate::transparency::Transparency>,
}

/// Follows the log after `head`, applying each whole command, until every receiver of the head is gone.
///
/// It reads [`EventLog::follow`] from its head; when that stream fails (or ends) it warns, waits a backoff
/// from [`BACKOFF_MIN`] doubling to [`BACKOFF_MAX`] (back to the minimum once records flow again, or after a
/// stream that lasted at least [`BACKOFF_MAX`]) and
/// follows again from its head, so the records of a command it had not completed are read again.
///
/// A record that does not verify ends it for good, with the reason set in `halted` (so `/readyz` turns 503).
async fn follow(
    log: Arc<dyn EventLog>,
    models: Models,
    head_sender: watch::Sender<Head>,
    mut head: Head,
    halted: Arc<OnceLock<FollowHalt>>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let mut verifier = ChainVerifier::resume(head);
        let mut pending = Vec::new();
        let mut leaves = Vec::new();
        let mut records = log.follow(head.position + 1);
        let started = Instant::now();
        let ended = loop {
            let next = tokio::select! {
                () = head_sender.closed() => return,
                next = records.next() => next,
            };
            let record = match next {
                Some(Ok(record)) => record,
                Some(Err(error)) => break error.to_string(),
                None => break "the store ended the stream".to_owned(),
            };
            backoff = BACKOFF_MIN;
            let decoded = verifier.check(&record).map_err(|e| e.to_string()).and_then(|envelope| {
                ledger_proto::decode_opened(&record, envelope).map_err(|e| e.to_string())
            });
            let recorded = match decoded {
                Ok(recorded) => recorded,
                Err(reason) => {
                    // Not trusted: stop here (the operator runs `verify`); the replica keeps serving what it has.
                    tracing::error!(position = record.position, %reason, "replica: the log does not verify; following stopped");
                    let _ = halted.set(FollowHalt { position: record.position, reason });
                    return;
                }
            };
            let ends_command = recorded.ends_command;
            pending.push(recorded);
            leaves.push(models.transparency.hash().leaf(&record.bytes));
            if ends_command {
                models.transparency.extend(head.position, &leaves);
                leaves.clear();
                if let Ok(mut models) = models.projections.write() {
                    for recorded in pending.drain(..) {
                        models.apply(&recorded);
                    }
                }
                pending.clear();
                head = Head { position: record.position, hash: record.hash };
                head_sender.send_replace(head);
            }
        };
        drop(records);
        if started.elapsed() >= BACKOFF_MAX {
            // A stream that lived this long was a working subscription, not a failing retry.
            backoff = BACKOFF_MIN;
        }
        tracing::warn!(error = %ended, retry_in = ?backoff, head = head.position, "replica: following the log failed; serving what it has");
        tokio::select! {
            () = head_sender.closed() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
