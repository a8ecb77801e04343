//! The kill test (Jepsen-style, on one node): the real `voucher-ledger serve`, several HTTP clients
//! submitting a seeded mixed workload (appropriations; register → verify → claim chains; re-sends of
//! acknowledged commands), a fault at a random moment, and after every round:
//!
//! - every in-flight command (sent, no answer or a 5xx) is retried with its Idempotency-Key until answered;
//! - every acknowledged command's events are in the log at the acknowledged positions with the acknowledged
//!   hashes (`lost` counts those that are not);
//! - every record of the log belongs to exactly one command that was sent (nothing beyond what was sent,
//!   no retry recorded twice); a re-send of an acknowledged command gets the first answer back;
//! - the chain verifies and SPEC §5's invariants hold (`voucher-ledger verify`).
//!
//! Two backends, two tests:
//!
//! - the embedded file log: every round ends with `kill -9` of the ledger and a restart;
//! - PostgreSQL (a fresh database on a cluster of its own beside the one of `scripts/test.sh`; ignored without
//!   that cluster, failing when `VOUCHER_LEDGER_REQUIRE_POSTGRES=1`): rounds alternate between `kill -9` of the ledger
//!   and a crash of the PostgreSQL server itself (`scripts/pg-cluster.sh crash`, an immediate stop, on the
//!   cluster of `VOUCHER_LEDGER_TEST_POSTGRES_DIR`) with the ledger left running. While the database is
//!   down, a fresh command must be answered 503 `application/problem+json` and `/readyz` 503 with
//!   `store_reachable: false`; after `pg-cluster.sh restart` the same ledger process must become ready and
//!   accept commands again by itself. Commands answered with an error during the outage may have committed
//!   (the commit's outcome is unknown): their idempotent retry must find them (`replayed: true`) and not
//!   record them twice.
//!
//! In the test suite the file log takes 5 kills, PostgreSQL 3 kills and 2 server crashes.
//! `scripts/soak.sh SECONDS` sets `VOUCHER_LEDGER_SOAK_SECONDS` and runs both for that long;
//! `VOUCHER_LEDGER_SOAK_SEED` fixes the seed (printed either way). Each prints a last line
//! `soak file: kills=K acknowledged=A lost=L violations=V` or
//! `soak postgres: kills=K pg_restarts=R acknowledged=A lost=L violations=V`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::{Jurisdiction, Role};
use e2e::{
    Backend, Client, MORNING, PostgresCluster, ServerProcess, TestStore, credit_code, run_verify_on, token,
};
use engine::open::{Access, StoreSpec};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;
const CLIENTS: u32 = 4;

/// The longest an answer may take: beyond it the request counts as unanswered (and is a violation).
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// One command as sent: replayable with its key.
#[derive(Clone, Debug)]
struct Sent {
    key: String,
    path: String,
    body: String,
    token: String,
}

/// What an acknowledgement said: the positions and hashes of its events.
type Events = Vec<(u64, String)>;

#[derive(Default)]
struct Book {
    /// Acknowledged commands (2xx) by key, with their events.
    acknowledged: BTreeMap<String, (Sent, Events)>,
    /// Commands refused with a 4xx (they must have appended nothing).
    refused: u64,
    /// Sent without an answer (transport error or 5xx): retried after the restart.
    in_flight: Vec<Sent>,
    /// Answers that were 503 (the ledger up, its store not).
    unavailable: u64,
    /// Re-sends of acknowledged commands.
    resent: u64,
    /// Retries of in-flight commands that found their command already recorded (`replayed: true`).
    replayed_after_kill: u64,
    /// Of those, after a PostgreSQL crash: answered with an error (or not at all) though committed.
    replayed_after_crash: u64,
    /// Requests sent and not yet answered, now.
    sending: u64,
    /// Requests that were on their way at each `kill -9`, summed.
    in_flight_at_kills: u64,
    /// After each restart from a kill: the last command acknowledged before the kill, re-sent with its key,
    /// answered with its first answer (`replayed: true`).
    replayed_after_restart: u64,
    violations: Vec<String>,
}

