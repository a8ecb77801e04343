//! Security at the door, over real HTTP on loopback: idempotency keys scoped by the caller's whole identity
//! (and never replayed across anonymous callers), limits on objections, connection limits and timeouts,
//! CSV exports that a spreadsheet does not execute, `/metrics` on its own address, and token lifetimes.

use domain::{Jurisdiction, Role};
use e2e::{Client, InProcessServer, MORNING, approved_provider, credit_code, head_position, token};
use serde_json::{Value, json};

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;
const TESTING: &str = "inspection_testing";

fn application(name: &str) -> Value {
    json!({ "name": name, "categories": [TESTING],
        "qualifications": [e2e::document("licence.pdf")], "contact": "0851-1234567" })
}

/// Two tokens with the same subject but another credit code or role are two callers: the same key and body
/// from the second is decided for the second, never answered with the first one's answer.
#[tokio::test]
async fn an_idempotency_key_is_scoped_by_the_whole_identity() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    let body = application("lab").to_string();
    let first = token(Role::Provider, GUIYANG, "shared-subject", Some(&credit_code(1)));
    let second = token(Role::Provider, GUIYANG, "shared-subject", Some(&credit_code(2)));
    let a = client.post_raw("/v1/providers", Some(&first), &body, Some("k-1")).await.unwrap();
    assert_eq!(a.status, 201, "{a:?}");
    let b = client.post_raw("/v1/providers", Some(&second), &body, Some("k-1")).await.unwrap();
    assert_eq!(b.status, 201, "{b:?}");
    assert_eq!(b.body["replayed"], json!(false), "another credit code got the first answer: {b:?}");
    assert_ne!(a.body["events"], b.body["events"], "{a:?} {b:?}");
    let again = client.post_raw("/v1/providers", Some(&second), &body, Some("k-1")).await.unwrap();
    assert_eq!(again.body["replayed"], json!(true), "the same caller still gets its own answer: {again:?}");
    assert_eq!(again.body["events"], b.body["events"]);

    // Same subject, another role: a bureau clerk named like the provider is not answered with its answer.
    let bureau = token(Role::Bureau, GUIYANG, "shared-subject", None);
    let head = head_position(&client).await.unwrap();
    let c = client.post_raw("/v1/providers", Some(&bureau), &body, Some("k-1")).await.unwrap();
    assert_eq!(c.status, 403, "{c:?}");
    assert_eq!(c.code(), "forbidden");
    assert_eq!(head_position(&client).await.unwrap(), head);

    // After a restart the keys are honoured from the records, still per caller.
    server.stop().await;
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    let after = client.post_raw("/v1/providers", Some(&first), &body, Some("k-1")).await.unwrap();
    assert_eq!(after.body["replayed"], json!(true), "{after:?}");
    assert_eq!(after.body["events"], a.body["events"]);
    let other = token(Role::Provider, GUIYANG, "shared-subject", Some(&credit_code(3)));
    let d = client.post_raw("/v1/providers", Some(&other), &body, Some("k-1")).await.unwrap();
    assert_eq!((d.status, &d.body["replayed"]), (201, &json!(false)), "{d:?}");
    server.stop().await;
}

/// Two staff members of the same role and jurisdiction (two subjects) who happen to send the same key and
/// body are two requests: each is decided and recorded for its sender, and each sender's retry replays its
/// own answer only.
#[tokio::test]
async fn one_key_from_two_identities_records_two_commands() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    let path = "/v1/budgets/guiyang/2025/appropriations";
    let body = json!({ "amount": "100.00" }).to_string();
    let one = token(Role::Finance, GUIYANG, "finance-1", None);
    let two = token(Role::Finance, GUIYANG, "finance-2", None);
    let a = client.post_raw(path, Some(&one), &body, Some("same-key")).await.unwrap();
    let b = client.post_raw(path, Some(&two), &body, Some("same-key")).await.unwrap();
    assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
    assert_eq!(b.body["replayed"], json!(false), "finance-2 got finance-1's answer: {b:?}");
    assert_ne!(a.body["position"], b.body["position"], "{a:?} {b:?}");
    assert_eq!(head_position(&client).await.unwrap(), 2);
    for (own, first) in [(&one, &a), (&two, &b)] {
        let again = client.post_raw(path, Some(own), &body, Some("same-key")).await.unwrap();
        assert_eq!(again.body["replayed"], json!(true), "{again:?}");
        assert_eq!(again.body["events"], first.body["events"], "each caller gets its own answer back");
    }
    assert_eq!(head_position(&client).await.unwrap(), 2, "the retries recorded nothing");
    let budget = client.get("/v1/budgets/guiyang/2025", Some(&one)).await.unwrap();
    assert_eq!(budget.body["appropriated"], "200.00", "{budget:?}");
    server.stop().await;
}

