//! The read side over real HTTP: every projection query answers JSON, and CSV (asked with `Accept` or
//! `?format=csv`) that parses back (csv crate) to the same rows; as-of by position and by date; a voucher's
//! history and a contract's dossier with the chain's hashes; rankings stating their prior; the anomaly
//! signals naming their records; the event feed (NDJSON and SSE) in order and following live appends; and
//! `replay` / `export` offline giving what the server answers.
//!
//! The scene (guiyang, from Monday 2025-03-03): enterprise 61 holds a voucher of 100,000.00; provider 661
//! (inspection testing) is admitted on 2025-03-11; contract A (80,000.00 of the voucher) is filed and
//! confirmed complete the same day (too soon: an anomaly), rated, redeemed, reviewed in full and announced;
//! enterprise 62's contract B with the same provider is filed the same day and completed on 2025-03-14
//! (plausible: its honest twin).

use std::time::Duration;

use domain::{Jurisdiction, Role};
use e2e::{
    Backend, Client, InProcessServer, MORNING, TestStore, accept, admitted_provider, announce,
    approved_redemption, complete, contract_body, credit_code, filed_contract, head_position, publish_batch,
    read, set_clock, staff, token, verified_applicant, voucher_holder,
};
use engine::open::StoreSpec;
use serde_json::{Value, json};

const GY: Jurisdiction = Jurisdiction::Guiyang;
const TESTING: &str = "inspection_testing";
/// A guard against a hung stream, not a timing assertion: every wait here ends in milliseconds.
const GUARD: Duration = Duration::from_secs(60);

struct Scene {
    server: InProcessServer,
    client: Client,
    store: TestStore,
    voucher_id: String,
    batch_id: String,
    contract_a: String,
    contract_b: String,
    redemption_id: String,
    announcement_id: String,
    /// The head after the claim, after contract A was filed, and at the end.
    after_claim: u64,
    after_filing: u64,
    head: u64,
}

async fn scene() -> anyhow::Result<Scene> {
    scene_on(Backend::File).await
}

async fn scene_on(backend: Backend) -> anyhow::Result<Scene> {
    let store = TestStore::new(backend).await?;
    let server = InProcessServer::start_on(&store.spec, MORNING).await?;
    let client = Client::new(&server.base);
    let batch_id = publish_batch(&client, GY, "10000000.00", "1000000.00", "100000.00").await?;
    let (applicant, voucher_id) = voucher_holder(&client, GY, &batch_id, 61).await?;
    let after_claim = head_position(&client).await?;
    let (applicant_b, voucher_b) = voucher_holder(&client, GY, &batch_id, 62).await?;
    let provider = admitted_provider(&client, GY, 661, &[TESTING]).await?;
    let terms = contract_body(&voucher_id, &credit_code(661), TESTING, "100000.00", "80000.00");
    let contract_a = filed_contract(&client, GY, &provider, &applicant, &terms).await?;
    let after_filing = head_position(&client).await?;
    let terms_b = contract_body(&voucher_b, &credit_code(661), TESTING, "90000.00", "50000.00");
    let contract_b = filed_contract(&client, GY, &provider, &applicant_b, &terms_b).await?;
    complete(&client, &applicant, &contract_a).await?;
    let rating = json!({ "quality": 5, "timeliness": 4, "professionalism": 5, "text": "thorough" });
    let rating_path = format!("/v1/contracts/{contract_a}/rating");
    accept(&client, &rating_path, Some(&applicant), &rating, 200, &["ServiceRated"]).await?;
    let redemption_id = approved_redemption(&client, GY, &provider, &contract_a).await?;
    let (announcement_id, _closes_on) = announce(&client, GY, &[&redemption_id]).await?;
    set_clock(&client, &e2e::nine_am("2025-03-14")).await?;
    complete(&client, &applicant_b, &contract_b).await?;
    let head = head_position(&client).await?;
    Ok(Scene {
        server,
        client,
        store,
        voucher_id,
        batch_id,
        contract_a,
        contract_b,
        redemption_id,
        announcement_id,
        after_claim,
        after_filing,
        head,
    })
}

