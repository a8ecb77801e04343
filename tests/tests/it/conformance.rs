//! The backend conformance suite: one set of scenarios over the `EventLog` trait that every backend must pass,
//! run against the embedded file log, PostgreSQL and, when `KURRENTDB_URL` names a server, KurrentDB
//! (`e2e::per_backend!`): order and no gaps, append atomicity, fencing under two concurrent writers,
//! idempotency across a restart, reading from any position while appends continue, following (the log, then
//! each new append), the hash chain across a restart, and durability of acknowledged appends when the
//! process (file) or the database server (PostgreSQL, `pg_ctl stop -m immediate`) is killed. After it, the
//! PostgreSQL-only checks: the writer lock between processes, the stream columns, the append-only table,
//! followers woken by the append's notification, reconnection, `migrate-store` both ways, and
//! `verify --store` on a tampered database.
//!
//! The scenarios that crash or restart the database server do it to a cluster of their own
//! (`PostgresCluster::private`), never to the shared test cluster the other tests are using.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use domain::{Actor, Cny, Command, Jurisdiction, Role};
use e2e::{
    Backend, Client, MORNING, PostgresCluster, ServerProcess, TestStore, publish_batch, run_verify_on, token,
    verified_applicant,
};
use engine::clock::Clock;
use engine::open::{Access, StoreSpec, open_store};
use engine::writer::{Loaded, WriteError};
use futures::StreamExt;
use ledger_proto::ChainVerifier;
use serde_json::json;
use store::postgres::{PgLog, PgLogOptions};
use store::{EventLog, Head, StoreError, StoredRecord};

type Log = Arc<dyn EventLog>;

async fn open(store: &TestStore) -> Log {
    open_store(&store.spec, Access::Write).await.expect("open the store for writing").log
}

/// Opens for writing once the previous writer (a task or process that is stopping) has let go of the lock.
async fn reopen(store: &TestStore) -> Log {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match open_store(&store.spec, Access::Write).await {
            Ok(opened) => return opened.log,
            Err(StoreError::Locked { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("reopening {store:?}: {error}"),
        }
    }
}

/// A second writer on the same store, to race the first. The file log allows one open writer per directory
/// (DESIGN: one writer process, the lock file): a second, distinct open is refused with `Locked` while the
/// first holds it, so the only other writer there is is another task appending through the first log, fenced
/// by the expected head alone. For PostgreSQL, another `PgLog` (its own connections) without the writer lock,
/// so that only the head check fences it; for KurrentDB, another client on the same stream.
async fn second_writer(store: &TestStore, first: &Log) -> Log {
    match &store.spec {
        StoreSpec::File(dir) => {
            match store::file::FileLog::open(dir) {
                Err(StoreError::Locked { path }) => assert!(!path.is_empty()),
                Err(other) => panic!("a second open of the file log must be refused with Locked: {other}"),
                Ok(_) => panic!("a second open of the file log must be refused while the first holds it"),
            }
            first.clone()
        }
        StoreSpec::Postgres(url) => Arc::new(
            PgLog::open_with(url, PgLogOptions { write: true, writer_lock: false })
                .await
                .expect("an unlocked second writer"),
        ),
        // KurrentDB has no writer lock: a second client on the same stream, fenced by the expected revision.
        StoreSpec::Kurrent(_) => open(store).await,
    }
}

/// Builds sealed records (real envelopes: PostgreSQL fills its stream columns from them) following a head.
struct Chain {
    head: Head,
    versions: HashMap<String, u64>,
}

impl Chain {
    fn new(head: Head) -> Chain {
        Chain { head, versions: HashMap::new() }
    }

    /// One command of `records` records on `stream`, each with a payload of `payload` bytes.
    fn command(&mut self, stream: &str, records: usize, payload: usize) -> Vec<StoredRecord> {
        (0..records)
            .map(|i| {
                let version = self.versions.entry(stream.to_owned()).or_insert(0);
                *version += 1;
                let record = probe(self.head, stream, *version, payload, i + 1 == records);
                self.head = Head { position: record.position, hash: record.hash };
                record
            })
            .collect()
    }

    /// A chain builder that continues from this one's head.
    fn clone_head(&self) -> Chain {
        Chain { head: self.head, versions: self.versions.clone() }
    }

    /// `commands` commands of `records` records each, on streams `stream-0..`, as one batch.
    fn commands(&mut self, stream: &str, commands: usize, records: usize) -> Vec<StoredRecord> {
        (0..commands).flat_map(|c| self.command(&format!("{stream}-{c}"), records, 40)).collect()
    }
}

/// The record after `head`: an envelope on `stream` at `version` with `payload` bytes of payload.
fn probe(head: Head, stream: &str, version: u64, payload: usize, ends_command: bool) -> StoredRecord {
    let position = head.position + 1;
    let mut envelope = ledger_proto::v1::Envelope {
        stream: stream.to_owned(),
        stream_version: version,
        event_type: "ConformanceProbe".into(),
        payload: (0..payload).map(|b| (b as u64 ^ position) as u8).collect(),
        ..Default::default()
    };
    ledger_proto::seal(&mut envelope, position, head.hash, ends_command)
}

async fn read_all(log: &dyn EventLog, from: u64) -> Vec<StoredRecord> {
    log.read_from(from).map(|record| record.expect("read")).collect().await
}

/// The log verifies as a hash chain from genesis and holds exactly `expected`.
async fn assert_log_is(log: &dyn EventLog, expected: &[StoredRecord]) {
    let records = read_all(log, 1).await;
    let mut verifier = ChainVerifier::new();
    for record in &records {
        verifier.check(record).expect("the chain verifies");
    }
    assert_eq!(records.len(), expected.len(), "record count");
    for (read, want) in records.iter().zip(expected) {
        assert_eq!(read, want, "record at position {}", want.position);
    }
    let head = expected.last().map_or(Head::GENESIS, |r| Head { position: r.position, hash: r.hash });
    assert_eq!(log.head().await.expect("head"), head);
}

fn is_out_of_sequence<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::OutOfSequence(_)))
}