/// A key names one request: its route and its body. The same key and the same body bytes sent to another
/// route (another batch's claims, another year's budget) are another request under a key already used, so
/// they are refused with 422 `idempotency_key_reused` and record nothing; they are never answered with the
/// first route's answer (a claim on batch B must not be told it got batch A's voucher), nor decided afresh
/// under a key that already names a recorded command.
#[tokio::test]
async fn one_key_and_body_on_two_routes_is_refused_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    let batch_a = e2e::publish_batch(&client, GUIYANG, "100000.00", "50000.00", "1000.00").await.unwrap();
    let batch_b = e2e::publish_batch(&client, GUIYANG, "100000.00", "50000.00", "1000.00").await.unwrap();
    let own = e2e::verified_applicant(&client, GUIYANG, 1, false).await.unwrap();

    let claim_a = client
        .post_raw(&format!("/v1/batches/{batch_a}/claims"), Some(&own), "{}", Some("claim-key"))
        .await
        .unwrap();
    assert_eq!(claim_a.status, 201, "{claim_a:?}");
    let head = head_position(&client).await.unwrap();
    let claim_b = client
        .post_raw(&format!("/v1/batches/{batch_b}/claims"), Some(&own), "{}", Some("claim-key"))
        .await
        .unwrap();
    assert_eq!(claim_b.status, 422, "{claim_b:?}");
    assert_eq!(claim_b.code(), "idempotency_key_reused", "{claim_b:?}");
    assert!(claim_b.content_type.starts_with("application/problem+json"), "{claim_b:?}");
    assert_eq!(head_position(&client).await.unwrap(), head, "the refused request recorded nothing");
    // The first route still replays its own answer; a fresh key on the second route is decided as usual.
    let again = client
        .post_raw(&format!("/v1/batches/{batch_a}/claims"), Some(&own), "{}", Some("claim-key"))
        .await
        .unwrap();
    assert_eq!((again.status, &again.body["replayed"]), (201, &json!(true)), "{again:?}");
    assert_eq!(again.body["voucher_id"], claim_a.body["voucher_id"]);
    let fresh = client
        .post_raw(&format!("/v1/batches/{batch_b}/claims"), Some(&own), "{}", Some("claim-key-2"))
        .await
        .unwrap();
    assert_eq!((fresh.status, &fresh.body["replayed"]), (201, &json!(false)), "{fresh:?}");
    assert_ne!(fresh.body["voucher_id"], claim_a.body["voucher_id"]);

    // Two budgets' appropriations: one body, one key, two years.
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let body = json!({ "amount": "5.00" }).to_string();
    let year_2025 = "/v1/budgets/guiyang/2025/appropriations";
    let first = client.post_raw(year_2025, Some(&finance), &body, Some("money-key")).await.unwrap();
    assert_eq!(first.status, 201, "{first:?}");
    let head = head_position(&client).await.unwrap();
    let other_year = client
        .post_raw("/v1/budgets/guiyang/2026/appropriations", Some(&finance), &body, Some("money-key"))
        .await
        .unwrap();
    assert_eq!((other_year.status, other_year.code()), (422, "idempotency_key_reused"), "{other_year:?}");
    assert_eq!(head_position(&client).await.unwrap(), head, "the refused request recorded nothing");
    server.stop().await;
}

/// Every anonymous objector is the same `public` actor: their keys are ignored, so two people who send the
/// same key and text each get their own objection recorded.
#[tokio::test]
async fn anonymous_objectors_never_get_each_others_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    approved_provider(&client, GUIYANG, 7, &[TESTING]).await.unwrap();
    let body =
        json!({ "target": { "kind": "provider", "provider": credit_code(7) }, "text": "not accredited" })
            .to_string();
    let a = client.post_raw("/v1/objections", None, &body, Some("same-key")).await.unwrap();
    let b = client.post_raw("/v1/objections", None, &body, Some("same-key")).await.unwrap();
    assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
    assert_eq!(b.body["replayed"], json!(false), "{b:?}");
    assert_ne!(a.body["objection_id"], b.body["objection_id"], "{a:?} {b:?}");
    let view = e2e::read(
        &client,
        &format!("/v1/providers/{}", credit_code(7)),
        Some(&e2e::staff(Role::Bureau, GUIYANG)),
    )
    .await
    .unwrap();
    assert_eq!(view["objections"].as_array().map(Vec::len), Some(2), "{view}");
    server.stop().await;
}

