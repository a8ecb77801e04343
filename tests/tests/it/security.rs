//! Security checks against the real binary (`voucher-ledger serve` as a child process, its stderr captured):
//! forged and unusable tokens (`alg: none`, another key, another HMAC algorithm, expired, wrong audience, a
//! role or jurisdiction that does not exist) are refused with 401 and append nothing; staff cannot act in
//! another jurisdiction; a provider cannot read another provider's contracts or dossiers; an applicant cannot
//! act for another credit code; and neither a token nor the signing key ever appears in the server's logs.

use api::auth::{AUDIENCE, Claims};
use domain::{Jurisdiction, Role};
use e2e::{
    Answer, Client, MORNING, SECRET, ServerProcess, admitted_provider, contract_body, credit_code,
    head_position, publish_batch, token, voucher_holder,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;
const APPROPRIATION: &str = "/v1/budgets/guiyang/2025/appropriations";

/// Base64url without padding (RFC 7515 §2), for hand-made tokens.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn claims(role: &str, jurisdiction: &str) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "finance-1".into(),
        role: role.into(),
        jurisdiction: jurisdiction.into(),
        credit_code: None,
        aud: AUDIENCE.into(),
        exp: now + 3600,
        iat: now,
    }
}

fn sign(algorithm: Algorithm, key: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(key)).expect("sign")
}

fn is_problem(answer: &Answer) -> bool {
    answer.content_type.starts_with("application/problem+json")
}