fn auditor() -> String {
    staff(Role::Auditor, GY)
}

/// A GET with an optional token and `Accept` header: status, content type, body text.
async fn get_text(
    base: &str,
    path: &str,
    bearer: Option<&str>,
    accept_header: Option<&str>,
) -> anyhow::Result<(u16, String, String)> {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(accept_header) = accept_header {
        request = request.header("accept", accept_header);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    Ok((status, content_type, response.text().await?))
}

/// The text of a JSON value in a CSV cell: strings as they are, null empty, anything else as JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The rows a JSON answer's CSV must hold: the answer itself (`""`) or the array in a field.
fn json_rows(body: &Value, rows: &str) -> Vec<Value> {
    if rows.is_empty() { vec![body.clone()] } else { body[rows].as_array().cloned().unwrap_or_default() }
}

/// Parses `text` as CSV (csv crate) and checks it holds exactly `rows`: the same columns (every field of
/// the rows) and, row by row, each cell the text of that field.
fn assert_csv_is_rows(path: &str, text: &str, rows: &[Value]) -> anyhow::Result<()> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    anyhow::ensure!(
        records.len() == rows.len(),
        "{path}: {} CSV rows for {} JSON rows",
        records.len(),
        rows.len()
    );
    let mut fields: Vec<String> =
        rows.iter().filter_map(Value::as_object).flat_map(|row| row.keys().cloned()).collect();
    fields.sort();
    fields.dedup();
    let mut columns = header.clone();
    columns.sort();
    anyhow::ensure!(columns == fields, "{path}: CSV columns {header:?}, JSON fields {fields:?}");
    for (record, row) in records.iter().zip(rows) {
        for (column, text) in header.iter().zip(record.iter()) {
            let expected = cell(row.get(column).unwrap_or(&Value::Null));
            anyhow::ensure!(text == expected, "{path}: column {column}: CSV {text:?}, JSON {expected:?}");
        }
    }
    Ok(())
}

/// `path` with one more query pair.
fn with_query(path: &str, pair: &str) -> String {
    if path.contains('?') { format!("{path}&{pair}") } else { format!("{path}?{pair}") }
}

