//! Replay: the read models folded from the log up to a position or the end of a business date, for
//! `voucher-ledger replay` and `export` (offline, the chain verified on the way) and for as-of queries
//! (`?as_of_position=N`, `?as_of_date=YYYY-MM-DD`), whose rebuilds [`AsOfCache`] keeps a few of.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use ledger_proto::{ChainVerifier, Recorded};
use projections::Projections;
use store::{EventLog, StoreError};

/// Records read from the log per call.
const READ_BATCH: usize = 4096;

/// Where a replay stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// The head of the log.
    Head,
    /// After the record at this position (the first N records).
    Position(u64),
    /// After the last record before the first one dated after this business date.
    EndOf(NaiveDate),
}

impl std::str::FromStr for Until {
    type Err = String;

    /// `YYYY-MM-DD` is a business date, a number a log position.
    fn from_str(text: &str) -> Result<Until, String> {
        if text.contains('-') {
            text.parse()
                .map(Until::EndOf)
                .map_err(|error| format!("{text:?} is not a YYYY-MM-DD date: {error}"))
        } else {
            text.parse()
                .map(Until::Position)
                .map_err(|_| format!("{text:?} is neither a position nor a date"))
        }
    }
}

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hash chain breaks (offline replays verify it): run `verify` for the details.
    #[error("{0}")]
    Chain(#[from] ledger_proto::ChainBreak),
    /// A record does not decode.
    #[error("position {position}: {reason}")]
    Decode { position: u64, reason: String },
    /// The log ends before the position asked for.
    #[error("the log ends at position {head}, before position {asked}")]
    PastHead { asked: u64, head: u64 },
}

/// How far a replay has come, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub folded: u64,
    /// The last position the replay may reach (the target, or the head).
    pub of: u64,
}

/// What a replay folded.
#[derive(Debug)]
pub struct Replayed {
    pub projections: Projections,
    /// The hash of the last folded record (zeros when none).
    pub hash: [u8; 32],
    /// The business date of the last folded record.
    pub business_date: Option<NaiveDate>,
    /// The head of the log when the replay started.
    pub head: u64,
}

/// Folds the log from the start up to `until`, verifying the hash chain, reporting progress after every
/// batch of records read.
///
/// # Errors
/// See [`ReplayError`].
pub async fn replay(
    log: &dyn EventLog,
    until: Until,
    progress: &mut dyn FnMut(Progress),
) -> Result<Replayed, ReplayError> {
    let head = log.head().await?.position;
    let last = match until {
        Until::Position(position) if position > head => {
            return Err(ReplayError::PastHead { asked: position, head });
        }
        Until::Position(position) => position,
        Until::Head | Until::EndOf(_) => head,
    };
    let mut replayed = Replayed { projections: Projections::new(), hash: [0; 32], business_date: None, head };
    let mut reader = VerifiedReader::new(log, last);
    'read: while let Some(batch) = reader.next_batch().await? {
        for recorded in &batch {
            if let Until::EndOf(date) = until
                && recorded.meta.business_date > date
            {
                break 'read;
            }
            replayed.business_date = Some(recorded.meta.business_date);
            replayed.hash = recorded.hash;
            replayed.projections.apply(recorded);
        }
        progress(Progress { folded: replayed.projections.position(), of: last });
    }
    Ok(replayed)
}

/// What one batch's verification and decoding gives back: the verifier after it, the records, and their
/// Merkle leaf hashes when asked for ([`VerifiedReader::with_leaves`]).
type Decoding =
    tokio::task::JoinHandle<(ChainVerifier, Result<(Vec<Recorded>, Vec<tlog::NodeHash>), ReplayError>)>;

/// Reads the log from its first record up to `last`, verifying the hash chain and decoding each envelope
/// once, a batch ahead of its caller: while the caller folds one batch, the next is verified and decoded on
/// the blocking pool, so a replay keeps two cores busy (DESIGN §6: replay is a tight loop; this splits it in
/// two stages). Batches come in log order; the first chain break or undecodable record ends the reading with
/// its error, after the batches before it.
pub struct VerifiedReader<'a> {
    log: &'a dyn EventLog,
    next: u64,
    last: u64,
    verifier: Option<ChainVerifier>,
    decoding: Option<Decoding>,
    /// The tree hash the leaves are computed with, when the caller rebuilds the Merkle tree.
    leaf_hash: Option<tlog::TreeHash>,
    leaves: Vec<tlog::NodeHash>,
}