/// Serves a fresh embedded store with the binary and `extra` serve arguments.
fn binary_server(dir: &std::path::Path, extra: &[&str]) -> e2e::ServerProcess {
    e2e::ServerProcess::try_start_with(&engine::open::StoreSpec::File(dir.to_owned()), MORNING, extra)
        .expect("server")
}

fn host_port(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

/// Opens a connection and sends a request head without its end.
async fn half_sent(address: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(b"POST /v1/objections HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n")
        .await
        .expect("write");
    stream
}

/// Reads what the server sends until it closes the connection; `None` when it is still open at `within`.
async fn read_to_close(stream: &mut tokio::net::TcpStream, within: std::time::Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut text = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut text)).await {
        Ok(_) => Some(String::from_utf8_lossy(&text).into_owned()),
        Err(_) => None,
    }
}

fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|entries| entries.count()).unwrap_or(0)
}

/// A half-sent request is closed after the header timeout; a slow body is answered 408 after the request
/// timeout; the event feed outlives the request timeout.
#[tokio::test]
async fn half_sent_requests_and_slow_bodies_are_cut_but_the_feed_is_not() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let server = binary_server(dir.path(), &["--header-timeout-secs", "1", "--request-timeout-secs", "2"]);
    let address = host_port(&server.base);
    let started = std::time::Instant::now();
    let mut stream = half_sent(&address).await;
    let closed = read_to_close(&mut stream, std::time::Duration::from_secs(6)).await;
    assert!(closed.is_some(), "a half-sent request was still held after 6 s");
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "closed after {:?}", started.elapsed());

    // A whole head with a body that never ends: 408 request_timeout problem+json.
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = "POST /v1/objections HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"target\":";
    slow.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut slow, std::time::Duration::from_secs(8)).await.expect("answered");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout") && answer.contains("application/problem+json"), "{answer}");

    // The feed's stream stays open past the request timeout.
    let auditor = e2e::staff(Role::Auditor, GUIYANG);
    let http = reqwest::Client::new();
    let mut feed =
        http.get(format!("{}/v1/events?from=1", server.base)).bearer_auth(&auditor).send().await.unwrap();
    assert_eq!(feed.status().as_u16(), 200);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(4);
    loop {
        match tokio::time::timeout_at(deadline, feed.chunk()).await {
            Err(_) => break,
            Ok(Ok(Some(_))) => {}
            Ok(other) => panic!("the feed ended before 4 s: {other:?}"),
        }
    }
}

/// Connections beyond the limit are answered 503 `too_many_connections` and closed at once, the server's
/// descriptors stay bounded under a flood of half-sent requests, and a normal request is served as soon as
/// the header timeout has cleared the held ones, while the flood's sockets are still open.
#[tokio::test]
async fn connections_beyond_the_limit_are_refused_and_descriptors_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 8;
    // The header timeout is longer than the time the descriptors are given to settle below, so only the
    // connection limit (not the timeout) can keep them bounded.
    let server = binary_server(dir.path(), &["--header-timeout-secs", "4", "--max-connections", "8"]);
    let address = host_port(&server.base);
    {
        // A client of its own, dropped (with its pooled connection) before the flood.
        let client = Client::new(&server.base);
        assert_eq!(client.get("/healthz", None).await.unwrap().status, 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let baseline = descriptors(server.pid());
    let mut held = Vec::new();
    for _ in 0..limit {
        held.push(half_sent(&address).await);
    }
    // The next one is refused at once.
    let mut extra = half_sent(&address).await;
    let refusal =
        read_to_close(&mut extra, std::time::Duration::from_secs(1)).await.expect("refused at once");
    assert!(refusal.starts_with("HTTP/1.1 503"), "{refusal}");
    assert!(refusal.contains("too_many_connections") && refusal.contains("retry-after"), "{refusal}");
    // A flood of 300 more.
    let mut flood = Vec::new();
    for _ in 0..300 {
        flood.push(half_sent(&address).await);
    }
    // Refusals are answered by tasks of their own, which a loaded machine may run a little late: the count
    // is read until it settles (at most 2 s, well within the 4 s header timeout, while every flood socket is
    // still open on this side). Without the limit the server would hold all 300 until the timeout.
    let bound = baseline + limit + 16;
    let settle_by = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut during = descriptors(server.pid());
    while during > bound && std::time::Instant::now() < settle_by {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        during = descriptors(server.pid());
    }
    assert!(during <= bound, "descriptors grew from {baseline} to {during}");
    // The held ones are closed by the header timeout; a normal request (a new connection) is then served.
    let client = Client::new(&server.base);
    let served_by = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let answer = client.get("/healthz", None).await;
        if matches!(&answer, Ok(answer) if answer.status == 200) {
            break;
        }
        assert!(std::time::Instant::now() < served_by, "a normal request was starved: {answer:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop((held, flood));
}

/// Each client address files at most `--objections-per-address` objections per window: then 429
/// `too_many_objections` with `Retry-After`, and nothing is recorded.
#[tokio::test]
async fn objections_per_address_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        binary_server(dir.path(), &["--objections-per-address", "2", "--objection-window-secs", "600"]);
    let client = Client::new(&server.base);
    approved_provider(&client, GUIYANG, 8, &[TESTING]).await.unwrap();
    let body = json!({ "target": { "kind": "provider", "provider": credit_code(8) }, "text": "objection" })
        .to_string();
    for _ in 0..2 {
        let answer = client.post_raw("/v1/objections", None, &body, None).await.unwrap();
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let head = head_position(&client).await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/v1/objections", server.base))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry_after), "{retry_after}");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "too_many_objections", "{problem}");
    assert_eq!(head_position(&client).await.unwrap(), head, "a refused objection records nothing");
}

/// With `--metrics-listen`, `/metrics` is served there and no longer on the public port.
#[tokio::test]
async fn metrics_are_served_on_their_own_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = binary_server(dir.path(), &["--metrics-listen", "127.0.0.1:0"]);
    let client = Client::new(&server.base);
    assert_eq!(client.get("/healthz", None).await.unwrap().status, 200);
    let public = client.get("/metrics", None).await.unwrap();
    assert_eq!((public.status, public.code()), (404, "not_found"), "{public:?}");
    let stderr = server.stderr();
    let metrics = stderr
        .split("serving /metrics on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no metrics address in:\n{stderr}"))
        .to_owned();
    let response = reqwest::get(&metrics).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    // Only /metrics is there.
    let other = reqwest::get(metrics.replace("/metrics", "/v1/log/head")).await.unwrap();
    assert_eq!(other.status().as_u16(), 404);
}

