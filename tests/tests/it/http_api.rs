//! The HTTP API contract: the documented fields of answers, 400s for malformed input that append nothing,
//! idempotency keys, and the manual clock of test mode.

use domain::{Jurisdiction, Role};
use e2e::{
    Answer, Backend, Client, InProcessServer, MORNING, TestStore, credit_code, head_position, publish_batch,
    token,
};
use serde_json::{Value, json};

fn is_hex64(value: &Value) -> bool {
    value.as_str().is_some_and(|text| text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_problem(answer: &Answer) -> bool {
    answer.content_type.starts_with("application/problem+json")
}

fn finance() -> String {
    token(Role::Finance, Jurisdiction::Guiyang, "finance-1", None)
}

fn auditor() -> String {
    token(Role::Auditor, Jurisdiction::Guiyang, "auditor-1", None)
}

const APPROPRIATION: &str = "/v1/budgets/guiyang/2025/appropriations";

e2e::per_backend!(a_claim_walkthrough_answers_with_the_documented_fields, 2);
async fn a_claim_walkthrough_answers_with_the_documented_fields(backend: Backend) -> anyhow::Result<()> {
    let store = TestStore::new(backend).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);

    // Appropriation: 201 with position and the events recorded.
    let answer = client.post(APPROPRIATION, &finance(), &json!({ "amount": "1000000.00" })).await?;
    assert_eq!(answer.status, 201, "appropriation: {answer:?}");
    let position = answer.body["position"].as_u64().expect("position");
    let events = answer.body["events"].as_array().expect("events");
    assert!(!events.is_empty(), "appropriation events: {answer:?}");
    for event in events {
        assert!(event["position"].as_u64().is_some(), "event position: {event}");
        assert!(is_hex64(&event["hash"]), "event hash is 64 hex characters: {event}");
        assert!(event["type"].as_str().is_some_and(|t| !t.is_empty()), "event type: {event}");
        assert!(event["stream"].as_str().is_some_and(|s| !s.is_empty()), "event stream: {event}");
    }
    assert_eq!(
        events.last().and_then(|e| e["position"].as_u64()),
        Some(position),
        "last event is at position"
    );

    // Batch publication: 201 with batch_id (publish_batch asserts the 201).
    let batch_id = publish_batch(&client, Jurisdiction::Guiyang, "", "1000000.00", "50000.00").await?;
    assert!(uuid::Uuid::parse_str(&batch_id).is_ok(), "batch_id is a UUID: {batch_id:?}");

    // Claim: 201 with voucher_id and face_value as a string.
    let applicant = e2e::verified_applicant(&client, Jurisdiction::Guiyang, 1, false).await?;
    let code = credit_code(1);
    let answer = client.post(&format!("/v1/batches/{batch_id}/claims"), &applicant, &json!({})).await?;
    assert_eq!(answer.status, 201, "claim: {answer:?}");
    let voucher_id = answer.body["voucher_id"].as_str().expect("voucher_id").to_owned();
    assert!(uuid::Uuid::parse_str(&voucher_id).is_ok(), "voucher_id is a UUID: {answer:?}");
    assert_eq!(answer.body["face_value"], json!("50000.00"), "claim: {answer:?}");

    // The voucher's balances.
    let answer = client.get(&format!("/v1/vouchers/{voucher_id}"), Some(&applicant)).await?;
    assert_eq!(answer.status, 200, "voucher: {answer:?}");
    assert_eq!(answer.body["available"], json!("50000.00"), "voucher: {answer:?}");
    assert_eq!(answer.body["committed"], json!("0.00"), "voucher: {answer:?}");

    // What the applicant was issued this year.
    let answer = client.get(&format!("/v1/applicants/{code}/issued?year=2025"), Some(&applicant)).await?;
    assert_eq!(answer.status, 200, "issued: {answer:?}");
    assert_eq!(answer.body["issued_total"], json!("50000.00"), "issued: {answer:?}");

    // The batch and the budget.
    let answer = client.get(&format!("/v1/batches/{batch_id}"), Some(&auditor())).await?;
    assert_eq!(answer.status, 200, "batch: {answer:?}");
    assert!(answer.body.is_object(), "batch: {answer:?}");
    let answer = client.get("/v1/budgets/guiyang/2025", Some(&finance())).await?;
    assert_eq!(answer.status, 200, "budget: {answer:?}");
    assert!(answer.body.is_object(), "budget: {answer:?}");

    // The trial balance: the 8 accounts of SPEC §5, summing to zero.
    let answer = client.get("/v1/trial-balance/guiyang", Some(&finance())).await?;
    assert_eq!(answer.status, 200, "trial balance: {answer:?}");
    let mut names: Vec<&str> = answer.body["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|account| account["account"].as_str().expect("account name"))
        .collect();
    names.sort_unstable();
    let mut expected = vec![
        "fiscal_source",
        "budget",
        "batch_pool",
        "voucher_available",
        "voucher_committed",
        "provider_receivable",
        "disbursed",
        "clawback_due",
    ];
    expected.sort_unstable();
    assert_eq!(names, expected, "trial balance accounts: {answer:?}");
    assert_eq!(answer.body["total"], json!("0.00"), "trial balance: {answer:?}");

    // The log head.
    let answer = client.get("/v1/log/head", Some(&auditor())).await?;
    assert_eq!(answer.status, 200, "log head: {answer:?}");
    assert!(answer.body["position"].as_u64().is_some(), "log head: {answer:?}");
    assert!(is_hex64(&answer.body["hash"]), "log head hash is 64 hex characters: {answer:?}");

    // Health and readiness.
    assert_eq!(client.get("/healthz", None).await?.status, 200, "healthz");
    let answer = client.get("/readyz", None).await?;
    assert_eq!(answer.status, 200, "readyz: {answer:?}");

    // The OpenAPI document lists every route.
    let answer = client.get("/openapi.json", None).await?;
    assert_eq!(answer.status, 200, "openapi: {answer:?}");
    let paths = answer.body["paths"].as_object().expect("openapi paths");
    for route in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/policies",
        "/v1/calendar/years",
        "/v1/budgets/{jurisdiction}/{fiscal_year}/appropriations",
        "/v1/budgets/{jurisdiction}/{fiscal_year}",
        "/v1/batches",
        "/v1/batches/{batch_id}",
        "/v1/batches/{batch_id}/closure",
        "/v1/batches/{batch_id}/claims",
        "/v1/applicants",
        "/v1/applicants/{credit_code}",
        "/v1/applicants/{credit_code}/verification",
        "/v1/applicants/{credit_code}/suspension",
        "/v1/applicants/{credit_code}/issued",
        "/v1/vouchers/{voucher_id}",
        "/v1/trial-balance/{jurisdiction}",
        "/v1/log/head",
        "/v1/admin/clock",
    ] {
        assert!(paths.contains_key(route), "openapi.json has no path {route}; it has {:?}", paths.keys());
    }

    // Prometheus metrics (text, not JSON).
    let response = reqwest::get(format!("{}/metrics", server.base)).await?;
    assert_eq!(response.status().as_u16(), 200, "metrics");
    let text = response.text().await?;
    assert!(text.contains("http_requests_total"), "metrics lack http_requests_total:\n{text}");

    server.stop().await;
    Ok(())
}

e2e::per_backend!(bad_amounts_are_400_invalid_amount_and_append_nothing, 2);
async fn bad_amounts_are_400_invalid_amount_and_append_nothing(backend: Backend) -> anyhow::Result<()> {
    let store = TestStore::new(backend).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);
    let finance = finance();
    let mut failures = Vec::new();

    let mut refuse = async |body: String, status: u16, code: Option<&str>| -> anyhow::Result<()> {
        let before = head_position(&client).await?;
        let answer = client.post_raw(APPROPRIATION, Some(&finance), &body, None).await?;
        let after = head_position(&client).await?;
        let code_ok = code.is_none_or(|code| answer.code() == code);
        if answer.status != status || !is_problem(&answer) || !code_ok || after != before {
            failures.push(format!(
                "POST {APPROPRIATION} {body}: expected {status} {code:?} problem+json and no append, got {} [{}] {} (head {before} -> {after})",
                answer.status, answer.content_type, answer.body
            ));
        }
        Ok(())
    };
    let amounts = [
        json!(1000),
        json!("1.005"),
        json!("-5.00"),
        json!("0"),
        json!("0.00"),
        json!("1e3"),
        json!("abc"),
        json!("10000000000000.00"),
    ];
    for amount in amounts {
        refuse(json!({ "amount": amount }).to_string(), 400, Some("invalid_amount")).await?;
    }
    refuse(json!({ "amount": "1000.00", "note": "unknown field" }).to_string(), 400, None).await?;
    refuse(r#"{"amount": "1000.00""#.to_owned(), 400, Some("invalid_json")).await?;
    refuse("not json at all".to_owned(), 400, Some("invalid_json")).await?;

    // A registration whose credit code fails the GB 32100 check character.
    let good = credit_code(7);
    let last = good.chars().last().expect("a check character");
    let wrong = if last == '0' { '1' } else { '0' };
    let bad = format!("{}{wrong}", &good[..good.len() - 1]);
    let applicant = token(Role::Enterprise, Jurisdiction::Guiyang, "applicant-7", Some(&good));
    let body = json!({ "credit_code": bad, "name": "enterprise 7", "kind": "enterprise", "jurisdiction": "guiyang",
        "industry": "advanced_equipment", "independent_legal_person": true, "tax_compliant": true });
    let before = head_position(&client).await?;
    let answer = client.post("/v1/applicants", &applicant, &body).await?;
    let after = head_position(&client).await?;
    if answer.status != 400
        || !is_problem(&answer)
        || answer.code() != "invalid_credit_code"
        || after != before
    {
        failures.push(format!(
            "POST /v1/applicants {body}: expected 400 invalid_credit_code and no append, got {} [{}] {} (head {before} -> {after})",
            answer.status, answer.content_type, answer.body
        ));
    }

    server.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

e2e::per_backend!(idempotency_same_key_same_body_returns_the_first_answer, 2);
async fn idempotency_same_key_same_body_returns_the_first_answer(backend: Backend) -> anyhow::Result<()> {
    let store = TestStore::new(backend).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);
    let finance = finance();
    let body = json!({ "amount": "2500.00" }).to_string();

    let start = head_position(&client).await?;
    let first = client.post_raw(APPROPRIATION, Some(&finance), &body, Some("appropriation-42")).await?;
    assert_eq!(first.status, 201, "first: {first:?}");
    assert_eq!(first.body["replayed"], json!(false), "first: {first:?}");
    let moved = head_position(&client).await?;
    assert!(moved > start, "the first request appends");

    let second = client.post_raw(APPROPRIATION, Some(&finance), &body, Some("appropriation-42")).await?;
    assert_eq!(second.status, 201, "second: {second:?}");
    assert_eq!(second.body["replayed"], json!(true), "second: {second:?}");
    assert_eq!(second.body["position"], first.body["position"], "same position: {first:?} / {second:?}");
    assert_eq!(second.body["events"], first.body["events"], "same events");
    assert_eq!(head_position(&client).await?, moved, "the replay appends nothing");

    let other = json!({ "amount": "2600.00" }).to_string();
    let third = client.post_raw(APPROPRIATION, Some(&finance), &other, Some("appropriation-42")).await?;
    assert_eq!(third.status, 422, "same key, other body: {third:?}");
    assert!(is_problem(&third), "problem+json: {third:?}");
    assert_eq!(third.code(), "idempotency_key_reused", "{third:?}");
    assert_eq!(head_position(&client).await?, moved, "a reused key appends nothing");

    server.stop().await;
    Ok(())
}

e2e::per_backend!(the_manual_clock_moves_the_business_date, 2);
async fn the_manual_clock_moves_the_business_date(backend: Backend) -> anyhow::Result<()> {
    let store = TestStore::new(backend).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);
    let batch_id =
        publish_batch(&client, Jurisdiction::Guiyang, "1000000.00", "1000000.00", "50000.00").await?;
    let applicant = e2e::verified_applicant(&client, Jurisdiction::Guiyang, 3, false).await?;

    let operator = e2e::token(domain::Role::Operator, Jurisdiction::Guiyang, "operator-1", None);
    let answer = client
        .post_raw("/v1/admin/clock", Some(&operator), r#"{"now": "2025-07-01T09:00:00+08:00"}"#, None)
        .await?;
    assert_eq!(answer.status, 200, "clock: {answer:?}");
    assert_eq!(answer.body["business_date"], json!("2025-07-01"), "clock: {answer:?}");

    let before = head_position(&client).await?;
    let answer = client.post(&format!("/v1/batches/{batch_id}/claims"), &applicant, &json!({})).await?;
    assert_eq!(answer.status, 422, "claim after the window: {answer:?}");
    assert!(is_problem(&answer), "problem+json: {answer:?}");
    assert_eq!(answer.code(), "claim_window_closed", "{answer:?}");
    assert_eq!(head_position(&client).await?, before, "a refused claim appends nothing");

    server.stop().await;
    Ok(())
}
