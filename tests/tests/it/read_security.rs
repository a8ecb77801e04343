//! Who reads what, over real HTTP: the event feed gives each reader only the records its role and
//! jurisdiction may read and ends when its token expires; a contract's dossier and a voucher's history show
//! audit samples and findings to auditors and the bureau only, and an objector's identity to them only; a
//! credit code the caller may not read answers like one never registered; as-of needs a token.
//!
//! The scene: Guiyang enterprise 61 holds a voucher; provider 661 is admitted; their contract is filed,
//! completed, redeemed, reviewed and announced; enterprise-token holder `objector-63` objects to the item;
//! in 2026 an auditor samples Guiyang's 2025 contracts (drawing this one) and records a finding. In Gui'an,
//! enterprise 71 holds a voucher of Gui'an's batch.

use std::time::{Duration, Instant};

use domain::{Jurisdiction, Role};
use e2e::{
    Backend, Client, InProcessServer, MORNING, SECRET, TestStore, accept, admitted_provider, announce,
    approved_redemption, complete, contract_body, credit_code, filed_contract, head_position, publish_batch,
    read, set_clock, staff, token, voucher_holder,
};
use serde_json::{Value, json};

const GY: Jurisdiction = Jurisdiction::Guiyang;
const GA: Jurisdiction = Jurisdiction::Guian;
const TESTING: &str = "inspection_testing";
const OBJECTOR: &str = "objector-63";
const OBJECTION_TEXT: &str = "the test report predates the samples";
const SEED: &str = "guiyang-2025-audit-seed";

struct Scene {
    server: InProcessServer,
    client: Client,
    _store: TestStore,
    applicant: String,
    provider: String,
    voucher_id: String,
    contract_id: String,
    guian_voucher: String,
    /// Provider 662, which applied in Guiyang: another provider than the contract's.
    other_provider: String,
}

async fn scene() -> anyhow::Result<Scene> {
    let store = TestStore::new(Backend::File).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);
    let batch = publish_batch(&client, GY, "10000000.00", "1000000.00", "100000.00").await?;
    let (applicant, voucher_id) = voucher_holder(&client, GY, &batch, 61).await?;
    let guian_batch = publish_batch(&client, GA, "10000000.00", "1000000.00", "100000.00").await?;
    let (_guian_applicant, guian_voucher) = voucher_holder(&client, GA, &guian_batch, 71).await?;
    let provider = admitted_provider(&client, GY, 661, &[TESTING]).await?;
    let terms = contract_body(&voucher_id, &credit_code(661), TESTING, "100000.00", "80000.00");
    let contract_id = filed_contract(&client, GY, &provider, &applicant, &terms).await?;
    complete(&client, &applicant, &contract_id).await?;
    let redemption_id = approved_redemption(&client, GY, &provider, &contract_id).await?;
    announce(&client, GY, &[&redemption_id]).await?;
    let objector = token(Role::Enterprise, GY, OBJECTOR, Some(&credit_code(63)));
    let objection = json!({ "target": { "kind": "redemption", "redemption_id": redemption_id },
        "text": OBJECTION_TEXT });
    accept(&client, "/v1/objections", Some(&objector), &objection, 201, &["ObjectionFiled"]).await?;
    let other_provider = e2e::provider_token(GY, 662);
    let application = json!({
        "name": "provider 662", "categories": [TESTING],
        "qualifications": [e2e::document("provider 662 licence.pdf")], "contact": "0851-0000662",
    });
    accept(&client, "/v1/providers", Some(&other_provider), &application, 201, &["ProviderApplied"]).await?;
    set_clock(&client, &e2e::nine_am("2026-02-02")).await?;
    let auditor = staff(Role::Auditor, GY);
    let draw = json!({ "jurisdiction": "guiyang", "year": 2025, "size": 1, "seed": SEED });
    let answer = accept(&client, "/v1/audits/samples", Some(&auditor), &draw, 201, &["SampleDrawn"]).await?;
    anyhow::ensure!(answer.body["contract_ids"] == json!([contract_id]), "the sample drew it: {answer:?}");
    let sample_id = answer.body["sample_id"].as_str().unwrap_or_default().to_owned();
    let finding = json!({ "contract_id": contract_id, "finding": "irregular", "note": "no sample receipt" });
    let findings = format!("/v1/audits/samples/{sample_id}/findings");
    accept(&client, &findings, Some(&auditor), &finding, 201, &["FindingRecorded"]).await?;
    Ok(Scene {
        server,
        client,
        _store: store,
        applicant,
        provider,
        voucher_id,
        contract_id,
        guian_voucher,
        other_provider,
    })
}

/// Every line of a feed that ends (`follow=false`), read within `guard`.
async fn feed_lines(base: &str, path: &str, bearer: &str, guard: Duration) -> anyhow::Result<Vec<Value>> {
    let response = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(bearer).send().await?;
    anyhow::ensure!(response.status() == 200, "{path}: {}", response.status());
    let text = tokio::time::timeout(guard, response.text()).await??;
    text.lines().map(|line| Ok(serde_json::from_str(line)?)).collect()
}