async fn csv_text(base: &str, path: &str, bearer: &str) -> String {
    let response =
        reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(bearer).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.text().await.unwrap()
}

/// A name that a spreadsheet would run as a formula reaches the CSV export quoted with a single quote in
/// front; negative amounts stay bare numbers.
#[tokio::test]
async fn csv_exports_neutralize_formulas_and_keep_amounts_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    e2e::publish_batch(&client, GUIYANG, "1000000.00", "500000.00", "50000.00").await.unwrap();
    let code = credit_code(9);
    let own = token(Role::Enterprise, GUIYANG, "applicant-9", Some(&code));
    let name = "=HYPERLINK(\"http://evil.example/?x\",\"click\")";
    let registration = json!({ "credit_code": code, "name": name, "kind": "enterprise",
        "jurisdiction": GUIYANG, "industry": "advanced_equipment",
        "independent_legal_person": true, "tax_compliant": true });
    let answer = client.post("/v1/applicants", &own, &registration).await.unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");

    let text = csv_text(&server.base, &format!("/v1/applicants/{code}?format=csv"), &own).await;
    let escaped = "\"'=HYPERLINK(\"\"http://evil.example/?x\"\",\"\"click\"\")\"";
    assert!(text.contains(escaped), "{text}");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let column = header.iter().position(|h| h == "name").unwrap();
    assert_eq!(&row[column], format!("'{name}"));

    // The fiscal source's balance is negative: written as a bare number, not escaped.
    let auditor = e2e::staff(Role::Auditor, GUIYANG);
    let text = csv_text(&server.base, "/v1/trial-balance/guiyang?format=csv", &auditor).await;
    assert!(text.lines().any(|line| line.contains(",-1000000.00")), "{text}");
    assert!(!text.contains("'-"), "{text}");
    server.stop().await;
}

