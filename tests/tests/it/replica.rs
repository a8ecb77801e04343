//! `serve --read-only`: a replica beside the writer follows the log into its read models and refuses
//! commands; on PostgreSQL it is unready while the server is down, keeps serving, and follows again after
//! the server's restart, and unready for good (503 `log_not_verified`) once a record it follows does not
//! verify; on the file log it is refused at start. Runs on PostgreSQL (ignored without a server,
//! failing when PostgreSQL is required) and on KurrentDB when `KURRENTDB_URL` is set.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use domain::{Jurisdiction, Role};
use e2e::{Backend, Client, MORNING, PostgresCluster, SECRET, ServerProcess, TestStore, binary, token};
use engine::open::StoreSpec;
use serde_json::json;

/// A `serve --read-only` child, killed when dropped.
struct Replica {
    base: String,
    child: Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn replica_command(store: &StoreSpec) -> Command {
    let mut command = Command::new(binary());
    command.args(["serve", "--read-only"]);
    match store {
        StoreSpec::File(dir) => command.arg("--data").arg(dir),
        StoreSpec::Postgres(url) | StoreSpec::Kurrent(url) => command.arg("--store").arg(url),
    };
    command
        .env_remove("VOUCHER_LEDGER_STORE")
        .args(["--listen", "127.0.0.1:0", "--clock", "manual", "--now", MORNING])
        .env("VOUCHER_LEDGER_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

fn start_replica(store: &StoreSpec) -> anyhow::Result<Replica> {
    let mut child = replica_command(store).stderr(Stdio::piped()).spawn().context("spawning the replica")?;
    let stderr = child.stderr.take().context("stderr")?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = sender.send(Ok(rest.split_whitespace().next().unwrap_or_default().to_owned()));
            }
            seen.push(line);
        }
        let _ = sender.send(Err(seen.join("\n")));
    });
    match receiver.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(address)) => Ok(Replica { base: format!("http://{address}"), child }),
        Ok(Err(output)) => bail!("the replica did not start:\n{output}"),
        Err(_) => {
            let _ = child.kill();
            bail!("the replica did not start within 30 s")
        }
    }
}

async fn a_replica_follows_the_writer_and_refuses_commands(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let writer = ServerProcess::start_on(&store.spec, MORNING).expect("writer");
    let writer_client = Client::new(&writer.base);
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let first = writer_client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "100.00" }))
        .await
        .expect("post");
    assert_eq!(first.status, 201, "{first:?}");

    let replica = start_replica(&store.spec).expect("replica");
    let client = Client::new(&replica.base);
    let budget = client.get("/v1/budgets/guiyang/2025", Some(&finance)).await.expect("get");
    assert_eq!(budget.status, 200, "{budget:?}");
    assert_eq!(budget.body["appropriated"], "100.00", "{budget:?}");

    // A command on the writer reaches the replica's read models.
    let second = writer_client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "23.45" }))
        .await
        .expect("post");
    assert_eq!(second.status, 201, "{second:?}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let budget = client.get("/v1/budgets/guiyang/2025", Some(&finance)).await.expect("get");
        if budget.body["appropriated"] == "123.45" {
            break;
        }
        assert!(Instant::now() < deadline, "the replica did not follow: {budget:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = client.get("/readyz", None).await.expect("readyz");
    assert_eq!(ready.status, 200, "{ready:?}");

    // Commands are refused, as problem+json, and append nothing.
    let refused = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "1.00" }))
        .await
        .expect("post");
    assert_eq!(refused.status, 405, "{refused:?}");
    assert_eq!(refused.code(), "read_only_replica", "{refused:?}");
    assert!(refused.content_type.starts_with("application/problem+json"), "{refused:?}");
    let budget = writer_client.get("/v1/budgets/guiyang/2025", Some(&finance)).await.expect("get");
    assert_eq!(budget.body["appropriated"], "123.45", "{budget:?}");
    drop(replica);
    writer.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn a_replica_on_postgres_follows_the_writer_and_refuses_commands() {
    e2e::require_backend(Backend::Postgres, "a_replica_on_postgres_follows_the_writer_and_refuses_commands");
    a_replica_follows_the_writer_and_refuses_commands(Backend::Postgres).await;
}

/// Polls the replica's budget until it shows `amount` appropriated, for at most `within`.
async fn wait_for_appropriated(client: &Client, token: &str, amount: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let budget = client.get("/v1/budgets/guiyang/2025", Some(token)).await.expect("get");
        if budget.body["appropriated"] == amount {
            return;
        }
        assert!(Instant::now() < deadline, "the replica did not reach {amount}: {budget:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A writer and a replica on one store, after one appropriation of 100.00 that the replica has followed.
struct Followed {
    writer: ServerProcess,
    writer_client: Client,
    replica: Replica,
    client: Client,
    finance: String,
}

async fn writer_and_replica(store: &StoreSpec) -> Followed {
    let writer = ServerProcess::start_on(store, MORNING).expect("writer");
    let writer_client = Client::new(&writer.base);
    let replica = start_replica(store).expect("replica");
    let client = Client::new(&replica.base);
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let first = writer_client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "100.00" }))
        .await
        .expect("post");
    assert_eq!(first.status, 201, "{first:?}");
    wait_for_appropriated(&client, &finance, "100.00", Duration::from_secs(15)).await;
    Followed { writer, writer_client, replica, client, finance }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres_cluster), ignore = "no PostgreSQL cluster to crash: scripts/test.sh starts one")]
