//! Seeded simulation (in-process, no sockets), after TigerBeetle's: random commands from many actors —
//! valid ones, invalid ones (a second registration, a claim before verification, a batch over the budget)
//! and unauthorized ones (another jurisdiction's finance, a token for another credit code) — go through the
//! real writer over the real file log, wrapped in [`FaultyLog`], an `EventLog` decorator that injects storage
//! faults: a failed fsync (the bytes reached the log but the append reports failure), a short write and a
//! full disk (nothing reached the log, the append fails; the disk stays full for a few appends).
//!
//! After every step the writer's outcome is checked against a reference model of the budget, the batch
//! pools and who claimed what: an accepted command must be one the model accepts, a refused one one the
//! model refuses; a command answered `Unavailable` must not be acknowledged, and its retry with the same
//! idempotency key (faults paused) must say whether it had been stored (`replayed`) exactly when the fault
//! stored it — so no command is ever recorded twice. After every step the log's head, the writer's head and
//! the records acknowledged agree, and the balances rebuilt from the log equal the model's. At the end the
//! log verifies (chain and SPEC §5 invariants).
//!
//! The concurrent variant (`concurrent_submitters_with_storage_faults_match_the_reference_model`) submits
//! 2-16 commands at once per step, so the writer's group commit puts them in one append and a fault fails
//! the whole group. Each command is predicted against the model as left by the ones submitted before it
//! (the writer decides a group in channel order). Checked after every step: the step's commands went into
//! one append (and the retries into one more); an acknowledged command is not answered for a failed group;
//! every command answered `Unavailable` is retried with its key (faults paused) and must be acknowledged,
//! `replayed` exactly when the failed append was a failed fsync (which stored the whole group); the
//! acknowledged commands, sorted by their log positions (the writer's order, which must be the channel
//! order), cover the log from the old head to the new one without gap or repetition, each record with the
//! acknowledged hash and the command's idempotency key; the model takes exactly those commands in that
//! order and must equal its prediction; heads and balances agree; every 25 steps and at the end the log
//! verifies.
//!
//! The grouping is deterministic: the submissions are futures polled together by `join_all` in one task of
//! a current-thread runtime, so every command of a step is in the writer's channel before the writer task
//! runs again. A seed therefore reproduces the commands *and* the groups.
//!
//! A failure names its seed; `VOUCHER_LEDGER_SIM_SEED=N` runs that seed alone (`VOUCHER_LEDGER_SIM_STEPS`
//! sets the steps of both tests).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use domain::event::Registration;
use domain::{Account, Actor, ApplicantKind, Balance, Cny, Command, CreditCode, Jurisdiction, Role};
use domain::{VerificationDecision, credit_code::with_check_character};
use engine::writer::{self, Loaded, WriteError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::file::FileLog;
use store::{EventLog, Head, StoreError, StoredRecord};

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;

/// A storage fault of one append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The records were written, the fsync failed: the append reports failure but the records are stored.
    FailedFsync,
    /// Part of a frame was written and rolled back: nothing is stored, the append fails.
    ShortWrite,
    /// No space: nothing is stored, and the next few appends fail the same way.
    DiskFull,
}

/// The file log with injected append faults.
struct FaultyLog {
    inner: FileLog,
    rng: Mutex<StdRng>,
    /// Probability of a fault per append, in percent.
    percent: u32,
    paused: AtomicBool,
    disk_full_for: AtomicU64,
    /// The fault of the last append (None: it succeeded).
    last: Mutex<Option<Fault>>,
    faults: Mutex<BTreeMap<&'static str, u64>>,
    /// Every append the writer made, in order: its fault, its records and the commands they end.
    appends: Mutex<Vec<Append>>,
}

/// One append as the writer made it.
#[derive(Debug, Clone, Copy)]
struct Append {
    fault: Option<Fault>,
    commands: usize,
}