// ------------------------------------------------------------------------------------------------------------
// The generic scenarios.

e2e::per_backend!(positions_are_in_order_without_gaps, 2);
async fn positions_are_in_order_without_gaps(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let log = open(&store).await;
    assert_eq!(log.head().await.expect("head"), Head::GENESIS);
    assert!(log.read_batch(1, 10).await.expect("read").is_empty());
    assert!(read_all(log.as_ref(), 1).await.is_empty());

    let mut chain = Chain::new(Head::GENESIS);
    let mut all = Vec::new();
    for batch in [
        chain.command("a", 1, 10),
        chain.command("b", 3, 100),
        chain.command("c", 50, 7),
        chain.commands("d", 10, 2),
    ] {
        let expected = log.head().await.expect("head");
        let head = log.append(expected, batch.clone()).await.expect("append");
        assert_eq!(Some(head), batch.last().map(HashHead::hash_head));
        all.extend(batch);
    }
    assert_eq!(all.len(), 74);
    assert_log_is(log.as_ref(), &all).await;

    for from in [0u64, 1, 2, 4, 37, 73, 74, 75, 1000] {
        for max in [1usize, 7, 100] {
            let start = usize::try_from(from.max(1) - 1).unwrap().min(all.len());
            let end = (start + max).min(all.len());
            let batch = log.read_batch(from, max).await.expect("read_batch");
            assert_eq!(batch, all[start..end], "read_batch({from}, {max})");
        }
        let start = usize::try_from(from.max(1) - 1).unwrap().min(all.len());
        assert_eq!(read_all(log.as_ref(), from).await, all[start..], "read_from({from})");
    }

    // Malformed batches are refused and append nothing.
    let head = chain.head;
    let mut gap = Chain::new(Head { position: head.position + 1, hash: head.hash });
    assert!(is_out_of_sequence(&log.append(head, gap.command("e", 1, 10)).await), "a gap is refused");
    let mut overlap = Chain::new(Head { position: head.position - 1, hash: head.hash });
    assert!(
        is_out_of_sequence(&log.append(head, overlap.command("e", 1, 10)).await),
        "an overlap is refused"
    );
    let mut unfinished = Chain::new(head).command("e", 2, 10);
    unfinished[1].ends_command = false;
    assert!(is_out_of_sequence(&log.append(head, unfinished).await), "an unfinished command is refused");
    assert!(is_out_of_sequence(&log.append(head, Vec::new()).await), "an empty batch is refused");
    assert_log_is(log.as_ref(), &all).await;
}

e2e::per_backend!(an_append_is_all_or_nothing, 4);
async fn an_append_is_all_or_nothing(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let log = open(&store).await;
    let mut chain = Chain::new(Head::GENESIS);
    let first = chain.commands("a", 5, 1);
    log.append(Head::GENESIS, first.clone()).await.expect("append");

    // A batch that goes wrong in its middle (its third command is out of sequence) appends none of it.
    let mut bad = chain.clone_head().commands("b", 5, 2);
    bad[5].position += 1;
    assert!(is_out_of_sequence(&log.append(chain.head, bad).await));
    // A stale writer appends nothing and learns the actual head.
    let stale = Chain::new(Head::GENESIS).commands("c", 2, 1);
    match log.append(Head::GENESIS, stale).await {
        Err(StoreError::Conflict { expected, actual }) => {
            assert_eq!(expected, Head::GENESIS);
            assert_eq!(actual, chain.head);
        }
        other => panic!("a stale append must conflict: {other:?}"),
    }
    assert_log_is(log.as_ref(), &first).await;

    // A grouped append of 1000 records becomes visible all at once: a reader polling meanwhile sees none
    // of it or all of it. A read overlaps the append when it started after the append was called and ended
    // before the append returned; grouped appends are repeated (up to 20) until at least one read did, so
    // the test cannot pass without the overlap it is about.
    let mut all = first;
    let mut overlapping = 0;
    for round in 0..20 {
        let from = chain.head.position + 1;
        let grouped = chain.commands(&format!("g{round}"), 100, 10);
        let (calling, returned) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let reading = Arc::new(tokio::sync::Notify::new());
        let reader = {
            let (log, calling, returned, reading) =
                (log.clone(), calling.clone(), returned.clone(), reading.clone());
            tokio::spawn(async move {
                // (read started during the append, read ended before the append returned, records seen)
                let mut seen = Vec::new();
                loop {
                    let started = calling.load(Ordering::SeqCst);
                    // The last read starts after the append returned (it must see all of it).
                    let last = returned.load(Ordering::SeqCst);
                    let count = log.read_batch(from, 5000).await.expect("read").len();
                    let unfinished = !returned.load(Ordering::SeqCst);
                    seen.push((started, unfinished, count));
                    if seen.len() == 1 {
                        reading.notify_one();
                    }
                    if last {
                        return seen;
                    }
                    tokio::task::yield_now().await;
                }
            })
        };
        // The reader is reading before the append is called.
        reading.notified().await;
        let head = all.last().map(|r| Head { position: r.position, hash: r.hash }).unwrap();
        calling.store(true, Ordering::SeqCst);
        log.append(head, grouped.clone()).await.expect("grouped append");
        returned.store(true, Ordering::SeqCst);
        let seen = reader.await.expect("reader");
        let counts: Vec<usize> = seen.iter().map(|(_, _, count)| *count).collect();
        assert!(counts.iter().all(|n| *n == 0 || *n == 1000), "a reader saw part of an append: {counts:?}");
        assert_eq!(counts.last(), Some(&1000));
        overlapping += seen.iter().filter(|(started, unfinished, _)| *started && *unfinished).count();
        all.extend(grouped);
        if overlapping > 0 {
            break;
        }
    }
    assert!(overlapping > 0, "no read overlapped a grouped append in 20 tries: atomicity was not observed");
    eprintln!("all or nothing: {overlapping} reads overlapped a grouped append of 1000 records");
    assert_log_is(log.as_ref(), &all).await;
    drop(log);
    assert_log_is(reopen(&store).await.as_ref(), &all).await;
}

