//! The writer: one task that owns the decision state, decides commands, seals their events into the hash
//! chain and appends them, with group commit, then applies them to the read models and answers.
//!
//! Commands that arrive while an append (and its fsync) is in flight wait in the channel; the next loop
//! turn takes them all and appends them together, so one fsync serves many commands. Each command's
//! records are appended all or none: the last record of a command carries `ends_command`, and the store
//! cuts back to a command boundary on recovery. A refused command appends nothing. An append that fails
//! is answered with `Unavailable` for every command of the batch, and the writer reloads its state from the
//! log before deciding more commands, so nothing unacknowledged survives in memory; while the log cannot be
//! read (a database server that is down), commands that arrive are answered `Unavailable` at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use domain::{Actor, Command, Context, Event, Rejection, State};
use ledger_proto::{RecordMeta, Recorded};
use projections::Projections;
use store::{EventLog, Head, StoreError, StoredRecord};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::clock::Clock;
use crate::transparency::Transparency;

/// The most commands decided into one append.
const GROUP_COMMANDS_MAX: usize = 1024;

/// One event as committed: its place in the log and the fact.
#[derive(Clone, Debug, PartialEq)]
pub struct CommittedEvent {
    pub position: u64,
    pub hash: [u8; 32],
    pub stream: String,
    pub stream_version: u64,
    pub event: Event,
}

/// The answer to an accepted command: the events it recorded and the log position after them.
#[derive(Clone, Debug, PartialEq)]
pub struct Committed {
    pub events: Vec<CommittedEvent>,
    pub position: u64,
    /// True when this answer is the first answer again, for a retried idempotency key.
    pub replayed: bool,
}

/// Why a command was not committed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// A rule refused it; nothing was recorded.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The idempotency key was used before with a different request; nothing was recorded.
    #[error("idempotency key \"{0}\" was already used for a different request")]
    IdempotencyKeyReused(String),
    /// The log could not be written; nothing of this command was acknowledged. Retry with the same key.
    #[error("the ledger could not record the command: {0}")]
    Unavailable(String),
}

/// A command on its way to the writer.
#[derive(Debug)]
pub struct Submission {
    pub command: Command,
    pub actor: Actor,
    pub idempotency_key: Option<String>,
    /// SHA-256 of what the client sent (route and body); the same key must come with the same digest.
    pub request_digest: [u8; 32],
    pub reply: oneshot::Sender<Result<Committed, WriteError>>,
}

/// What reaches the writer task.
#[derive(Debug)]
enum Message {
    Command(Box<Submission>),
    /// Run the scheduler now; answers with the number of deadline events recorded.
    Tick(oneshot::Sender<usize>),
    /// Take nothing more, answer what was handed over before, release the log; answered once it has.
    Close(oneshot::Sender<()>),
}

/// How often the scheduler looks for passed deadlines.
const TICK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The handle the HTTP layer submits commands through.
#[derive(Clone, Debug)]
pub struct WriterHandle {
    sender: mpsc::Sender<Message>,
    /// Why the writer task stopped, once it has (see [`WriterHandle::stopped`]).
    stopped: watch::Receiver<Option<String>>,
}

impl WriterHandle {
    /// Why the writer task stopped (a panic, or an end while the service still runs), once it has: the
    /// service is not ready from then on, and `server::serve` ends with an error so that the process exits
    /// non-zero and a supervisor restarts it (crash-only).
    pub fn stopped(&self) -> Option<String> {
        self.stopped.borrow().clone()
    }

    /// The watch [`WriterHandle::stopped`] reads, for a watcher that must not keep the writer alive (a
    /// handle does: the writer runs until every handle is dropped).
    pub fn stopped_watch(&self) -> watch::Receiver<Option<String>> {
        self.stopped.clone()
    }

    /// Resolves, with why, when the writer task stops; never while it runs.
    pub async fn wait_stopped(&self) -> String {
        let mut stopped = self.stopped.clone();
        loop {
            if let Some(reason) = stopped.borrow_and_update().clone() {
                return reason;
            }
            if stopped.changed().await.is_err() {
                // The supervisor went away without a report: the runtime is shutting down.
                return std::future::pending().await;
            }
        }
    }
}