impl FaultyLog {
    fn new(inner: FileLog, seed: u64, percent: u32) -> FaultyLog {
        FaultyLog {
            inner,
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x5eed)),
            percent,
            paused: AtomicBool::new(false),
            disk_full_for: AtomicU64::new(0),
            last: Mutex::new(None),
            faults: Mutex::new(BTreeMap::new()),
            appends: Mutex::new(Vec::new()),
        }
    }

    fn fault(&self) -> Option<Fault> {
        if self.paused.load(Ordering::SeqCst) {
            return None;
        }
        if self.disk_full_for.load(Ordering::SeqCst) > 0 {
            self.disk_full_for.fetch_sub(1, Ordering::SeqCst);
            return Some(Fault::DiskFull);
        }
        let mut rng = self.rng.lock().expect("rng");
        if rng.random_range(0..100) >= self.percent {
            return None;
        }
        Some(match rng.random_range(0..3) {
            0 => Fault::FailedFsync,
            1 => Fault::ShortWrite,
            _ => {
                self.disk_full_for.store(rng.random_range(0..3), Ordering::SeqCst);
                Fault::DiskFull
            }
        })
    }
}

fn io_error(fault: Fault) -> StoreError {
    let error = match fault {
        Fault::FailedFsync => std::io::Error::other("injected: fsync failed"),
        Fault::ShortWrite => std::io::Error::new(std::io::ErrorKind::WriteZero, "injected: short write"),
        Fault::DiskFull => std::io::Error::new(std::io::ErrorKind::StorageFull, "injected: no space left"),
    };
    StoreError::Unavailable(error)
}

#[async_trait::async_trait]
impl EventLog for FaultyLog {
    async fn head(&self) -> Result<Head, StoreError> {
        self.inner.head().await
    }

    async fn append(&self, expected: Head, records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        let fault = self.fault();
        *self.last.lock().expect("last") = fault;
        let commands = records.iter().filter(|record| record.ends_command).count();
        self.appends.lock().expect("appends").push(Append { fault, commands });
        let Some(fault) = fault else { return self.inner.append(expected, records).await };
        *self.faults.lock().expect("faults").entry(format!("{fault:?}").leak()).or_default() += 1;
        if fault == Fault::FailedFsync {
            self.inner.append(expected, records).await?;
        }
        Err(io_error(fault))
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.inner.read_batch(from, max).await
    }
}

/// The reference model: what the ledger should hold.
#[derive(Default, Debug, Clone, PartialEq)]
struct Model {
    budget_fen: i64,
    /// Batch id → (remaining fen, face value fen).
    batches: BTreeMap<uuid::Uuid, (i64, i64)>,
    batch_order: Vec<uuid::Uuid>,
    registered: BTreeSet<u32>,
    verified: BTreeSet<u32>,
    claimed: BTreeSet<(u32, uuid::Uuid)>,
    records: u64,
}

/// One simulated command, with the model's prediction and the change it makes when accepted.
struct Step {
    label: String,
    actor: Actor,
    command: Command,
    accept: bool,
    apply: Box<dyn Fn(&mut Model) + Send + Sync>,
}

fn staff(role: Role, jurisdiction: Jurisdiction) -> Actor {
    Actor { subject: format!("{role}-1"), role, jurisdiction: Some(jurisdiction), credit_code: None }
}

fn code(n: u32) -> CreditCode {
    with_check_character(&format!("915201{n:011}")).expect("a valid body")
}

fn applicant(n: u32) -> Actor {
    Actor {
        subject: format!("applicant-{n}"),
        role: Role::Enterprise,
        jurisdiction: Some(GUIYANG),
        credit_code: Some(code(n)),
    }
}

fn cny(fen: i64) -> Cny {
    Cny::from_fen(u64::try_from(fen).expect("positive")).expect("an amount")
}

fn date(text: &str) -> chrono::NaiveDate {
    text.parse().expect("a date")
}