impl<'a> VerifiedReader<'a> {
    /// A reader of positions 1 to `last`.
    pub fn new(log: &'a dyn EventLog, last: u64) -> VerifiedReader<'a> {
        VerifiedReader {
            log,
            next: 1,
            last,
            verifier: Some(ChainVerifier::new()),
            decoding: None,
            leaf_hash: None,
            leaves: Vec::new(),
        }
    }

    /// A reader of positions `after.position + 1` to `last`, the chain checked from `after`'s hash (a
    /// snapshot's head, `crate::snapshot`).
    pub fn resume(log: &'a dyn EventLog, after: store::Head, last: u64) -> VerifiedReader<'a> {
        VerifiedReader {
            next: after.position + 1,
            verifier: Some(ChainVerifier::resume(after)),
            ..Self::new(log, last)
        }
    }

    /// Also computes each record's Merkle leaf hash (over its stored bytes, with `hash`) in the same stage
    /// that verifies the chain; [`VerifiedReader::take_leaves`] gives them after each batch.
    pub fn with_leaves(mut self, hash: tlog::TreeHash) -> VerifiedReader<'a> {
        self.leaf_hash = Some(hash);
        self
    }

    /// The leaf hashes of the batches returned since the last call (empty without `with_leaves`).
    pub fn take_leaves(&mut self) -> Vec<tlog::NodeHash> {
        std::mem::take(&mut self.leaves)
    }

    /// Reads the next batch and starts verifying and decoding it (nothing when one is under way or the end is
    /// reached).
    async fn start(&mut self) -> Result<(), ReplayError> {
        if self.decoding.is_some() || self.next > self.last {
            return Ok(());
        }
        let Some(mut verifier) = self.verifier.take() else { return Ok(()) };
        let want = usize::try_from(self.last - self.next + 1).unwrap_or(READ_BATCH).min(READ_BATCH);
        let batch = self.log.read_batch(self.next, want).await?;
        if batch.is_empty() {
            self.next = self.last + 1;
            self.verifier = Some(verifier);
            return Ok(());
        }
        self.next += batch.len() as u64;
        let leaf_hash = self.leaf_hash;
        self.decoding = Some(tokio::task::spawn_blocking(move || {
            let leaves = match leaf_hash {
                Some(hash) => batch.iter().map(|record| hash.leaf(&record.bytes)).collect(),
                None => Vec::new(),
            };
            let mut records = Vec::with_capacity(batch.len());
            for record in &batch {
                let envelope = match verifier.check(record) {
                    Ok(envelope) => envelope,
                    Err(error) => return (verifier, Err(ReplayError::Chain(error))),
                };
                match ledger_proto::decode_opened(record, envelope) {
                    Ok(recorded) => records.push(recorded),
                    Err(error) => {
                        let error =
                            ReplayError::Decode { position: record.position, reason: error.to_string() };
                        return (verifier, Err(error));
                    }
                }
            }
            (verifier, Ok((records, leaves)))
        }));
        Ok(())
    }

    /// The next batch of verified, decoded records in log order; `None` after the last.
    ///
    /// # Errors
    /// See [`ReplayError`]; after an error the reader yields nothing more.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Recorded>>, ReplayError> {
        self.start().await?;
        let Some(decoding) = self.decoding.take() else { return Ok(None) };
        let (verifier, records) = decoding
            .await
            .map_err(|error| ReplayError::Store(StoreError::Unavailable(std::io::Error::other(error))))?;
        let (records, leaves) = records?;
        self.leaves.extend(leaves);
        self.verifier = Some(verifier);
        // Verify and decode the next batch while the caller folds this one.
        self.start().await?;
        Ok(Some(records))
    }
}

/// Reads the records `first..=last` from `log` in batches, decodes each (no chain check: for a log the
/// service opened, whose chain it verified and only its writer appends to) and hands them to `each` in
/// order.
///
/// # Errors
/// `Store` when the log cannot be read, `Decode` for a record that does not decode or is not the position
/// expected, `PastHead` when the log ends first.
pub async fn each_decoded(
    log: &dyn EventLog,
    first: u64,
    last: u64,
    mut each: impl FnMut(Recorded),
) -> Result<(), ReplayError> {
    let mut next = first;
    while next <= last {
        let want = usize::try_from(last - next + 1).unwrap_or(READ_BATCH).min(READ_BATCH);
        let batch = log.read_batch(next, want).await?;
        if batch.is_empty() {
            return Err(ReplayError::PastHead { asked: last, head: next - 1 });
        }
        for record in batch.iter().take_while(|record| record.position <= last) {
            let decode = |reason: String| ReplayError::Decode { position: record.position, reason };
            let recorded = ledger_proto::decode_record(record).map_err(|error| decode(error.to_string()))?;
            if recorded.position != next {
                return Err(decode(format!("read where position {next} was expected")));
            }
            next += 1;
            each(recorded);
        }
    }
    Ok(())
}