e2e::per_backend!(fencing_two_concurrent_writers_never_fork_the_chain, 4);
async fn fencing_two_concurrent_writers_never_fork_the_chain(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let a = open(&store).await;
    let b = second_writer(&store, &a).await;

    // A second writer that asks for the writer lock is refused while the first holds it (KurrentDB has no
    // writer lock: only the expected revision fences, below).
    if backend != Backend::Kurrent {
        match open_store(&store.spec, Access::Write).await {
            Err(StoreError::Locked { path }) => assert!(!path.is_empty()),
            Err(other) => panic!("a second locked writer must be refused with Locked: {other}"),
            Ok(_) => panic!("a second locked writer must be refused"),
        }
    }

    // Both writers append at the same expected head, at the same time: exactly one wins each round, and
    // the other is told the head the winner made.
    let mut wins = [0usize; 2];
    for round in 0..20 {
        let head = a.head().await.expect("head");
        let mut chain_a = Chain::new(head);
        let mut chain_b = Chain::new(head);
        let record_a = chain_a.command(&format!("a-{round}"), 1, 10);
        let record_b = chain_b.command(&format!("b-{round}"), 1, 11);
        let (result_a, result_b) = tokio::join!(a.append(head, record_a), b.append(head, record_b));
        match (result_a, result_b) {
            (Ok(won), Err(StoreError::Conflict { expected, actual })) => {
                assert_eq!((won, expected, actual), (chain_a.head, head, chain_a.head));
                wins[0] += 1;
            }
            (Err(StoreError::Conflict { expected, actual }), Ok(won)) => {
                assert_eq!((won, expected, actual), (chain_b.head, head, chain_b.head));
                wins[1] += 1;
            }
            other => panic!("round {round}: exactly one append must win: {other:?}"),
        }
    }
    assert_eq!(wins[0] + wins[1], 20);

    // Free-running: two tasks append 30 commands each, re-reading the head after every conflict.
    let conflicts = Arc::new(AtomicUsize::new(0));
    let run = |log: Log, name: &'static str| {
        let conflicts = conflicts.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut head = log.head().await.expect("head");
            let mut commands = 0;
            while commands < 30 {
                let mut chain = Chain::new(head);
                let batch = chain.command(&format!("free-{name}-{commands}"), 2, 20);
                match log.append(head, batch.clone()).await {
                    Ok(new_head) => {
                        assert_eq!(new_head, chain.head);
                        acknowledged.extend(batch);
                        head = new_head;
                        commands += 1;
                    }
                    Err(StoreError::Conflict { actual, .. }) => {
                        conflicts.fetch_add(1, Ordering::SeqCst);
                        head = actual;
                    }
                    Err(error) => panic!("{name}: {error}"),
                }
            }
            acknowledged
        })
    };
    let (from_a, from_b) = tokio::join!(run(a.clone(), "a"), run(b.clone(), "b"));
    let (from_a, from_b) = (from_a.expect("writer a"), from_b.expect("writer b"));
    let records = read_all(a.as_ref(), 1).await;
    assert_eq!(records.len(), 20 + 120, "every acknowledged record and nothing else");
    let mut verifier = ChainVerifier::new();
    for record in &records {
        verifier.check(record).expect("one linear chain");
    }
    for record in from_a.iter().chain(&from_b) {
        let position = usize::try_from(record.position).unwrap();
        assert_eq!(
            &records[position - 1],
            record,
            "an acknowledged record is in the log where it was acknowledged"
        );
    }
    eprintln!(
        "fencing: rounds won a={} b={}; {} conflicts in the free run",
        wins[0],
        wins[1],
        conflicts.load(Ordering::SeqCst)
    );
}