impl WriterHandle {
    /// Submits a command and waits for its answer.
    ///
    /// # Errors
    /// See [`WriteError`]; `Unavailable` as well when the writer has stopped.
    pub async fn submit(
        &self,
        command: Command,
        actor: Actor,
        idempotency_key: Option<String>,
        request_digest: [u8; 32],
    ) -> Result<Committed, WriteError> {
        let (reply, answer) = oneshot::channel();
        let submission = Submission { command, actor, idempotency_key, request_digest, reply };
        self.sender
            .send(Message::Command(Box::new(submission)))
            .await
            .map_err(|_| WriteError::Unavailable("the writer has stopped".into()))?;
        answer.await.map_err(|_| WriteError::Unavailable("the writer stopped before answering".into()))?
    }
}

impl WriterHandle {
    /// Closes the writer (a clean stop): it takes no command after this one (they are answered
    /// `Unavailable`), answers every command handed to it before, and releases the log; resolves once it
    /// has (at once when it had already stopped). The log itself closes when its last holder drops it.
    pub async fn close(&self) {
        let (reply, answer) = oneshot::channel();
        if self.sender.send(Message::Close(reply)).await.is_ok() {
            let _stopped_meanwhile = answer.await;
        }
        // And until its supervisor has said so (`stopped` is then set).
        let mut stopped = self.stopped.clone();
        drop(stopped.wait_for(Option::is_some).await);
    }
}

impl WriterHandle {
    /// Runs the scheduler now (after the clock moved, in test mode) and waits until the deadline events it
    /// found are durable. Returns how many events it recorded.
    ///
    /// # Errors
    /// `Unavailable` when the writer has stopped.
    pub async fn tick(&self) -> Result<usize, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Message::Tick(reply))
            .await
            .map_err(|_| WriteError::Unavailable("the writer has stopped".into()))?;
        answer.await.map_err(|_| WriteError::Unavailable("the writer stopped before answering".into()))
    }
}

/// What the service shares between the writer and the queries.
#[derive(Clone)]
pub struct Shared {
    /// The read models, updated after each durable append.
    pub projections: Arc<RwLock<Projections>>,
    /// The head after the last durable append.
    pub head: watch::Receiver<Head>,
    /// The Merkle tree over the log and the checkpoint signer, extended after each durable append.
    pub transparency: Arc<Transparency>,
}

/// The scope an idempotency key is honoured in: the caller's whole identity (role, jurisdiction, credit
/// code and subject, the subject last so that no two identities give the same scope). `None` for the public:
/// every anonymous caller is the same `public` actor, so a key of theirs could replay another person's
/// answer; their key is ignored (each request is decided afresh and no key is recorded).
fn key_scope(actor: &Actor) -> Option<String> {
    if actor.role == domain::Role::Public {
        return None;
    }
    let jurisdiction = actor.jurisdiction.map(|j| j.as_str()).unwrap_or_default();
    let credit_code = actor.credit_code.as_ref().map(|code| code.as_str()).unwrap_or_default();
    Some(format!("{}\u{0}{jurisdiction}\u{0}{credit_code}\u{0}{}", actor.role.as_str(), actor.subject))
}

/// An idempotency key with its scope, as the writer's table holds it; `None` when there is no key or it is
/// not honoured for this actor (see [`key_scope`]). Recomputed from each record's actor at load, so records
/// written before keys were scoped by the whole identity keep replaying for the same caller.
fn scoped_key(actor: &Actor, key: Option<&String>) -> Option<(String, String)> {
    // The key first: most records have none, and the scope is a string to build.
    let key = key?;
    Some((key_scope(actor)?, key.clone()))
}

/// An idempotency key's first answer, by where its records are in the log (`first..=last`; empty when
/// `first > last`): a replay reads them back ([`Writer::replayed`]), so the table holds a few numbers per key
/// rather than a copy of every keyed command's events.
#[derive(Clone, Debug, PartialEq)]
struct KeyRecord {
    request_digest: [u8; 32],
    first: u64,
    last: u64,
}

