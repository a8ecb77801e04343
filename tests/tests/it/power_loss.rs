//! Power loss, not just `kill -9`: the real `voucher-ledger serve` with its file log on `lazyfs`
//! (`tests/lazyfs`), a FUSE filesystem that keeps what was written but not synced in memory only and drops
//! it at a power cut. A `kill -9` alone leaves written data in the page cache, so it cannot see a missing
//! `fdatasync` or a missing directory sync; a power cut on `lazyfs` does.
//!
//! Each round: mount `lazyfs` over the backing directory, start the ledger on it, check what survived the
//! last cut, drive commands from several clients until enough were acknowledged, then cut the power with
//! commands in flight: `kill -9` of the ledger and everything unsynced dropped, the last unsynced write
//! torn at a random sector (every other round the cut comes right after a write of the ledger, before its
//! sync, so there always is unsynced data to lose). After every cut, on what reached the backing directory
//! (mounted afresh):
//!
//! - every acknowledged command's events are in the log at the acknowledged positions with the acknowledged
//!   hashes;
//! - what recovery cut at the restart (its log line: `from_position`) lies after every acknowledged
//!   position: only unacknowledged tails;
//! - the chain verifies (`voucher-ledger verify`, exit 0, or 2 for the quarantined torn tail only);
//! - every command left unanswered by the cut, retried with its key, is answered (recorded once).
//!
//! `VOUCHER_LEDGER_POWER_LOSS_SEED` fixes the seed (printed either way). The last line printed is
//! `power loss: rounds=R acknowledged=A unanswered=U unsynced_bytes=B torn_bytes=T recoveries=C lost=L`.
//! Without FUSE (`/dev/fuse` and Debian's `fuse3`, which `scripts/test.sh` installs as root) the tests are
//! ignored; with `VOUCHER_LEDGER_REQUIRE_POSTGRES=1` (CI) they run and fail.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::{Jurisdiction, Role};
use e2e::{Client, MORNING, ServerProcess, credit_code, run_verify, token};
use engine::open::{Access, StoreSpec};
use futures::StreamExt;
use lazyfs::{CutReport, LazyFs, Mounted};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::sync::watch;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;
/// Power cuts per run (each followed by a restart and the checks).
const ROUNDS: u64 = 8;
const CLIENTS: u64 = 6;
/// Commands acknowledged in a round before its cut.
const ACKNOWLEDGED_PER_ROUND: u64 = 80;
/// How long a round may take to reach its acknowledgements, or an armed cut to find a write.
const WITHIN: Duration = Duration::from_secs(120);

/// One command as sent: replayable with its key.
#[derive(Clone, Debug)]
struct Sent {
    key: String,
    path: String,
    body: String,
    token: String,
}

#[derive(Default)]
struct Book {
    /// Acknowledged commands by key, with their events' positions and hashes.
    acknowledged: BTreeMap<String, Vec<(u64, String)>>,
    /// Sent without an answer (the connection broke) or answered 5xx: in flight at the cut.
    unanswered: Vec<Sent>,
    violations: Vec<String>,
}

impl Book {
    fn max_acknowledged(&self) -> u64 {
        self.acknowledged.values().flatten().map(|(position, _)| *position).max().unwrap_or(0)
    }
}