#[derive(Debug)]
enum Reply {
    Accepted(Events, bool),
    Refused,
    /// No answer (the process died), or a 5xx.
    Unknown,
}

/// What a client did in one round, shared by its tasks.
struct Round {
    base: String,
    book: Arc<Mutex<Book>>,
    stop: Arc<AtomicBool>,
    batch_id: String,
}

async fn send(client: &Client, book: &Mutex<Book>, sent: &Sent) -> Reply {
    book.lock().expect("book").sending += 1;
    let answer = tokio::time::timeout(
        ANSWER_WITHIN,
        client.post_raw(&sent.path, Some(&sent.token), &sent.body, Some(&sent.key)),
    )
    .await;
    book.lock().expect("book").sending -= 1;
    match answer {
        Err(_elapsed) => {
            book.lock().expect("book").violations.push(format!(
                "{} not answered within {}s (a hang)",
                sent.key,
                ANSWER_WITHIN.as_secs()
            ));
            Reply::Unknown
        }
        Ok(Ok(answer)) if (200..300).contains(&answer.status) => {
            let events = answer.body["events"]
                .as_array()
                .map(|events| {
                    events
                        .iter()
                        .map(|e| {
                            (e["position"].as_u64().unwrap_or(0), e["hash"].as_str().unwrap_or("").to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            Reply::Accepted(events, answer.body["replayed"] == true)
        }
        Ok(Ok(answer)) if (400..500).contains(&answer.status) => Reply::Refused,
        Ok(Ok(answer)) => {
            if answer.status == 503 {
                book.lock().expect("book").unavailable += 1;
            }
            Reply::Unknown
        }
        Ok(Err(_transport)) => Reply::Unknown,
    }
}

/// Sends and books the outcome; true when accepted.
async fn submit(client: &Client, book: &Mutex<Book>, sent: Sent) -> bool {
    let reply = send(client, book, &sent).await;
    let unknown = matches!(reply, Reply::Unknown);
    {
        let mut book = book.lock().expect("book");
        match reply {
            Reply::Accepted(events, _) => {
                book.acknowledged.insert(sent.key.clone(), (sent, events));
                return true;
            }
            Reply::Refused => book.refused += 1,
            Reply::Unknown => book.in_flight.push(sent),
        }
    }
    if unknown {
        // The ledger is down or its store is: do not spin.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// One client's share of the workload until `stop`.
async fn client_loop(round: Arc<Round>, seed: u64, client_id: u32) {
    let Round { base, book, stop, batch_id } = round.as_ref();
    let client = Client::new(base);
    let mut rng = StdRng::seed_from_u64(seed);
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let center = token(Role::ServiceCenter, GUIYANG, "center-1", None);
    let mut sequence = 0u64;
    while !stop.load(Ordering::SeqCst) {
        sequence += 1;
        let key = |step: &str| format!("soak-{seed}-{client_id}-{sequence}-{step}");
        match rng.random_range(0..10) {
            0..=3 => {
                let cents: u64 = rng.random_range(1..1_000_000);
                let body = json!({ "amount": format!("{}.{:02}", cents / 100, cents % 100) }).to_string();
                let path = "/v1/budgets/guiyang/2025/appropriations".to_owned();
                submit(&client, book, Sent { key: key("a"), path, body, token: finance.clone() }).await;
            }
            4..=8 => {
                // A fresh applicant for this client and sequence number.
                let n = NEXT_APPLICANT.fetch_add(1, Ordering::SeqCst);
                let code = credit_code(n);
                let own = token(Role::Enterprise, GUIYANG, &format!("applicant-{n}"), Some(&code));
                let registration = json!({ "credit_code": code, "name": format!("enterprise {n}"),
                    "kind": "enterprise", "jurisdiction": "guiyang", "industry": "advanced_equipment",
                    "independent_legal_person": true, "tax_compliant": true })
                .to_string();
                let steps = [
                    Sent {
                        key: key("r"),
                        path: "/v1/applicants".into(),
                        body: registration,
                        token: own.clone(),
                    },
                    Sent {
                        key: key("v"),
                        path: format!("/v1/applicants/{code}/verification"),
                        body: json!({ "decision": "verified" }).to_string(),
                        token: center.clone(),
                    },
                    Sent {
                        key: key("c"),
                        path: format!("/v1/batches/{batch_id}/claims"),
                        body: "{}".into(),
                        token: own.clone(),
                    },
                ];
                for step in steps {
                    if stop.load(Ordering::SeqCst) || !submit(&client, book, step).await {
                        break;
                    }
                }
            }
            _ => {
                // Re-send an acknowledged command: the first answer comes back, nothing is recorded.
                let pick = {
                    let book = book.lock().expect("book");
                    let len = book.acknowledged.len();
                    (len > 0)
                        .then(|| book.acknowledged.values().nth(rng.random_range(0..len)).cloned())
                        .flatten()
                };
                if let Some((sent, events)) = pick {
                    let reply = send(&client, book, &sent).await;
                    let mut book = book.lock().expect("book");
                    book.resent += 1;
                    match reply {
                        Reply::Accepted(again, true) if again == events => {}
                        Reply::Unknown => {}
                        Reply::Accepted(again, replayed) => book.violations.push(format!(
                            "re-send of {} answered replayed={replayed} {again:?}, first answer {events:?}",
                            sent.key
                        )),
                        Reply::Refused => book.violations.push(format!("re-send of {} refused", sent.key)),
                    }
                }
            }
        }
    }
}

/// Applicant numbers, unique over the whole run (both tests of this binary).
static NEXT_APPLICANT: AtomicU32 = AtomicU32::new(1);

/// Checks the log (no writer running) against the book; returns the number of lost acknowledged events.
async fn check(spec: &StoreSpec, book: &mut Book) -> u64 {
    let mut expected: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for (key, (_, events)) in &book.acknowledged {
        for (position, hash) in events {
            if let Some((other, _)) = expected.insert(*position, (hash.clone(), key.clone())) {
                book.violations.push(format!("position {position} acknowledged to both {other} and {key}"));
            }
        }
    }
    let log = engine::open::open_store(spec, Access::ReadOnly).await.expect("open the log read-only").log;
    let mut seen = BTreeSet::new();
    let mut records = log.read_from(1);
    while let Some(record) = records.next().await {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                book.violations.push(format!("reading the log: {error}"));
                break;
            }
        };
        seen.insert(record.position);
        match expected.get(&record.position) {
            Some((hash, key)) if *hash != hex::encode(record.hash) => book
                .violations
                .push(format!("position {} of {key} has another hash than acknowledged", record.position)),
            Some(_) => {}
            None => book
                .violations
                .push(format!("position {} belongs to no command that was answered", record.position)),
        }
    }
    drop(records);
    drop(log);
    let lost = expected.keys().filter(|position| !seen.contains(position)).count() as u64;
    let verification = run_verify_on(spec).expect("verify runs");
    // A kill in the middle of an append leaves a torn tail, which the restart moved to quarantine: verify
    // then exits 2 with the chain intact (`verify: QUARANTINE`), which is expected here.
    let quarantined =
        verification.code == Some(2) && verification.stdout.contains("verify: QUARANTINE records=");
    if !verification.success && !quarantined {
        book.violations.push(format!(
            "verify: {} {}",
            verification.stdout.trim(),
            verification.stderr.trim()
        ));
    }
    lost
}

/// Retries every in-flight command with its key until it is answered (on a ledger that is up), 8 at a time.
async fn retry_in_flight(client: &Client, book: &Mutex<Book>, after_crash: bool) {
    let in_flight = std::mem::take(&mut book.lock().expect("book").in_flight);
    futures::stream::iter(in_flight)
        .map(|sent| async move {
            let mut reply = Reply::Unknown;
            for _ in 0..20 {
                reply = send(client, book, &sent).await;
                if !matches!(reply, Reply::Unknown) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let mut book = book.lock().expect("book");
            match reply {
                Reply::Accepted(events, replayed) => {
                    book.replayed_after_kill += u64::from(replayed);
                    book.replayed_after_crash += u64::from(replayed && after_crash);
                    book.acknowledged.insert(sent.key.clone(), (sent, events));
                }
                Reply::Refused => book.refused += 1,
                Reply::Unknown => book.violations.push(format!("retry of {} never answered", sent.key)),
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
}

/// Runs a blocking step (pg_ctl) off the runtime's workers, so the clients keep going meanwhile.
async fn blocking<T: Send + 'static>(step: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(step).await.expect("blocking step")
}

/// What a soak run counted.
#[derive(Debug, Default)]
struct Totals {
    kills: u64,
    pg_restarts: u64,
    /// Acknowledged commands, setup's 2 included.
    acknowledged: u64,
    lost: u64,
    violations: u64,
    in_flight_at_kills: u64,
    replayed_after_restart: u64,
}

/// What `setup` acknowledges (the budget and the batch): progress is counted beyond it.
const SETUP_COMMANDS: u64 = 2;

/// How long and with which faults a soak runs.
struct Plan {
    /// The backend's name in the printed lines.
    label: &'static str,
    seconds: u64,
    kills_min: u64,
    /// The PostgreSQL cluster to crash every other round, and at least how many times.
    cluster: Option<(PostgresCluster, u64)>,
    seed: u64,
}

/// Starts the clients of one round on `server`.
fn start_clients(
    server: &ServerProcess,
    book: &Arc<Mutex<Book>>,
    batch_id: &str,
    seed: u64,
    round: u64,
) -> (Arc<AtomicBool>, Vec<tokio::task::JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Round {
        base: server.base.clone(),
        book: book.clone(),
        stop: stop.clone(),
        batch_id: batch_id.to_owned(),
    });
    let clients = (0..CLIENTS)
        .map(|id| {
            let round_seed = seed.wrapping_mul(31).wrapping_add(round * 131 + u64::from(id));
            tokio::spawn(client_loop(shared.clone(), round_seed, id))
        })
        .collect();
    (stop, clients)
}

/// The budget and one large batch; returns the batch id.
async fn setup(spec: &StoreSpec, book: &Mutex<Book>) -> String {
    let server = ServerProcess::start_on(spec, MORNING).expect("server");
    let client = Client::new(&server.base);
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let bureau = token(Role::Bureau, GUIYANG, "bureau-1", None);
    let budget = Sent {
        key: "setup-budget".into(),
        path: "/v1/budgets/guiyang/2025/appropriations".into(),
        body: json!({ "amount": "900000000.00" }).to_string(),
        token: finance,
    };
    assert!(submit(&client, book, budget).await, "setup budget");
    let batch = json!({
        "jurisdiction": "guiyang", "fiscal_year": 2025, "name": "soak batch",
        "total": "800000000.00", "face_value": "100.00",
        "eligible_kinds": ["enterprise"], "eligible_industries": ["advanced_equipment"],
        "eligible_categories": ["technology_innovation"],
        "claim_opens": "2025-03-01", "claim_closes": "2025-06-30", "valid_until": "2025-12-31"
    });
    let answer = client
        .post_raw("/v1/batches", Some(&bureau), &batch.to_string(), Some("setup-batch"))
        .await
        .expect("batch");
    assert_eq!(answer.status, 201, "{answer:?}");
    let batch_id = answer.body["batch_id"].as_str().expect("batch_id").to_owned();
    let events = answer.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["position"].as_u64().unwrap_or(0), e["hash"].as_str().unwrap_or("").to_owned()))
        .collect();
    let sent = Sent {
        key: "setup-batch".into(),
        path: "/v1/batches".into(),
        body: batch.to_string(),
        token: bureau,
    };
    book.lock().expect("book").acknowledged.insert("setup-batch".into(), (sent, events));
    server.kill();
    batch_id
}

/// Waits until more than `before` commands are acknowledged (a condition polled against a deadline); false
/// when none was within 30 s.
async fn acknowledged_beyond(book: &Mutex<Book>, before: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while book.lock().expect("book").acknowledged.len() <= before {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// A round ending in `kill -9` of the ledger: restart it and retry what was in flight. The kill comes
/// `pause` ms after the round's first acknowledgement (so every round makes progress before its fault), and
/// the commands on their way at that moment are counted (a round with none is a violation: the kill would
/// have tested nothing). After the restart, the last command acknowledged before the kill is re-sent with
/// its key and must be answered with its first answer.
async fn kill_round(
    spec: &StoreSpec,
    book: &Arc<Mutex<Book>>,
    batch_id: &str,
    seed: u64,
    round: u64,
    pause: u64,
) {
    let violation =
        |what: String| book.lock().expect("book").violations.push(format!("round {round}: {what}"));
    let before = book.lock().expect("book").acknowledged.len();
    let server = ServerProcess::start_on(spec, MORNING).expect("server restarts");
    let (stop, clients) = start_clients(&server, book, batch_id, seed, round);
    if !acknowledged_beyond(book, before).await {
        violation("no command acknowledged within 30 s of the start".into());
    }
    tokio::time::sleep(Duration::from_millis(pause)).await;
    let in_flight = book.lock().expect("book").sending;
    server.kill();
    book.lock().expect("book").in_flight_at_kills += in_flight;
    if in_flight == 0 {
        violation("no command was in flight at the kill".into());
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    // The last acknowledgement before the kill (the highest position acknowledged).
    let last = book
        .lock()
        .expect("book")
        .acknowledged
        .values()
        .filter_map(|(sent, events)| {
            Some((events.iter().map(|(position, _)| *position).max()?, sent, events))
        })
        .max_by_key(|(position, _, _)| *position)
        .map(|(_, sent, events)| (sent.clone(), events.clone()));
    let server = ServerProcess::start_on(spec, MORNING).expect("server restarts");
    let client = Client::new(&server.base);
    match last {
        Some((sent, events)) => match send(&client, book, &sent).await {
            Reply::Accepted(again, true) if again == events => {
                book.lock().expect("book").replayed_after_restart += 1;
            }
            other => violation(format!(
                "{} (acknowledged last before the kill) re-sent after the restart: {other:?}, first {events:?}",
                sent.key
            )),
        },
        None => violation("nothing acknowledged before the kill".into()),
    }
    retry_in_flight(&client, book, false).await;
    server.kill();
}

/// Polls `/readyz` until its status is `want` (or `deadline` passes); returns the last answer's body.
async fn readyz_until(client: &Client, want: u16, within: Duration) -> Result<serde_json::Value, String> {
    let deadline = Instant::now() + within;
    loop {
        let last = match tokio::time::timeout(Duration::from_secs(10), client.get("/readyz", None)).await {
            Ok(Ok(answer)) if answer.status == want => return Ok(answer.body),
            Ok(Ok(answer)) => format!("{} {}", answer.status, answer.body),
            Ok(Err(error)) => format!("{error:#}"),
            Err(_) => "no answer within 10 s".into(),
        };
        if Instant::now() > deadline {
            return Err(last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A round with the PostgreSQL server crashed under load and restarted, the ledger left running.
async fn postgres_round(
    spec: &StoreSpec,
    cluster: &PostgresCluster,
    book: &Arc<Mutex<Book>>,
    batch_id: &str,
    seed: u64,
    round: u64,
    rng: &mut StdRng,
) {
    let violation =
        |what: String| book.lock().expect("book").violations.push(format!("round {round}: {what}"));
    let server = ServerProcess::start_on(spec, MORNING).expect("server starts");
    let client = Client::new(&server.base);
    let (stop, clients) = start_clients(&server, book, batch_id, seed, round);
    tokio::time::sleep(Duration::from_millis(rng.random_range(50..600))).await;
    let crashed = cluster.clone();
    blocking(move || crashed.crash()).await.expect("crash the PostgreSQL cluster");

    // While the database is down: not ready, and a fresh command is refused at once with a problem.
    match readyz_until(&client, 503, Duration::from_secs(5)).await {
        Ok(body) if body["store_reachable"] == false && body["ready"] == false => {}
        Ok(body) => violation(format!("/readyz while PostgreSQL was down: {body}")),
        Err(last) => violation(format!("/readyz while PostgreSQL was down: {last}")),
    }
    let probe = Sent {
        key: format!("soak-{seed}-probe-{round}"),
        path: "/v1/budgets/guiyang/2025/appropriations".into(),
        body: json!({ "amount": "1.00" }).to_string(),
        token: token(Role::Finance, GUIYANG, "finance-1", None),
    };
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(15),
        client.post_raw(&probe.path, Some(&probe.token), &probe.body, Some(&probe.key)),
    )
    .await;
    match answer {
        Ok(Ok(answer))
            if answer.status == 503 && answer.content_type.starts_with("application/problem+json") => {}
        Ok(Ok(answer)) => violation(format!("a command while PostgreSQL was down was answered {answer:?}")),
        Ok(Err(error)) => violation(format!("a command while PostgreSQL was down: {error:#}")),
        Err(_) => {
            violation(format!("a command while PostgreSQL was down: no answer in {:?}", started.elapsed()))
        }
    }
    // Unanswered or refused with 503: retried with its key once the database is back.
    book.lock().expect("book").in_flight.push(probe);
    tokio::time::sleep(Duration::from_millis(rng.random_range(200..1500))).await;

    let restarted = cluster.clone();
    blocking(move || restarted.restart()).await.expect("restart the PostgreSQL cluster");
    // The same process becomes ready and accepts commands again by itself.
    if let Err(last) = readyz_until(&client, 200, Duration::from_secs(30)).await {
        violation(format!("not ready 30 s after PostgreSQL came back: {last}"));
    }
    let before = book.lock().expect("book").acknowledged.len();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..400))).await;
        if book.lock().expect("book").acknowledged.len() > before {
            break;
        }
        if Instant::now() > deadline {
            violation("no command acknowledged within 30 s after PostgreSQL came back".into());
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    retry_in_flight(&client, book, true).await;
    server.kill();
}

async fn soak(spec: &StoreSpec, plan: &Plan) -> Totals {
    let book = Arc::new(Mutex::new(Book::default()));
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let started = Instant::now();
    let batch_id = setup(spec, &book).await;

    let mut totals = Totals::default();
    let restarts_min = plan.cluster.as_ref().map_or(0, |(_, min)| *min);
    let mut round = 0u64;
    while totals.kills < plan.kills_min
        || totals.pg_restarts < restarts_min
        || started.elapsed() < Duration::from_secs(plan.seconds)
    {
        round += 1;
        // With a cluster to crash: every other round, while crashes are owed or kills are not.
        let crash = match &plan.cluster {
            Some(_) if totals.kills >= plan.kills_min && totals.pg_restarts < restarts_min => true,
            Some(_) if totals.pg_restarts >= restarts_min && totals.kills < plan.kills_min => false,
            Some(_) => round.is_multiple_of(2),
            None => false,
        };
        match &plan.cluster {
            Some((cluster, _)) if crash => {
                postgres_round(spec, cluster, &book, &batch_id, plan.seed, round, &mut rng).await;
                totals.pg_restarts += 1;
            }
            _ => {
                let pause = rng.random_range(50..600);
                kill_round(spec, &book, &batch_id, plan.seed, round, pause).await;
                totals.kills += 1;
            }
        }
        let mut checked = std::mem::take(&mut *book.lock().expect("book"));
        totals.lost += check(spec, &mut checked).await;
        let failed = !checked.violations.is_empty() || totals.lost > 0;
        *book.lock().expect("book") = checked;
        if failed {
            break;
        }
    }
    let book = book.lock().expect("book");
    for violation in book.violations.iter().take(20) {
        eprintln!("soak violation: {violation}");
    }
    println!(
        "soak {}: seed={} seconds={} refused={} unavailable_answers={} resent={} in_flight_at_kills={} \
         replayed_after_restart={} replayed_after_kill={} replayed_after_pg_crash={} records_checked={}",
        plan.label,
        plan.seed,
        started.elapsed().as_secs(),
        book.refused,
        book.unavailable,
        book.resent,
        book.in_flight_at_kills,
        book.replayed_after_restart,
        book.replayed_after_kill,
        book.replayed_after_crash,
        book.acknowledged.values().map(|(_, events)| events.len()).sum::<usize>()
    );
    totals.acknowledged = book.acknowledged.len() as u64;
    totals.in_flight_at_kills = book.in_flight_at_kills;
    totals.replayed_after_restart = book.replayed_after_restart;
    totals.violations = book.violations.len() as u64;
    totals
}

fn seconds_and_seed(name: &str) -> (u64, u64) {
    let seconds: u64 =
        std::env::var("VOUCHER_LEDGER_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let seed: u64 =
        std::env::var("VOUCHER_LEDGER_SOAK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            u64::from(std::process::id()) ^ chrono::Utc::now().timestamp_subsec_nanos() as u64
        });
    eprintln!(
        "soak {name}: seed {seed} (VOUCHER_LEDGER_SOAK_SEED={seed} reproduces the workload; fault moments vary)"
    );
    (seconds, seed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_at_random_moments_loses_nothing_acknowledged() {
    let (seconds, seed) = seconds_and_seed("file");
    let store = TestStore::new(Backend::File).await.expect("store");
    let totals = soak(&store.spec, &Plan { label: "file", seconds, kills_min: 5, cluster: None, seed }).await;
    let Totals { kills, acknowledged, lost, violations, in_flight_at_kills, replayed_after_restart, .. } =
        totals;
    println!("soak file: kills={kills} acknowledged={acknowledged} lost={lost} violations={violations}");
    assert_eq!((lost, violations), (0, 0), "seed {seed}: lost or violations (see soak violation lines)");
    assert!(kills >= 5, "at least 5 kills");
    // Every round acknowledged a command before its kill, had commands on their way at it, and answered
    // the last acknowledged one again after the restart (a round failing either is a violation above).
    assert!(acknowledged >= SETUP_COMMANDS + kills, "{acknowledged} acknowledged in {kills} rounds");
    assert!(in_flight_at_kills >= kills, "{in_flight_at_kills} in flight over {kills} kills");
    assert_eq!(replayed_after_restart, kills, "one replay after each kill's restart");
}

/// Needs the throwaway cluster of `scripts/test.sh` (its crash rounds stop a server, which a server given by
/// URL only cannot be): ignored without one, never run with its crash rounds quietly left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres_cluster), ignore = "no PostgreSQL cluster to crash: scripts/test.sh starts one")]
async fn postgres_kills_and_server_crashes_lose_nothing_acknowledged() {
    let name = "soak::postgres_kills_and_server_crashes_lose_nothing_acknowledged";
    e2e::require_backend(Backend::Postgres, name);
    // The crash rounds stop the server: a cluster of the test's own, not the one the other tests share.
    let cluster = PostgresCluster::private()
        .unwrap_or_else(|| {
            panic!(
                "{name}: built for the cluster of scripts/test.sh, but {} is not set: no cluster to crash",
                e2e::POSTGRES_DIR_VARIABLE
            )
        })
        .expect("a PostgreSQL cluster of the test's own");
    let (seconds, seed) = seconds_and_seed("postgres");
    let store = TestStore::on_cluster(&cluster).await.expect("store");
    let plan = Plan { label: "postgres", seconds, kills_min: 3, cluster: Some((cluster, 2)), seed };
    let Totals {
        kills,
        pg_restarts,
        acknowledged,
        lost,
        violations,
        in_flight_at_kills,
        replayed_after_restart,
        ..
    } = soak(&store.spec, &plan).await;
    println!(
        "soak postgres: kills={kills} pg_restarts={pg_restarts} acknowledged={acknowledged} lost={lost} \
         violations={violations}"
    );
    assert_eq!((lost, violations), (0, 0), "seed {seed}: lost or violations (see soak violation lines)");
    assert!(kills >= 3, "at least 3 kills");
    assert!(pg_restarts >= 2, "at least 2 PostgreSQL crashes");
    // Every round acknowledged a command (a kill round before its kill, a crash round after the server came
    // back), and every kill round had commands on their way and replayed its last acknowledgement after.
    assert!(
        acknowledged >= SETUP_COMMANDS + kills + pg_restarts,
        "{acknowledged} acknowledged in {} rounds",
        kills + pg_restarts
    );
    assert!(in_flight_at_kills >= kills, "{in_flight_at_kills} in flight over {kills} kills");
    assert_eq!(replayed_after_restart, kills, "one replay after each kill's restart");
}