/// Everything the writer derives from the log. Equal when every derived structure is (a snapshot's round trip
/// is checked this way, `engine/tests/it/snapshot.rs`).
#[derive(PartialEq)]
pub struct Loaded {
    pub state: State,
    pub projections: Projections,
    pub head: Head,
    /// The Merkle tree over the records folded (`crate::transparency`).
    pub tree: tlog::MerkleTree,
    stream_versions: HashMap<String, u64>,
    keys: HashMap<(String, String), KeyRecord>,
    /// Where the writer writes a snapshot when it is closed (`crate::snapshot`): the file log's directory.
    pub snapshot_dir: Option<std::path::PathBuf>,
}

/// Why the log could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Chain(#[from] ledger_proto::ChainBreak),
    #[error("position {position}: {reason}")]
    Decode { position: u64, reason: String },
}

impl From<crate::replay::ReplayError> for LoadError {
    fn from(error: crate::replay::ReplayError) -> LoadError {
        match error {
            crate::replay::ReplayError::Store(error) => LoadError::Store(error),
            crate::replay::ReplayError::Chain(error) => LoadError::Chain(error),
            crate::replay::ReplayError::Decode { position, reason } => LoadError::Decode { position, reason },
            crate::replay::ReplayError::PastHead { asked, head } => {
                LoadError::Decode { position: asked, reason: format!("the log ends at position {head}") }
            }
        }
    }
}

impl Loaded {
    /// An empty ledger.
    pub fn empty() -> Loaded {
        Loaded::empty_hashed(tlog::TreeHash::default())
    }

    /// An empty ledger whose Merkle tree hashes with `hash`.
    pub fn empty_hashed(hash: tlog::TreeHash) -> Loaded {
        Loaded {
            state: State::new(),
            projections: Projections::new(),
            head: Head::GENESIS,
            tree: tlog::MerkleTree::new(hash),
            stream_versions: HashMap::new(),
            keys: HashMap::new(),
            snapshot_dir: None,
        }
    }

    /// What a snapshot kept (`crate::snapshot`), to be completed by [`Loaded::fold_log`].
    pub fn from_snapshot(snapshot: crate::snapshot::Snapshot) -> Loaded {
        let crate::snapshot::Snapshot { head, parts, tree } = snapshot;
        let keys = parts
            .keys
            .into_iter()
            .map(|kept| {
                let record =
                    KeyRecord { request_digest: kept.request_digest, first: kept.first, last: kept.position };
                ((kept.scope, kept.key), record)
            })
            .collect();
        Loaded {
            state: parts.state,
            projections: parts.projections,
            head,
            tree,
            stream_versions: parts.stream_versions,
            keys,
            snapshot_dir: None,
        }
    }

    /// Reads the whole log, verifying the chain, and folds it.
    ///
    /// # Errors
    /// A store error, a chain break or an undecodable record: the log is not trusted then.
    pub async fn from_log(log: &dyn EventLog) -> Result<Loaded, LoadError> {
        Loaded::from_log_hashed(log, tlog::TreeHash::default()).await
    }

    /// Like [`Loaded::from_log`], the Merkle tree hashed with `hash` (SM3 under an SM2 signing key).
    ///
    /// # Errors
    /// See [`Loaded::from_log`].
    pub async fn from_log_hashed(log: &dyn EventLog, hash: tlog::TreeHash) -> Result<Loaded, LoadError> {
        let mut loaded = Loaded::empty_hashed(hash);
        loaded.fold_log(log).await?;
        Ok(loaded)
    }

