//! Hostile input over real HTTP: oversized bodies, deeply nested JSON, bytes that are not UTF-8, huge numbers,
//! negative and three-decimal amounts, wrong types, hostile paths and headers. Every one is a clear 4xx
//! `application/problem+json` with a `code`, and the log head does not move. A well-formed control request
//! with the same token is accepted at the end, so the refusals were about the input and not the token.

use domain::{Jurisdiction, Role};
use e2e::{Client, InProcessServer, MORNING, head_position, publish_batch, token, verified_applicant};
use serde_json::json;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;
const APPROPRIATION: &str = "/v1/budgets/guiyang/2025/appropriations";

/// One hostile request: a label, method and path, the body bytes, and an extra header.
struct Case {
    label: String,
    path: String,
    body: Vec<u8>,
    header: Option<(&'static str, String)>,
    token: String,
}

fn case(label: impl Into<String>, path: &str, body: impl Into<Vec<u8>>, token: &str) -> Case {
    Case {
        label: label.into(),
        path: path.to_owned(),
        body: body.into(),
        header: None,
        token: token.to_owned(),
    }
}

fn batch_with(field: &str, value: serde_json::Value) -> String {
    let mut batch = json!({
        "jurisdiction": "guiyang", "fiscal_year": 2025, "name": "hostile batch",
        "total": "1000.00", "face_value": "100.00",
        "eligible_kinds": ["enterprise"], "eligible_industries": ["advanced_equipment"],
        "eligible_categories": ["technology_innovation"],
        "claim_opens": "2025-03-01", "claim_closes": "2025-06-30", "valid_until": "2025-12-31"
    });
    batch[field] = value;
    batch.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_paths_and_headers_are_4xx_problems_and_append_nothing() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = InProcessServer::start(data.path(), MORNING).await?;
    let client = Client::new(&server.base);
    let http = reqwest::Client::new();
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let bureau = token(Role::Bureau, GUIYANG, "bureau-1", None);
    let batch = publish_batch(&client, GUIYANG, "1000000.00", "1000000.00", "50000.00").await?;
    let applicant = verified_applicant(&client, GUIYANG, 1, false).await?;

    let mut cases = Vec::new();
    // Size.
    let padding = "x".repeat(api::http::BODY_BYTES_MAX + 1);
    cases.push(case(
        "a body one byte over the limit",
        APPROPRIATION,
        format!(r#"{{"amount":"1.00","pad":"{padding}"}}"#),
        &finance,
    ));
    cases.push(case("a 4 MiB body", APPROPRIATION, vec![b' '; 4 << 20], &finance));
    // Nesting.
    for depth in [129, 10_000, 100_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        cases.push(case(format!("an array nested {depth} deep"), APPROPRIATION, deep, &finance));
        let deep_object = format!(r#"{{"amount":{}1{}}}"#, r#"{"a":"#.repeat(depth), "}".repeat(depth));
        cases.push(case(format!("an amount nested {depth} deep"), APPROPRIATION, deep_object, &finance));
    }
    // Encoding.
    cases.push(case(
        "bytes that are not UTF-8",
        APPROPRIATION,
        b"{\"amount\":\"1\xff\xfe.00\"}".to_vec(),
        &finance,
    ));
    cases.push(case("a lone surrogate", APPROPRIATION, r#"{"amount":"\ud800"}"#, &finance));
    cases.push(case("a NUL in the amount", APPROPRIATION, "{\"amount\":\"1\\u0000.00\"}", &finance));
    cases.push(case("a byte-order mark", APPROPRIATION, "\u{feff}{\"amount\":\"1.00\"}", &finance));
    cases.push(case("two documents", APPROPRIATION, r#"{"amount":"1.00"}{"amount":"1.00"}"#, &finance));
    cases.push(case("a JSON array", APPROPRIATION, r#"["1.00"]"#, &finance));
    cases.push(case("JSON null", APPROPRIATION, "null", &finance));
    cases.push(case("a duplicate field", APPROPRIATION, r#"{"amount":"1.00","amount":"2.00"}"#, &finance));
    // Numbers and amounts.
    for amount in [
        json!("-1.00"),
        json!("-0.01"),
        json!("1.001"),
        json!("0.005"),
        json!("1.00000000000000000000000000001"),
        json!("99999999999999999999999999999999999999.00"),
        json!("1e400"),
        json!("NaN"),
        json!("Infinity"),
        json!(" 1.00"),
        json!("1,000.00"),
        json!("0x10"),
        json!(""),
        json!(null),
        json!(true),
        json!([]),
        json!({}),
        json!(1.5),
        json!(-1),
    ] {
        cases.push(case(
            format!("amount {amount}"),
            APPROPRIATION,
            json!({ "amount": amount }).to_string(),
            &finance,
        ));
    }
    cases.push(case("a number beyond f64", APPROPRIATION, r#"{"amount":1e400}"#, &finance));
    cases.push(case(
        "a 10 000-digit number",
        APPROPRIATION,
        format!(r#"{{"amount":{}}}"#, "9".repeat(10_000)),
        &finance,
    ));
    for (field, value) in [
        ("fiscal_year", json!(99_999_999_999_i64)),
        ("fiscal_year", json!(-2025)),
        ("fiscal_year", json!("2025")),
        ("fiscal_year", serde_json::from_str("1e400").unwrap_or(json!(1e300))),
        ("total", json!("-1000.00")),
        ("total", json!("1000.001")),
        ("face_value", json!("100.005")),
        ("face_value", json!("-100.00")),
        ("face_value", json!("0.00")),
        ("claim_opens", json!("2025-02-30")),
        ("claim_opens", json!("99999-01-01")),
        ("eligible_kinds", json!(["mayor"])),
        ("eligible_kinds", json!("enterprise")),
        ("name", json!(null)),
    ] {
        cases.push(case(
            format!("batch {field} = {value}"),
            "/v1/batches",
            batch_with(field, value),
            &bureau,
        ));
    }
    // Paths.
    let claims = |id: &str| format!("/v1/batches/{id}/claims");
    cases.push(case("a batch id that is not a UUID", &claims("not-a-uuid"), "{}", &applicant));
    cases.push(case("a 10 000-character batch id", &claims(&"a".repeat(10_000)), "{}", &applicant));
    cases.push(case("a percent-encoded NUL in the path", &claims("%00"), "{}", &applicant));
    cases.push(case("an unknown batch", &claims("00000000-0000-7000-8000-000000000000"), "{}", &applicant));
    cases.push(case(
        "a fiscal year beyond i32",
        "/v1/budgets/guiyang/99999999999/appropriations",
        r#"{"amount":"1.00"}"#,
        &finance,
    ));
    cases.push(case(
        "an unknown jurisdiction",
        "/v1/budgets/atlantis/2025/appropriations",
        r#"{"amount":"1.00"}"#,
        &finance,
    ));
    cases.push(case(
        "a credit code path that is no code",
        "/v1/applicants/%FF%FE/verification",
        r#"{"decision":"verified"}"#,
        &token(Role::ServiceCenter, GUIYANG, "center-1", None),
    ));
    cases.push(case("an unknown route", "/v1/nothing-here", "{}", &finance));
    // Headers.
    for key in ["x".repeat(256), "with space".to_owned(), "tab\there".to_owned()] {
        let mut hostile =
            case(format!("idempotency key {key:?}"), APPROPRIATION, r#"{"amount":"1.00"}"#, &finance);
        hostile.header = Some(("idempotency-key", key));
        cases.push(hostile);
    }
    let mut huge_token = case("a 100 KiB bearer token", APPROPRIATION, r#"{"amount":"1.00"}"#, &finance);
    huge_token.token = "a".repeat(100 * 1024);
    cases.push(huge_token);
    let _ = &batch;

    let mut failures = Vec::new();
    for hostile in &cases {
        let before = head_position(&client).await?;
        let mut request = http
            .post(format!("{}{}", server.base, hostile.path))
            .header("content-type", "application/json")
            .bearer_auth(&hostile.token)
            .body(hostile.body.clone());
        if let Some((name, value)) = &hostile.header {
            request = request.header(*name, value.as_str());
        }
        let (status, content_type, body) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let body = response.bytes().await.unwrap_or_default();
                (status, content_type, body)
            }
            // A body far over the limit: the server may answer 413 and close the connection while the
            // client is still sending, which the client sees as a reset. Nothing may be appended either way.
            Err(_) if hostile.body.len() > api::http::BODY_BYTES_MAX => {
                let after = head_position(&client).await?;
                if after != before {
                    failures.push(format!("{}: head {before} -> {after}", hostile.label));
                }
                continue;
            }
            Err(error) => {
                failures.push(format!("{}: no answer ({error})", hostile.label));
                continue;
            }
        };
        let after = head_position(&client).await?;
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let coded = problem["code"].as_str().is_some_and(|code| !code.is_empty())
            && problem["status"].as_u64() == Some(u64::from(status));
        if !(400..500).contains(&status)
            || !content_type.starts_with("application/problem+json")
            || !coded
            || after != before
        {
            failures.push(format!(
                "{}: expected a 4xx problem+json with a code and no append, got {status} [{content_type}] {} (head {before} -> {after})",
                hostile.label,
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
    }

    // Control: the same token and route accept a well-formed request afterwards.
    let control = client.post(APPROPRIATION, &finance, &json!({ "amount": "1.00" })).await?;
    assert_eq!(control.status, 201, "control: {control:?}");
    println!("hostile_input: cases={} failures={}", cases.len(), failures.len());
    server.stop().await;
    assert!(
        failures.is_empty(),
        "{} hostile request(s) mishandled:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}