e2e::per_backend!(idempotency_keys_survive_a_restart_of_the_writer, 2);
async fn idempotency_keys_survive_a_restart_of_the_writer(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let now = chrono::DateTime::parse_from_rfc3339(MORNING).unwrap().with_timezone(&chrono::Utc);
    let actor = Actor {
        subject: "finance-1".into(),
        role: Role::Finance,
        jurisdiction: Some(Jurisdiction::Guiyang),
        credit_code: None,
    };
    let command = |amount: &str| Command::AppropriateBudget {
        jurisdiction: Jurisdiction::Guiyang,
        fiscal_year: 2025,
        amount: Cny::parse(amount).unwrap(),
    };
    let digest = [7u8; 32];

    let log = open(&store).await;
    let loaded = Loaded::from_log(log.as_ref()).await.expect("load");
    let (writer, _shared_state) = engine::writer::spawn(log.clone(), loaded, Clock::manual(now));
    let first =
        writer.submit(command("100.00"), actor.clone(), Some("key-1".into()), digest).await.expect("first");
    let other = writer.submit(command("5.00"), actor.clone(), None, [1; 32]).await.expect("other");
    assert!(!first.replayed);
    let head = log.head().await.expect("head");
    assert_eq!(head.position, other.position);
    drop((writer, log));

    let log = reopen(&store).await;
    let loaded = Loaded::from_log(log.as_ref()).await.expect("reload");
    assert_eq!(loaded.head, head);
    let (writer, _shared_state) = engine::writer::spawn(log.clone(), loaded, Clock::manual(now));
    let again =
        writer.submit(command("100.00"), actor.clone(), Some("key-1".into()), digest).await.expect("retry");
    assert!(again.replayed, "the same key and request get the first answer again");
    assert_eq!(again.position, first.position);
    assert_eq!(again.events, first.events, "the same events, positions and hashes");
    let reused = writer.submit(command("999.00"), actor.clone(), Some("key-1".into()), [8; 32]).await;
    assert!(matches!(reused, Err(WriteError::IdempotencyKeyReused(ref key)) if key == "key-1"), "{reused:?}");
    assert_eq!(log.head().await.expect("head"), head, "neither the replay nor the reuse appended anything");
    let next = writer.submit(command("1.00"), actor, Some("key-2".into()), digest).await.expect("new key");
    assert_eq!(next.position, head.position + 1);
}

e2e::per_backend!(reading_from_any_position_while_appends_continue, 4);
async fn reading_from_any_position_while_appends_continue(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let log = open(&store).await;
    const COMMANDS: usize = 200;
    let total_records = || (0..COMMANDS).map(|i| 1 + i % 3).sum::<usize>();
    let appender = {
        let log = log.clone();
        tokio::spawn(async move {
            let mut chain = Chain::new(Head::GENESIS);
            let mut all = Vec::new();
            for i in 0..COMMANDS {
                let batch = chain.command(&format!("s-{}", i % 7), 1 + i % 3, 30);
                let expected = all
                    .last()
                    .map_or(Head::GENESIS, |r: &StoredRecord| Head { position: r.position, hash: r.hash });
                log.append(expected, batch.clone()).await.expect("append");
                all.extend(batch);
            }
            all
        })
    };
    let readers: Vec<_> = (0..3u64)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut reads = 0usize;
                let mut partial = 0usize;
                let mut seen: BTreeMap<u64, StoredRecord> = BTreeMap::new();
                let total = total_records();
                loop {
                    let head = log.head().await.expect("head");
                    let from =
                        if head.position == 0 { 1 } else { 1 + (reads as u64 * 37 + n * 11) % head.position };
                    let records = read_all(log.as_ref(), from).await;
                    reads += 1;
                    if let Some(first) = records.first() {
                        assert_eq!(first.position, from, "a read starts where it was asked to");
                    }
                    for pair in records.windows(2) {
                        assert_eq!(pair[1].position, pair[0].position + 1, "no gaps");
                        assert_eq!(
                            pair[1].hash,
                            ledger_proto::record_hash(&pair[0].hash, &pair[1].bytes),
                            "linked"
                        );
                    }
                    let reached = records.last().map_or(0, |r| r.position);
                    assert!(reached >= head.position, "a read reaches the head read before it");
                    for record in records {
                        seen.insert(record.position, record);
                    }
                    if reached < total as u64 {
                        partial += 1;
                    } else {
                        return (reads, partial, seen);
                    }
                }
            })
        })
        .collect();
    let all = appender.await.expect("appender");
    assert_eq!(all.len(), total_records());
    for reader in readers {
        let (reads, partial, seen) = reader.await.expect("reader");
        assert!(partial > 0, "the reader never overlapped the appends ({reads} reads)");
        for (position, record) in seen {
            assert_eq!(
                &all[usize::try_from(position).unwrap() - 1],
                &record,
                "what a reader saw is what was appended"
            );
        }
    }
    assert_log_is(log.as_ref(), &all).await;
}

e2e::per_backend!(following_yields_the_log_then_each_new_append, 2);
async fn following_yields_the_log_then_each_new_append(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let log = open(&store).await;
    async fn take(
        follow: &mut futures::stream::BoxStream<'_, Result<StoredRecord, StoreError>>,
        n: usize,
    ) -> Vec<StoredRecord> {
        let mut out = Vec::new();
        while out.len() < n {
            let next = tokio::time::timeout(Duration::from_secs(15), follow.next())
                .await
                .unwrap_or_else(|_| panic!("record {} of {n} did not arrive within 15 s", out.len() + 1));
            out.push(next.expect("the follow stream does not end").expect("a record"));
        }
        out
    }

    // Followed from the start of an empty log (on KurrentDB the stream does not exist yet).
    let mut from_start = log.follow(1);
    let mut chain = Chain::new(Head::GENESIS);
    let first = chain.commands("f", 3, 2);
    log.append(Head::GENESIS, first.clone()).await.expect("append");
    assert_eq!(take(&mut from_start, first.len()).await, first);

    // Followed from the middle: the records from there, then nothing until the next append.
    let mut from_middle = log.follow(4);
    assert_eq!(take(&mut from_middle, 3).await, first[3..]);
    let idle = tokio::time::timeout(Duration::from_millis(500), from_middle.next()).await;
    assert!(idle.is_err(), "a record past the head: {idle:?}");

    let second = chain.commands("g", 2, 3);
    log.append(first.last().expect("records").hash_head(), second.clone()).await.expect("append");
    assert_eq!(take(&mut from_middle, second.len()).await, second);
    assert_eq!(take(&mut from_start, second.len()).await, second);
    let idle = tokio::time::timeout(Duration::from_millis(500), from_start.next()).await;
    assert!(idle.is_err(), "a record past the head: {idle:?}");
}