/// Every projection query of the scene: path, the field holding its rows (`""`: the answer is one row),
/// and whether it needs a token.
fn queries(scene: &Scene) -> Vec<(String, &'static str, bool)> {
    let voucher = &scene.voucher_id;
    let applicant = credit_code(61);
    let provider = credit_code(661);
    vec![
        ("/v1/vouchers".into(), "vouchers", true),
        (format!("/v1/vouchers/{voucher}"), "", true),
        (format!("/v1/vouchers/{voucher}/history"), "records", true),
        ("/v1/batches".into(), "batches", true),
        (format!("/v1/batches/{}", scene.batch_id), "", true),
        ("/v1/budgets".into(), "budgets", true),
        ("/v1/budgets/guiyang/2025".into(), "", true),
        ("/v1/trial-balance/guiyang".into(), "accounts", true),
        (format!("/v1/applicants/{applicant}"), "", true),
        (format!("/v1/applicants/{applicant}/issued?year=2025"), "", true),
        (format!("/v1/providers/{provider}"), "", true),
        (format!("/v1/providers/{provider}/balance"), "", true),
        ("/v1/rankings/providers".into(), "providers", true),
        ("/v1/rankings/providers?category=inspection_testing".into(), "providers", true),
        (format!("/v1/contracts/{}", scene.contract_a), "", true),
        (format!("/v1/contracts/{}/dossier", scene.contract_a), "records", true),
        ("/v1/redemptions?status=announced".into(), "redemptions", true),
        (format!("/v1/redemptions/{}", scene.redemption_id), "", true),
        ("/v1/announcements".into(), "announcements", false),
        (format!("/v1/announcements/{}", scene.announcement_id), "items", false),
        ("/v1/anomalies".into(), "signals", true),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_projection_query_answers_csv_that_parses_back_to_the_json_rows() -> anyhow::Result<()> {
    let scene = scene().await?;
    let base = &scene.server.base;
    let auditor = auditor();
    for (path, rows, needs_token) in queries(&scene) {
        let bearer = needs_token.then_some(auditor.as_str());
        let (status, content_type, text) = get_text(base, &path, bearer, None).await?;
        anyhow::ensure!(
            status == 200 && content_type.starts_with("application/json"),
            "{path}: {status} {text}"
        );
        let body: Value = serde_json::from_str(&text)?;
        assert_eq!(body["position"], json!(scene.head), "{path}: {body}");
        let expected = json_rows(&body, rows);
        assert!(!expected.is_empty(), "{path}: the scene gives every query a row: {body}");

        let by_query = with_query(&path, "format=csv");
        let (status, content_type, csv_text) = get_text(base, &by_query, bearer, None).await?;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "text/csv; charset=utf-8"),
            "{by_query}: {csv_text}"
        );
        assert_csv_is_rows(&by_query, &csv_text, &expected)?;

        let (status, content_type, by_header) =
            get_text(base, &path, bearer, Some("text/csv, application/json;q=0.5")).await?;
        assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"), "{path}: {by_header}");
        assert_eq!(by_header, csv_text, "{path}: Accept and ?format=csv answer the same CSV");
    }
    // The trial balance's CSV rows are its accounts, which sum to zero.
    let (_, _, text) = get_text(base, "/v1/trial-balance/guiyang?format=csv", Some(&auditor), None).await?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let balances: Vec<(String, String)> = reader
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|row| row.map(|row| (row["account"].clone(), row["balance"].clone())))
        .collect::<Result<_, _>>()?;
    assert!(balances.contains(&("voucher_committed".into(), "0.00".into())), "{balances:?}");
    assert!(balances.contains(&("provider_receivable".into(), "130000.00".into())), "{balances:?}");
    // An unknown format is refused.
    let (status, _, text) = get_text(base, "/v1/vouchers?format=xml", Some(&auditor), None).await?;
    assert_eq!(status, 400, "{text}");
    scene.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_dossier_rankings_and_balances_tell_the_contracts_story_with_the_chains_hashes()
-> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let auditor = auditor();
    let history = read(client, &format!("/v1/vouchers/{}/history", scene.voucher_id), Some(&auditor)).await?;
    let records = history["records"].as_array().cloned().unwrap_or_default();
    let types: Vec<&str> = records.iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "VoucherIssued",
            "ContractSubmitted",
            "ContractSigned",
            "ContractFiled",
            "ServiceCompleted",
            "ServiceRated",
            "RedemptionRequested",
            "RedemptionReviewed",
            "RedemptionsAnnounced"
        ],
        "{history}"
    );
    let positions: Vec<u64> = records.iter().filter_map(|r| r["position"].as_u64()).collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "in log order: {positions:?}");
    assert_eq!(records[0]["payload"]["voucher_id"], json!(scene.voucher_id), "{history}");
    assert_eq!(records[3]["payload"]["amount"], "80000.00", "{history}");

    // Each record's hash and previous hash are those of the chain, as the feed sends them.
    let feed = feed_lines(&scene, "/v1/events?from=1&follow=false", &auditor).await?;
    assert_eq!(feed.len() as u64, scene.head);
    for record in &records {
        let position = record["position"].as_u64().unwrap_or(0);
        let line = &feed[usize::try_from(position).unwrap_or(1) - 1];
        assert_eq!(
            (&record["hash"], &record["prev_hash"]),
            (&line["hash"], &line["prev_hash"]),
            "{position}"
        );
        assert_eq!(record["stream"], line["stream"], "{position}");
    }

    // The dossier: documents, signatures, filing, completion, rating, redemption, announcement.
    let dossier =
        read(client, &format!("/v1/contracts/{}/dossier", scene.contract_a), Some(&auditor)).await?;
    let documents: Vec<&str> = dossier["documents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["document"].as_str())
        .collect();
    assert_eq!(documents, ["contract", "invoice", "remittance_proof", "result"], "{dossier}");
    let parties: Vec<&str> =
        dossier["signatures"].as_array().into_iter().flatten().filter_map(|s| s["party"].as_str()).collect();
    assert_eq!(parties, ["provider", "applicant"], "{dossier}");
    assert_eq!(dossier["signed_by_both"], true);
    assert_eq!(dossier["filing"]["record"]["position"], records[3]["position"], "{dossier}");
    assert_eq!(dossier["completion"]["receivable"], "80000.00", "{dossier}");
    assert_eq!(dossier["rating"]["quality"], 5, "{dossier}");
    assert_eq!(dossier["redemption"]["status"], "announced", "{dossier}");
    assert_eq!(dossier["announcement"]["announcement_id"], json!(scene.announcement_id), "{dossier}");
    assert_eq!(dossier["disbursement"], Value::Null, "not disbursed yet: {dossier}");
    assert_eq!(dossier["records"].as_array().map(Vec::len), Some(records.len() - 1), "all but the issue");

    // The parties read the dossier; another enterprise may not.
    let applicant = token(Role::Enterprise, GY, "applicant-61", Some(&credit_code(61)));
    read(client, &format!("/v1/contracts/{}/dossier", scene.contract_a), Some(&applicant)).await?;
    let stranger = token(Role::Enterprise, GY, "applicant-62", Some(&credit_code(62)));
    let answer = client.get(&format!("/v1/contracts/{}/dossier", scene.contract_a), Some(&stranger)).await?;
    assert_eq!(answer.status, 403, "{answer:?}");

    // The ranking states its prior; one rating of (5, 4, 5) scores (5 * 3 + 4.6667) / 6.
    let ranking = read(client, "/v1/rankings/providers", Some(&applicant)).await?;
    assert_eq!(ranking["prior"]["mean"], 3.0, "{ranking}");
    assert_eq!(ranking["prior"]["weight"], 5.0, "{ranking}");
    let first = &ranking["providers"][0];
    assert_eq!(
        (first["provider"].as_str(), first["ratings"].as_u64()),
        (Some(credit_code(661).as_str()), Some(1))
    );
    assert_eq!((first["mean"].as_f64(), first["score"].as_f64()), (Some(4.6667), Some(3.2778)), "{ranking}");
    let other = read(client, "/v1/rankings/providers?category=industrial_design", Some(&applicant)).await?;
    assert_eq!(other["providers"], json!([]), "{other}");

    // The provider's money: both services completed, nothing paid yet.
    let provider = token(Role::Provider, GY, "provider-661", Some(&credit_code(661)));
    let balance =
        read(client, &format!("/v1/providers/{}/balance", credit_code(661)), Some(&provider)).await?;
    assert_eq!(
        (balance["completed"].as_str(), balance["receivable"].as_str()),
        (Some("130000.00"), Some("130000.00"))
    );
    assert_eq!(
        (balance["disbursed"].as_str(), balance["contracts_completed"].as_u64()),
        (Some("0.00"), Some(2))
    );

    // Redemptions by state, with the counts of each.
    let announced = read(client, "/v1/redemptions?status=announced", Some(&auditor)).await?;
    assert_eq!(announced["redemptions"][0]["redemption_id"], json!(scene.redemption_id), "{announced}");
    assert_eq!(announced["counts"], json!({ "announced": 1 }), "{announced}");
    let disbursed = read(client, "/v1/redemptions?status=disbursed", Some(&auditor)).await?;
    assert_eq!(disbursed["redemptions"], json!([]), "{disbursed}");
    // The public announcement lists need no token; open lists only.
    let lists = read(client, "/v1/announcements?open=true", None).await?;
    assert_eq!(lists["announcements"][0]["item_count"], 1, "{lists}");
    let closed = read(client, "/v1/announcements?open=false", None).await?;
    assert_eq!(closed["announcements"], json!([]), "{closed}");
    scene.server.stop().await;
    Ok(())
}

