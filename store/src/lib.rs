//! The append-only log behind the ledger: the `EventLog` trait every backend implements, and the backends.
//!
//! The store knows nothing of the domain (only the record and hash types it shares with the codec). It keeps opaque, already-sealed records (the bytes that the hash
//! chain covers, the record's hash, its global position) in order, refuses an append whose expected head is
//! not the current head (fencing), and makes an append durable before it returns.

pub mod file;
#[cfg(feature = "kurrentdb")]
pub mod kurrent;
pub mod pg_tls;
pub mod postgres;

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
/// The record and hash types, defined with the codec in `ledger-proto` (which knows nothing of any store).
pub use ledger_proto::stored::{GENESIS_HASH, Hash, Head, StoredRecord};

/// Errors of a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The log's head is not the one the append expected: another writer appended in between. The caller
    /// reloads its state from the log (or exits); it never retries blindly.
    #[error("expected head {expected:?} but the log is at {actual:?}")]
    Conflict { expected: Head, actual: Head },
    /// The records handed to `append` do not follow the head (positions not consecutive). A bug in the caller.
    #[error("records out of sequence: {0}")]
    OutOfSequence(String),
    /// Another process holds the log open for writing. The caller exits with this message.
    #[error("the log at {path} is locked by another writer process")]
    Locked { path: String },
    /// The stored bytes are damaged at this position (not a torn tail). The operator runs `verify`.
    #[error("log corrupt at position {position}: {reason}")]
    Corrupt { position: u64, reason: String },
    /// The store could not be reached or an I/O call failed. Nothing from the failed call was acknowledged;
    /// the writer refuses further appends until it has reloaded. (The I/O error is in the message, not
    /// repeated as a source, so that an error chain prints it once.)
    #[error("store unavailable: {0}")]
    Unavailable(std::io::Error),
}

/// How often the default [`EventLog::follow`] reads again once it has caught up with the head.
pub const FOLLOW_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Records read per call by the default `follow` and `read_from`.
const READ_BATCH: usize = 4096;

/// Checks that `record` is the one a reader expects next (`next`): positions follow each other without a gap
/// or a repeat. A record out of place is `Corrupt` at the expected position.
///
/// # Errors
/// `Corrupt` naming the expected position and the one found.
pub fn check_follows(next: u64, record: &StoredRecord) -> Result<(), StoreError> {
    if record.position == next {
        return Ok(());
    }
    let found = if record.position > next { "a gap" } else { "a repeat" };
    Err(StoreError::Corrupt {
        position: next,
        reason: format!("{found}: record {} arrived where {next} was expected", record.position),
    })
}

/// The default [`EventLog::follow`]: a catch-up read loop over `read_batch` that reads again every
/// `interval` once it has caught up. Ends after the first error, which it yields.
pub fn follow_by_reading<L: EventLog + ?Sized>(
    log: &L,
    from: u64,
    interval: Duration,
) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
    futures::stream::unfold(Some(from.max(1)), move |next| async move {
        let next = next?;
        loop {
            let batch = match log.read_batch(next, READ_BATCH).await {
                Ok(batch) => batch,
                Err(error) => return Some((futures::stream::iter(vec![Err(error)]), None)),
            };
            if batch.is_empty() {
                tokio::time::sleep(interval).await;
                continue;
            }
            let mut expected = next;
            let mut items = Vec::with_capacity(batch.len());
            for record in batch {
                if let Err(error) = check_follows(expected, &record) {
                    items.push(Err(error));
                    return Some((futures::stream::iter(items), None));
                }
                expected += 1;
                items.push(Ok(record));
            }
            return Some((futures::stream::iter(items), Some(expected)));
        }
    })
    .flatten()
    .boxed()
}

/// What opening a log found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes cut from the end of the last segment (a torn write: an incomplete or damaged last frame, or
    /// complete frames of a command whose last record was never written).
    pub truncated_bytes: u64,
    /// The first position that was cut, when any whole or partial record was cut.
    pub truncated_from_position: Option<u64>,
    /// Where the cut bytes were moved before the cut (recovery never deletes bytes), with what could be read
    /// of them. `None` when nothing was cut.
    pub quarantine: Option<Quarantined>,
}

/// Bytes recovery moved out of the log into a quarantine file (copied and synced before the log was cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// The quarantine file, holding the cut bytes unchanged.
    pub path: std::path::PathBuf,
    /// The segment they were cut from, and their offset in it.
    pub segment: std::path::PathBuf,
    pub offset: u64,
    /// How many bytes the file holds.
    pub bytes: u64,
    /// The complete, CRC-valid frames at the start of the cut bytes (the records of an unfinished command):
    /// position and hash.
    pub frames: Vec<(u64, Hash)>,
    /// After them, the damaged or incomplete frame: the position its header claims, when it can be read
    /// (unchecked: its CRC fails or it is incomplete).
    pub damaged_position: Option<u64>,
}