e2e::per_backend!(the_hash_chain_holds_across_a_restart, 2);
async fn the_hash_chain_holds_across_a_restart(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let log = open(&store).await;
    let mut chain = Chain::new(Head::GENESIS);
    let mut all = Vec::new();
    for batch in [chain.command("a", 3, 50), chain.commands("b", 4, 2)] {
        log.append(log.head().await.expect("head"), batch.clone()).await.expect("append");
        all.extend(batch);
    }
    let head = chain.head;
    drop(log);

    let log = reopen(&store).await;
    assert_eq!(log.head().await.expect("head"), head, "the head survives the restart");
    assert_log_is(log.as_ref(), &all).await;
    let stale = Chain::new(Head::GENESIS).command("x", 1, 1);
    assert!(matches!(log.append(Head::GENESIS, stale).await, Err(StoreError::Conflict { .. })));
    let more = chain.command("c", 2, 5);
    log.append(head, more.clone()).await.expect("append after the restart");
    all.extend(more);
    drop(log);

    let reader = open_store(&store.spec, Access::ReadOnly).await.expect("read-only").log;
    assert_log_is(reader.as_ref(), &all).await;
    let again = reopen(&store).await;
    assert_log_is(again.as_ref(), &all).await;
}

// Not on KurrentDB: a server given by URL cannot be crashed from here. On PostgreSQL the crash needs the
// throwaway cluster of scripts/test.sh (a server given by URL only cannot be crashed): the variant is
// ignored without one, and fails when it was built for one that is gone at run time.
mod acknowledged_appends_survive_a_crash {
    use e2e::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn file() {
        super::acknowledged_appends_survive_a_crash(Backend::File).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[cfg_attr(
        not(e2e_postgres_cluster),
        ignore = "no PostgreSQL cluster to crash: scripts/test.sh starts one"
    )]
    async fn postgres() {
        e2e::require_backend(Backend::Postgres, "acknowledged_appends_survive_a_crash::postgres");
        super::acknowledged_appends_survive_a_crash(Backend::Postgres).await;
    }
}

async fn acknowledged_appends_survive_a_crash(backend: Backend) {
    let cluster = match backend {
        Backend::File => None,
        Backend::Kurrent => unreachable!("not instantiated for KurrentDB"),
        Backend::Postgres => Some(
            PostgresCluster::private()
                .unwrap_or_else(|| {
                    panic!(
                        "built for the cluster of scripts/test.sh, but {} is not set: no cluster to crash",
                        e2e::POSTGRES_DIR_VARIABLE
                    )
                })
                .expect("a PostgreSQL cluster of the test's own"),
        ),
    };
    let store = match &cluster {
        Some(cluster) => TestStore::on_cluster(cluster).await,
        None => TestStore::new(backend).await,
    }
    .expect("store");
    let server = ServerProcess::start_on(&store.spec, MORNING).expect("server");
    let client = Client::new(&server.base);
    let batch = publish_batch(&client, Jurisdiction::Guiyang, "10000000.00", "10000000.00", "10000.00")
        .await
        .expect("batch");
    let tokens: Vec<String> = futures::future::join_all(
        (1..=90).map(|n| verified_applicant(&client, Jurisdiction::Guiyang, n, false)),
    )
    .await
    .into_iter()
    .map(|own| own.expect("applicant"))
    .collect();

    // 90 claims, 12 in flight at a time; the crash comes once 30 were acknowledged. `in_flight` counts the
    // requests sent and not yet answered, read at the moment of the crash.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let third = Arc::new(tokio::sync::Notify::new());
    let running = {
        let client = client.clone();
        let acknowledged = acknowledged.clone();
        let in_flight = in_flight.clone();
        let third = third.clone();
        let path = format!("/v1/batches/{batch}/claims");
        tokio::spawn(async move {
            futures::stream::iter(tokens)
                .map(|own| {
                    let (client, acknowledged, in_flight, third, path) = (
                        client.clone(),
                        acknowledged.clone(),
                        in_flight.clone(),
                        third.clone(),
                        path.clone(),
                    );
                    async move {
                        in_flight.fetch_add(1, Ordering::SeqCst);
                        let answer = client.post_raw(&path, Some(&own), "{}", None).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        if matches!(&answer, Ok(answer) if answer.status == 201)
                            && acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == 30
                        {
                            third.notify_one();
                        }
                        answer
                    }
                })
                .buffer_unordered(12)
                .collect::<Vec<_>>()
                .await
        })
    };
    let reached = tokio::time::timeout(Duration::from_secs(60), third.notified()).await;
    let in_flight_at_crash = in_flight.load(Ordering::SeqCst);
    match &cluster {
        // The database server dies like a power cut; the ledger's process lives on and must not
        // acknowledge anything it could not commit. Then the process goes too.
        Some(cluster) => {
            cluster.crash().expect("crash the cluster");
            tokio::time::sleep(Duration::from_millis(300)).await;
            server.kill();
            cluster.restart().expect("restart the cluster");
        }
        None => server.kill(),
    }
    let answers = running.await.expect("claims");
    assert!(reached.is_ok(), "30 claims were never acknowledged: {answers:?}");

    let mut committed: BTreeMap<u64, String> = BTreeMap::new();
    let (mut refused, mut lost) = (0, 0);
    for answer in &answers {
        match answer {
            Ok(answer) if answer.status == 201 => {
                for event in answer.body["events"].as_array().expect("events") {
                    let position = event["position"].as_u64().expect("position");
                    committed.insert(position, event["hash"].as_str().expect("hash").to_owned());
                }
            }
            Ok(answer) => {
                assert_eq!(answer.status, 503, "a claim during the crash is acknowledged or 503: {answer:?}");
                refused += 1;
            }
            Err(_) => lost += 1,
        }
    }
    eprintln!(
        "crash: {in_flight_at_crash} in flight at the crash; {} acknowledged, {refused} answered 503, {lost} \
         unanswered",
        committed.len()
    );
    assert!(committed.len() >= 30);
    // The crash came with commands on their way: sent and not answered when it struck, and some of them
    // never acknowledged.
    assert!(in_flight_at_crash > 0, "nothing was in flight at the crash");
    assert!(refused + lost > 0, "every claim was acknowledged: the crash came after the workload");

    let log = reopen(&store).await;
    let loaded =
        Loaded::from_log(log.as_ref()).await.expect("the log loads and its chain verifies after the crash");
    for (position, hash) in &committed {
        let record = log.read_batch(*position, 1).await.expect("read");
        assert_eq!(record.len(), 1, "acknowledged position {position} is gone");
        assert_eq!(&hex::encode(record[0].hash), hash, "acknowledged position {position} changed");
    }
    assert!(loaded.head.position >= *committed.keys().last().unwrap());
    drop((loaded, log));
    let verification = run_verify_on(&store.spec).expect("verify");
    assert!(verification.success, "{verification:?}");

    // The ledger serves again on the recovered store and takes new commands.
    let server = ServerProcess::start_on(&store.spec, MORNING).expect("server after the crash");
    let client = Client::new(&server.base);
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let more = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "1.00" }))
        .await
        .expect("post");
    assert_eq!(more.status, 201, "{more:?}");
    server.kill();
}