    /// Folds the log's records after this state's head (all of them for an empty state), verifying their
    /// chain from the head's hash on.
    ///
    /// # Errors
    /// See [`Loaded::from_log`].
    pub async fn fold_log(&mut self, log: &dyn EventLog) -> Result<(), LoadError> {
        let loaded = self;
        let hash = loaded.tree.hash();
        let mut pending: Vec<Recorded> = Vec::new();
        let head = log.head().await?.position;
        loaded.tree.reserve(head.saturating_sub(loaded.head.position));
        // Verified and decoded (and the leaves hashed) a batch ahead, on another core, while this folds.
        let mut reader = crate::replay::VerifiedReader::resume(log, loaded.head, head).with_leaves(hash);
        while let Some(batch) = reader.next_batch().await.map_err(LoadError::from)? {
            for leaf in reader.take_leaves() {
                loaded.tree.push_leaf_hash(leaf);
            }
            for recorded in batch {
                let ends_command = recorded.ends_command;
                pending.push(recorded);
                if ends_command {
                    loaded.fold_command(std::mem::take(&mut pending));
                }
            }
        }
        if let Some(last) = pending.last() {
            return Err(LoadError::Decode {
                position: last.position,
                reason: "the log ends inside a command (no record ends it)".into(),
            });
        }
        Ok(())
    }

    /// Folds one command's records (in order) into every derived structure.
    fn fold_command(&mut self, records: Vec<Recorded>) {
        let Some(last) = records.last() else { return };
        let key = scoped_key(&last.meta.actor, last.meta.idempotency_key.as_ref());
        let digest = last.meta.request_digest;
        let position = last.position;
        let hash = last.hash;
        let first = records.first().map_or(position, |record| record.position);
        for recorded in records {
            self.state.evolve(&recorded.event);
            self.stream_versions.insert(recorded.meta.stream.clone(), recorded.meta.stream_version);
            self.projections.apply(&recorded);
        }
        self.head = Head { position, hash };
        if let (Some(key), Some(request_digest)) = (key, digest) {
            self.keys.insert(key, KeyRecord { request_digest, first, last: position });
        }
    }
}

/// Starts the writer task over an opened log and its loaded state.
pub fn spawn(log: Arc<dyn EventLog>, loaded: Loaded, clock: Clock) -> (WriterHandle, Shared) {
    let (handle, shared, _task) = spawn_with_task(log, loaded, clock);
    (handle, shared)
}

/// Like [`spawn`], also returning the writer task: it ends (releasing the log) once every `WriterHandle`
/// is dropped and the commands already handed to it are answered.
pub fn spawn_with_task(
    log: Arc<dyn EventLog>,
    loaded: Loaded,
    clock: Clock,
) -> (WriterHandle, Shared, tokio::task::JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel(GROUP_COMMANDS_MAX * 4);
    let Loaded { state, projections, head, tree, stream_versions, keys, snapshot_dir } = loaded;
    let projections = Arc::new(RwLock::new(projections));
    let transparency = Arc::new(Transparency::new(tree));
    let (head_sender, head_receiver) = watch::channel(head);
    let writer = Writer {
        log,
        clock,
        state,
        head,
        stream_versions,
        keys,
        projections: projections.clone(),
        transparency: transparency.clone(),
        head_sender,
        closers: Vec::new(),
        abandoned: false,
        snapshot_dir,
    };
    let (stopped_sender, stopped) = watch::channel(None);
    let task = tokio::spawn(supervise(tokio::spawn(writer.run(receiver)), stopped_sender));
    (WriterHandle { sender, stopped }, Shared { projections, head: head_receiver, transparency }, task)
}

/// Waits for the writer task and reports why it stopped: a panic (its message), or an end. It ends on its
/// own only once every handle is gone; anything else is a stop the service cannot serve through.
async fn supervise(writer: tokio::task::JoinHandle<Ended>, stopped: watch::Sender<Option<String>>) {
    let reason = match writer.await {
        Ok(Ended::Closed) => {
            stopped.send_replace(Some("the writer was closed".to_owned()));
            return;
        }
        Ok(Ended::HandlesGone) => "the writer task ended".to_owned(),
        Err(error) if error.is_panic() => {
            let payload = error.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            format!("the writer task panicked: {message}")
        }
        Err(error) => format!("the writer task was cancelled: {error}"),
    };
    if stopped.receiver_count() > 0 {
        tracing::error!(%reason, "the writer stopped: not ready; the server exits for a supervisor to restart it");
        metrics::counter!(crate::metrics::WRITER_STOPS).increment(1);
    }
    stopped.send_replace(Some(reason));
}