/// A random next command and what the model predicts.
fn next_step(rng: &mut StdRng, model: &Model, applicants: &mut u32) -> Step {
    let pick_applicant = |rng: &mut StdRng, applicants: u32| rng.random_range(1..=applicants.max(1));
    match rng.random_range(0..100) {
        0..=14 => {
            let fen = rng.random_range(1..5_000_000i64) * 100;
            let (actor, accept, who) = match rng.random_range(0..6) {
                0 => (staff(Role::Finance, Jurisdiction::Guian), false, "Gui'an finance"),
                1 => (staff(Role::Bureau, GUIYANG), false, "bureau"),
                _ => (staff(Role::Finance, GUIYANG), true, "finance"),
            };
            Step {
                label: format!("{who} appropriates {fen} fen"),
                actor,
                command: Command::AppropriateBudget {
                    jurisdiction: GUIYANG,
                    fiscal_year: 2025,
                    amount: cny(fen),
                },
                accept,
                apply: Box::new(move |m| m.budget_fen += fen),
            }
        }
        15..=22 => {
            let face = 10_000_i64 * rng.random_range(1..=5);
            let total = face * rng.random_range(1..=400);
            let batch_id = uuid::Uuid::from_u128(rng.random());
            let accept = total <= model.budget_fen;
            Step {
                label: format!("bureau publishes a batch of {total} fen (budget {})", model.budget_fen),
                actor: staff(Role::Bureau, GUIYANG),
                command: Command::PublishBatch {
                    batch_id,
                    jurisdiction: GUIYANG,
                    fiscal_year: 2025,
                    name: "simulated batch".into(),
                    total: cny(total),
                    face_value: cny(face),
                    eligible_kinds: [ApplicantKind::Enterprise].into_iter().collect(),
                    eligible_industries: ["advanced_equipment".to_owned()].into_iter().collect(),
                    eligible_categories: ["technology_innovation".to_owned()].into_iter().collect(),
                    claim_opens: date("2025-03-01"),
                    claim_closes: date("2025-06-30"),
                    valid_until: date("2025-12-31"),
                    redemption_days: None,
                    max_voucher_share: None,
                },
                accept,
                apply: Box::new(move |m| {
                    m.budget_fen -= total;
                    m.batches.insert(batch_id, (total, face));
                    m.batch_order.push(batch_id);
                }),
            }
        }
        23..=42 => {
            // A new applicant most of the time; sometimes one already registered (refused), sometimes with a
            // token for another credit code (refused).
            let (n, accept, actor, what) = match rng.random_range(0..10) {
                0 if *applicants > 0 => {
                    let n = pick_applicant(rng, *applicants);
                    (n, !model.registered.contains(&n), applicant(n), "again")
                }
                1 => {
                    *applicants += 1;
                    (*applicants, false, applicant(*applicants + 10_000), "with another code's token")
                }
                _ => {
                    *applicants += 1;
                    (*applicants, true, applicant(*applicants), "")
                }
            };
            let registration = Registration {
                credit_code: code(n),
                name: format!("enterprise {n}"),
                kind: ApplicantKind::Enterprise,
                jurisdiction: GUIYANG,
                industry: Some("advanced_equipment".into()),
                project_code: None,
                independent_legal_person: true,
                tax_compliant: true,
            };
            Step {
                label: format!("applicant {n} registers {what}"),
                actor,
                command: Command::RegisterApplicant { registration },
                accept,
                apply: Box::new(move |m| {
                    m.registered.insert(n);
                }),
            }
        }
        43..=62 => {
            let n = pick_applicant(rng, *applicants);
            let (actor, authorized) = if rng.random_range(0..8) == 0 {
                (applicant(n), false)
            } else {
                (staff(Role::ServiceCenter, GUIYANG), true)
            };
            let accept = authorized && model.registered.contains(&n) && !model.verified.contains(&n);
            Step {
                label: format!("applicant {n} verified (authorized {authorized})"),
                actor,
                command: Command::DecideVerification {
                    credit_code: code(n),
                    decision: VerificationDecision::Verified,
                    reason: String::new(),
                },
                accept,
                apply: Box::new(move |m| {
                    m.verified.insert(n);
                }),
            }
        }
        _ => {
            let n = pick_applicant(rng, *applicants);
            let batch = if model.batch_order.is_empty() {
                uuid::Uuid::from_u128(rng.random())
            } else {
                model.batch_order[rng.random_range(0..model.batch_order.len())]
            };
            let (actor, own) = if rng.random_range(0..10) == 0 {
                (staff(Role::Bureau, GUIYANG), false)
            } else {
                (applicant(n), true)
            };
            let (remaining, face) = model.batches.get(&batch).copied().unwrap_or((0, 0));
            let accept = own
                && model.verified.contains(&n)
                && model.batches.contains_key(&batch)
                && !model.claimed.contains(&(n, batch))
                && remaining >= face;
            Step {
                label: format!("applicant {n} claims (own token {own}, batch remaining {remaining})"),
                actor,
                command: Command::ClaimVoucher {
                    batch_id: batch,
                    voucher_id: uuid::Uuid::from_u128(rng.random()),
                },
                accept,
                apply: Box::new(move |m| {
                    m.claimed.insert((n, batch));
                    if let Some((remaining, face)) = m.batches.get_mut(&batch) {
                        *remaining -= *face;
                    }
                }),
            }
        }
    }
}

