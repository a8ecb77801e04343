//! `voucher-ledger backup` on the real binary: a copy of a served ledger under load that verifies and
//! serves, incremental runs that copy only what is new, a diverged backup refused and left untouched, a
//! backup killed mid-copy that is detectably incomplete and completed by the next run, and a PostgreSQL
//! source.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use domain::Jurisdiction;
use e2e::{
    Backend, Client, MORNING, ServerProcess, TestStore, binary, copy_dir, head_position, publish_batch,
    run_verify, verified_applicant,
};
use engine::open::StoreSpec;

/// Runs `voucher-ledger backup` from `source` into `dest` with `extra` arguments, and waits for it.
fn backup(source: &StoreSpec, dest: &Path, extra: &[&str]) -> Output {
    let mut command = Command::new(binary());
    command.arg("backup");
    match source {
        StoreSpec::File(data) => command.arg("--data").arg(data),
        StoreSpec::Postgres(url) | StoreSpec::Kurrent(url) => command.arg("--store").arg(url),
    };
    command
        .arg("--to")
        .arg(dest)
        .args(extra)
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("running voucher-ledger backup")
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The verified head a successful backup printed (`verify: ok records=N head=N hash=H`).
fn verified_head(output: &Output) -> (u64, String) {
    assert!(output.status.success(), "{}", text(output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line =
        stdout.lines().find(|line| line.starts_with("verify: ok ")).unwrap_or_else(|| panic!("{stdout}"));
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .to_owned()
    };
    (field("head").parse().expect("a position"), field("hash"))
}

/// How many records the run said it copied (`backup: copied ... (K records, ...)`).
fn copied_records(output: &Output) -> u64 {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("backup: copied ") && line.contains(" records, "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let count = line.split('(').nth(1).and_then(|rest| rest.split_whitespace().next());
    count.and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line}"))
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.display().to_string(), std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

async fn served_head(server: &ServerProcess) -> (u64, String) {
    let client = Client::new(&server.base);
    let auditor = e2e::token(domain::Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None);
    let answer = client.get("/v1/log/head", Some(&auditor)).await.expect("head");
    (
        answer.body["position"].as_u64().expect("position"),
        answer.body["hash"].as_str().expect("hash").to_owned(),
    )
}

/// Applicants registered and verified (two commands each) from `first`, until `stop` (or `count` of them).
async fn applicants(client: &Client, first: u32, count: u32, stop: Option<Arc<AtomicBool>>) -> u32 {
    let mut done = 0;
    for n in first..first + count {
        if stop.as_ref().is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            break;
        }
        verified_applicant(client, Jurisdiction::Guiyang, n, false).await.expect("applicant");
        done += 1;
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_ledger_served_under_load_verifies_and_serves_with_the_same_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, dest) = (dir.path().join("data"), dir.path().join("backup"));
    let server = ServerProcess::start(&data, MORNING).expect("server");
    let client = Client::new(&server.base);
    publish_batch(&client, Jurisdiction::Guiyang, "5000000.00", "1000000.00", "50000.00")
        .await
        .expect("batch");
    applicants(&client, 1, 20, None).await;

    // Commands keep arriving while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let loaded = Arc::new(AtomicU32::new(0));
    let load = {
        let (client, stop, loaded) = (Client::new(&server.base), stop.clone(), loaded.clone());
        tokio::spawn(async move {
            let done = applicants(&client, 1000, 100_000, Some(stop)).await;
            loaded.store(done, Ordering::Relaxed);
        })
    };
    let before = head_position(&client).await.expect("head");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let source = StoreSpec::File(data.clone());
    let output = tokio::task::spawn_blocking({
        let (source, dest) = (source.clone(), dest.clone());
        move || backup(&source, &dest, &[])
    })
    .await
    .expect("backup");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    load.await.expect("load");
    let (position, hash) = verified_head(&output);
    let after = head_position(&client).await.expect("head");
    assert!(loaded.load(Ordering::Relaxed) > 0, "no load ran");
    assert!(position > before && position < after, "backup at {position}, served head {before} then {after}");
    assert!(std::fs::read_to_string(dest.join("BACKUP")).expect("marker").contains("state=complete"));

    // The source's record at that position has that hash (verified read-only beside the running server).
    let check = Command::new(binary())
        .args(["verify", "--data"])
        .arg(&data)
        .args(["--expect-head", &format!("{position}:{hash}")])
        .env_remove("VOUCHER_LEDGER_STORE")
        .output()
        .expect("verify");
    assert!(check.status.success(), "{}", text(&check));
    drop(server);

    // Restoring is serving the copy: same head, and it verifies.
    let verification = run_verify(&dest).expect("verify");
    assert!(verification.success, "{verification:?}");
    let restored = ServerProcess::start(&dest, MORNING).expect("the copy serves");
    assert_eq!(served_head(&restored).await, (position, hash));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_backup_copies_only_the_new_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, dest) = (dir.path().join("data"), dir.path().join("backup"));
    let server = ServerProcess::start(&data, MORNING).expect("server");
    let client = Client::new(&server.base);
    publish_batch(&client, Jurisdiction::Guiyang, "5000000.00", "1000000.00", "50000.00")
        .await
        .expect("batch");
    applicants(&client, 1, 10, None).await;
    let source = StoreSpec::File(data.clone());

    let first = backup(&source, &dest, &[]);
    let (position, _) = verified_head(&first);
    assert_eq!(position, head_position(&client).await.expect("head"));
    assert_eq!(copied_records(&first), position);

    applicants(&client, 100, 7, None).await;
    let head = head_position(&client).await.expect("head");
    let second = backup(&source, &dest, &[]);
    assert_eq!(copied_records(&second), head - position, "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout).contains(&format!("positions {}..={head}", position + 1)),
        "{}",
        text(&second)
    );
    let (again, hash) = verified_head(&second);
    assert_eq!(again, head);

    let third = backup(&source, &dest, &[]);
    assert_eq!(copied_records(&third), 0, "{}", text(&third));
    assert!(String::from_utf8_lossy(&third.stdout).contains("nothing new"), "{}", text(&third));
    assert_eq!(verified_head(&third), (head, hash));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_that_diverged_from_the_ledger_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, other, dest) = (dir.path().join("data"), dir.path().join("other"), dir.path().join("backup"));
    let server = ServerProcess::start(&data, MORNING).expect("server");
    let client = Client::new(&server.base);
    publish_batch(&client, Jurisdiction::Guiyang, "5000000.00", "1000000.00", "50000.00")
        .await
        .expect("batch");
    applicants(&client, 1, 5, None).await;
    let common = head_position(&client).await.expect("head");
    drop(server);
    // Two ledgers with the same first `common` records, then different ones.
    copy_dir(&data, &other).expect("copy");
    for (store, first) in [(&data, 100), (&other, 200)] {
        let server = ServerProcess::start(store, MORNING).expect("server");
        applicants(&Client::new(&server.base), first, 3, None).await;
    }
    verified_head(&backup(&StoreSpec::File(other.clone()), &dest, &[]));
    let before = snapshot(&dest);

    let refused = backup(&StoreSpec::File(data.clone()), &dest, &[]);
    assert!(!refused.status.success(), "{}", text(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains(&format!("diverged from the ledger at position {}", common + 1)), "{stderr}");
    assert_eq!(snapshot(&dest), before, "the refused backup changed DEST");

    // A directory that is not a file log is refused too, and left as it was.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).expect("mkdir");
    std::fs::write(foreign.join("notes.txt"), "mine").expect("write");
    let refused = backup(&StoreSpec::File(data.clone()), &foreign, &[]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("neither empty nor a file log"),
        "{}",
        text(&refused)
    );
    assert_eq!(snapshot(&foreign).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_killed_mid_copy_is_marked_incomplete_and_the_next_run_completes_and_verifies_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, dest) = (dir.path().join("data"), dir.path().join("backup"));
    let demo = Command::new(binary())
        .args(["demo", "--data"])
        .arg(&data)
        .args(["--applicants", "60", "--providers", "10"])
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("demo");
    assert!(demo.status.success(), "{}", text(&demo));
    let source = StoreSpec::File(data.clone());

    // Small appends (each synced) so that the copy takes many steps; killed after its first one.
    let mut child = Command::new(binary())
        .args(["backup", "--data"])
        .arg(&data)
        .arg("--to")
        .arg(&dest)
        .args(["--batch-records", "8"])
        .env_remove("VOUCHER_LEDGER_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("backup");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let progress = lines.next().expect("a progress line").expect("a line");
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the backup finished before it was killed: {progress}");
    let numbers: Vec<u64> = progress.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    let [copied_to, target] = numbers[..] else { panic!("{progress}") };
    assert!(copied_to < target, "killed mid-copy: {progress}");

    // Detectably incomplete: the marker says so (DEST holds whole commands only: it verifies as a prefix).
    let marker = std::fs::read_to_string(dest.join("BACKUP")).expect("marker");
    assert!(marker.contains("state=incomplete"), "{marker}");
    assert!(marker.contains(&format!("copying_to={target}")), "{marker}");

    // The next run checks the prefix, completes it and verifies it.
    let rerun = backup(&source, &dest, &[]);
    let (position, hash) = verified_head(&rerun);
    assert_eq!(position, target);
    assert!(
        String::from_utf8_lossy(&rerun.stdout).contains("completed an interrupted backup"),
        "{}",
        text(&rerun)
    );
    assert!(copied_records(&rerun) < target, "{}", text(&rerun));
    let marker = std::fs::read_to_string(dest.join("BACKUP")).expect("marker");
    assert!(marker.contains("state=complete") && marker.contains(&format!("hash={hash}")), "{marker}");
    let verification = run_verify(&dest).expect("verify");
    assert!(verification.success, "{verification:?}");
    let source_check = run_verify(&data).expect("verify");
    assert!(source_check.stdout.contains(&hash), "{source_check:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn a_backup_of_a_postgresql_ledger_serves_with_the_same_head() {
    e2e::require_backend(Backend::Postgres, "a_backup_of_a_postgresql_ledger_serves_with_the_same_head");
    let store = TestStore::new(Backend::Postgres).await.expect("store");
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("backup");
    let server = ServerProcess::start_on(&store.spec, MORNING).expect("server");
    let client = Client::new(&server.base);
    publish_batch(&client, Jurisdiction::Guiyang, "5000000.00", "1000000.00", "50000.00")
        .await
        .expect("batch");
    applicants(&client, 1, 10, None).await;
    let first = tokio::task::spawn_blocking({
        let (spec, dest) = (store.spec.clone(), dest.clone());
        move || backup(&spec, &dest, &[])
    })
    .await
    .expect("backup");
    let (position, hash) = verified_head(&first);
    assert_eq!((position, hash.clone()), served_head(&server).await);

    applicants(&client, 100, 3, None).await;
    let head = served_head(&server).await;
    let second = tokio::task::spawn_blocking({
        let (spec, dest) = (store.spec.clone(), dest.clone());
        move || backup(&spec, &dest, &[])
    })
    .await
    .expect("backup");
    assert_eq!(copied_records(&second), head.0 - position, "{}", text(&second));
    assert_eq!(verified_head(&second), head);
    drop(server);
    let restored = ServerProcess::start(&dest, MORNING).expect("the copy serves");
    assert_eq!(served_head(&restored).await, head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_killed_during_a_backup_leaves_a_complete_verified_backup_or_a_refusal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, dest) = (dir.path().join("data"), dir.path().join("backup"));
    let demo = Command::new(binary())
        .args(["demo", "--data"])
        .arg(&data)
        .args(["--applicants", "60", "--providers", "10"])
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("demo");
    assert!(demo.status.success(), "{}", text(&demo));
    let server = ServerProcess::start(&data, "2027-01-04T09:00:00+08:00").expect("server");
    let mut child = Command::new(binary())
        .args(["backup", "--data"])
        .arg(&data)
        .arg("--to")
        .arg(&dest)
        .args(["--batch-records", "8"])
        .env_remove("VOUCHER_LEDGER_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("backup");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let progress = lines.next().expect("a progress line").expect("a line");
    server.kill();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let output = child.wait_with_output().expect("wait");
    let marker = std::fs::read_to_string(dest.join("BACKUP")).expect("marker");
    let numbers: Vec<u64> = progress.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    let [copied_to, target] = numbers[..] else { panic!("{progress}") };
    assert!(copied_to < target, "the service was killed after the copy: {progress}");
    if output.status.success() {
        // Complete and verified: the line, the marker, and `verify` on the copy.
        let verified = rest.iter().find(|line| line.starts_with("verify: ok ")).expect("a verify line");
        assert!(verified.contains(&format!("head={target} ")), "{verified}");
        assert!(marker.contains("state=complete"), "{marker}");
        let verification = run_verify(&dest).expect("verify");
        assert!(verification.success, "{verification:?}");
    } else {
        // Refused with a message, and never marked complete.
        assert!(!String::from_utf8_lossy(&output.stderr).trim().is_empty(), "a refusal without a message");
        assert!(marker.contains("state=incomplete"), "{marker}");
    }
}