struct Writer {
    log: Arc<dyn EventLog>,
    clock: Clock,
    state: State,
    head: Head,
    stream_versions: HashMap<String, u64>,
    keys: HashMap<(String, String), KeyRecord>,
    projections: Arc<RwLock<Projections>>,
    transparency: Arc<Transparency>,
    head_sender: watch::Sender<Head>,
    /// Who asked the writer to close ([`WriterHandle::close`]), answered once it has released the log.
    closers: Vec<oneshot::Sender<()>>,
    /// Closed while reloading after a failed append: the state is not the log's, nothing more is decided.
    abandoned: bool,
    /// Where a snapshot is written when the writer is closed (`crate::snapshot`).
    snapshot_dir: Option<std::path::PathBuf>,
}

/// Why the writer task ended.
enum Ended {
    /// Closed on request ([`WriterHandle::close`]).
    Closed,
    /// Every handle was dropped.
    HandlesGone,
}

/// What became of one submission within a group.
enum Outcome {
    /// Decided and sealed; answered once the append is durable.
    Pending { reply: oneshot::Sender<Result<Committed, WriteError>>, answer: Arc<Committed> },
    /// Answered now (refused).
    Immediate { reply: oneshot::Sender<Result<Committed, WriteError>>, result: Result<Committed, WriteError> },
    /// An idempotent replay: the first answer's records (`first..=last`), read back from the log once the
    /// group's append is durable (the first answer may be in this very group).
    Replay { reply: oneshot::Sender<Result<Committed, WriteError>>, first: u64, last: u64 },
}