async fn as_of_a_position_or_a_date_answers_as_the_ledger_stood_then(backend: Backend) -> anyhow::Result<()> {
    let scene = scene_on(backend).await?;
    let client = &scene.client;
    let base = &scene.server.base;
    let auditor = auditor();
    let voucher = |query: &str| format!("/v1/vouchers/{}?{query}", scene.voucher_id);
    let balances =
        |body: &Value| (body["available"].clone(), body["committed"].clone(), body["position"].clone());

    let then =
        read(client, &voucher(&format!("as_of_position={}", scene.after_claim)), Some(&auditor)).await?;
    assert_eq!(balances(&then), (json!("100000.00"), json!("0.00"), json!(scene.after_claim)));
    let filed =
        read(client, &voucher(&format!("as_of_position={}", scene.after_filing)), Some(&auditor)).await?;
    assert_eq!(balances(&filed), (json!("20000.00"), json!("80000.00"), json!(scene.after_filing)));
    let now = read(client, &voucher(""), Some(&auditor)).await?;
    assert_eq!(balances(&now), (json!("20000.00"), json!("0.00"), json!(scene.head)));

    // The end of Monday 2025-03-03: the voucher issued, no contract yet, no announcement.
    let monday = read(client, &voucher("as_of_date=2025-03-03"), Some(&auditor)).await?;
    assert_eq!(monday["available"], "100000.00", "{monday}");
    let monday_position = monday["position"].as_u64().unwrap_or(0);
    assert!(scene.after_claim <= monday_position && monday_position < scene.after_filing, "{monday}");
    let contract = client
        .get(&format!("/v1/contracts/{}?as_of_date=2025-03-03", scene.contract_a), Some(&auditor))
        .await?;
    assert_eq!((contract.status, contract.code()), (404, "contract_not_found"), "{contract:?}");
    // The public lists answer a past state to a caller with a token; without one, the present only.
    let lists = read(client, "/v1/announcements?as_of_date=2025-03-03", Some(&auditor)).await?;
    assert_eq!(lists["announcements"], json!([]), "{lists}");
    let anonymous = client.get("/v1/announcements?as_of_date=2025-03-03", None).await?;
    assert_eq!((anonymous.status, anonymous.code()), (401, "as_of_needs_token"), "{anonymous:?}");
    // Before the log began, nothing existed.
    let nothing = client.get(&voucher("as_of_position=0"), Some(&auditor)).await?;
    assert_eq!((nothing.status, nothing.code()), (404, "voucher_not_found"), "{nothing:?}");

    // Every projection query accepts both, with CSV too (as-of needs a token, on the public routes too).
    for (path, rows, _needs_token) in queries(&scene) {
        let bearer = Some(auditor.as_str());
        let at_head = with_query(&path, &format!("as_of_position={}", scene.head));
        let body = read(client, &at_head, bearer).await?;
        assert_eq!(body["position"], json!(scene.head), "{at_head}: {body}");
        let by_date = with_query(&path, "as_of_date=2025-03-14");
        assert_eq!(read(client, &by_date, bearer).await?, body, "{by_date}: the last day is the head");
        let past = with_query(&path, &format!("as_of_position={}", scene.after_claim));
        let (status, _, text) = get_text(base, &past, bearer, None).await?;
        assert!(status == 200 || status == 404, "{past}: {status} {text}");
        if status == 200 {
            let body: Value = serde_json::from_str(&text)?;
            assert_eq!(body["position"], json!(scene.after_claim), "{past}: {body}");
            let (_, _, csv_text) = get_text(base, &with_query(&past, "format=csv"), bearer, None).await?;
            assert_csv_is_rows(&past, &csv_text, &json_rows(&body, rows))?;
        }
    }
    // Refusals: past the head, both at once, not a number, not a date.
    for query in [
        format!("as_of_position={}", scene.head + 1),
        "as_of_position=1&as_of_date=2025-03-03".into(),
        "as_of_position=minus-one".into(),
        "as_of_date=2025-13-01".into(),
    ] {
        let answer = client.get(&voucher(&query), Some(&auditor)).await?;
        assert_eq!((answer.status, answer.code()), (400, "invalid_query"), "{query}: {answer:?}");
    }
    scene.server.stop().await;
    Ok(())
}

