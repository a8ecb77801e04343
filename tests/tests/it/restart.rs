//! The real binary, killed with SIGKILL and started again on the same data directory: what was acknowledged
//! survives, idempotency keys keep their first answer, and a torn tail (an append that was never
//! acknowledged) is cut at open and reported.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use domain::{Jurisdiction, Role};
use e2e::{
    Backend, Client, MORNING, ServerProcess, TestStore, head_position, publish_batch, run_verify,
    run_verify_on, token, verified_applicant,
};
use engine::open::StoreSpec;
use futures::StreamExt;
use futures::future::join_all;
use serde_json::json;
use tokio::sync::Notify;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;

fn bureau() -> String {
    token(Role::Bureau, GUIYANG, "bureau-1", None)
}

fn finance() -> String {
    token(Role::Finance, GUIYANG, "finance-1", None)
}

fn start(data: &std::path::Path) -> ServerProcess {
    ServerProcess::start(data, MORNING).expect("server starts")
}

fn start_on(store: &StoreSpec) -> ServerProcess {
    ServerProcess::start_on(store, MORNING).expect("server starts")
}

e2e::per_backend!(everything_acknowledged_survives_a_kill_and_restart, 4);
async fn everything_acknowledged_survives_a_kill_and_restart(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let server = start_on(&store.spec);
    let client = Client::new(&server.base);

    // Three batches with room for every claim; 60 applicants each claim once from each batch: 180 claims.
    let mut batches = Vec::new();
    for _ in 0..3 {
        batches.push(
            publish_batch(&client, GUIYANG, "1000000.00", "1000000.00", "10000.00").await.expect("batch"),
        );
    }
    let tokens: Vec<String> = join_all((1..=60).map(|n| verified_applicant(&client, GUIYANG, n, false)))
        .await
        .into_iter()
        .map(|own| own.expect("verified applicant"))
        .collect();
    let claims: Vec<(String, String)> = batches
        .iter()
        .flat_map(|batch| tokens.iter().map(move |own| (own.clone(), format!("/v1/batches/{batch}/claims"))))
        .collect();
    let total = claims.len();

    // 16 claims in flight at a time; the server is killed once a third of them have been acknowledged, so
    // some are in flight and some never sent when it dies.
    // `in_flight` counts the claims sent and not yet answered, read at the moment of the kill.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let third = Arc::new(Notify::new());
    let running = {
        let client = client.clone();
        let acknowledged = acknowledged.clone();
        let in_flight = in_flight.clone();
        let third = third.clone();
        tokio::spawn(async move {
            futures::stream::iter(claims)
                .map(|(own, path)| {
                    let client = client.clone();
                    let acknowledged = acknowledged.clone();
                    let in_flight = in_flight.clone();
                    let third = third.clone();
                    async move {
                        in_flight.fetch_add(1, Ordering::SeqCst);
                        let answer = client.post_raw(&path, Some(&own), "{}", None).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        if matches!(&answer, Ok(answer) if answer.status == 201)
                            && acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == total / 3
                        {
                            third.notify_one();
                        }
                        answer
                    }
                })
                .buffer_unordered(16)
                .collect::<Vec<_>>()
                .await
        })
    };
    let reached = tokio::time::timeout(std::time::Duration::from_secs(30), third.notified()).await;
    let in_flight_at_kill = in_flight.load(Ordering::SeqCst);
    server.kill();
    let answers = running.await.expect("claims task");

    // Every answer that came back is an acknowledgement (201) or nothing at all (the connection died).
    let mut vouchers: BTreeMap<String, u64> = BTreeMap::new();
    let mut lost = 0;
    for answer in &answers {
        match answer {
            Ok(answer) => {
                assert_eq!(answer.status, 201, "a claim answered other than 201: {answer:?}");
                let voucher = answer.body["voucher_id"].as_str().expect("voucher_id").to_owned();
                let position = answer.body["position"].as_u64().expect("position");
                assert!(vouchers.insert(voucher, position).is_none(), "a voucher id acknowledged twice");
            }
            Err(_) => lost += 1,
        }
    }
    eprintln!(
        "claims: {total} sent or queued, {in_flight_at_kill} in flight at the kill, {} acknowledged, {lost} \
         unanswered",
        vouchers.len()
    );
    assert!(in_flight_at_kill > 0, "no claim was in flight at the kill");
    assert!(reached.is_ok(), "a third of the claims was never acknowledged: {answers:?}");
    assert!(vouchers.len() >= total / 3, "at least a third was acknowledged before the kill");
    assert!(lost > 0, "the kill came after every claim was answered: nothing was in flight");
    assert_eq!(vouchers.len() + lost, total);
    let positions: BTreeSet<u64> = vouchers.values().copied().collect();
    assert_eq!(positions.len(), vouchers.len(), "every acknowledged claim has its own position");
    let max_acknowledged = positions.last().copied().expect("some acknowledged");

    let server = start_on(&store.spec);
    let client = Client::new(&server.base);
    let head = head_position(&client).await.expect("head");
    assert!(head >= max_acknowledged, "head {head} is behind an acknowledged position {max_acknowledged}");
    let reads = vouchers.iter().map(|(voucher, position)| {
        let client = client.clone();
        async move {
            let view =
                client.get(&format!("/v1/vouchers/{voucher}"), Some(&bureau())).await.expect("voucher");
            assert_eq!(
                view.status, 200,
                "acknowledged voucher {voucher} is gone after the restart: {view:?}"
            );
            assert_eq!(view.body["face_value"], "10000.00", "{view:?}");
            assert_eq!(view.body["issued_at_position"], *position, "voucher {voucher}: {view:?}");
        }
    });
    join_all(reads).await;
    let trial_balance =
        client.get("/v1/trial-balance/guiyang", Some(&bureau())).await.expect("trial balance");
    assert_eq!(trial_balance.body["total"], "0.00", "{trial_balance:?}");
    server.kill();

    let verification = run_verify_on(&store.spec).expect("verify runs");
    assert!(verification.success, "verify after the restart: {verification:?}");
    assert!(
        verification.stdout.contains(&format!("verify: ok records={head} head={head} ")),
        "{verification:?}"
    );
}

