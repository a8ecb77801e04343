//! Bounds over real HTTP against the release-shaped binary (`voucher-ledger serve`): the field that used to stop
//! the writer (a batch's `redemption_days` of 4294967295) and other values out of bounds are refused 422 with a
//! stable code and append nothing, and the server keeps serving and stays ready.

use domain::{Jurisdiction, Role};
use e2e::{Client, MORNING, ServerProcess, credit_code, refuse, token};
use serde_json::json;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;

fn batch(redemption_days: u64, name: &str) -> serde_json::Value {
    json!({
        "jurisdiction": "guiyang", "fiscal_year": 2025, "name": name,
        "total": "1000.00", "face_value": "100.00",
        "eligible_kinds": ["enterprise"], "eligible_industries": ["advanced_equipment"],
        "eligible_categories": ["technology_innovation"],
        "claim_opens": "2025-03-01", "claim_closes": "2025-06-30", "valid_until": "2025-12-31",
        "redemption_days": redemption_days
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redemption_days_attack_is_refused_and_the_server_keeps_serving_and_stays_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(dir.path(), MORNING).expect("server");
    let client = Client::new(&server.base);
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let bureau = token(Role::Bureau, GUIYANG, "bureau-1", None);
    let answer = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "100000.00" }))
        .await
        .expect("appropriation");
    assert_eq!(answer.status, 201, "{answer:?}");

    let refused =
        refuse(&client, "/v1/batches", Some(&bureau), &batch(4_294_967_295, "b"), 422, "out_of_bounds")
            .await
            .expect("the attack is refused");
    assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains("redemption_days")), "{refused:?}");
    for (body, code) in [
        (batch(3651, "b"), "out_of_bounds"),
        (batch(60, "evil\u{202E}name"), "invalid_name"),
        (batch(60, "   "), "invalid_name"),
    ] {
        refuse(&client, "/v1/batches", Some(&bureau), &body, 422, code).await.expect("refused");
    }
    let code = credit_code(7);
    let applicant = token(Role::Enterprise, GUIYANG, "applicant-7", Some(&code));
    let registration = json!({ "credit_code": code, "name": "a\u{2066}b", "kind": "enterprise",
        "jurisdiction": "guiyang", "industry": "advanced_equipment",
        "independent_legal_person": true, "tax_compliant": true });
    refuse(&client, "/v1/applicants", Some(&applicant), &registration, 422, "invalid_name")
        .await
        .expect("refused");
    let auditor = token(Role::Auditor, GUIYANG, "auditor-1", None);
    let sample = json!({ "jurisdiction": "guiyang", "year": 2024, "size": 4_294_967_295_u64, "seed": "s" });
    refuse(&client, "/v1/audits/samples", Some(&auditor), &sample, 422, "out_of_bounds")
        .await
        .expect("refused");

    // Still serving, still ready, and the largest bound is accepted.
    let ready = client.get("/readyz", None).await.expect("readyz");
    assert_eq!((ready.status, ready.body["ready"].as_bool()), (200, Some(true)), "{ready:?}");
    let accepted = client.post("/v1/batches", &bureau, &batch(3650, "ten-year batch")).await.expect("batch");
    assert_eq!(accepted.status, 201, "{accepted:?}");
    let ready = client.get("/readyz", None).await.expect("readyz");
    assert_eq!((ready.status, ready.body["ready"].as_bool()), (200, Some(true)), "{ready:?}");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manual_clock_takes_an_operator_token_never_moves_back_and_has_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(dir.path(), MORNING).expect("server");
    let client = Client::new(&server.base);
    let operator = token(Role::Operator, GUIYANG, "operator-1", None);
    let bureau = token(Role::Bureau, GUIYANG, "bureau-1", None);
    let clock = |now: &str| json!({ "now": now }).to_string();
    let forward = clock("2025-03-04T09:00:00+08:00");

    let anonymous = client.post_raw("/v1/admin/clock", None, &forward, None).await.expect("post");
    assert_eq!((anonymous.status, anonymous.code()), (401, "invalid_token"), "{anonymous:?}");
    let staff = client.post_raw("/v1/admin/clock", Some(&bureau), &forward, None).await.expect("post");
    assert_eq!((staff.status, staff.code()), (403, "forbidden"), "{staff:?}");
    let moved = client.post_raw("/v1/admin/clock", Some(&operator), &forward, None).await.expect("post");
    assert_eq!((moved.status, moved.body["business_date"].as_str()), (200, Some("2025-03-04")), "{moved:?}");

    for (now, code) in [
        ("2020-01-01T09:00:00+08:00", "clock_backwards"),
        ("2025-03-04T08:59:59+08:00", "clock_backwards"),
        ("2101-01-01T09:00:00+08:00", "clock_out_of_range"),
        ("9999-12-31T23:59:59Z", "clock_out_of_range"),
    ] {
        let answer =
            client.post_raw("/v1/admin/clock", Some(&operator), &clock(now), None).await.expect("post");
        assert_eq!((answer.status, answer.code()), (422, code), "{now}: {answer:?}");
    }
    // Chrono's far years: refused (422 when they parse, 400 when they do not), never a panic.
    let far =
        client.post_raw("/v1/admin/clock", Some(&operator), &clock("+262142-12-31T23:59:59Z"), None).await;
    let far = far.expect("answered");
    assert!(matches!(far.status, 400 | 422), "{far:?}");

    // The operator records nothing: a command with its token is forbidden and appends nothing.
    let appropriation = json!({ "amount": "100.00" });
    refuse(
        &client,
        "/v1/budgets/guiyang/2025/appropriations",
        Some(&operator),
        &appropriation,
        403,
        "forbidden",
    )
    .await
    .expect("refused");
    let ready = client.get("/readyz", None).await.expect("readyz");
    assert_eq!((ready.status, ready.body["ready"].as_bool()), (200, Some(true)), "{ready:?}");
    let moved = client.post_raw("/v1/admin/clock", Some(&operator), &forward, None).await.expect("post");
    assert_eq!(moved.status, 200, "the same instant again is not backwards: {moved:?}");
    server.kill();
}