e2e::per_backend!(as_of_a_position_or_a_date_answers_as_the_ledger_stood_then, 2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anomalies_name_their_records_for_the_bureau_and_auditors_only() -> anyhow::Result<()> {
    let scene = scene().await?;
    let client = &scene.client;
    let anomalies = read(client, "/v1/anomalies", Some(&auditor())).await?;
    let signals = anomalies["signals"].as_array().cloned().unwrap_or_default();
    // Contract A was completed the day it was filed; contract B three days after: only A is signalled,
    // and nothing else in the scene looks odd (distinct documents, names and totals; one contract each).
    assert_eq!(signals.len(), 1, "{anomalies}");
    let signal = &signals[0];
    assert_eq!(signal["kind"], "completed_too_soon", "{signal}");
    assert_eq!(signal["subject"], json!(scene.contract_a), "{signal}");
    assert_eq!(signal["jurisdictions"], json!(["guiyang"]), "{signal}");
    let dossier =
        read(client, &format!("/v1/contracts/{}/dossier", scene.contract_a), Some(&auditor())).await?;
    let position_of = |event_type: &str| {
        dossier["records"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["type"] == event_type)
            .map(|r| r["position"].clone())
    };
    assert_eq!(
        signal["records"],
        json!([position_of("ContractFiled"), position_of("ServiceCompleted")]),
        "the signal names the filing and the completion: {signal}"
    );
    assert!(!anomalies.to_string().contains(&scene.contract_b), "B is the honest twin: {anomalies}");
    assert_eq!(anomalies["thresholds"]["completion_days_min"], 2, "{anomalies}");

    // The bureau of guiyang sees it, the bureau of gui'an does not; other roles may not look.
    let bureau = read(client, "/v1/anomalies", Some(&staff(Role::Bureau, GY))).await?;
    assert_eq!(bureau["signals"], anomalies["signals"]);
    let guian = read(client, "/v1/anomalies", Some(&staff(Role::Bureau, Jurisdiction::Guian))).await?;
    assert_eq!(guian["signals"], json!([]), "{guian}");
    let filtered = read(client, "/v1/anomalies?kind=document_reused", Some(&auditor())).await?;
    assert_eq!(filtered["signals"], json!([]), "{filtered}");
    for forbidden in [
        staff(Role::ServiceCenter, GY),
        staff(Role::Finance, GY),
        token(Role::Provider, GY, "provider-661", Some(&credit_code(661))),
    ] {
        let answer = client.get("/v1/anomalies", Some(&forbidden)).await?;
        assert_eq!((answer.status, answer.code()), (403, "forbidden"), "{answer:?}");
    }
    let answer = client.get("/v1/anomalies", None).await?;
    assert_eq!(answer.status, 401, "{answer:?}");
    // As of the filing, the completion had not happened: no signal.
    let then =
        read(client, &format!("/v1/anomalies?as_of_position={}", scene.after_filing), Some(&auditor()))
            .await?;
    assert_eq!(then["signals"], json!([]), "{then}");
    scene.server.stop().await;
    Ok(())
}

/// A streaming GET of the feed.
async fn open_feed(
    scene: &Scene,
    path: &str,
    bearer: &str,
    accept_header: Option<&str>,
) -> anyhow::Result<reqwest::Response> {
    let mut request = reqwest::Client::new().get(format!("{}{path}", scene.server.base)).bearer_auth(bearer);
    if let Some(accept_header) = accept_header {
        request = request.header("accept", accept_header);
    }
    Ok(request.send().await?)
}

/// Reads NDJSON lines from a streaming response.
struct Lines {
    response: reqwest::Response,
    buffer: String,
}

impl Lines {
    /// The next line, or `None` when the stream ended.
    async fn next(&mut self) -> anyhow::Result<Option<Value>> {
        loop {
            if let Some(end) = self.buffer.find('\n') {
                let line: String = self.buffer.drain(..=end).collect();
                return Ok(Some(serde_json::from_str(line.trim_end())?));
            }
            match tokio::time::timeout(GUARD, self.response.chunk()).await?? {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes)?),
                None => return Ok(None),
            }
        }
    }
}

