//! The kill test (Jepsen-style, on one node): the real `voucher-ledger serve` on the embedded log, several
//! HTTP clients submitting a seeded mixed workload (appropriations; register → verify → claim chains;
//! re-sends of acknowledged commands), `kill -9` at a random moment, restart, and after every restart:
//!
//! - every in-flight command (sent, no answer) is retried with its Idempotency-Key until answered;
//! - every acknowledged command's events are in the log at the acknowledged positions with the acknowledged
//!   hashes (`lost` counts those that are not);
//! - every record of the log belongs to exactly one command that was sent (nothing beyond what was sent,
//!   no retry recorded twice); a re-send of an acknowledged command gets the first answer back;
//! - the chain verifies and SPEC §5's invariants hold (`voucher-ledger verify`).
//!
//! In the test suite it runs 5 kills. `scripts/soak.sh SECONDS` sets `VOUCHER_LEDGER_SOAK_SECONDS` and runs
//! it for that long (at least 5 kills); `VOUCHER_LEDGER_SOAK_SEED` fixes the seed (printed either way). The
//! last line is `soak: kills=K acknowledged=A lost=L violations=V`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::{Jurisdiction, Role};
use e2e::{Client, MORNING, ServerProcess, credit_code, run_verify, token};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use store::EventLog;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;
const CLIENTS: u32 = 4;

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
    /// Re-sends of acknowledged commands.
    resent: u64,
    /// Retries of in-flight commands that found their command already recorded (`replayed: true`).
    replayed_after_kill: u64,
    violations: Vec<String>,
}

enum Reply {
    Accepted(Events, bool),
    Refused,
    Unknown,
}