/// Folds the records after `from`'s position up to `position` into `from` ([`each_decoded`]).
///
/// # Errors
/// See [`each_decoded`].
pub async fn fold_forward(
    log: &dyn EventLog,
    mut from: Projections,
    position: u64,
) -> Result<Projections, ReplayError> {
    each_decoded(log, from.position() + 1, position, |recorded| from.apply(&recorded)).await?;
    Ok(from)
}

/// The bounds of as-of rebuilds: how many rebuilds are kept and how many records they may hold together,
/// how many requests may wait for a rebuild, and how many of those one caller may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsOfLimits {
    /// Rebuilds kept at most.
    pub entries: usize,
    /// Records the kept rebuilds may have folded together (the memory ceiling: a rebuild's memory grows with
    /// the records it folded). A rebuild over it on its own is answered and not kept.
    pub records: u64,
    /// Requests waiting for or running a rebuild, from every caller together (the one queue).
    pub queue: usize,
    /// Requests one caller may have waiting for or running a rebuild.
    pub per_caller: usize,
}

impl Default for AsOfLimits {
    fn default() -> Self {
        AsOfLimits {
            entries: AsOfCache::CAPACITY,
            records: AsOfCache::RECORDS,
            queue: AsOfCache::QUEUE,
            per_caller: AsOfCache::PER_CALLER,
        }
    }
}

impl AsOfLimits {
    /// The environment variable setting [`AsOfLimits::records`].
    pub const RECORDS_VARIABLE: &'static str = "VOUCHER_LEDGER_AS_OF_CACHE_RECORDS";
    /// The environment variable setting [`AsOfLimits::queue`].
    pub const QUEUE_VARIABLE: &'static str = "VOUCHER_LEDGER_AS_OF_QUEUE";
    /// The environment variable setting [`AsOfLimits::per_caller`].
    pub const PER_CALLER_VARIABLE: &'static str = "VOUCHER_LEDGER_AS_OF_PER_CALLER";

    /// The defaults, with each limit whose environment variable is set (to a number) taken from it.
    ///
    /// # Errors
    /// A variable that is set but is not a number, named.
    pub fn from_env() -> Result<AsOfLimits, String> {
        let mut limits = AsOfLimits::default();
        let read = |name: &str| -> Result<Option<u64>, String> {
            match std::env::var(name) {
                Ok(text) => text
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| format!("{name}={text:?} is not a whole number")),
                Err(_) => Ok(None),
            }
        };
        let size = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);
        if let Some(records) = read(Self::RECORDS_VARIABLE)? {
            limits.records = records;
        }
        if let Some(queue) = read(Self::QUEUE_VARIABLE)? {
            limits.queue = size(queue);
        }
        if let Some(per_caller) = read(Self::PER_CALLER_VARIABLE)? {
            limits.per_caller = size(per_caller);
        }
        Ok(limits)
    }
}

/// Why an as-of query was not answered.
#[derive(Debug, thiserror::Error)]
pub enum AsOfError {
    /// The rebuild failed.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// The caller already has as many rebuilds waiting or running as it may.
    #[error("this caller already has {limit} as-of rebuilds waiting or running")]
    CallerLimit { limit: usize },
    /// The queue of rebuilds is full.
    #[error("{limit} as-of rebuilds are already waiting or running")]
    QueueFull { limit: usize },
}

/// Requests admitted to the rebuild queue, in all and per caller.
#[derive(Debug, Default)]
struct Queue {
    total: usize,
    by_caller: HashMap<String, usize>,
}

/// A place in the rebuild queue, given back when dropped.
struct Admitted<'a> {
    cache: &'a AsOfCache,
    caller: String,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        let mut queue = self.cache.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        queue.total = queue.total.saturating_sub(1);
        if let Some(count) = queue.by_caller.get_mut(&self.caller) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                queue.by_caller.remove(&self.caller);
            }
        }
        metrics::gauge!("ledger_as_of_queue").set(queue.total as f64);
    }
}