fn types(records: &Value) -> Vec<String> {
    records
        .as_array()
        .map(|list| list.iter().filter_map(|r| r["type"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_gives_each_reader_only_the_records_its_role_and_jurisdiction_may_read() -> anyhow::Result<()>
{
    let scene = scene().await?;
    let base = &scene.server.base;
    let head = head_position(&scene.client).await?;
    let guard = Duration::from_secs(60);
    let all = feed_lines(base, "/v1/events?follow=false", &staff(Role::Auditor, GA), guard).await?;
    assert_eq!(all.len() as u64, head, "an auditor reads every record");
    let issued_in = |lines: &[Value], voucher: &str| {
        lines.iter().any(|line| line["type"] == "VoucherIssued" && line["payload"]["voucher_id"] == voucher)
    };
    assert!(issued_in(&all, &scene.voucher_id) && issued_in(&all, &scene.guian_voucher));

    let guian = feed_lines(base, "/v1/events?follow=false", &staff(Role::Bureau, GA), guard).await?;
    assert!(issued_in(&guian, &scene.guian_voucher), "Gui'an's bureau reads Gui'an's records");
    assert!(guian.len() < all.len(), "and not everything");
    for line in &guian {
        let position = line["position"].as_u64().unwrap_or(0);
        let text = line.to_string();
        // Positions are the log's: the same record, hash and all, as the auditor's at that position.
        let index = usize::try_from(position).unwrap_or(0).saturating_sub(1);
        assert_eq!(all.get(index).map(|l| &l["hash"]), Some(&line["hash"]), "position {position}");
        assert!(
            !text.contains("guiyang")
                && !text.contains(&credit_code(61))
                && !text.contains(&credit_code(661))
                && !text.contains(&scene.contract_id),
            "Gui'an's bureau reads a Guiyang record: {text}"
        );
    }
    let positions: Vec<u64> = guian.iter().filter_map(|line| line["position"].as_u64()).collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "in log order: {positions:?}");
    // Resuming after the last line it saw gives nothing more (the rest is not its to read).
    let last = positions.last().copied().unwrap_or(0);
    let rest = feed_lines(
        base,
        &format!("/v1/events?follow=false&from={}", last + 1),
        &staff(Role::Bureau, GA),
        guard,
    )
    .await?;
    assert_eq!(rest, Vec::<Value>::new());

    let guiyang = feed_lines(base, "/v1/events?follow=false", &staff(Role::Bureau, GY), guard).await?;
    assert!(issued_in(&guiyang, &scene.voucher_id) && !issued_in(&guiyang, &scene.guian_voucher));
    // Guiyang's bureau reads its audits and who objected.
    let objection = guiyang.iter().find(|line| line["type"] == "ObjectionFiled");
    assert_eq!(objection.map(|line| &line["actor"]["subject"]), Some(&json!(OBJECTOR)));
    assert!(guiyang.iter().any(|line| line["type"] == "SampleDrawn"));
    scene.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_feed_ends_when_its_token_expires() -> anyhow::Result<()> {
    let store = TestStore::new(Backend::File).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);
    publish_batch(&client, GY, "1000000.00", "100000.00", "10000.00").await?;
    let head = head_position(&client).await?;
    let auth = api::auth::Authenticator::new(SECRET.as_bytes())?;
    let auditor = domain::Actor {
        subject: "auditor-1".into(),
        role: Role::Auditor,
        jurisdiction: Some(GY),
        credit_code: None,
    };
    let short = auth.mint(&auditor, chrono::Utc::now().timestamp(), 2)?;
    let started = Instant::now();
    // Following (the default): without expiry the feed would never end.
    let lines = feed_lines(&server.base, "/v1/events", &short, Duration::from_secs(20)).await?;
    let elapsed = started.elapsed();
    assert_eq!(lines.len() as u64, head + 1, "every record, then the expiry: {lines:?}");
    let last = lines.last().cloned().unwrap_or_default();
    assert_eq!(last["code"], "token_expired", "{last}");
    assert_eq!(last["next"], json!(head + 1), "{last}");
    assert!(elapsed >= Duration::from_millis(900), "it ended at expiry, not before: {elapsed:?}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histories_show_audits_to_auditors_and_the_bureau_and_objectors_to_them_only() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let dossier = format!("/v1/contracts/{}/dossier", scene.contract_id);
    let history = format!("/v1/vouchers/{}/history", scene.voucher_id);
    let objection_of = |records: &Value| {
        records.as_array().and_then(|list| list.iter().find(|r| r["type"] == "ObjectionFiled")).cloned()
    };

    // The parties, and staff other than the bureau: no sample, no finding, no objector; the objection's text.
    let center = staff(Role::ServiceCenter, GY);
    let readers = [
        ("applicant", &scene.applicant, vec![&dossier, &history]),
        // A provider reads the contract's dossier, not the applicant's voucher.
        ("provider", &scene.provider, vec![&dossier]),
        ("service center", &center, vec![&dossier, &history]),
    ];
    for (who, bearer, paths) in readers {
        for path in paths {
            let body = read(client, path, Some(bearer)).await?;
            let text = body.to_string();
            let kinds = types(&body["records"]);
            assert!(
                !kinds.iter().any(|kind| kind == "SampleDrawn" || kind == "FindingRecorded"),
                "{who} reads an audit record in {path}: {kinds:?}"
            );
            assert!(!text.contains(SEED) && !text.contains("no sample receipt"), "{who}: {text}");
            assert!(!text.contains(OBJECTOR), "{who} reads the objector in {path}: {text}");
            let objection = objection_of(&body["records"]);
            let objection = objection.ok_or_else(|| anyhow::anyhow!("{who}: no objection in {path}"))?;
            assert_eq!(objection["payload"]["text"], OBJECTION_TEXT, "{who}: {objection}");
            assert_eq!(objection["actor"], json!({ "subject": null, "role": null }), "{who}: {objection}");
            if path == &dossier {
                assert_eq!(body["findings"], json!([]), "{who}: {body}");
            }
        }
    }

    // The bureau of the jurisdiction and auditors: everything, the objector named.
    for (who, bearer) in [("bureau", staff(Role::Bureau, GY)), ("auditor", staff(Role::Auditor, GA))] {
        for path in [&dossier, &history] {
            let body = read(client, path, Some(&bearer)).await?;
            let kinds = types(&body["records"]);
            assert!(kinds.iter().any(|kind| kind == "SampleDrawn"), "{who} {path}: {kinds:?}");
            assert!(kinds.iter().any(|kind| kind == "FindingRecorded"), "{who} {path}: {kinds:?}");
            let objection = objection_of(&body["records"]).unwrap_or_default();
            assert_eq!(objection["actor"]["subject"], OBJECTOR, "{who}: {objection}");
            if path == &dossier {
                assert_eq!(body["findings"][0]["finding"], "irregular", "{who}: {body}");
            }
        }
    }
    scene.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credit_code_the_caller_may_not_read_answers_like_one_never_registered() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let other_provider = scene.other_provider.clone();
    let guian_bureau = staff(Role::Bureau, GA);
    // (reader, the path of a registered code it may not read, the same path with a code never registered)
    let unregistered = credit_code(99);
    let cases = [
        (
            &scene.provider,
            format!("/v1/applicants/{}", credit_code(61)),
            format!("/v1/applicants/{unregistered}"),
        ),
        (
            &scene.provider,
            format!("/v1/applicants/{}/issued?year=2025", credit_code(61)),
            format!("/v1/applicants/{unregistered}/issued?year=2025"),
        ),
        (
            &scene.applicant,
            format!("/v1/applicants/{}", credit_code(71)),
            format!("/v1/applicants/{unregistered}"),
        ),
        (
            &guian_bureau,
            format!("/v1/applicants/{}", credit_code(61)),
            format!("/v1/applicants/{unregistered}"),
        ),
        (
            &other_provider,
            format!("/v1/providers/{}", credit_code(661)),
            format!("/v1/providers/{unregistered}"),
        ),
        (
            &other_provider,
            format!("/v1/providers/{}/balance", credit_code(661)),
            format!("/v1/providers/{unregistered}/balance"),
        ),
        (
            &guian_bureau,
            format!("/v1/providers/{}", credit_code(661)),
            format!("/v1/providers/{unregistered}"),
        ),
    ];
    let shape = |body: &Value| {
        let mut keys: Vec<String> = body.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        keys.sort();
        keys
    };
    for (bearer, registered, never) in &cases {
        let hidden = client.get(registered, Some(bearer)).await?;
        let missing = client.get(never, Some(bearer)).await?;
        assert_eq!(hidden.status, 404, "{registered}: {hidden:?}");
        assert_eq!(
            (hidden.status, hidden.code(), shape(&hidden.body), hidden.content_type.as_str()),
            (missing.status, missing.code(), shape(&missing.body), missing.content_type.as_str()),
            "{registered} and {never} answer alike"
        );
    }
    scene.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_needs_a_token_and_anonymous_reads_answer_the_present() -> anyhow::Result<()> {
    let store = TestStore::new(Backend::File).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);
    publish_batch(&client, GY, "1000000.00", "100000.00", "10000.00").await?;
    for path in ["/v1/announcements?as_of_position=1", "/v1/announcements?as_of_date=2025-03-01"] {
        let anonymous = client.get(path, None).await?;
        assert_eq!((anonymous.status, anonymous.code()), (401, "as_of_needs_token"), "{path}: {anonymous:?}");
        assert!(anonymous.content_type.starts_with("application/problem+json"), "{anonymous:?}");
        let with_token = client.get(path, Some(&staff(Role::Bureau, GY))).await?;
        assert_eq!(with_token.status, 200, "{path}: {with_token:?}");
    }
    // Without as-of the public list stays public.
    assert_eq!(client.get("/v1/announcements", None).await?.status, 200);
    server.stop().await;
    Ok(())
}