/// The balances rebuilt from the log (`Loaded::from_log`, which verifies the chain) against the model's.
async fn check_balances(log: &dyn EventLog, model: &Model) -> Result<(), String> {
    let loaded = Loaded::from_log(log).await.map_err(|e| e.to_string())?;
    let ledger = &loaded.state.ledger;
    let budget = ledger.balance(GUIYANG, &Account::Budget { fiscal_year: 2025 });
    if budget != Balance::from_fen(model.budget_fen) {
        return Err(format!("budget {budget} in the log, {} fen in the model", model.budget_fen));
    }
    for (batch_id, (remaining, _)) in &model.batches {
        let pool = ledger.balance(GUIYANG, &Account::BatchPool { batch_id: *batch_id });
        if pool != Balance::from_fen(*remaining) {
            return Err(format!("batch {batch_id}: pool {pool} in the log, {remaining} fen in the model"));
        }
    }
    Ok(())
}

/// Runs one seed; Err names the first divergence.
async fn simulate(seed: u64, steps: usize) -> Result<(u64, BTreeMap<&'static str, u64>, u64), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (inner, _) = FileLog::open(dir.path()).map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(seed);
    let log = Arc::new(FaultyLog::new(inner, seed, 12));
    let now = chrono::DateTime::parse_from_rfc3339("2025-03-03T09:00:00+08:00").expect("date").to_utc();
    let (handle, shared) = writer::spawn(log.clone(), Loaded::empty(), engine::clock::Clock::manual(now));
    let mut model = Model::default();
    let mut applicants = 0u32;
    let mut unavailable = 0u64;

    for index in 0..steps {
        let step = next_step(&mut rng, &model, &mut applicants);
        let key = format!("sim-{seed}-{index}");
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&(index as u64).to_le_bytes());
        let fail = |why: String| format!("seed {seed} step {index} ({}): {why}", step.label);
        let mut result =
            handle.submit(step.command.clone(), step.actor.clone(), Some(key.clone()), digest).await;
        if let Err(WriteError::Unavailable(message)) = &result {
            // Not acknowledged. Whether it was stored depends on the fault; the retry must tell the truth.
            unavailable += 1;
            let stored = *log.last.lock().expect("last") == Some(Fault::FailedFsync);
            let head = log.head().await.map_err(|e| fail(e.to_string()))?.position;
            if !stored && head != model.records {
                return Err(fail(format!("a failed append moved the log head to {head} ({message})")));
            }
            log.paused.store(true, Ordering::SeqCst);
            result = handle.submit(step.command.clone(), step.actor.clone(), Some(key.clone()), digest).await;
            log.paused.store(false, Ordering::SeqCst);
            match &result {
                Ok(committed) if committed.replayed != stored => {
                    return Err(fail(format!(
                        "the retry said replayed={} but the failed append {} the command",
                        committed.replayed,
                        if stored { "had stored" } else { "had not stored" }
                    )));
                }
                Err(WriteError::Unavailable(message)) => {
                    return Err(fail(format!("the retry without faults failed: {message}")));
                }
                _ => {}
            }
        }
        match (&result, step.accept) {
            (Ok(committed), true) => {
                model.records += committed.events.len() as u64;
                (step.apply)(&mut model);
            }
            (Err(WriteError::Rejected(_)), false) => {}
            (Ok(committed), false) => {
                return Err(fail(format!("accepted what the model refuses: {:?}", committed.events)));
            }
            (Err(error), _) => return Err(fail(format!("the model accepts, the writer said: {error}"))),
        }

        // After every step: heads agree and the balances rebuilt from the log are the model's.
        let log_head = log.head().await.map_err(|e| fail(e.to_string()))?.position;
        let writer_head = shared.head.borrow().position;
        if log_head != model.records || writer_head != model.records {
            return Err(fail(format!(
                "heads: log {log_head}, writer {writer_head}, acknowledged records {}",
                model.records
            )));
        }
        check_balances(log.as_ref(), &model).await.map_err(fail)?;
    }
    drop(handle);
    match engine::verify::verify_log(log.as_ref()).await {
        Ok(engine::verify::Verdict::Intact { .. }) => {}
        other => return Err(format!("seed {seed}: the log does not verify at the end: {other:?}")),
    }
    let faults = log.faults.lock().expect("faults").clone();
    Ok((model.records, faults, unavailable))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_simulation_with_storage_faults_matches_the_reference_model() {
    let steps: usize =
        std::env::var("VOUCHER_LEDGER_SIM_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(150);
    let seeds: Vec<u64> = match std::env::var("VOUCHER_LEDGER_SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => {
            let base = u64::from(std::process::id()).wrapping_mul(0x9e37_79b9);
            (0..6).map(|i| base.wrapping_add(i)).collect()
        }
    };
    let mut records = 0;
    let mut unavailable = 0;
    let mut faults: BTreeMap<&'static str, u64> = BTreeMap::new();
    for &seed in &seeds {
        match simulate(seed, steps).await {
            Ok((r, f, u)) => {
                records += r;
                unavailable += u;
                for (kind, count) in f {
                    *faults.entry(kind).or_default() += count;
                }
            }
            Err(failure) => panic!(
                "{failure}\nreproduce: VOUCHER_LEDGER_SIM_SEED={seed} cargo test -p e2e --test simulation"
            ),
        }
    }
    println!(
        "simulation: seeds={} steps={} records={records} unavailable_answers={unavailable} faults={faults:?} divergences=0",
        seeds.len(),
        seeds.len() * steps
    );
    assert!(faults.values().sum::<u64>() > 0, "no fault was injected");
}