/// The append-only log. Implemented by the embedded file log, PostgreSQL and KurrentDB.
///
/// # Properties
/// - Positions start at 1 and have no gaps; `read_from(p)` yields records in position order.
/// - `append` is all or nothing, and durable when it returns `Ok`.
/// - `append` with an `expected` head that is not the current head fails with `Conflict` and writes nothing.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// The current head.
    async fn head(&self) -> Result<Head, StoreError>;

    /// Appends `records` (consecutive positions following `expected`) durably.
    ///
    /// # Errors
    /// `Conflict` when the head moved, `OutOfSequence` for a malformed batch, `Unavailable` on I/O failure.
    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError>;

    /// Up to `max` records starting at `from` (1-based), in order. An empty vector means `from` is past the head.
    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError>;

    /// Every record from `from` to the head at the time each batch is read, as a stream.
    fn read_from(&self, from: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        futures::stream::unfold((from.max(1), false), move |(next, done)| async move {
            if done {
                return None;
            }
            match self.read_batch(next, READ_BATCH).await {
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) => {
                    let next = next + batch.len() as u64;
                    Some((futures::stream::iter(batch.into_iter().map(Ok)).left_stream(), (next, false)))
                }
                Err(error) => Some((futures::stream::iter(vec![Err(error)]).right_stream(), (next, true))),
            }
        })
        .flatten()
        .boxed()
    }

    /// Every record from `from` (1-based) on, in order and without gaps, then each record appended later as
    /// it becomes readable: the stream does not end while the store answers. When the store fails (or a
    /// record is out of place) it yields that error and ends; the caller follows again from its own head,
    /// after a backoff.
    ///
    /// The default is a catch-up read loop ([`follow_by_reading`]): `read_batch` until the head, then again
    /// every [`FOLLOW_POLL_INTERVAL`]. KurrentDB overrides it with a catch-up subscription.
    fn follow(&self, from: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        follow_by_reading(self, from, FOLLOW_POLL_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn record(position: u64) -> StoredRecord {
        StoredRecord { position, ends_command: true, hash: [position as u8; 32], bytes: vec![position as u8] }
    }

    /// A log whose `read_batch` answers from a script, one answer per call, then "past the head".
    struct Scripted(Mutex<Vec<Result<Vec<StoredRecord>, StoreError>>>);

    #[async_trait]
    impl EventLog for Scripted {
        async fn head(&self) -> Result<Head, StoreError> {
            Ok(Head::GENESIS)
        }

        async fn append(&self, expected: Head, _records: Vec<StoredRecord>) -> Result<Head, StoreError> {
            Ok(expected)
        }

        async fn read_batch(&self, _from: u64, _max: usize) -> Result<Vec<StoredRecord>, StoreError> {
            let mut script = self.0.lock().map_err(|_| StoreError::OutOfSequence("poisoned".into()))?;
            if script.is_empty() { Ok(Vec::new()) } else { script.remove(0) }
        }
    }

    #[test]
    fn check_follows_refuses_a_gap_and_a_repeat() {
        assert!(check_follows(5, &record(5)).is_ok());
        let gap = check_follows(5, &record(7));
        assert!(
            matches!(&gap, Err(StoreError::Corrupt { position: 5, reason }) if reason.contains("gap")),
            "{gap:?}"
        );
        let repeat = check_follows(5, &record(4));
        assert!(
            matches!(&repeat, Err(StoreError::Corrupt { position: 5, reason }) if reason.contains("repeat")),
            "{repeat:?}"
        );
    }

    #[tokio::test]
    async fn the_default_follow_polls_past_the_head_and_ends_after_an_error() {
        let log = Scripted(Mutex::new(vec![
            Ok(vec![record(3), record(4)]),
            Ok(Vec::new()),
            Ok(vec![record(5)]),
            Err(StoreError::Unavailable(std::io::Error::other("gone"))),
            Ok(vec![record(6)]),
        ]));
        let items: Vec<_> = follow_by_reading(&log, 3, Duration::from_millis(1)).collect().await;
        assert_eq!(items.len(), 4, "{items:?}");
        let positions: Vec<u64> = items.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.position).collect();
        assert_eq!(positions, [3, 4, 5]);
        assert!(matches!(items[3], Err(StoreError::Unavailable(_))), "{items:?}");
    }

    #[tokio::test]
    async fn the_default_follow_stops_at_a_gap() {
        let log = Scripted(Mutex::new(vec![Ok(vec![record(1), record(3)]), Ok(vec![record(4)])]));
        let items: Vec<_> = follow_by_reading(&log, 1, Duration::from_millis(1)).collect().await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(items[0], Ok(ref r) if r.position == 1), "{items:?}");
        assert!(matches!(items[1], Err(StoreError::Corrupt { position: 2, .. })), "{items:?}");
    }
}