/// The read models at past positions that as-of queries asked for, the most recently used first.
///
/// A query for position N starts from the cached rebuild at the greatest position not after N (or from
/// nothing) and folds the records in between, so paging through one past state, or stepping forward
/// through time, reads each record once. Rebuilds are immutable and shared (`Arc`).
/// Rebuilds run one at a time (a semaphore of one permit): a burst of as-of queries, which anyone can send to
/// the public announcement routes, costs one fold at a time, and a query waiting behind the rebuild of its
/// own position finds it cached.
///
/// Bounded ([`AsOfLimits`]): the rebuilds kept hold at most `records` folded records together (the least
/// recently used go first; gauge `ledger_as_of_cache_records`), and [`AsOfCache::at_for`] admits at most
/// `queue` requests to wait for rebuilds, `per_caller` of them from one caller (gauge `ledger_as_of_queue`).
#[derive(Debug)]
pub struct AsOfCache {
    entries: Mutex<VecDeque<Arc<Projections>>>,
    limits: AsOfLimits,
    rebuilding: tokio::sync::Semaphore,
    queue: Mutex<Queue>,
}

impl Default for AsOfCache {
    fn default() -> Self {
        AsOfCache::with_limits(AsOfLimits::default())
    }
}

impl AsOfCache {
    /// Rebuilds kept by default.
    pub const CAPACITY: usize = 8;
    /// Records the kept rebuilds may hold together by default: about four rebuilds of a 100,000-record
    /// ledger (a rebuild's read models take some hundreds of bytes per record folded).
    pub const RECORDS: u64 = 400_000;
    /// Requests that may wait for a rebuild by default, from every caller together.
    pub const QUEUE: usize = 16;
    /// Requests one caller may have waiting for a rebuild by default.
    pub const PER_CALLER: usize = 2;

    /// A cache keeping at most `capacity` rebuilds (the other limits default).
    pub fn new(capacity: usize) -> AsOfCache {
        AsOfCache::with_limits(AsOfLimits { entries: capacity, ..AsOfLimits::default() })
    }

    /// A cache bounded by the limits of the environment ([`AsOfLimits::from_env`]); a variable that is not a
    /// number is logged as an error and its default kept.
    pub fn configured() -> AsOfCache {
        let limits = AsOfLimits::from_env().unwrap_or_else(|error| {
            tracing::error!(%error, "an as-of limit is not a number; the defaults are kept");
            AsOfLimits::default()
        });
        AsOfCache::with_limits(limits)
    }

    /// A cache bounded by `limits`.
    pub fn with_limits(limits: AsOfLimits) -> AsOfCache {
        AsOfCache {
            entries: Mutex::new(VecDeque::new()),
            limits: AsOfLimits { entries: limits.entries.max(1), ..limits },
            rebuilding: tokio::sync::Semaphore::new(1),
            queue: Mutex::new(Queue::default()),
        }
    }

    /// The limits this cache keeps.
    pub fn limits(&self) -> AsOfLimits {
        self.limits
    }

    /// The records the kept rebuilds hold together.
    pub fn records(&self) -> u64 {
        self.lock().iter().map(|entry| entry.position()).sum()
    }

    /// The read models as of `position` for `caller` (a key naming the caller's whole identity): from the
    /// cache at once, or rebuilt once the caller has a place in the queue.
    ///
    /// # Errors
    /// `CallerLimit` when the caller already has `per_caller` requests waiting or running, `QueueFull` when
    /// `queue` requests are; otherwise see [`AsOfCache::at`].
    pub async fn at_for(
        &self,
        log: &dyn EventLog,
        position: u64,
        caller: &str,
    ) -> Result<Arc<Projections>, AsOfError> {
        if let Some(hit) = self.cached(position) {
            return Ok(hit);
        }
        let _admitted = self.admit(caller)?;
        Ok(self.at(log, position).await?)
    }