/// Every line of a feed that ends (`follow=false`).
async fn feed_lines(scene: &Scene, path: &str, bearer: &str) -> anyhow::Result<Vec<Value>> {
    let response = open_feed(scene, path, bearer, None).await?;
    anyhow::ensure!(response.status() == 200, "{path}: {}", response.status());
    let mut lines = Lines { response, buffer: String::new() };
    let mut all = Vec::new();
    while let Some(line) = lines.next().await? {
        all.push(line);
    }
    Ok(all)
}

async fn the_event_feed_streams_every_record_in_order_and_follows_live_appends(
    backend: Backend,
) -> anyhow::Result<()> {
    let scene = scene_on(backend).await?;
    let client = &scene.client;
    let auditor = auditor();
    let response = open_feed(&scene, "/v1/events?from=1", &auditor, None).await?;
    assert_eq!(response.status(), 200);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(content_type, "application/x-ndjson");
    let mut lines = Lines { response, buffer: String::new() };
    let mut previous_hash = "0".repeat(64);
    for position in 1..=scene.head {
        let line = lines.next().await?.ok_or_else(|| anyhow::anyhow!("the feed ended before {position}"))?;
        assert_eq!(line["position"], json!(position), "{line}");
        assert_eq!(line["prev_hash"], json!(previous_hash), "the chain links: {line}");
        for field in ["stream", "type", "hash", "business_date", "payload"] {
            assert!(!line[field].is_null(), "{field} in {line}");
        }
        previous_hash = line["hash"].as_str().unwrap_or_default().to_owned();
    }
    let head = read(client, "/v1/log/head", Some(&auditor)).await?;
    assert_eq!(head["hash"], json!(previous_hash));

    // A command committed now reaches the open feed.
    verified_applicant(client, GY, 63, false).await?;
    let registered = lines.next().await?.ok_or_else(|| anyhow::anyhow!("no live line"))?;
    assert_eq!(
        (registered["position"].clone(), registered["type"].clone()),
        (json!(scene.head + 1), json!("ApplicantRegistered"))
    );
    assert_eq!(registered["payload"]["registration"]["credit_code"], json!(credit_code(63)), "{registered}");
    assert_eq!(registered["stream"], json!(format!("applicant-{}", credit_code(63))));
    let verified = lines.next().await?.ok_or_else(|| anyhow::anyhow!("no live line"))?;
    assert_eq!(
        (verified["position"].clone(), verified["type"].clone()),
        (json!(scene.head + 2), json!("ApplicantVerified"))
    );

    // From a position; the bureau may read it too; other roles may not.
    let tail =
        feed_lines(&scene, &format!("/v1/events?from={}&follow=false", scene.head), &staff(Role::Bureau, GY))
            .await?;
    let positions: Vec<u64> = tail.iter().filter_map(|line| line["position"].as_u64()).collect();
    assert_eq!(positions, vec![scene.head, scene.head + 1, scene.head + 2]);
    for forbidden in
        [staff(Role::ServiceCenter, GY), token(Role::Enterprise, GY, "applicant-61", Some(&credit_code(61)))]
    {
        let response = open_feed(&scene, "/v1/events", &forbidden, None).await?;
        assert_eq!(response.status(), 403);
    }
    let unauthenticated = client.get("/v1/events", None).await?;
    assert_eq!(unauthenticated.status, 401);

    // Server-sent events: the position is the id, the type the event name.
    let response = open_feed(&scene, "/v1/events?follow=false", &auditor, Some("text/event-stream")).await?;
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"))
    );
    let text = tokio::time::timeout(GUARD, response.text()).await??;
    let ids: Vec<u64> =
        text.lines().filter_map(|l| l.strip_prefix("id: ")).filter_map(|id| id.parse().ok()).collect();
    assert_eq!(ids, (1..=scene.head + 2).collect::<Vec<_>>());
    let names: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(names.last(), Some(&"ApplicantVerified"));
    let data: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(data.len() as u64, scene.head + 2);
    assert_eq!(data[0]["type"], "BudgetAppropriated");

    // An SSE client reconnecting with Last-Event-ID resumes after that event.
    let resumed = reqwest::Client::new()
        .get(format!("{}/v1/events?follow=false", scene.server.base))
        .bearer_auth(&auditor)
        .header("accept", "text/event-stream")
        .header("last-event-id", scene.head.to_string())
        .send()
        .await?;
    let text = tokio::time::timeout(GUARD, resumed.text()).await??;
    let ids: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("id: ")).collect();
    assert_eq!(ids, [(scene.head + 1).to_string(), (scene.head + 2).to_string()]);

    // A follower does not hold up a graceful shutdown: its feed ends.
    tokio::time::timeout(GUARD, scene.server.stop()).await?;
    let mut ended = false;
    for _ in 0..3 {
        match lines.next().await {
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => {
                ended = true;
                break;
            }
        }
    }
    assert!(ended, "the feed ended with the server");
    Ok(())
}