/// `serve --jwt-issuer --jwt-max-lifetime-secs`: a token minted by `voucher-ledger token` with the same
/// options is accepted; one without the issuer, or living longer than the maximum, is refused 401; a key
/// whose bytes are all alike stops the server at start.
#[tokio::test]
async fn tokens_need_the_issuer_and_a_bounded_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let options = ["--jwt-issuer", "guiyang-idp", "--jwt-max-lifetime-secs", "3600"];
    let server = binary_server(dir.path(), &options);
    let client = Client::new(&server.base);
    let mint = |extra: &[&str]| {
        let output = std::process::Command::new(e2e::binary())
            .args(["token", "--role", "bureau", "--jurisdiction", "guiyang", "--subject", "clerk-1"])
            .args(extra)
            .env("VOUCHER_LEDGER_JWT_SECRET", e2e::SECRET)
            .env_remove("VOUCHER_LEDGER_JWT_ISSUER")
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let (ok, minted) = mint(&[&options[..], &["--ttl-seconds", "3600"]].concat());
    assert!(ok, "{minted}");
    let path = "/v1/trial-balance/guiyang";
    assert_eq!(client.get(path, Some(&minted)).await.unwrap().status, 200);
    // The harness's tokens name no issuer.
    let plain = e2e::staff(Role::Bureau, GUIYANG);
    let refused = client.get(path, Some(&plain)).await.unwrap();
    assert_eq!((refused.status, refused.code()), (401, "invalid_token"), "{refused:?}");
    // Two hours is longer than the hour allowed.
    let long = api::auth::Authenticator::new(e2e::SECRET.as_bytes())
        .unwrap()
        .with_issuer(Some("guiyang-idp".into()))
        .mint(
            &domain::Actor {
                subject: "clerk-1".into(),
                role: Role::Bureau,
                jurisdiction: Some(GUIYANG),
                credit_code: None,
            },
            chrono::Utc::now().timestamp(),
            7200,
        )
        .unwrap();
    let refused = client.get(path, Some(&long)).await.unwrap();
    assert_eq!((refused.status, refused.code()), (401, "invalid_token"), "{refused:?}");
    // `token` refuses to mint what the server would refuse.
    let (ok, _) = mint(&[&options[..], &["--ttl-seconds", "7200"]].concat());
    assert!(!ok);

    // A key of one repeated byte is refused at start.
    let output = std::process::Command::new(e2e::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("other"))
        .env("VOUCHER_LEDGER_JWT_SECRET", "a".repeat(48))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("all alike"), "{output:?}");
}

/// An answer given before the request's body was read (a body over the limit) says `Connection: close`
/// and the server closes the connection, so a client never sends its next request on a connection the
/// server is closing: one client alternating oversized and normal requests gets every normal one answered.
#[tokio::test]
async fn an_answer_before_the_body_is_read_closes_the_connection_and_says_so() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let finance = e2e::staff(Role::Finance, GUIYANG);
    let route = "/v1/budgets/guiyang/2025/appropriations";

    // Over raw TCP: the head announces 4 MiB and a little more than the limit follows.
    let mut stream = tokio::net::TcpStream::connect(server.address).await.unwrap();
    let head = format!(
        "POST {route} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {finance}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        4 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b' '; api::http::BODY_BYTES_MAX + 1024]).await.unwrap();
    let within = std::time::Duration::from_secs(10);
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 4096];
    // The answer's head and its body (its length from the head).
    let complete = |answer: &[u8]| {
        let text = String::from_utf8_lossy(answer).to_lowercase();
        let Some(end) = text.find("\r\n\r\n") else { return false };
        let length = text[..end]
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .and_then(|value| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        answer.len() >= end + 4 + length
    };
    while !complete(&answer) {
        let n =
            tokio::time::timeout(within, stream.read(&mut buffer)).await.expect("answered").expect("read");
        assert!(n > 0, "closed before the whole answer: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..n]);
    }
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");
    assert!(answer.contains("connection: close\r\n"), "the 413 did not say the connection closes: {answer}");
    assert!(answer.contains("body_too_large"), "{answer}");
    // Then the server closes the connection (an end of stream, or a reset for the body left unread).
    let after = tokio::time::timeout(within, stream.read(&mut buffer)).await;
    assert!(matches!(after, Ok(Ok(0) | Err(_))), "the connection stayed open after the 413: {after:?}");

    // Over a pooling client: every normal request after an oversized one is answered.
    let http = reqwest::Client::new();
    let url = format!("{}{route}", server.base);
    let head_before = head_position(&Client::new(&server.base)).await.unwrap();
    for round in 0..20 {
        let big = http.post(&url).bearer_auth(&finance).header("content-type", "application/json");
        if let Ok(response) = big.body(vec![b' '; 4 << 20]).send().await {
            assert_eq!(response.status().as_u16(), 413, "round {round}");
        }
        let small = http
            .post(&url)
            .bearer_auth(&finance)
            .header("content-type", "application/json")
            .body("[[]]")
            .send()
            .await
            .unwrap_or_else(|error| {
                panic!("round {round}: the request after the oversized one failed: {error}")
            });
        assert_eq!(small.status().as_u16(), 400, "round {round}");
    }
    assert_eq!(
        head_position(&Client::new(&server.base)).await.unwrap(),
        head_before,
        "something was appended"
    );
    server.stop().await;
}
