//! Concurrent claims race the two limits a claim must respect: one applicant's annual cap and one batch's
//! money. However many claims arrive at once, the writer decides them one after the other, so exactly as
//! many succeed as fit, every other one is refused with the rule that refused it, and a refusal records
//! nothing.

use std::collections::BTreeSet;

use domain::{Jurisdiction, Role};
use e2e::{
    Answer, Backend, Client, InProcessServer, MORNING, TestStore, credit_code, head_position, publish_batch,
    token, verified_applicant,
};
use futures::future::join_all;
use serde_json::json;

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;

fn bureau() -> String {
    token(Role::Bureau, GUIYANG, "bureau-1", None)
}

/// Fires one claim per (token, batch) pair, all at once, and returns the answers in the same order.
async fn claim_all(client: &Client, claims: &[(String, String)]) -> Vec<Answer> {
    let requests = claims.iter().map(|(own, batch_id)| {
        let path = format!("/v1/batches/{batch_id}/claims");
        async move { client.post_raw(&path, Some(own), "{}", None).await.expect("claim transport") }
    });
    join_all(requests).await
}

/// Splits answers into the accepted ones (201) and the codes of the refused ones; panics on anything else.
fn tally(answers: &[Answer]) -> (Vec<&Answer>, Vec<(u16, String)>) {
    let accepted: Vec<&Answer> = answers.iter().filter(|answer| answer.status == 201).collect();
    let refused: Vec<(u16, String)> = answers
        .iter()
        .filter(|answer| answer.status != 201)
        .map(|answer| (answer.status, answer.code().to_owned()))
        .collect();
    (accepted, refused)
}

async fn trial_balance_total(client: &Client) -> String {
    let answer = client.get("/v1/trial-balance/guiyang", Some(&bureau())).await.expect("trial balance");
    assert_eq!(answer.status, 200, "trial balance: {answer:?}");
    answer.body["total"].as_str().expect("total is a string").to_owned()
}

/// The accepted answers each recorded one event at a distinct position, all within (before, before + n].
fn assert_positions(accepted: &[&Answer], before: u64) {
    let n = accepted.len() as u64;
    let positions: BTreeSet<u64> =
        accepted.iter().map(|answer| answer.body["position"].as_u64().expect("position")).collect();
    assert_eq!(positions.len() as u64, n, "every accepted claim has its own position: {positions:?}");
    let expected: BTreeSet<u64> = (before + 1..=before + n).collect();
    assert_eq!(positions, expected, "accepted claims fill exactly the positions after the head before them");
    for answer in accepted {
        let events = answer.body["events"].as_array().expect("events");
        assert_eq!(events.len(), 1, "a claim records one event: {answer:?}");
        assert_eq!(events[0]["type"], "VoucherIssued", "{answer:?}");
        assert_eq!(answer.body["replayed"], false, "{answer:?}");
    }
}