    /// A place in the queue for `caller`, if there is one.
    fn admit(&self, caller: &str) -> Result<Admitted<'_>, AsOfError> {
        let mut queue = self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if queue.total >= self.limits.queue {
            return Err(AsOfError::QueueFull { limit: self.limits.queue });
        }
        let mine = queue.by_caller.get(caller).copied().unwrap_or(0);
        if mine >= self.limits.per_caller {
            return Err(AsOfError::CallerLimit { limit: self.limits.per_caller });
        }
        queue.total += 1;
        queue.by_caller.insert(caller.to_owned(), mine + 1);
        metrics::gauge!("ledger_as_of_queue").set(queue.total as f64);
        Ok(Admitted { cache: self, caller: caller.to_owned() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Projections>>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The read models as of `position`, from the cache or rebuilt from `log`.
    ///
    /// # Properties
    /// The answer equals `Projections::rebuild` over the first `position` records (`api/tests/read_models.rs`).
    ///
    /// # Errors
    /// See [`fold_forward`].
    pub async fn at(&self, log: &dyn EventLog, position: u64) -> Result<Arc<Projections>, ReplayError> {
        if let Some(hit) = self.cached(position) {
            return Ok(hit);
        }
        // The semaphore is never closed, so acquiring fails only if it were; rebuild unserialized then.
        let _permit = self.rebuilding.acquire().await.ok();
        if let Some(hit) = self.cached(position) {
            return Ok(hit);
        }
        let start = {
            let entries = self.lock();
            entries
                .iter()
                .filter(|entry| entry.position() < position)
                .max_by_key(|entry| entry.position())
                .cloned()
        };
        let start = start.map(|entry| (*entry).clone()).unwrap_or_default();
        let started = std::time::Instant::now();
        let rebuilt = Arc::new(fold_forward(log, start, position).await?);
        metrics::histogram!("ledger_as_of_rebuild_seconds").record(started.elapsed().as_secs_f64());
        let mut entries = self.lock();
        if !entries.iter().any(|entry| entry.position() == position) && position <= self.limits.records {
            entries.push_front(rebuilt.clone());
            entries.truncate(self.limits.entries);
            // The memory ceiling: drop the least recently used until the kept rebuilds fit.
            while entries.iter().map(|entry| entry.position()).sum::<u64>() > self.limits.records {
                entries.pop_back();
            }
        }
        let records: u64 = entries.iter().map(|entry| entry.position()).sum();
        metrics::gauge!("ledger_as_of_cache_records").set(records as f64);
        metrics::gauge!("ledger_as_of_cache_entries").set(entries.len() as f64);
        Ok(rebuilt)
    }

    /// The cached rebuild at `position`, now the most recently used.
    fn cached(&self, position: u64) -> Option<Arc<Projections>> {
        let mut entries = self.lock();
        let index = entries.iter().position(|entry| entry.position() == position)?;
        let hit = entries.remove(index)?;
        entries.push_front(hit.clone());
        Some(hit)
    }

    /// The positions cached, the most recently used first.
    pub fn positions(&self) -> Vec<u64> {
        self.lock().iter().map(|entry| entry.position()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(queue: usize, per_caller: usize) -> AsOfLimits {
        AsOfLimits { entries: 8, records: 1_000, queue, per_caller }
    }

    #[test]
    fn one_caller_has_at_most_its_share_of_the_queue_and_gets_it_back() {
        let cache = AsOfCache::with_limits(limits(4, 2));
        let first = cache.admit("bureau|guiyang||clerk-1").expect("first place");
        let second = cache.admit("bureau|guiyang||clerk-1").expect("second place");
        assert!(matches!(cache.admit("bureau|guiyang||clerk-1"), Err(AsOfError::CallerLimit { limit: 2 })));
        // Another identity with the same subject is another caller.
        let other = cache.admit("auditor|guiyang||clerk-1").expect("another caller");
        drop(first);
        let again = cache.admit("bureau|guiyang||clerk-1").expect("a place given back is free again");
        drop((second, other, again));
        assert_eq!(cache.queue.lock().map(|queue| queue.total).unwrap_or(usize::MAX), 0);
    }

    #[test]
    fn the_queue_is_bounded_for_every_caller_together() {
        let cache = AsOfCache::with_limits(limits(3, 2));
        let places: Vec<_> =
            ["a", "b", "c"].iter().map(|caller| cache.admit(caller).expect("a place")).collect();
        assert!(matches!(cache.admit("d"), Err(AsOfError::QueueFull { limit: 3 })));
        drop(places);
        assert!(cache.admit("d").is_ok());
    }

    #[test]
    fn limits_come_from_the_environment_when_set() {
        // Nothing set in the test environment: the defaults.
        if std::env::var_os(AsOfLimits::RECORDS_VARIABLE).is_none()
            && std::env::var_os(AsOfLimits::QUEUE_VARIABLE).is_none()
            && std::env::var_os(AsOfLimits::PER_CALLER_VARIABLE).is_none()
        {
            assert_eq!(AsOfLimits::from_env(), Ok(AsOfLimits::default()));
        }
    }
}