/// POSTs with `bearer` and checks the answer is `status` problem+json and the log head did not move.
async fn refused(
    client: &Client,
    label: &str,
    path: &str,
    bearer: Option<&str>,
    body: &Value,
    status: u16,
    failures: &mut Vec<String>,
) -> anyhow::Result<()> {
    let before = head_position(client).await?;
    let answer = client.post_raw(path, bearer, &body.to_string(), None).await?;
    let after = head_position(client).await?;
    if answer.status != status || !is_problem(&answer) || after != before {
        failures.push(format!(
            "{label}: POST {path} expected {status} problem+json and no append, got {} [{}] {} (head {before} -> {after})",
            answer.status, answer.content_type, answer.body
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_foreign_actors_and_the_logs() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start(data.path(), MORNING)?;
    let client = Client::new(&server.base);
    let mut failures = Vec::new();
    let mut tokens_sent: Vec<String> = Vec::new();
    let amount = json!({ "amount": "1000.00" });

    // The control: finance of Guiyang appropriates with a proper token.
    let good = token(Role::Finance, GUIYANG, "finance-1", None);
    let answer = client.post(APPROPRIATION, &good, &amount).await?;
    assert_eq!(answer.status, 201, "control: {answer:?}");
    tokens_sent.push(good.clone());

    // Forged or unusable tokens: 401, nothing appended.
    let right = claims("finance", "guiyang");
    let header_none = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64url(serde_json::to_string(&right)?.as_bytes());
    let alg_none = format!("{header_none}.{payload}.");
    let alg_none_with_signature =
        format!("{header_none}.{payload}.{}", good.rsplit('.').next().unwrap_or(""));
    let now = chrono::Utc::now().timestamp();
    let cases: Vec<(&str, String)> = vec![
        ("alg none", alg_none),
        ("alg none with a copied signature", alg_none_with_signature),
        ("another key", sign(Algorithm::HS256, b"another-key-of-at-least-32-bytes-xxxxxx", &right)),
        ("HS384 with the right key", sign(Algorithm::HS384, SECRET.as_bytes(), &right)),
        ("HS512 with the right key", sign(Algorithm::HS512, SECRET.as_bytes(), &right)),
        (
            "expired an hour ago",
            sign(
                Algorithm::HS256,
                SECRET.as_bytes(),
                &Claims { exp: now - 3600, iat: now - 7200, ..right.clone() },
            ),
        ),
        (
            "wrong audience",
            sign(
                Algorithm::HS256,
                SECRET.as_bytes(),
                &Claims { aud: "another-service".into(), ..right.clone() },
            ),
        ),
        ("unknown role", sign(Algorithm::HS256, SECRET.as_bytes(), &claims("mayor", "guiyang"))),
        ("role public", sign(Algorithm::HS256, SECRET.as_bytes(), &claims("public", "guiyang"))),
        ("unknown jurisdiction", sign(Algorithm::HS256, SECRET.as_bytes(), &claims("finance", "shanghai"))),
        (
            "empty subject",
            sign(Algorithm::HS256, SECRET.as_bytes(), &Claims { sub: " ".into(), ..right.clone() }),
        ),
        ("payload swapped under a valid signature", {
            let mut parts: Vec<&str> = good.split('.').collect();
            let forged = base64url(serde_json::to_string(&claims("bureau", "guiyang"))?.as_bytes());
            parts[1] = &forged;
            parts.join(".")
        }),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (label, bearer) in &cases {
        refused(&client, label, APPROPRIATION, Some(bearer), &amount, 401, &mut failures).await?;
        tokens_sent.push(bearer.clone());
    }
    refused(&client, "no token", APPROPRIATION, None, &amount, 401, &mut failures).await?;
    let before = head_position(&client).await?;
    let status = reqwest::Client::new()
        .post(format!("{}{APPROPRIATION}", server.base))
        .header("authorization", format!("Basic {}", base64url(b"finance:secret")))
        .header("content-type", "application/json")
        .body(amount.to_string())
        .send()
        .await?
        .status()
        .as_u16();
    if status != 401 || head_position(&client).await? != before {
        failures.push(format!("Basic authorization: expected 401, got {status}"));
    }

    // A jurisdiction mismatch: staff of Gui'an acting on Guiyang's budget and batches.
    let guian_finance = token(Role::Finance, Jurisdiction::Guian, "finance-1", None);
    refused(
        &client,
        "Gui'an finance on Guiyang's budget",
        APPROPRIATION,
        Some(&guian_finance),
        &amount,
        403,
        &mut failures,
    )
    .await?;
    tokens_sent.push(guian_finance);

    // The scene: a batch, an admitted provider 101 (the clock moves), applicant 1 holding a voucher and a
    // contract between them; provider 102 admitted too; applicant 2 verified.
    let batch = publish_batch(&client, GUIYANG, "1000000.00", "1000000.00", "50000.00").await?;
    let guian_bureau = token(Role::Bureau, Jurisdiction::Guian, "bureau-1", None);
    let batch_body = json!({
        "jurisdiction": "guiyang", "fiscal_year": 2025, "name": "foreign batch",
        "total": "1000.00", "face_value": "100.00",
        "eligible_kinds": ["enterprise"], "eligible_industries": ["advanced_equipment"],
        "eligible_categories": ["technology_innovation"],
        "claim_opens": "2025-03-01", "claim_closes": "2025-06-30", "valid_until": "2025-12-31"
    });
    refused(
        &client,
        "Gui'an bureau publishing a Guiyang batch",
        "/v1/batches",
        Some(&guian_bureau),
        &batch_body,
        403,
        &mut failures,
    )
    .await?;
    let (applicant1, voucher1) = voucher_holder(&client, GUIYANG, &batch, 1).await?;
    let (applicant2, _voucher2) = voucher_holder(&client, GUIYANG, &batch, 2).await?;
    let provider101 = admitted_provider(&client, GUIYANG, 101, &["technology_innovation"]).await?;
    let provider102 = admitted_provider(&client, GUIYANG, 102, &["technology_innovation"]).await?;
    tokens_sent.extend([applicant1.clone(), applicant2.clone(), provider101.clone(), provider102.clone()]);
    let body = contract_body(&voucher1, &credit_code(101), "technology_innovation", "20000.00", "10000.00");
    let answer = client.post("/v1/contracts", &provider101, &body).await?;
    assert_eq!(answer.status, 201, "contract: {answer:?}");
    let contract = answer.body["contract_id"].as_str().expect("contract_id").to_owned();

    // A provider cannot read another provider's contract or dossier; its own it can.
    for path in [format!("/v1/contracts/{contract}/dossier"), format!("/v1/contracts/{contract}")] {
        let own = client.get(&path, Some(&provider101)).await?;
        if own.status != 200 {
            failures.push(format!("provider 101 reading its own {path}: {own:?}"));
        }
        let other = client.get(&path, Some(&provider102)).await?;
        if other.status != 403 || !is_problem(&other) {
            failures.push(format!("provider 102 reading {path}: expected 403 problem+json, got {other:?}"));
        }
        let applicant = client.get(&path, Some(&applicant2)).await?;
        if applicant.status != 403 || !is_problem(&applicant) {
            failures
                .push(format!("applicant 2 reading {path}: expected 403 problem+json, got {applicant:?}"));
        }
    }
    let other_balance =
        client.get(&format!("/v1/providers/{}/balance", credit_code(101)), Some(&provider102)).await?;
    // Another provider's registered code answers like an unregistered one (404), not 403.
    if (other_balance.status, other_balance.code()) != (404, "provider_not_found") {
        failures.push(format!(
            "provider 102 reading provider 101's balance: expected 404 provider_not_found, got {other_balance:?}"
        ));
    }

    // A provider cannot submit a contract in another provider's name.
    let foreign = contract_body(&voucher1, &credit_code(101), "technology_innovation", "30000.00", "5000.00");
    refused(
        &client,
        "provider 102 submitting as 101",
        "/v1/contracts",
        Some(&provider102),
        &foreign,
        403,
        &mut failures,
    )
    .await?;

    // An applicant cannot act for another credit code: register it, sign its contract, claim for it.
    let registration = json!({ "credit_code": credit_code(3), "name": "enterprise 3", "kind": "enterprise",
        "jurisdiction": "guiyang", "industry": "advanced_equipment",
        "independent_legal_person": true, "tax_compliant": true });
    refused(
        &client,
        "applicant 2 registering code 3",
        "/v1/applicants",
        Some(&applicant2),
        &registration,
        403,
        &mut failures,
    )
    .await?;
    let signature = format!("/v1/contracts/{contract}/signature");
    refused(
        &client,
        "applicant 2 signing applicant 1's contract",
        &signature,
        Some(&applicant2),
        &json!({}),
        403,
        &mut failures,
    )
    .await?;
    let completion = format!("/v1/contracts/{contract}/completion");
    refused(
        &client,
        "applicant 2 completing applicant 1's contract",
        &completion,
        Some(&applicant2),
        &json!({}),
        403,
        &mut failures,
    )
    .await?;
    let verification = format!("/v1/applicants/{}/verification", credit_code(2));
    refused(
        &client,
        "applicant 2 verifying itself",
        &verification,
        Some(&applicant2),
        &json!({ "decision": "verified" }),
        403,
        &mut failures,
    )
    .await?;
    let other_voucher = client.get(&format!("/v1/vouchers/{voucher1}"), Some(&applicant2)).await?;
    if other_voucher.status != 403 {
        failures
            .push(format!("applicant 2 reading applicant 1's voucher: expected 403, got {other_voucher:?}"));
    }

    // Nothing secret in the logs: no token (nor its signature alone) and not the key.
    let head = head_position(&client).await?;
    let stderr = server.stderr();
    server.kill();
    assert!(!stderr.is_empty(), "the server logged nothing at info: the log check would be empty");
    assert!(stderr.lines().count() > 20, "the log check needs request logs:\n{stderr}");
    if stderr.contains(SECRET) {
        failures.push("the signing key appears in the server's logs".to_owned());
    }
    let mut checked = 0;
    for bearer in &tokens_sent {
        for secret_part in [bearer.as_str(), bearer.rsplit('.').next().unwrap_or("")] {
            if secret_part.len() >= 16 {
                checked += 1;
                if stderr.contains(secret_part) {
                    failures.push(format!("a token appears in the server's logs: {secret_part}"));
                }
            }
        }
    }
    println!(
        "security: forged={} tokens_checked_in_logs={checked} log_lines={} head={head} failures={}",
        cases.len() + 2,
        stderr.lines().count(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} security check(s) failed:\n{}", failures.len(), failures.join("\n"));
    Ok(())
}