e2e::per_backend!(two_hundred_concurrent_claims_never_exceed_one_applicants_cap, 4);
async fn two_hundred_concurrent_claims_never_exceed_one_applicants_cap(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let server = InProcessServer::start_on(&store.spec, MORNING).await.expect("server");
    let client = Client::new(&server.base);

    // 200 batches of 1,000,000.00 in vouchers of 100,000.00: the batches never run out, the cap does.
    let finance = token(Role::Finance, GUIYANG, "finance-1", None);
    let budget = client
        .post("/v1/budgets/guiyang/2025/appropriations", &finance, &json!({ "amount": "200000000.00" }))
        .await
        .expect("appropriation");
    assert_eq!(budget.status, 201, "appropriation: {budget:?}");
    let batches: Vec<String> =
        join_all((0..200).map(|_| publish_batch(&client, GUIYANG, "", "1000000.00", "100000.00")))
            .await
            .into_iter()
            .map(|batch| batch.expect("batch published"))
            .collect();
    assert_eq!(batches.iter().collect::<BTreeSet<_>>().len(), 200, "200 distinct batches");

    let own = verified_applicant(&client, GUIYANG, 1, false).await.expect("verified enterprise");
    let code = credit_code(1);
    let before = head_position(&client).await.expect("head");

    let claims: Vec<(String, String)> = batches.iter().map(|batch| (own.clone(), batch.clone())).collect();
    let answers = claim_all(&client, &claims).await;
    let (accepted, refused) = tally(&answers);

    assert_eq!(accepted.len(), 50, "50 × 100,000.00 = the cap of 5,000,000.00; refused: {refused:?}");
    assert_eq!(refused.len(), 150);
    assert!(
        refused.iter().all(|(status, code)| *status == 422 && code == "cap_exceeded"),
        "every refusal is 422 cap_exceeded: {refused:?}"
    );
    for answer in &accepted {
        assert_eq!(answer.body["face_value"], "100000.00", "{answer:?}");
        assert_eq!(answer.body["applicant"], code.as_str(), "{answer:?}");
    }
    let won: BTreeSet<&str> =
        accepted.iter().map(|answer| answer.body["batch_id"].as_str().expect("batch_id")).collect();
    assert_eq!(won.len(), 50, "one voucher per batch at most");
    assert_positions(&accepted, before);

    let issued = client
        .get(&format!("/v1/applicants/{code}/issued?year=2025"), Some(&bureau()))
        .await
        .expect("issued");
    assert_eq!(issued.status, 200, "issued: {issued:?}");
    assert_eq!(issued.body["issued_total"], "5000000.00", "{issued:?}");
    assert_eq!(issued.body["vouchers"], 50, "{issued:?}");
    assert_eq!(trial_balance_total(&client).await, "0.00");
    assert_eq!(head_position(&client).await.expect("head"), before + 50, "each refusal appended nothing");

    server.stop().await;
}

e2e::per_backend!(two_hundred_concurrent_claims_never_exceed_one_batchs_money, 4);
async fn two_hundred_concurrent_claims_never_exceed_one_batchs_money(backend: Backend) {
    let store = TestStore::new(backend).await.expect("store");
    let server = InProcessServer::start_on(&store.spec, MORNING).await.expect("server");
    let client = Client::new(&server.base);

    // Room for exactly 20 vouchers.
    let batch = publish_batch(&client, GUIYANG, "1000000.00", "1000000.00", "50000.00").await.expect("batch");
    let tokens: Vec<String> = join_all((1..=200).map(|n| verified_applicant(&client, GUIYANG, n, false)))
        .await
        .into_iter()
        .map(|own| own.expect("verified applicant"))
        .collect();
    let before = head_position(&client).await.expect("head");

    let claims: Vec<(String, String)> = tokens.iter().map(|own| (own.clone(), batch.clone())).collect();
    let answers = claim_all(&client, &claims).await;
    let (accepted, refused) = tally(&answers);

    assert_eq!(accepted.len(), 20, "20 × 50,000.00 = the batch's 1,000,000.00; refused: {refused:?}");
    assert_eq!(refused.len(), 180);
    assert!(
        refused.iter().all(|(status, code)| *status == 422 && code == "batch_exhausted"),
        "every refusal is 422 batch_exhausted: {refused:?}"
    );
    for answer in &accepted {
        assert_eq!(answer.body["face_value"], "50000.00", "{answer:?}");
        assert_eq!(answer.body["batch_id"], batch.as_str(), "{answer:?}");
    }
    let winners: BTreeSet<&str> =
        accepted.iter().map(|answer| answer.body["applicant"].as_str().expect("applicant")).collect();
    assert_eq!(winners.len(), 20, "20 different applicants won");
    assert_positions(&accepted, before);

    let view = client.get(&format!("/v1/batches/{batch}"), Some(&bureau())).await.expect("batch");
    assert_eq!(view.status, 200, "batch: {view:?}");
    assert_eq!(view.body["remaining"], "0.00", "{view:?}");
    assert_eq!(view.body["vouchers_issued"], 20, "{view:?}");
    assert_eq!(view.body["issued"], "1000000.00", "{view:?}");
    assert_eq!(trial_balance_total(&client).await, "0.00");
    assert_eq!(head_position(&client).await.expect("head"), before + 20, "each refusal appended nothing");

    server.stop().await;
}