/// What one seed of the concurrent simulation did.
#[derive(Default, Debug)]
struct ConcurrentRun {
    commands: u64,
    records: u64,
    /// Appends that carried commands (one per round of a step: the step's group, then its retries).
    groups: u64,
    largest_group: usize,
    unavailable: u64,
    /// Commands answered `Unavailable` whose append had stored them (failed fsync), found `replayed` on retry.
    stored_by_failed_fsync: u64,
    faults: BTreeMap<&'static str, u64>,
}

/// The digest of step `index`'s command `j` (unique per command, as a client's request digest would be).
fn batch_digest(index: usize, j: usize) -> [u8; 32] {
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&(index as u64).to_le_bytes());
    digest[8..16].copy_from_slice(&(j as u64).to_le_bytes());
    digest
}

/// Submits `commands` to the writer concurrently and waits for every answer.
///
/// The submissions are futures polled together by `join_all` inside one task of a current-thread runtime,
/// with tokio's cooperative budget lifted (`unconstrained`): the first poll puts every command in the
/// writer's channel before the writer task can run, so the writer takes them all in one group, in this
/// order. The grouping is thus a function of the seed, and the test checks it (one append per round).
async fn submit_together(
    handle: &writer::WriterHandle,
    commands: Vec<(Command, Actor, String, [u8; 32])>,
) -> Vec<Result<writer::Committed, WriteError>> {
    let submissions = commands.into_iter().map(|(command, actor, key, digest)| async move {
        handle.submit(command, actor, Some(key), digest).await
    });
    tokio::task::unconstrained(futures::future::join_all(submissions)).await
}