e2e::per_backend!(idempotency_keys_are_honoured_after_restart, 4);
async fn idempotency_keys_are_honoured_after_restart(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let path = "/v1/budgets/guiyang/2025/appropriations";
    let body = json!({ "amount": "1234567.89" }).to_string();

    let server = start_on(&store.spec);
    let client = Client::new(&server.base);
    let first = client.post_raw(path, Some(&finance()), &body, Some("k-1")).await.expect("appropriation");
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(first.body["replayed"], false, "{first:?}");
    let head = head_position(&client).await.expect("head");
    assert_eq!(first.body["position"], head, "{first:?}");
    server.kill();

    let server = start_on(&store.spec);
    let client = Client::new(&server.base);
    assert_eq!(head_position(&client).await.expect("head"), head);

    let again = client.post_raw(path, Some(&finance()), &body, Some("k-1")).await.expect("retry");
    assert_eq!(again.status, 201, "the retry gets the first answer again: {again:?}");
    assert_eq!(again.body["replayed"], true, "{again:?}");
    assert_eq!(again.body["position"], first.body["position"], "{again:?}");
    assert_eq!(again.body["events"], first.body["events"], "the same events, hashes and positions");
    assert_eq!(again.body["amount"], "1234567.89", "{again:?}");
    assert_eq!(head_position(&client).await.expect("head"), head, "a replay records nothing");

    let other = json!({ "amount": "7654321.00" }).to_string();
    let reused = client.post_raw(path, Some(&finance()), &other, Some("k-1")).await.expect("reuse");
    assert_eq!(reused.status, 422, "{reused:?}");
    assert_eq!(reused.code(), "idempotency_key_reused", "{reused:?}");
    assert_eq!(head_position(&client).await.expect("head"), head, "a refused reuse records nothing");

    let budget = client.get("/v1/budgets/guiyang/2025", Some(&finance())).await.expect("budget");
    assert_eq!(budget.body["available"], "1234567.89", "the money was appropriated once: {budget:?}");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_torn_tail_is_cut_at_open_and_reported() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = start(data.path());
    let client = Client::new(&server.base);
    publish_batch(&client, GUIYANG, "1000000.00", "1000000.00", "50000.00").await.expect("batch");
    verified_applicant(&client, GUIYANG, 1, false).await.expect("applicant");
    let head = head_position(&client).await.expect("head");
    assert!(head >= 4, "head {head}");
    server.kill();

    // An append of position head + 1 that died after its first 30 bytes: a frame header announcing a body of
    // 300 bytes, then the start of the body (position, flags, a bit of the hash), written where the next
    // frame goes (after the last frame; the killed server left the space written ahead as zeros).
    let scanned = store::file::scan(data.path());
    let last = scanned.segments.last().expect("a segment");
    let length_before = last.frames_end;
    let mut partial = Vec::new();
    partial.extend_from_slice(&300u32.to_le_bytes());
    partial.extend_from_slice(&0xdead_beef_u32.to_le_bytes());
    partial.extend_from_slice(&(head + 1).to_le_bytes());
    partial.push(1);
    partial.extend_from_slice(&[0xab; 13]);
    assert_eq!(partial.len(), 30);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last.path)
        .and_then(|file| std::os::unix::fs::FileExt::write_all_at(&file, &partial, length_before))
        .expect("write a partial frame");

    let verification = run_verify(data.path()).expect("verify runs");
    assert!(!verification.success, "verify must fail on a torn tail: {verification:?}");
    assert_eq!(verification.code, Some(1), "{verification:?}");
    assert!(
        verification.stdout.contains(&format!("position={} ", head + 1)),
        "verify names position {}: {verification:?}",
        head + 1
    );

    let server = start(data.path());
    let stderr = server.stderr();
    assert!(
        stderr.contains(&format!("recovered: cut a torn tail of 30 bytes from position {}", head + 1)),
        "the server reports the cut:\n{stderr}"
    );
    let client = Client::new(&server.base);
    assert_eq!(head_position(&client).await.expect("head"), head, "every acknowledged record is still there");
    assert_eq!(
        std::fs::metadata(&last.path).expect("segment").len(),
        length_before,
        "exactly the torn bytes were cut"
    );
    // The chain is intact, and the cut bytes are kept in quarantine: verify says so (exit 2).
    let verification = run_verify(data.path()).expect("verify runs");
    assert_eq!(verification.code, Some(2), "verify after the repair: {verification:?}");
    assert!(
        verification.stdout.contains(&format!("verify: QUARANTINE records={head} head={head} ")),
        "{verification:?}"
    );

    // The repaired log takes appends again, at the position the torn append had.
    let more = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance(), &json!({ "amount": "1.00" }))
        .await
        .expect("appropriation");
    assert_eq!(more.status, 201, "{more:?}");
    assert_eq!(more.body["position"], head + 1, "{more:?}");
    server.kill();
    let verification = run_verify(data.path()).expect("verify runs");
    assert_eq!(verification.code, Some(2), "verify after a new append (quarantine kept): {verification:?}");
    assert!(verification.stdout.contains("verify: QUARANTINE records="), "{verification:?}");
}