impl Writer {
    async fn run(mut self, mut receiver: mpsc::Receiver<Message>) -> Ended {
        let mut interval = tokio::time::interval(TICK_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.abandoned {
            let first = tokio::select! {
                message = receiver.recv() => match message {
                    Some(message) => message,
                    None => break,
                },
                _ = interval.tick() => {
                    self.run_scheduler(&mut receiver).await;
                    continue;
                }
            };
            let mut group = Vec::new();
            let mut ticks = Vec::new();
            match first {
                Message::Command(submission) => group.push(*submission),
                Message::Tick(reply) => ticks.push(reply),
                Message::Close(reply) => self.close_requested(reply, &mut receiver),
            }
            while group.len() < GROUP_COMMANDS_MAX && ticks.is_empty() {
                match receiver.try_recv() {
                    Ok(Message::Command(next)) => group.push(*next),
                    Ok(Message::Tick(reply)) => ticks.push(reply),
                    Ok(Message::Close(reply)) => self.close_requested(reply, &mut receiver),
                    Err(_) => break,
                }
            }
            if !group.is_empty() {
                self.commit_group(group, &mut receiver).await;
            }
            for reply in ticks {
                // Closed during a reload: the state is not the log's, so the scheduler decides nothing.
                let recorded = if self.abandoned { 0 } else { self.run_scheduler(&mut receiver).await };
                let _caller_may_have_gone = reply.send(recorded);
            }
        }
        tracing::info!("writer stopped: every command handed to it has been answered");
        let closers = std::mem::take(&mut self.closers);
        if !closers.is_empty() && !self.abandoned {
            self.write_snapshot();
        }
        // Release the log before answering: the closer may be waiting to close it.
        drop(self);
        if closers.is_empty() {
            return Ended::HandlesGone;
        }
        for closer in closers {
            let _closer_may_have_gone = closer.send(());
        }
        Ended::Closed
    }

    /// Writes a snapshot of what the writer holds at its head (`crate::snapshot`), when it has a directory;
    /// a failure is logged (the next start folds the whole log).
    fn write_snapshot(&self) {
        let Some(dir) = &self.snapshot_dir else { return };
        let started = std::time::Instant::now();
        let keys = self
            .keys
            .iter()
            .map(|((scope, key), record)| crate::snapshot::KeptKey {
                scope: scope.clone(),
                key: key.clone(),
                request_digest: record.request_digest,
                first: record.first,
                position: record.last,
            })
            .collect();
        let projections = self.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let parts = crate::snapshot::Parts {
            state: &self.state,
            projections: &projections,
            stream_versions: &self.stream_versions,
            keys,
        };
        let written = self.transparency.read(|tree| crate::snapshot::write(dir, self.head, &parts, tree));
        match written {
            Ok(bytes) => tracing::info!(
                position = self.head.position,
                bytes,
                seconds = started.elapsed().as_secs_f64(),
                "snapshot written"
            ),
            Err(error) => {
                tracing::error!(%error, "the snapshot could not be written; the next start folds the whole log")
            }
        }
    }

    /// A close request: nothing more is taken (later sends fail: `Unavailable`), what is queued is still
    /// answered, and the run ends once the queue is empty.
    fn close_requested(&mut self, reply: oneshot::Sender<()>, receiver: &mut mpsc::Receiver<Message>) {
        self.closers.push(reply);
        receiver.close();
    }

    /// Turns passed deadlines into events (DESIGN §1): decides every due scheduler command as the system
    /// actor. Idempotent: a command no longer due is refused and records nothing; after downtime the first
    /// run catches up on everything that fell due meanwhile.
    async fn run_scheduler(&mut self, receiver: &mut mpsc::Receiver<Message>) -> usize {
        let date = domain::business_date(self.clock.now());
        let due = domain::decide::due_commands(&self.state, date);
        crate::metrics::note_due(!due.is_empty());
        if due.is_empty() {
            return 0;
        }
        let before = self.head.position;
        let system = Actor {
            subject: "scheduler".into(),
            role: domain::Role::System,
            jurisdiction: None,
            credit_code: None,
        };
        let group = due
            .into_iter()
            .map(|command| {
                let (reply, _unanswered) = oneshot::channel();
                Submission {
                    command,
                    actor: system.clone(),
                    idempotency_key: None,
                    request_digest: [0; 32],
                    reply,
                }
            })
            .collect();
        self.commit_group(group, receiver).await;
        let recorded = usize::try_from(self.head.position.saturating_sub(before)).unwrap_or(usize::MAX);
        if recorded > 0 {
            tracing::info!(recorded, %date, "scheduler recorded deadline events");
        }
        recorded
    }

    /// Decides, appends and answers one group. After a failed append it reloads from the log before
    /// returning, answering what arrives on `receiver` meanwhile with `Unavailable`.
    async fn commit_group(&mut self, group: Vec<Submission>, receiver: &mut mpsc::Receiver<Message>) {
        // The record keeps microseconds; cut here so the in-memory record equals the one read back.
        let now = chrono::SubsecRound::trunc_subsecs(self.clock.now(), 6);
        let business_date = domain::business_date(now);
        let expected = self.head;
        let mut records: Vec<StoredRecord> = Vec::new();
        let mut recorded: Vec<Recorded> = Vec::new();
        let mut outcomes = Vec::with_capacity(group.len());
        for submission in group {
            outcomes.push(self.decide_one(submission, now, business_date, &mut records, &mut recorded));
        }
        let pending = outcomes.iter().any(|outcome| matches!(outcome, Outcome::Pending { .. }));
        // The Merkle leaves, hashed now: the append takes the records.
        let leaves = self.transparency.leaf_hashes(records.iter().map(|record| record.bytes.as_slice()));
        let append_result = if pending {
            metrics::histogram!(crate::metrics::APPEND_BATCH_RECORDS).record(records.len() as f64);
            let started = Instant::now();
            let result = self.log.append(expected, records).await;
            metrics::histogram!(crate::metrics::APPEND_SECONDS).record(started.elapsed().as_secs_f64());
            crate::metrics::note_store(result.is_ok());
            Some(result)
        } else {
            None
        };
        match append_result {
            None => {}
            Some(Ok(head)) => {
                debug_assert_eq!(head, self.head);
                // The tree first: whatever a query reads in the read models is in the tree.
                self.transparency.extend(expected.position, &leaves);
                let mut projections =
                    self.projections.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                for record in &recorded {
                    projections.apply(record);
                }
                drop(projections);
                self.head_sender.send_replace(self.head);
            }
            Some(Err(error)) => {
                tracing::error!(%error, "append failed; reloading the ledger from the log");
                metrics::counter!(crate::metrics::APPEND_FAILURES).increment(1);
                let message = error.to_string();
                for outcome in outcomes {
                    let (reply, result) = match outcome {
                        Outcome::Pending { reply, .. } => {
                            (reply, Err(WriteError::Unavailable(message.clone())))
                        }
                        Outcome::Immediate { reply, result } => (reply, result),
                        // A first answer durable before this group is still the answer.
                        Outcome::Replay { reply, first, last } if last <= expected.position => {
                            (reply, self.replayed(first, last).await)
                        }
                        Outcome::Replay { reply, .. } => {
                            (reply, Err(WriteError::Unavailable(message.clone())))
                        }
                    };
                    let _client_may_have_gone = reply.send(result);
                }
                self.reload(receiver).await;
                return;
            }
        }
        for outcome in outcomes {
            let (reply, result) = match outcome {
                Outcome::Pending { reply, answer } => (reply, Ok((*answer).clone())),
                Outcome::Immediate { reply, result } => (reply, result),
                Outcome::Replay { reply, first, last } => (reply, self.replayed(first, last).await),
            };
            let _client_may_have_gone = reply.send(result);
        }
    }

    /// The first answer of an idempotency key, its records (`first..=last`, durable) read back from the log.
    async fn replayed(&self, first: u64, last: u64) -> Result<Committed, WriteError> {
        let mut events = Vec::new();
        let read = crate::replay::each_decoded(self.log.as_ref(), first, last, |recorded| {
            events.push(CommittedEvent {
                position: recorded.position,
                hash: recorded.hash,
                stream: recorded.meta.stream,
                stream_version: recorded.meta.stream_version,
                event: recorded.event,
            });
        })
        .await;
        if let Err(reason) = read {
            tracing::error!(first, last, %reason, "an idempotent replay could not read its first answer");
            return Err(WriteError::Unavailable(format!(
                "the first answer (records {first} to {last}) cannot be read: {reason}"
            )));
        }
        Ok(Committed { events, position: last, replayed: true })
    }

    /// Decides one submission against the state as left by the commands before it in the group, and seals
    /// its events after theirs.
    fn decide_one(
        &mut self,
        submission: Submission,
        now: DateTime<Utc>,
        business_date: chrono::NaiveDate,
        records: &mut Vec<StoredRecord>,
        recorded: &mut Vec<Recorded>,
    ) -> Outcome {
        let Submission { command, actor, idempotency_key, request_digest, reply } = submission;
        let key = scoped_key(&actor, idempotency_key.as_ref());
        // A key that is not honoured (a public caller's) is not recorded either.
        let idempotency_key = key.as_ref().and(idempotency_key);
        if let Some((key, first)) = key.as_ref().and_then(|key| self.keys.get(key).map(|first| (key, first)))
        {
            // A replay is answered after the group's append, from the log: a first answer sealed in this
            // same group waits for its append like the first.
            return if first.request_digest == request_digest {
                Outcome::Replay { reply, first: first.first, last: first.last }
            } else {
                Outcome::Immediate { reply, result: Err(WriteError::IdempotencyKeyReused(key.1.clone())) }
            };
        }
        let context = Context { actor: actor.clone(), business_date, log_position: self.head.position };
        let events = match domain::decide(&self.state, &context, &command) {
            Ok(events) => events,
            Err(rejection) => {
                metrics::counter!(crate::metrics::COMMANDS_REFUSED, "code" => rejection.code()).increment(1);
                return Outcome::Immediate { reply, result: Err(WriteError::Rejected(rejection)) };
            }
        };
        let correlation_id = Uuid::now_v7();
        let count = events.len();
        let mut committed = Vec::with_capacity(count);
        for (index, event) in events.into_iter().enumerate() {
            let stream = event.stream();
            let stream_version = self.stream_versions.get(&stream).copied().unwrap_or(0) + 1;
            self.stream_versions.insert(stream.clone(), stream_version);
            let meta = RecordMeta {
                id: Uuid::now_v7(),
                stream: stream.clone(),
                stream_version,
                recorded_at: now,
                business_date,
                actor: actor.clone(),
                correlation_id,
                causation_id: correlation_id,
                idempotency_key: idempotency_key.clone(),
                request_digest: key.as_ref().map(|_| request_digest),
            };
            let position = self.head.position + 1;
            let prev_hash = self.head.hash;
            let ends_command = index + 1 == count;
            let record = ledger_proto::seal_event(&meta, &event, position, prev_hash, ends_command);
            self.head = Head { position, hash: record.hash };
            self.state.evolve(&event);
            recorded.push(Recorded {
                position,
                hash: record.hash,
                prev_hash,
                meta,
                event: event.clone(),
                ends_command,
            });
            records.push(record);
            committed.push(CommittedEvent { position, hash: self.head.hash, stream, stream_version, event });
        }
        let answer = Arc::new(Committed { events: committed, position: self.head.position, replayed: false });
        metrics::counter!(crate::metrics::COMMANDS_COMMITTED, "command" => command.name()).increment(1);
        if let Some(key) = key {
            let first = answer.events.first().map_or(answer.position + 1, |event| event.position);
            self.keys.insert(key, KeyRecord { request_digest, first, last: answer.position });
        }
        Outcome::Pending { reply, answer }
    }

    /// After a failed append: forget everything not durable and rebuild from the log. While the log cannot
    /// be read (a database server that is down), every command that arrives is answered `Unavailable` at
    /// once rather than left waiting for as long as the outage lasts; nothing of it is recorded, so the
    /// client retries it with its idempotency key.
    async fn reload(&mut self, receiver: &mut mpsc::Receiver<Message>) {
        loop {
            match Loaded::from_log_hashed(self.log.as_ref(), self.transparency.hash()).await {
                Ok(loaded) => {
                    self.transparency.replace(loaded.tree);
                    self.state = loaded.state;
                    self.head = loaded.head;
                    self.stream_versions = loaded.stream_versions;
                    self.keys = loaded.keys;
                    *self.projections.write().unwrap_or_else(|poisoned| poisoned.into_inner()) =
                        loaded.projections;
                    self.head_sender.send_replace(self.head);
                    crate::metrics::note_store(true);
                    return;
                }
                Err(error) => {
                    tracing::error!(%error, "reloading the ledger failed; retrying in one second");
                    let message =
                        format!("the ledger is reloading from the log after a failed append: {error}");
                    let pause = tokio::time::sleep(std::time::Duration::from_secs(1));
                    tokio::pin!(pause);
                    loop {
                        tokio::select! {
                            () = &mut pause => break,
                            next = receiver.recv() => match next {
                                Some(Message::Command(submission)) => {
                                    metrics::counter!(crate::metrics::COMMANDS_UNAVAILABLE_WHILE_RELOADING)
                                        .increment(1);
                                    let _client_may_have_gone =
                                        submission.reply.send(Err(WriteError::Unavailable(message.clone())));
                                }
                                Some(Message::Tick(reply)) => {
                                    let _caller_may_have_gone = reply.send(0);
                                }
                                Some(Message::Close(reply)) => {
                                    // Closing while the log cannot be read: stop reloading; what is still
                                    // queued is answered Unavailable (the state is not trusted any more).
                                    self.close_requested(reply, receiver);
                                    self.abandoned = true;
                                    while let Some(queued) = receiver.recv().await {
                                        match queued {
                                            Message::Command(submission) => {
                                                let _client_may_have_gone = submission
                                                    .reply
                                                    .send(Err(WriteError::Unavailable(message.clone())));
                                            }
                                            Message::Tick(reply) => {
                                                let _caller_may_have_gone = reply.send(0);
                                            }
                                            Message::Close(reply) => self.closers.push(reply),
                                        }
                                    }
                                    return;
                                }
                                None => {
                                    (&mut pause).await;
                                    break;
                                }
                            },
                        }
                    }
                }
            }
        }
    }
}