// Not on KurrentDB: it has no process lock; a second writer is fenced per append by the expected revision
// (fencing_two_concurrent_writers_never_fork_the_chain), not refused at start.
e2e::per_backend!(a_second_server_on_the_same_store_is_refused, 2, [file, postgres]);
async fn a_second_server_on_the_same_store_is_refused(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let first = ServerProcess::start_on(&store.spec, MORNING).expect("first server");
    let refused = match ServerProcess::try_start_on(&store.spec, MORNING) {
        Ok(second) => panic!("a second server started at {}", second.base),
        Err(error) => format!("{error:#}"),
    };
    assert!(refused.contains("is locked by another writer process"), "{refused}");
    let client = Client::new(&first.base);
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let answer = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "1.00" }))
        .await
        .expect("post");
    assert_eq!(answer.status, 201, "the first server still writes: {answer:?}");
    first.kill();
    let second =
        ServerProcess::start_on(&store.spec, MORNING).expect("the second starts once the first is gone");
    let client = Client::new(&second.base);
    assert_eq!(e2e::head_position(&client).await.expect("head"), 1);
    second.kill();
}

// ------------------------------------------------------------------------------------------------------------
// PostgreSQL only.

async fn sql(store: &TestStore) -> tokio_postgres::Client {
    let StoreSpec::Postgres(url) = &store.spec else { panic!("not PostgreSQL") };
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn postgres_keeps_streams_unique_and_the_table_append_only() {
    e2e::require_backend(Backend::Postgres, "postgres_keeps_streams_unique_and_the_table_append_only");
    let store = TestStore::new(Backend::Postgres).await.expect("store");
    let log = open(&store).await;
    let mut chain = Chain::new(Head::GENESIS);
    let batch = chain.command("voucher-1", 3, 10);
    log.append(Head::GENESIS, batch).await.expect("append");
    let client = sql(&store).await;
    let rows =
        client.query("SELECT stream, stream_version FROM events ORDER BY position", &[]).await.expect("rows");
    let streams: Vec<(String, i64)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(
        streams,
        [("voucher-1".to_owned(), 1), ("voucher-1".to_owned(), 2), ("voucher-1".to_owned(), 3)]
    );

    // A record that repeats a stream version is refused, with the whole batch.
    let head = chain.head;
    let fresh = probe(head, "voucher-2", 1, 10, false);
    let repeat = probe(fresh.hash_head(), "voucher-1", 2, 10, true);
    let result = log.append(head, vec![fresh, repeat]).await;
    assert!(is_out_of_sequence(&result), "{result:?}");
    assert_eq!(log.head().await.expect("head"), head, "nothing of the batch was appended");
    let count: i64 = client.query_one("SELECT count(*) FROM events", &[]).await.expect("count").get(0);
    assert_eq!(count, 3);

    for statement in [
        "DELETE FROM events WHERE position = 3",
        "UPDATE events SET record = '' WHERE position = 1",
        "TRUNCATE events",
    ] {
        let error = client.batch_execute(statement).await.expect_err(statement);
        assert!(format!("{error:?}").contains("append-only"), "{statement}: {error:?}");
    }
}

trait HashHead {
    fn hash_head(&self) -> Head;
}

impl HashHead for StoredRecord {
    fn hash_head(&self) -> Head {
        Head { position: self.position, hash: self.hash }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn postgres_followers_are_woken_by_the_append_notification() {
    e2e::require_backend(Backend::Postgres, "postgres_followers_are_woken_by_the_append_notification");
    let store = TestStore::new(Backend::Postgres).await.expect("store");
    let log = open(&store).await;
    let StoreSpec::Postgres(url) = &store.spec else { panic!("not PostgreSQL") };
    let reader = PgLog::open_read_only(url).await.expect("a read-only log");
    // Reading again only once a minute without a notification: a record within seconds came by NOTIFY.
    let mut follow = reader.follow_every(1, Duration::from_secs(60));
    let idle = tokio::time::timeout(Duration::from_millis(300), follow.next()).await;
    assert!(idle.is_err(), "a record in an empty log: {idle:?}");
    let mut chain = Chain::new(Head::GENESIS);
    for round in 0..3 {
        let batch = chain.command(&format!("n-{round}"), 2, 10);
        let expected = log.head().await.expect("head");
        log.append(expected, batch.clone()).await.expect("append");
        for want in batch {
            let got = tokio::time::timeout(Duration::from_secs(5), follow.next())
                .await
                .expect("woken by the append's notification within 5 s");
            assert_eq!(got.expect("the stream does not end").expect("a record"), want);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let url = "postgres://ledger:s3cret-password@127.0.0.1:1/ledger";
    let error = PgLog::open(url).await.expect_err("nothing listens on port 1");
    let message = error.to_string();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(message.contains("postgres://ledger@127.0.0.1:1/ledger"), "names the server: {message}");
    assert!(!message.contains("s3cret"), "never the password: {message}");
    let binary = std::process::Command::new(e2e::binary())
        .args(["verify", "--store", url])
        .env_remove("VOUCHER_LEDGER_STORE")
        .output()
        .expect("verify runs");
    assert!(!binary.status.success());
    let stderr = String::from_utf8_lossy(&binary.stderr);
    assert!(stderr.contains("store unavailable") && !stderr.contains("s3cret"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres_cluster), ignore = "no PostgreSQL cluster to crash: scripts/test.sh starts one")]
async fn postgres_reconnects_after_the_server_restarts() {
    e2e::require_backend(Backend::Postgres, "postgres_reconnects_after_the_server_restarts");
    let cluster = PostgresCluster::private()
        .expect("built for the cluster of scripts/test.sh: no cluster to restart")
        .expect("a PostgreSQL cluster of the test's own");
    let store = TestStore::on_cluster(&cluster).await.expect("store");
    let log = open(&store).await;
    let mut chain = Chain::new(Head::GENESIS);
    let first = chain.command("a", 2, 10);
    log.append(Head::GENESIS, first.clone()).await.expect("append");
    cluster.crash().expect("crash");
    let during = log.append(chain.head, Chain::new(chain.head).command("b", 1, 1)).await;
    assert!(matches!(during, Err(StoreError::Unavailable(_))), "{during:?}");
    assert!(matches!(log.head().await, Err(StoreError::Unavailable(_))));
    cluster.restart().expect("restart");
    let mut more = chain.command("c", 1, 10);
    // The same log takes appends again (it reconnects and takes the writer lock again).
    let head = first.last().unwrap().hash_head();
    log.append(head, more.clone()).await.expect("append after the restart");
    let mut all = first;
    all.append(&mut more);
    assert_log_is(log.as_ref(), &all).await;
    assert!(
        matches!(open_store(&store.spec, Access::Write).await, Err(StoreError::Locked { .. })),
        "the reconnected writer holds the lock again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn migrate_store_copies_a_ledger_both_ways_byte_for_byte() {
    e2e::require_backend(Backend::Postgres, "migrate_store_copies_a_ledger_both_ways_byte_for_byte");
    let source = TestStore::new(Backend::File).await.expect("file store");
    let server = ServerProcess::start_on(&source.spec, MORNING).expect("server");
    let client = Client::new(&server.base);
    let batch = publish_batch(&client, Jurisdiction::Guiyang, "1000000.00", "1000000.00", "50000.00")
        .await
        .expect("batch");
    for n in 1..=5 {
        let own = verified_applicant(&client, Jurisdiction::Guiyang, n, n % 2 == 0).await.expect("applicant");
        let claim =
            client.post(&format!("/v1/batches/{batch}/claims"), &own, &json!({})).await.expect("claim");
        assert_eq!(claim.status, 201, "{claim:?}");
    }
    server.kill();
    let verified = run_verify_on(&source.spec).expect("verify");
    assert!(verified.success, "{verified:?}");
    let summary = verified.stdout.trim().strip_prefix("verify: ").expect("verify line").to_owned();

    let migrate = |from: &StoreSpec, to: &StoreSpec| {
        std::process::Command::new(e2e::binary())
            .arg("migrate-store")
            .arg("--from")
            .arg(spec_arg(from))
            .arg("--to")
            .arg(spec_arg(to))
            .env("RUST_LOG", "warn")
            .output()
            .expect("migrate-store runs")
    };
    let target = TestStore::new(Backend::Postgres).await.expect("database");
    let output = migrate(&source.spec, &target.spec);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains(&format!("verify: {summary}")),
        "the copy has the source's head hash:\n{stdout}\nsource: {summary}"
    );
    let on_postgres = run_verify_on(&target.spec).expect("verify");
    assert!(on_postgres.success && on_postgres.stdout.contains(&summary), "{on_postgres:?}");

    // A second run refuses the target: it is not empty any more.
    let again = migrate(&source.spec, &target.spec);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"), "{again:?}");

    // Back to a new directory: the segment files are the very same bytes.
    let back = TestStore::new(Backend::File).await.expect("file store");
    let output = migrate(&target.spec, &back.spec);
    assert!(output.status.success(), "{output:?}");
    // The frames of each segment (a killed writer leaves the space it wrote ahead as zeros after them).
    let files = |dir: &std::path::Path| -> Vec<Vec<u8>> {
        store::file::scan(dir)
            .segments
            .iter()
            .map(|segment| {
                let mut bytes = std::fs::read(&segment.path).expect("read");
                bytes.truncate(usize::try_from(segment.frames_end).expect("length"));
                bytes
            })
            .collect()
    };
    assert_eq!(
        files(source.data_dir()),
        files(back.data_dir()),
        "file -> PostgreSQL -> file is byte for byte"
    );

    // And the ledger serves from PostgreSQL with everything in it.
    let server = ServerProcess::start_on(&target.spec, MORNING).expect("server on PostgreSQL");
    let client = Client::new(&server.base);
    let auditor = token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    let view = client.get(&format!("/v1/batches/{batch}"), Some(&auditor)).await.expect("batch");
    assert_eq!(view.body["vouchers_issued"], 5, "{view:?}");
    server.kill();
}

fn spec_arg(spec: &StoreSpec) -> std::ffi::OsString {
    match spec {
        StoreSpec::File(dir) => dir.as_os_str().to_owned(),
        StoreSpec::Postgres(url) | StoreSpec::Kurrent(url) => url.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn verify_names_the_first_bad_position_of_a_tampered_database() {
    e2e::require_backend(Backend::Postgres, "verify_names_the_first_bad_position_of_a_tampered_database");
    let store = TestStore::new(Backend::Postgres).await.expect("store");
    let server = ServerProcess::start_on(&store.spec, MORNING).expect("server");
    let client = Client::new(&server.base);
    publish_batch(&client, Jurisdiction::Guiyang, "1000000.00", "1000000.00", "50000.00")
        .await
        .expect("batch");
    verified_applicant(&client, Jurisdiction::Guiyang, 1, false).await.expect("applicant");
    server.kill();
    let intact = run_verify_on(&store.spec).expect("verify");
    assert!(intact.success, "{intact:?}");

    let client = sql(&store).await;
    client.batch_execute("ALTER TABLE events DISABLE TRIGGER USER").await.expect("disable the guard");
    // One byte of record 2 changed.
    client
        .batch_execute("UPDATE events SET record = overlay(record placing '\\xff'::bytea from 40 for 1) WHERE position = 2")
        .await
        .expect("tamper");
    let broken = run_verify_on(&store.spec).expect("verify");
    assert!(!broken.success);
    assert!(broken.stdout.contains("verify: FAILED position=2 "), "{broken:?}");

    // The last record deleted: the head row still names it.
    let store2 = TestStore::new(Backend::Postgres).await.expect("store");
    let server = ServerProcess::start_on(&store2.spec, MORNING).expect("server");
    let http = Client::new(&server.base);
    publish_batch(&http, Jurisdiction::Guiyang, "1000000.00", "1000000.00", "50000.00").await.expect("batch");
    let head = e2e::head_position(&http).await.expect("head");
    server.kill();
    let client = sql(&store2).await;
    client.batch_execute("ALTER TABLE events DISABLE TRIGGER USER").await.expect("disable the guard");
    client
        .execute("DELETE FROM events WHERE position = $1", &[&i64::try_from(head).unwrap()])
        .await
        .expect("delete");
    let truncated = run_verify_on(&store2.spec).expect("verify");
    assert!(!truncated.success);
    assert!(truncated.stdout.contains(&format!("position={head} reason=truncated")), "{truncated:?}");
    // A writer refuses to open it.
    let refused = ServerProcess::try_start_on(&store2.spec, MORNING).err().expect("refused");
    assert!(format!("{refused:#}").contains("corrupt"), "{refused:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn postgres_migrates_at_open_and_refuses_a_schema_from_a_newer_build() {
    e2e::require_backend(
        Backend::Postgres,
        "postgres_migrates_at_open_and_refuses_a_schema_from_a_newer_build",
    );
    let store = TestStore::new(Backend::Postgres).await.expect("store");
    // A read-only open of an empty database finds no ledger and changes nothing.
    let error = open_store(&store.spec, Access::ReadOnly).await.err().expect("no ledger yet");
    assert!(error.to_string().contains("holds no ledger"), "{error}");
    let client = sql(&store).await;
    let tables: i64 = client
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &[])
        .await
        .expect("tables")
        .get(0);
    assert_eq!(tables, 0, "a read-only open does not migrate");

    // The writer creates the schema; opening again applies nothing new.
    drop(open(&store).await);
    let versions = || async {
        let rows = client.query("SELECT version FROM ledger_schema_history ORDER BY version", &[]).await;
        rows.expect("history").iter().map(|row| row.get::<_, i32>(0)).collect::<Vec<_>>()
    };
    assert_eq!(versions().await, [1]);
    drop(reopen(&store).await);
    assert_eq!(versions().await, [1]);

    // A database migrated by a newer build (a version this build does not have) is refused.
    client
        .batch_execute("INSERT INTO ledger_schema_history VALUES (2, 'future', '2030-01-01T00:00:00Z', '1')")
        .await
        .expect("a future migration");
    let error = loop {
        match open_store(&store.spec, Access::Write).await {
            Err(StoreError::Locked { .. }) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(error) => break error,
            Ok(_) => panic!("a schema from a newer build must be refused"),
        }
    };
    assert!(error.to_string().contains("V2__future is missing"), "{error}");
}