async fn a_replica_on_postgres_is_unready_during_an_outage_and_follows_again_after_it() {
    const TEST: &str = "a_replica_on_postgres_is_unready_during_an_outage_and_follows_again_after_it";
    e2e::require_backend(Backend::Postgres, TEST);
    let cluster = PostgresCluster::private()
        .expect("built for the cluster of scripts/test.sh: no cluster to stop")
        .expect("a PostgreSQL cluster of the test's own");
    let store = TestStore::on_cluster(&cluster).await.expect("store");
    let Followed { writer, writer_client, replica, client, finance } = writer_and_replica(&store.spec).await;

    cluster.crash().expect("stop the cluster");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready = client.get("/readyz", None).await.expect("readyz");
        if ready.status == 503 {
            break;
        }
        assert!(Instant::now() < deadline, "still ready with the store down: {ready:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // It keeps serving what it has.
    let budget = client.get("/v1/budgets/guiyang/2025", Some(&finance)).await.expect("get");
    assert_eq!(budget.status, 200, "{budget:?}");
    assert_eq!(budget.body["appropriated"], "100.00", "{budget:?}");

    cluster.restart().expect("restart the cluster");
    // The writer answers 503 until it has reloaded from the restarted server.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let second = writer_client
            .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "23.45" }))
            .await
            .expect("post");
        if second.status == 201 {
            break;
        }
        assert!(Instant::now() < deadline, "the writer did not recover: {second:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Resubscribed after a backoff of at most 10 s.
    wait_for_appropriated(&client, &finance, "123.45", Duration::from_secs(30)).await;
    let ready = client.get("/readyz", None).await.expect("readyz");
    assert_eq!(ready.status, 200, "{ready:?}");
    drop(replica);
    writer.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_postgres), ignore = "no PostgreSQL: scripts/test.sh starts one")]
async fn a_replica_on_postgres_that_reads_a_record_that_does_not_verify_is_unready_and_keeps_serving() {
    const TEST: &str =
        "a_replica_on_postgres_that_reads_a_record_that_does_not_verify_is_unready_and_keeps_serving";
    e2e::require_backend(Backend::Postgres, TEST);
    let store = TestStore::new(Backend::Postgres).await.expect("store");
    let Followed { writer, writer_client, replica, client, finance } = writer_and_replica(&store.spec).await;
    let ready = client.get("/readyz", None).await.expect("readyz");
    assert_eq!(ready.status, 200, "{ready:?}");
    let head = e2e::head_position(&writer_client).await.expect("head");

    // A forged record after the head, straight into the table: a copy of the last record, so its bytes
    // decode but its chain link does not (it names the last record's predecessor, not the last record).
    let StoreSpec::Postgres(url) = &store.spec else { unreachable!() };
    let (sql, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let forged = i64::try_from(head + 1).unwrap();
    let inserted = sql
        .execute(
            "INSERT INTO events (position, stream, stream_version, ends_command, hash, record) \
             SELECT $1, NULL, NULL, true, hash, record FROM events WHERE position = $2",
            &[&forged, &(forged - 1)],
        )
        .await
        .expect("forge a record");
    assert_eq!(inserted, 1);

    // The replica reads it (at least every 200 ms), stops following, and says so on /readyz for good.
    let deadline = Instant::now() + Duration::from_secs(15);
    let unready = loop {
        let ready = client.get("/readyz", None).await.expect("readyz");
        if ready.status == 503 {
            break ready;
        }
        assert!(Instant::now() < deadline, "still ready after a record that does not verify: {ready:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(unready.code(), "log_not_verified", "{unready:?}");
    assert!(unready.content_type.starts_with("application/problem+json"), "{unready:?}");
    assert_eq!(unready.body["position"], head + 1, "{unready:?}");
    assert_eq!(unready.body["head"], head, "{unready:?}");
    // The store is reachable, and the answer does not change.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let still = client.get("/readyz", None).await.expect("readyz");
    assert_eq!(still.status, 503, "{still:?}");
    assert_eq!(still.code(), "log_not_verified", "{still:?}");

    // It keeps serving what it has.
    let budget = client.get("/v1/budgets/guiyang/2025", Some(&finance)).await.expect("get");
    assert_eq!(budget.status, 200, "{budget:?}");
    assert_eq!(budget.body["appropriated"], "100.00", "{budget:?}");
    // The writer's readiness is its own (it does not follow the log).
    let writer_ready = writer_client.get("/readyz", None).await.expect("readyz");
    assert_eq!(writer_ready.status, 200, "{writer_ready:?}");
    drop(replica);
    writer.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(e2e_kurrentdb),
    ignore = "no KurrentDB: KURRENTDB_URL=kurrentdb://host:2113?tls=false scripts/test.sh runs it"
)]
async fn a_replica_on_kurrentdb_follows_the_writer_and_refuses_commands() {
    e2e::require_backend(Backend::Kurrent, "a_replica_on_kurrentdb_follows_the_writer_and_refuses_commands");
    a_replica_follows_the_writer_and_refuses_commands(Backend::Kurrent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_on_the_file_log_is_refused_at_start() {
    let store = TestStore::new(Backend::File).await.expect("store");
    let output = replica_command(&store.spec).output().expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("read-only replica follows a shared store"), "{stderr}");
}
