//! Bounds over real HTTP against the release-shaped binary (`voucher-ledger serve`): the field that used to stop
//! the writer (a batch's `redemption_days` of 4294967295) and other values out of bounds are refused 422 with a
//! stable code and append nothing, and the server keeps serving and stays ready.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
