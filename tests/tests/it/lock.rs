//! One writer process per data directory: a second server on the same directory is refused while the first
//! holds `DIR/LOCK`, and the first keeps serving (and writing); once the first is gone, the second starts.

use domain::{Jurisdiction, Role};
use e2e::{Client, MORNING, ServerProcess, head_position, token};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_server_on_the_same_data_dir_is_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    let finance = token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None);
    let path = "/v1/budgets/guiyang/2025/appropriations";

    let a = ServerProcess::start(data.path(), MORNING).expect("A starts");
    let client_a = Client::new(&a.base);
    let first = client_a.post(path, &finance, &json!({ "amount": "100.00" })).await.expect("appropriation");
    assert_eq!(first.status, 201, "{first:?}");

    let refused = match ServerProcess::start(data.path(), MORNING) {
        Ok(b) => panic!("B started on a directory A holds, at {}", b.base),
        Err(error) => format!("{error:#}"),
    };
    assert!(refused.contains("locked"), "B's error output mentions the lock: {refused}");
    assert!(refused.contains("LOCK is locked by another writer process"), "{refused}");

    // A is unharmed: it answers and still writes.
    let health = client_a.get("/healthz", None).await.expect("healthz");
    assert_eq!(health.status, 200, "{health:?}");
    let second = client_a.post(path, &finance, &json!({ "amount": "200.00" })).await.expect("appropriation");
    assert_eq!(second.status, 201, "A still writes after B was refused: {second:?}");
    let head = head_position(&client_a).await.expect("head");
    assert_eq!(head, 2);
    a.kill();

    let b = ServerProcess::start(data.path(), MORNING).expect("B starts once A is gone");
    let client_b = Client::new(&b.base);
    let health = client_b.get("/healthz", None).await.expect("healthz");
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(head_position(&client_b).await.expect("head"), head, "B sees everything A wrote");
    let third = client_b.post(path, &finance, &json!({ "amount": "300.00" })).await.expect("appropriation");
    assert_eq!(third.status, 201, "B writes: {third:?}");
    assert_eq!(third.body["position"], head + 1, "{third:?}");
    b.kill();
}