fn events(body: &serde_json::Value) -> Vec<(u64, String)> {
    body["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| (e["position"].as_u64().unwrap_or(0), e["hash"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

static NEXT_APPLICANT: AtomicU32 = AtomicU32::new(1);

/// A fresh command: an appropriation or the registration of a new applicant (both always accepted).
fn next_command(rng: &mut StdRng, key: String) -> Sent {
    if rng.random_bool(0.5) {
        let cents: u64 = rng.random_range(1..1_000_000);
        Sent {
            key,
            path: "/v1/budgets/guiyang/2025/appropriations".into(),
            body: json!({ "amount": format!("{}.{:02}", cents / 100, cents % 100) }).to_string(),
            token: token(Role::Finance, GUIYANG, "finance-1", None),
        }
    } else {
        let n = NEXT_APPLICANT.fetch_add(1, Ordering::SeqCst);
        let code = credit_code(n);
        Sent {
            key,
            path: "/v1/applicants".into(),
            body: json!({ "credit_code": code, "name": format!("enterprise {n}"), "kind": "enterprise",
                "jurisdiction": "guiyang", "industry": "advanced_equipment",
                "independent_legal_person": true, "tax_compliant": true })
            .to_string(),
            token: token(Role::Enterprise, GUIYANG, &format!("applicant-{n}"), Some(&code)),
        }
    }
}

/// Sends fresh commands until `stop` or the first command left without an answer (the cut).
async fn client_loop(
    base: String,
    book: Arc<Mutex<Book>>,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<watch::Sender<u64>>,
    seed: u64,
) {
    let client = Client::new(&base);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sequence = 0u64;
    while !stop.load(Ordering::SeqCst) {
        sequence += 1;
        let sent = next_command(&mut rng, format!("power-{seed}-{sequence}"));
        let answer = client.post_raw(&sent.path, Some(&sent.token), &sent.body, Some(&sent.key)).await;
        let mut book = book.lock().expect("book");
        match answer {
            Ok(answer) if (200..300).contains(&answer.status) => {
                book.acknowledged.insert(sent.key, events(&answer.body));
                acknowledged.send_modify(|n| *n += 1);
            }
            Ok(answer) if (400..500).contains(&answer.status) => {
                book.violations.push(format!("{} refused: {} {}", sent.key, answer.status, answer.body));
            }
            // Refused connection: the ledger was gone before the command was sent; it never was in flight.
            Err(error) if error.downcast_ref::<reqwest::Error>().is_some_and(reqwest::Error::is_connect) => {
                return;
            }
            // No answer, or a 5xx (the store failed under the ledger): the outcome is unknown.
            _ => {
                book.unanswered.push(sent);
                return;
            }
        }
    }
}

/// What the checks after one cut found.
#[derive(Debug, Default)]
struct Found {
    recoveries: u64,
    lost: u64,
}

/// After a restart on what survived the cut: the acknowledged events, the recovery's cut, the chain, the
/// retries of what was in flight.
async fn check_after_cut(
    server: &ServerProcess,
    data: &Path,
    book: &Mutex<Book>,
    acknowledged_max: u64,
) -> Found {
    let mut found = Found::default();
    // What recovery cut: only what was never acknowledged. The ledger logs it three times (`store::file`:
    // `truncated_from_position=N`, `engine::open`: `from_position=Some(N)`, and the summary `recovered: cut
    // a torn tail of B bytes from position N`).
    for line in server.stderr().lines().filter(|line| line.contains("torn tail")) {
        found.recoveries += u64::from(line.contains("from_position=Some("));
        let from = ["truncated_from_position=", "from_position=Some(", "from position "]
            .iter()
            .find_map(|marker| line.split(marker).nth(1))
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse::<u64>().ok());
        match from {
            Some(from) if from > acknowledged_max => {}
            _ => book.lock().expect("book").violations.push(format!(
                "recovery cut acknowledged records (acknowledged up to {acknowledged_max}): {line}"
            )),
        }
    }

    // Every acknowledged event where it was acknowledged.
    let expected: BTreeMap<u64, (String, String)> = {
        let book = book.lock().expect("book");
        book.acknowledged
            .iter()
            .flat_map(|(key, events)| events.iter().map(move |(p, h)| (*p, (h.clone(), key.clone()))))
            .collect()
    };
    let spec = StoreSpec::File(data.to_owned());
    let log = engine::open::open_store(&spec, Access::ReadOnly).await.expect("open the log read-only").log;
    let mut stored = BTreeMap::new();
    let mut records = log.read_from(1);
    while let Some(record) = records.next().await {
        let record = record.expect("read the log");
        stored.insert(record.position, hex::encode(record.hash));
    }
    drop(records);
    drop(log);
    {
        let mut book = book.lock().expect("book");
        for (position, (hash, key)) in &expected {
            match stored.get(position) {
                Some(stored) if stored == hash => {}
                Some(_) => book.violations.push(format!("position {position} of {key} has another hash")),
                None => {
                    found.lost += 1;
                    book.violations.push(format!("acknowledged position {position} of {key} is lost"));
                }
            }
        }
    }

    let verification = run_verify(data).expect("verify runs");
    let quarantined =
        verification.code == Some(2) && verification.stdout.contains("verify: QUARANTINE records=");
    if !verification.success && !quarantined {
        book.lock().expect("book").violations.push(format!(
            "verify: {} {}",
            verification.stdout.trim(),
            verification.stderr.trim()
        ));
    }

    // What was in flight at the cut, retried with its key: answered, and recorded once.
    let client = Client::new(&server.base);
    let unanswered = std::mem::take(&mut book.lock().expect("book").unanswered);
    for sent in unanswered {
        let answer = client.post_raw(&sent.path, Some(&sent.token), &sent.body, Some(&sent.key)).await;
        let mut book = book.lock().expect("book");
        match answer {
            Ok(answer) if (200..300).contains(&answer.status) => {
                book.acknowledged.insert(sent.key, events(&answer.body));
            }
            other => book.violations.push(format!("retry of {} after the cut: {other:?}", sent.key)),
        }
    }
    found
}

fn mount(backing: &Path, mountpoint: &Path) -> Mounted {
    LazyFs::mount(backing, mountpoint).unwrap_or_else(|error| {
        panic!("mounting lazyfs at {} (needs /dev/fuse and fuse3): {error}", mountpoint.display())
    })
}

#[cfg_attr(
    not(e2e_fuse),
    ignore = "needs FUSE (/dev/fuse and fusermount3 of Debian's fuse3): run scripts/test.sh, which installs fuse3 as root"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_commands_survive_power_cuts() {
    let seed = std::env::var("VOUCHER_LEDGER_POWER_LOSS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("power loss: seed {seed} (VOUCHER_LEDGER_POWER_LOSS_SEED)");
    let mut rng = StdRng::seed_from_u64(seed);
    let backing = tempfile::tempdir().expect("backing dir");
    let mountpoint = tempfile::tempdir().expect("mountpoint");
    let data = mountpoint.path().join("data");
    let book = Arc::new(Mutex::new(Book::default()));
    let (mut unanswered, mut cut_totals, mut recoveries, mut lost) = (0, CutReport::default(), 0, 0);

    for round in 0..=ROUNDS {
        let mounted = mount(backing.path(), mountpoint.path());
        let server = ServerProcess::start(&data, MORNING).expect("the ledger starts on lazyfs");
        if round > 0 {
            let acknowledged_max = book.lock().expect("book").max_acknowledged();
            let found = check_after_cut(&server, &data, &book, acknowledged_max).await;
            recoveries += found.recoveries;
            lost += found.lost;
        }
        if round == ROUNDS {
            server.kill();
            mounted.power_cut(None).expect("unmount");
            break;
        }

        let (sender, mut receiver) = watch::channel(0u64);
        let sender = Arc::new(sender);
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let client_seed = seed.wrapping_mul(31).wrapping_add(round * 131 + id);
                tokio::spawn(client_loop(
                    server.base.clone(),
                    book.clone(),
                    stop.clone(),
                    sender.clone(),
                    client_seed,
                ))
            })
            .collect();
        drop(sender);
        tokio::time::timeout(WITHIN, receiver.wait_for(|n| *n >= ACKNOWLEDGED_PER_ROUND))
            .await
            .expect("the round's commands acknowledged in time")
            .expect("clients running");

        let at_a_write = round % 2 == 1;
        if at_a_write {
            // The power goes right after the ledger's next write, before its sync.
            let tripped = tokio::task::block_in_place(|| mounted.cut_at_next_write(WITHIN));
            assert!(tripped, "round {round}: no write to cut at");
        }
        // The clients keep sending up to the kill, so commands are in flight when it comes.
        let in_flight_before = book.lock().expect("book").unanswered.len();
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for client in clients {
            client.await.expect("client task");
        }
        let tear = rng.random_range(0..1024);
        let report = mounted.power_cut(Some(tear)).expect("power cut");
        let in_flight = book.lock().expect("book").unanswered.len() - in_flight_before;
        println!("power loss: round {round} at_a_write={at_a_write} in_flight={in_flight} {report:?}");
        assert!(in_flight > 0, "round {round}: no command was in flight at the cut");
        if at_a_write {
            assert!(report.unsynced_bytes > 0, "round {round}: the cut after a write found nothing unsynced");
        }
        unanswered += in_flight;
        cut_totals.unsynced_bytes += report.unsynced_bytes;
        cut_totals.torn_bytes_kept += report.torn_bytes_kept;
    }

    let book = book.lock().expect("book");
    println!(
        "power loss: rounds={ROUNDS} acknowledged={} unanswered={unanswered} unsynced_bytes={} torn_bytes={} \
         recoveries={recoveries} lost={lost}",
        book.acknowledged.len(),
        cut_totals.unsynced_bytes,
        cut_totals.torn_bytes_kept
    );
    assert!(book.violations.is_empty(), "{} violations: {:#?}", book.violations.len(), book.violations);
    assert!(book.acknowledged.len() as u64 >= ROUNDS * ACKNOWLEDGED_PER_ROUND);
}