e2e::per_backend!(the_event_feed_streams_every_record_in_order_and_follows_live_appends, 2);

/// `replay` and `export` on the store's own flag: `--data DIR` or `--store URL`, like `verify`.
async fn replay_and_export_rebuild_offline_what_the_server_answers(backend: Backend) -> anyhow::Result<()> {
    let scene = scene_on(backend).await?;
    let client = &scene.client;
    let vouchers = read(client, "/v1/vouchers", Some(&auditor())).await?;
    let monday = read(client, "/v1/vouchers?as_of_date=2025-03-03", Some(&auditor())).await?;
    let store_flag: Vec<String> = match &scene.store.spec {
        StoreSpec::File(dir) => vec!["--data".into(), dir.display().to_string()],
        StoreSpec::Postgres(url) | StoreSpec::Kurrent(url) => vec!["--store".into(), url.clone()],
    };
    let run = |command: &str, args: &[&str]| {
        std::process::Command::new(e2e::binary())
            .arg(command)
            .args(&store_flag)
            .args(args)
            .env_remove("VOUCHER_LEDGER_STORE")
            .env("RUST_LOG", "warn")
            .output()
    };

    // The server still runs: replay and export read beside it.
    let output = run("replay", &[])?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.starts_with(&format!("replay: ok position={} of head={}", scene.head, scene.head)),
        "{stdout}"
    );
    assert!(stdout.contains("trial balance guiyang: total=0.00"), "{stdout}");
    assert!(stdout.contains("anomaly signals: 1 completed_too_soon=1"), "{stdout}");

    let to = monday["position"].as_u64().unwrap_or(0);
    for until in [to.to_string(), "2025-03-03".to_owned()] {
        let output = run("replay", &["--to", &until])?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with(&format!("replay: ok position={to} of head={}", scene.head)),
            "{until}: {stdout}"
        );
    }

    let output = run("export", &["vouchers"])?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_csv_is_rows(
        "export vouchers",
        &String::from_utf8_lossy(&output.stdout),
        &json_rows(&vouchers, "vouchers"),
    )?;
    let output = run("export", &["vouchers", "--to", "2025-03-03"])?;
    assert_csv_is_rows(
        "export --to",
        &String::from_utf8_lossy(&output.stdout),
        &json_rows(&monday, "vouchers"),
    )?;
    let output = run("export", &["balances-of-nothing"])?;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("choose one of vouchers"), "{output:?}");
    scene.server.stop().await;
    Ok(())
}

e2e::per_backend!(replay_and_export_rebuild_offline_what_the_server_answers, 2);