/// The appends made since `from`, the fault of the one carrying commands (at most one is allowed).
fn round_append(log: &FaultyLog, from: usize, what: &str) -> Result<Option<Append>, String> {
    let appends = log.appends.lock().expect("appends");
    let made: Vec<Append> = appends[from..].iter().copied().filter(|a| a.commands > 0).collect();
    match made.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        more => Err(format!("the {what} took {} appends, not one group: {more:?}", more.len())),
    }
}

/// Runs one seed of the concurrent simulation; Err names the first divergence.
async fn simulate_concurrent(seed: u64, steps: usize) -> Result<ConcurrentRun, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (inner, _) = FileLog::open(dir.path()).map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(seed);
    // A fault at 15% of appends: an append carries 2-16 commands, so most steps see one in a few.
    let log = Arc::new(FaultyLog::new(inner, seed, 15));
    let now = chrono::DateTime::parse_from_rfc3339("2025-03-03T09:00:00+08:00").expect("date").to_utc();
    let (handle, shared) = writer::spawn(log.clone(), Loaded::empty(), engine::clock::Clock::manual(now));
    let mut model = Model::default();
    let mut applicants = 0u32;
    let mut run = ConcurrentRun::default();

    for index in 0..steps {
        // The step's commands, each predicted against the model as left by the ones before it: the writer
        // decides a group in channel order, each command against the state its predecessors left.
        let count = rng.random_range(2..=16usize);
        let mut speculative = model.clone();
        let mut batch = Vec::with_capacity(count);
        for _ in 0..count {
            let step = next_step(&mut rng, &speculative, &mut applicants);
            if step.accept {
                (step.apply)(&mut speculative);
            }
            batch.push(step);
        }
        run.commands += count as u64;
        let key = |j: usize| format!("sim-{seed}-{index}-{j}");
        let fail = |j: Option<usize>, why: String| match j {
            Some(j) => format!("seed {seed} step {index} command {j} of {count} ({}): {why}", batch[j].label),
            None => format!("seed {seed} step {index} ({count} commands): {why}"),
        };

        // Round 1: the whole batch at once, faults on.
        let before = log.appends.lock().expect("appends").len();
        let submissions = batch
            .iter()
            .enumerate()
            .map(|(j, step)| (step.command.clone(), step.actor.clone(), key(j), batch_digest(index, j)))
            .collect();
        let mut answers = submit_together(&handle, submissions).await;
        let group = round_append(&log, before, "batch").map_err(|why| fail(None, why))?;
        let failed = group.and_then(|append| append.fault);
        let stored_by_fault = failed == Some(Fault::FailedFsync);
        let mut pending = 0usize;
        for (j, answer) in answers.iter().enumerate() {
            let step = &batch[j];
            match answer {
                Ok(committed) if committed.replayed => {
                    return Err(fail(Some(j), "a fresh key was answered replayed".into()));
                }
                Ok(_) if failed.is_some() => {
                    return Err(fail(
                        Some(j),
                        format!("acknowledged although its group's append failed ({failed:?})"),
                    ));
                }
                Ok(committed) if !step.accept => {
                    return Err(fail(
                        Some(j),
                        format!("accepted what the model refuses: {:?}", committed.events),
                    ));
                }
                Err(WriteError::Unavailable(message)) if failed.is_none() => {
                    return Err(fail(
                        Some(j),
                        format!("answered unavailable without a failed append: {message}"),
                    ));
                }
                Err(WriteError::Unavailable(_)) | Ok(_) if step.accept => pending += 1,
                Err(WriteError::Rejected(_)) if !step.accept => {}
                Err(WriteError::Unavailable(_)) => {
                    return Err(fail(
                        Some(j),
                        "decided for the log (then unavailable), the model refuses it".into(),
                    ));
                }
                Err(error) if step.accept => {
                    return Err(fail(Some(j), format!("the model accepts, the writer said: {error}")));
                }
                Err(error) => return Err(fail(Some(j), format!("refused, but not by a rule: {error}"))),
                Ok(_) => unreachable!("every acceptance the model refuses returned above"),
            }
        }
        if group.map_or(0, |append| append.commands) != pending {
            return Err(fail(
                None,
                format!("{pending} commands decided for the log, the group's append carried {group:?}"),
            ));
        }
        run.largest_group = run.largest_group.max(pending);

        // A failed append: the log holds the whole group (failed fsync) or nothing of it.
        let head = log.head().await.map_err(|e| fail(None, e.to_string()))?.position;
        if failed.is_some() {
            let expected_moved = stored_by_fault && pending > 0;
            if (head != model.records) != expected_moved {
                return Err(fail(
                    None,
                    format!("after a {failed:?} the log head is {head}, it was {} before", model.records),
                ));
            }
        }

        // Round 2: every command answered unavailable, again together with its key, faults paused. Each
        // must now be acknowledged, `replayed` exactly when the failed append had stored it.
        let retried: Vec<usize> = answers
            .iter()
            .enumerate()
            .filter(|(_, answer)| matches!(answer, Err(WriteError::Unavailable(_))))
            .map(|(j, _)| j)
            .collect();
        if !retried.is_empty() {
            run.unavailable += retried.len() as u64;
            log.paused.store(true, Ordering::SeqCst);
            let before = log.appends.lock().expect("appends").len();
            let submissions = retried
                .iter()
                .map(|&j| (batch[j].command.clone(), batch[j].actor.clone(), key(j), batch_digest(index, j)))
                .collect();
            let again = submit_together(&handle, submissions).await;
            log.paused.store(false, Ordering::SeqCst);
            let retry_group = round_append(&log, before, "retry").map_err(|why| fail(None, why))?;
            if retry_group.is_some() == stored_by_fault {
                return Err(fail(
                    None,
                    format!("the retries after a {failed:?} made the append {retry_group:?}"),
                ));
            }
            for (&j, answer) in retried.iter().zip(again) {
                match &answer {
                    Ok(committed) if committed.replayed != stored_by_fault => {
                        return Err(fail(
                            Some(j),
                            format!(
                                "the retry said replayed={} but the failed append ({failed:?}) {} the command",
                                committed.replayed,
                                if stored_by_fault { "had stored" } else { "had not stored" }
                            ),
                        ));
                    }
                    Ok(_) => {}
                    Err(error) => {
                        return Err(fail(Some(j), format!("the retry without faults failed: {error}")));
                    }
                }
                if stored_by_fault {
                    run.stored_by_failed_fsync += 1;
                }
                answers[j] = answer;
            }
        }

        // What is stored, in the writer's order: by log position. Contiguous from the old head, each
        // command once, each record the acknowledged one (position, hash, idempotency key).
        let mut stored: Vec<(u64, u64, usize)> = answers
            .iter()
            .enumerate()
            .filter_map(|(j, answer)| answer.as_ref().ok().map(|c| (j, c)))
            .map(|(j, c)| (c.events.first().map_or(0, |e| e.position), c.position, j))
            .collect();
        stored.sort_unstable();
        let mut next = model.records + 1;
        for &(first, last, j) in &stored {
            if first != next || last < first {
                return Err(fail(
                    Some(j),
                    format!("stored at {first}..={last}, the log's next position was {next}"),
                ));
            }
            next = last + 1;
        }
        let head = log.head().await.map_err(|e| fail(None, e.to_string()))?.position;
        if head != next - 1 {
            return Err(fail(
                None,
                format!("log head {head}, the acknowledged commands end at {}", next - 1),
            ));
        }
        let records = if head > model.records {
            log.read_batch(model.records + 1, usize::try_from(head - model.records).expect("small"))
                .await
                .map_err(|e| fail(None, e.to_string()))?
        } else {
            Vec::new()
        };
        for &(_, _, j) in &stored {
            let Ok(committed) = &answers[j] else { unreachable!("stored answers are Ok") };
            for event in &committed.events {
                let offset = usize::try_from(event.position - model.records - 1).expect("small");
                let Some(record) = records.get(offset) else {
                    return Err(fail(Some(j), format!("position {} is not in the log", event.position)));
                };
                let decoded =
                    ledger_proto::decode_record(record).map_err(|e| fail(Some(j), e.to_string()))?;
                if record.position != event.position
                    || record.hash != event.hash
                    || decoded.meta.idempotency_key.as_deref() != Some(key(j).as_str())
                {
                    return Err(fail(
                        Some(j),
                        format!(
                            "position {}: the log holds key {:?}, not the acknowledged record",
                            event.position, decoded.meta.idempotency_key
                        ),
                    ));
                }
            }
        }

        // The model takes exactly the stored commands, in log order; that order must be one the writer
        // could decide in (the channel's, here the submission order), and the result the prediction.
        let order: Vec<usize> = stored.iter().map(|&(_, _, j)| j).collect();
        if !order.is_sorted() {
            return Err(fail(None, format!("the log's order of the step's commands is {order:?}")));
        }
        for &j in &order {
            if !batch[j].accept {
                return Err(fail(Some(j), "stored, but the model refuses it".into()));
            }
            (batch[j].apply)(&mut model);
        }
        model.records = head;
        speculative.records = head;
        if model != speculative {
            return Err(fail(None, "the stored commands are not the ones the model accepts".into()));
        }
        let writer_head = shared.head.borrow().position;
        if writer_head != model.records {
            return Err(fail(None, format!("writer head {writer_head}, log head {}", model.records)));
        }
        check_balances(log.as_ref(), &model).await.map_err(|why| fail(None, why))?;
        if index % 25 == 24 {
            match engine::verify::verify_log(log.as_ref()).await {
                Ok(engine::verify::Verdict::Intact { .. }) => {}
                other => return Err(fail(None, format!("the log does not verify: {other:?}"))),
            }
        }
    }
    drop(handle);
    match engine::verify::verify_log(log.as_ref()).await {
        Ok(engine::verify::Verdict::Intact { .. }) => {}
        other => return Err(format!("seed {seed}: the log does not verify at the end: {other:?}")),
    }
    run.records = model.records;
    run.groups = log.appends.lock().expect("appends").iter().filter(|a| a.commands > 0).count() as u64;
    run.faults = log.faults.lock().expect("faults").clone();
    Ok(run)
}