/// `voucher-ledger serve --data DIR --clock manual --now NOW` plus `extra`, with its stderr piped.
fn serve_command(data: &std::path::Path, now: &str, extra: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(e2e::binary());
    command
        .arg("serve")
        .arg("--data")
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--clock", "manual", "--now", now])
        .args(extra)
        .env_remove("VOUCHER_LEDGER_STORE")
        .env("VOUCHER_LEDGER_JWT_SECRET", e2e::SECRET)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_clock_refuses_a_store_recorded_after_its_start_unless_told() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let later = e2e::nine_am("2025-09-30");
    let server = ServerProcess::start(dir.path(), MORNING).expect("server");
    let client = Client::new(&server.base);
    e2e::set_clock(&client, &later).await.expect("clock");
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let answer = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "100.00" }))
        .await
        .expect("appropriation");
    assert_eq!(answer.status, 201, "{answer:?}");
    server.kill();

    // Its last record was recorded on 2025-09-30: a manual clock at 2025-03-03 is refused, and the process
    // exits non-zero saying why and how to override.
    let refused = serve_command(dir.path(), MORNING, &[]).output().expect("run");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("--allow-clock-behind-records"), "{stderr}");
    // A clock at or after the last record starts as usual.
    let server = ServerProcess::start(dir.path(), &later).expect("a clock at the last record starts");
    server.kill();
    // And the explicit flag serves it anyway.
    let mut child =
        serve_command(dir.path(), MORNING, &["--allow-clock-behind-records"]).spawn().expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut listening = false;
    while let Ok(line) = receiver.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        if line.contains("listening on") {
            listening = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening, "serve --allow-clock-behind-records did not start");
}