fn sync_dir(path: &Path) {
    std::fs::File::open(path).and_then(|dir| dir.sync_all()).expect("sync the directory");
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::fs::File {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path).expect("create");
    file.write_all(bytes).expect("write");
    file.sync_data().expect("fdatasync");
    file
}

/// The filesystem itself: after a power cut only what was synced is there (file data by the file's sync,
/// names by their directory's), and a torn write keeps whole sectors of the unsynced writes.
#[cfg_attr(
    not(e2e_fuse),
    ignore = "needs FUSE (/dev/fuse and fusermount3 of Debian's fuse3): run scripts/test.sh, which installs fuse3 as root"
)]
#[test]
fn lazyfs_keeps_only_what_was_synced() {
    use std::fs;
    use std::io::Write as _;
    let backing = tempfile::tempdir().expect("backing dir");
    let mountpoint = tempfile::tempdir().expect("mountpoint");
    let (root, dir) = (mountpoint.path(), mountpoint.path().join("d"));

    let mounted = mount(backing.path(), root);
    fs::create_dir(&dir).expect("mkdir");
    sync_dir(root);
    let mut kept = write_synced(&dir.join("kept"), b"durable");
    write_synced(&dir.join("removed"), b"old");
    sync_dir(&dir);
    // Unsynced: more data, a synced file whose name is not, a rename, an unlink, a directory.
    kept.write_all(b" but not this").expect("write");
    write_synced(&dir.join("nameless"), b"data synced, name not");
    fs::rename(dir.join("kept"), dir.join("renamed")).expect("rename");
    fs::rename(dir.join("renamed"), dir.join("kept")).expect("rename back");
    fs::rename(dir.join("removed"), dir.join("moved")).expect("rename");
    fs::create_dir(dir.join("new")).expect("mkdir");
    assert_eq!(fs::read(dir.join("kept")).expect("read"), b"durable but not this", "reads see unsynced data");
    drop(kept);
    let report = mounted.power_cut(None).expect("power cut");
    assert_eq!(report.unsynced_bytes, b" but not this".len() as u64, "{report:?}");
    assert_eq!(report.unsynced_dirs, 1, "{report:?}");

    let backing_dir = backing.path().join("d");
    let mut names: Vec<_> =
        fs::read_dir(&backing_dir).expect("read_dir").map(|e| e.expect("entry").file_name()).collect();
    names.sort();
    assert_eq!(names, ["kept", "removed"], "only the synced names survive");
    assert_eq!(fs::read(backing_dir.join("kept")).expect("read"), b"durable");
    assert_eq!(fs::read(backing_dir.join("removed")).expect("read"), b"old");

    // Mounted again on what survived: a torn write keeps whole sectors.
    let mounted = mount(backing.path(), root);
    assert_eq!(fs::read(dir.join("kept")).expect("read"), b"durable");
    let mut file = fs::OpenOptions::new().append(true).open(dir.join("kept")).expect("open");
    file.write_all(&[b'x'; 1000]).expect("write");
    drop(file);
    let report = mounted.power_cut(Some(600)).expect("power cut");
    // 7 + 600 bytes, cut back to the sector boundary at 512.
    assert_eq!(report.torn_bytes_kept, 505, "{report:?}");
    let torn = fs::read(backing_dir.join("kept")).expect("read");
    assert_eq!(torn.len(), 512);
    assert!(torn.starts_with(b"durable") && torn[7..].iter().all(|b| *b == b'x'));
}