/// The concurrent variant: each step submits 2-16 commands at once, so the writer's group commit puts
/// them in one append, while faults are injected; a failed append fails the whole group.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_submitters_with_storage_faults_match_the_reference_model() {
    let steps: usize =
        std::env::var("VOUCHER_LEDGER_SIM_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seeds: Vec<u64> = match std::env::var("VOUCHER_LEDGER_SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => {
            let base = u64::from(std::process::id()).wrapping_mul(0x9e37_79b9) ^ 0xc0c0;
            (0..4).map(|i| base.wrapping_add(i)).collect()
        }
    };
    let mut total = ConcurrentRun::default();
    for &seed in &seeds {
        match simulate_concurrent(seed, steps).await {
            Ok(run) => {
                total.commands += run.commands;
                total.records += run.records;
                total.groups += run.groups;
                total.largest_group = total.largest_group.max(run.largest_group);
                total.unavailable += run.unavailable;
                total.stored_by_failed_fsync += run.stored_by_failed_fsync;
                for (kind, count) in run.faults {
                    *total.faults.entry(kind).or_default() += count;
                }
            }
            Err(failure) => panic!(
                "{failure}\nreproduce: VOUCHER_LEDGER_SIM_SEED={seed} cargo test -p e2e --test simulation concurrent"
            ),
        }
    }
    println!(
        "simulation concurrent: seeds={} steps={} commands={} records={} groups={} largest_group={} \
         unavailable_answers={} stored_by_failed_fsync={} faults={:?} divergences=0",
        seeds.len(),
        seeds.len() * steps,
        total.commands,
        total.records,
        total.groups,
        total.largest_group,
        total.unavailable,
        total.stored_by_failed_fsync,
        total.faults
    );
    assert!(total.faults.values().sum::<u64>() > 0, "no fault was injected");
    assert!(total.largest_group > 1, "no append carried more than one command");
}