async fn send(client: &Client, sent: &Sent) -> Reply {
    match client.post_raw(&sent.path, Some(&sent.token), &sent.body, Some(&sent.key)).await {
        Ok(answer) if (200..300).contains(&answer.status) => {
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
        Ok(answer) if (400..500).contains(&answer.status) => Reply::Refused,
        _ => Reply::Unknown,
    }
}

/// Sends and books the outcome; true when accepted.
async fn submit(client: &Client, book: &Mutex<Book>, sent: Sent) -> bool {
    let reply = send(client, &sent).await;
    let mut book = book.lock().expect("book");
    match reply {
        Reply::Accepted(events, _) => {
            book.acknowledged.insert(sent.key.clone(), (sent, events));
            true
        }
        Reply::Refused => {
            book.refused += 1;
            false
        }
        Reply::Unknown => {
            book.in_flight.push(sent);
            false
        }
    }
}

/// One client's share of the workload until `stop`.
async fn client_loop(base: String, book: Arc<Mutex<Book>>, stop: Arc<AtomicBool>, seed: u64, client_id: u32) {
    let client = Client::new(&base);
    let mut rng = StdRng::seed_from_u64(seed);
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let center = token(Role::ServiceCenter, GUIYANG, "center-1", None);
    assert!(book.lock().expect("book").acknowledged.contains_key("setup-batch"), "setup ran");
    let batch_id = BATCH_ID.lock().expect("batch id").clone();
    let mut sequence = 0u64;
    while !stop.load(Ordering::SeqCst) {
        sequence += 1;
        let key = |step: &str| format!("soak-{seed}-{client_id}-{sequence}-{step}");
        match rng.random_range(0..10) {
            0..=3 => {
                let cents: u64 = rng.random_range(1..1_000_000);
                let body = json!({ "amount": format!("{}.{:02}", cents / 100, cents % 100) }).to_string();
                let path = "/v1/budgets/guiyang/2025/appropriations".to_owned();
                submit(&client, &book, Sent { key: key("a"), path, body, token: finance.clone() }).await;
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
                    if stop.load(Ordering::SeqCst) || !submit(&client, &book, step).await {
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
                    let reply = send(&client, &sent).await;
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

static BATCH_ID: Mutex<String> = Mutex::new(String::new());

/// Applicant numbers, unique over the whole run.
static NEXT_APPLICANT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// Checks the stopped ledger against the book; returns the number of lost acknowledged events.
async fn check(data: &std::path::Path, book: &mut Book) -> u64 {
    let mut expected: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for (key, (_, events)) in &book.acknowledged {
        for (position, hash) in events {
            if let Some((other, _)) = expected.insert(*position, (hash.clone(), key.clone())) {
                book.violations.push(format!("position {position} acknowledged to both {other} and {key}"));
            }
        }
    }
    let log = store::file::FileLog::open_read_only(data).expect("open the log read-only");
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
    let lost = expected.keys().filter(|position| !seen.contains(position)).count() as u64;
    let verification = run_verify(data).expect("verify runs");
    if !verification.success {
        book.violations.push(format!("verify: {}", verification.stdout.trim()));
    }
    lost
}

async fn soak(seconds: u64, kills_min: u64, seed: u64) -> (u64, u64, u64, u64) {
    let data = tempfile::tempdir().expect("tempdir");
    let book = Arc::new(Mutex::new(Book::default()));
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();

    // Setup: the budget and one large batch.
    {
        let server = ServerProcess::start(data.path(), MORNING).expect("server");
        let client = Client::new(&server.base);
        let finance = token(Role::Finance, GUIYANG, "finance-1", None);
        let bureau = token(Role::Bureau, GUIYANG, "bureau-1", None);
        let budget = Sent {
            key: "setup-budget".into(),
            path: "/v1/budgets/guiyang/2025/appropriations".into(),
            body: json!({ "amount": "900000000.00" }).to_string(),
            token: finance,
        };
        assert!(submit(&client, &book, budget).await, "setup budget");
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
        *BATCH_ID.lock().expect("batch id") = answer.body["batch_id"].as_str().expect("batch_id").to_owned();
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
    }

    let mut kills = 0u64;
    let mut lost = 0u64;
    while kills < kills_min || started.elapsed() < Duration::from_secs(seconds) {
        let server = ServerProcess::start(data.path(), MORNING).expect("server restarts");
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let round_seed = seed.wrapping_mul(31).wrapping_add(kills * 131 + u64::from(id));
                tokio::spawn(client_loop(server.base.clone(), book.clone(), stop.clone(), round_seed, id))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..600))).await;
        server.kill();
        stop.store(true, Ordering::SeqCst);
        kills += 1;
        for client in clients {
            client.await.expect("client task");
        }

        // Restart; retry every in-flight command with its key until it is answered.
        let server = ServerProcess::start(data.path(), MORNING).expect("server restarts");
        let client = Client::new(&server.base);
        let in_flight = std::mem::take(&mut book.lock().expect("book").in_flight);
        for sent in in_flight {
            let mut reply = Reply::Unknown;
            for _ in 0..5 {
                reply = send(&client, &sent).await;
                if !matches!(reply, Reply::Unknown) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let mut book = book.lock().expect("book");
            match reply {
                Reply::Accepted(events, replayed) => {
                    book.replayed_after_kill += u64::from(replayed);
                    book.acknowledged.insert(sent.key.clone(), (sent, events));
                }
                Reply::Refused => book.refused += 1,
                Reply::Unknown => book.violations.push(format!("retry of {} never answered", sent.key)),
            }
        }
        server.kill();
        let mut checked = std::mem::take(&mut *book.lock().expect("book"));
        lost += check(data.path(), &mut checked).await;
        let failed = !checked.violations.is_empty() || lost > 0;
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
        "soak: seed={seed} seconds={} refused={} resent={} replayed_after_kill={} records_checked={}",
        started.elapsed().as_secs(),
        book.refused,
        book.resent,
        book.replayed_after_kill,
        book.acknowledged.values().map(|(_, events)| events.len()).sum::<usize>()
    );
    (kills, book.acknowledged.len() as u64, lost, book.violations.len() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_at_random_moments_loses_nothing_acknowledged() {
    let seconds: u64 =
        std::env::var("VOUCHER_LEDGER_SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let seed: u64 =
        std::env::var("VOUCHER_LEDGER_SOAK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            u64::from(std::process::id()) ^ chrono::Utc::now().timestamp_subsec_nanos() as u64
        });
    eprintln!(
        "soak: seed {seed} (VOUCHER_LEDGER_SOAK_SEED={seed} reproduces the workload; kill moments vary)"
    );
    let (kills, acknowledged, lost, violations) = soak(seconds, 5, seed).await;
    println!("soak: kills={kills} acknowledged={acknowledged} lost={lost} violations={violations}");
    assert!(kills >= 5, "at least 5 kills");
    assert!(acknowledged > 2, "the workload made progress");
    assert_eq!((lost, violations), (0, 0), "seed {seed}: lost or violations (see soak violation lines)");
}
