//! Security at the door, over real HTTP on loopback: idempotency keys scoped by the caller's whole identity
//! (and never replayed across anonymous callers), limits on objections, connection limits and timeouts,
//! CSV exports that a spreadsheet does not execute, `/metrics` on its own address, and token lifetimes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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

/// Every anonymous objector is the same `public` actor: their keys are ignored, so two people who send the
/// same key and text each get their own objection recorded.
#[tokio::test]
async fn anonymous_objectors_never_get_each_others_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcessServer::start(dir.path(), MORNING).await.unwrap();
    let client = Client::new(&server.base);
    approved_provider(&client, GUIYANG, 7, &[TESTING]).await.unwrap();
    let body = json!({ "target": { "kind": "provider", "provider": credit_code(7) }, "text": "not accredited" }).to_string();
    let a = client.post_raw("/v1/objections", None, &body, Some("same-key")).await.unwrap();
    let b = client.post_raw("/v1/objections", None, &body, Some("same-key")).await.unwrap();
    assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
    assert_eq!(b.body["replayed"], json!(false), "{b:?}");
    assert_ne!(a.body["objection_id"], b.body["objection_id"], "{a:?} {b:?}");
    let view = e2e::read(&client, &format!("/v1/providers/{}", credit_code(7)), Some(&e2e::staff(Role::Bureau, GUIYANG)))
        .await
        .unwrap();
    assert_eq!(view["objections"].as_array().map(Vec::len), Some(2), "{view}");
    server.stop().await;
}
