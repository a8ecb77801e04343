//! The console (issue 16) in a real browser: headless Debian Chromium driven from node by `playwright-core`
//! (`tests/browser/`, pinned in its package-lock.json), against the real `voucher-ledger serve` binary on a
//! loopback port. Each test prepares a ledger over the HTTP API (the e2e helpers), then runs one script of
//! `tests/browser/` that clicks through a role's main flow in zh-CN and in en (sign in through the link with
//! the token in the URL fragment, act, see the result, sign out), checks that a refused action shows the
//! rule's message, runs axe-core on every page it visits (no serious or critical violation) and writes a
//! screenshot of the role's main page per language under `target/console-screenshots/`. A script that fails
//! fails the test with its output.
//!
//! To run one by hand: `cargo build --bin voucher-ledger`, `npm ci` in tests/browser, then
//! `VOUCHER_LEDGER_CHROMIUM=/usr/bin/chromium cargo test -p e2e --test it console::`.
//!
//! Built only where `scripts/test.sh` found Chromium, node and `tests/browser`'s npm packages
//! (`VOUCHER_LEDGER_CHROMIUM`, `tests/build.rs`: cfg `e2e_browser`); elsewhere the tests are ignored with
//! the reason, and in CI (`VOUCHER_LEDGER_REQUIRE_POSTGRES=1`) they are built and fail when a piece is
//! missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use domain::{Jurisdiction, Role};
use e2e::{Client, MORNING, ServerProcess, accept, contract_body, credit_code, token};
use engine::open::StoreSpec;
use serde_json::{Value, json};

const IGNORED: &str = "no chromium/node/npm packages: run scripts/test.sh (as root it installs Debian's chromium and \
                       runs npm ci in tests/browser)";

/// Where the scripts and their npm packages are.
fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Where screenshots go: `console-screenshots/` in the target directory the binary was built in.
fn screenshots() -> PathBuf {
    let binary = e2e::binary();
    let target = binary.parent().and_then(Path::parent).map_or_else(std::env::temp_dir, Path::to_path_buf);
    target.join("console-screenshots")
}

/// The browser the scripts drive, and node; fails (never skips) when a piece is missing, since this module
/// is built only where they were found or are required.
fn tools() -> (String, String) {
    let chromium =
        std::env::var("VOUCHER_LEDGER_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(Path::new(&chromium).exists(), "no chromium at {chromium}: {IGNORED}");
    let node = std::env::var("VOUCHER_LEDGER_NODE").unwrap_or_else(|_| "node".to_owned());
    let version = Command::new(&node).arg("--version").output();
    assert!(version.is_ok_and(|output| output.status.success()), "no node ({node}): {IGNORED}");
    let packages = scripts().join("node_modules").join("playwright-core");
    assert!(
        packages.exists(),
        "{} is missing: run `npm ci` in tests/browser ({IGNORED})",
        packages.display()
    );
    (chromium, node)
}

/// Runs `tests/browser/<script>` against `base` with the tokens and the prepared ids; fails with its output.
fn run_script(script: &str, base: &str, tokens: &Value, fixture: &Value) -> String {
    let (chromium, node) = tools();
    let output = Command::new(node)
        .arg(scripts().join(script))
        .current_dir(scripts())
        .env("CONSOLE_BASE", base)
        .env("CONSOLE_TOKENS", tokens.to_string())
        .env("CONSOLE_FIXTURE", fixture.to_string())
        .env("CONSOLE_OUT", screenshots())
        .env("CHROMIUM", chromium)
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "tests/browser/{script} failed:\n{stdout}\n{stderr}");
    stdout
}

/// The harness itself: Chromium starts from node as the scripts launch it, and axe-core reports a serious
/// violation on a page that has one (so a clean report on the console means something).
#[test]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
fn the_harness_drives_chromium_and_axe_finds_violations() {
    let stdout = run_script("harness.mjs", "http://127.0.0.1:9", &json!({}), &json!({}));
    assert!(stdout.contains("axe-core found"), "{stdout}");
}

/// A fresh ledger served by the binary (manual clock at MORNING).
fn serve(dir: &Path) -> ServerProcess {
    ServerProcess::try_start_with(&StoreSpec::File(dir.join("data")), MORNING, &[]).expect("serve")
}

const GUIYANG: Jurisdiction = Jurisdiction::Guiyang;

/// The two languages the scripts run in, with the number that tells their parties apart.
const LANGUAGES: [(&str, u32); 2] = [("zh-CN", 10), ("en", 20)];

/// A token for applicant `n` (an enterprise, or a project entity).
fn applicant_token(n: u32, project_entity: bool) -> String {
    let role = if project_entity { Role::ProjectEntity } else { Role::Enterprise };
    token(role, GUIYANG, &format!("applicant-{n}"), Some(&credit_code(n)))
}

/// The first batch (the usual program: a budget, a batch open for claims from 2025-03-01) and a second
/// batch named `second batch`; their ids.
async fn two_batches(client: &Client) -> (String, String) {
    let first =
        e2e::publish_batch(client, GUIYANG, "10000000.00", "1000000.00", "50000.00").await.expect("batch");
    let batch = json!({
        "jurisdiction": "guiyang", "fiscal_year": 2025, "name": "second batch",
        "total": "1000000.00", "face_value": "50000.00",
        "eligible_kinds": ["enterprise", "project_entity"],
        "eligible_industries": ["advanced_equipment", "aluminum"],
        "eligible_categories": ["technology_innovation", "inspection_testing"],
        "claim_opens": "2025-03-01", "claim_closes": "2025-06-30", "valid_until": "2025-12-31"
    });
    let bureau = e2e::staff(Role::Bureau, GUIYANG);
    let answer =
        accept(client, "/v1/batches", Some(&bureau), &batch, 201, &["BatchPublished"]).await.expect("batch");
    (first, answer.body["batch_id"].as_str().expect("batch_id").to_owned())
}

/// Applicant `n` verified, holding a voucher of `batch`; its token and the voucher's id.
async fn holder(client: &Client, batch: &str, n: u32) -> (String, String) {
    e2e::voucher_holder(client, GUIYANG, batch, n).await.expect("voucher holder")
}

/// Admits providers `ns` (each applies and is approved, then the clock moves past the last announcement).
async fn admitted(client: &Client, ns: &[u32]) {
    let mut closes = String::new();
    for &n in ns {
        let (_, close) =
            e2e::approved_provider(client, GUIYANG, n, &["technology_innovation", "inspection_testing"])
                .await
                .expect("approved provider");
        closes = closes.max(close);
    }
    e2e::set_clock(client, &e2e::nine_am(&e2e::day_after(&closes))).await.expect("clock");
}

/// A contract of `provider` for `voucher`, submitted only (awaiting the applicant's signature).
async fn submitted(
    client: &Client,
    provider: &str,
    voucher: &str,
    provider_code: &str,
    total: &str,
) -> String {
    let body = contract_body(voucher, provider_code, "technology_innovation", total, "8000.00");
    let answer = accept(client, "/v1/contracts", Some(provider), &body, 201, &["ContractSubmitted"])
        .await
        .expect("submit");
    answer.body["contract_id"].as_str().expect("contract_id").to_owned()
}

/// A contract of `provider` for `voucher`, filed (signed by both, filed by the service center).
async fn filed(
    client: &Client,
    provider: &str,
    applicant: &str,
    voucher: &str,
    provider_code: &str,
    total: &str,
) -> String {
    let body = contract_body(voucher, provider_code, "technology_innovation", total, "8000.00");
    e2e::filed_contract(client, GUIYANG, provider, applicant, &body).await.expect("filed contract")
}

/// The enterprise and the project entity, in both languages: claim a voucher from an open batch (a second
/// claim from the same batch is refused with the rule's message), sign a contract a provider sent, confirm a
/// filed contract's service complete, rate a completed one, see a voucher's history with its chain check,
/// sign out; axe-core on every page; screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
async fn the_applicant_claims_signs_completes_and_rates_in_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let client = Client::new(&server.base);
    let (first, _second) = two_batches(&client).await;
    admitted(&client, &[5]).await;
    let provider = e2e::provider_token(GUIYANG, 5);
    let provider_code = credit_code(5);
    let mut tokens = serde_json::Map::new();
    let mut fixture = serde_json::Map::new();
    for (language, n) in LANGUAGES {
        let (own, voucher) = holder(&client, &first, n).await;
        let to_sign = submitted(&client, &provider, &voucher, &provider_code, "10000.00").await;
        let to_complete = filed(&client, &provider, &own, &voucher, &provider_code, "11000.00").await;
        let to_rate = filed(&client, &provider, &own, &voucher, &provider_code, "12000.00").await;
        e2e::complete(&client, &own, &to_rate).await.expect("complete");
        e2e::verified_applicant(&client, GUIYANG, n + 1, true).await.expect("project entity");
        tokens.insert(format!("enterprise-{language}"), json!(own));
        tokens.insert(format!("project-{language}"), json!(applicant_token(n + 1, true)));
        fixture.insert(
            language.to_owned(),
            json!({ "voucher": voucher, "to_sign": to_sign, "to_complete": to_complete, "to_rate": to_rate,
                    "code": credit_code(n), "project_code": credit_code(n + 1) }),
        );
    }
    run_script("applicant.mjs", &server.base, &Value::Object(tokens), &Value::Object(fixture));
}

/// The provider, in both languages: applies for admission with a qualification file hashed in the browser
/// (and finds the file in the ledger afterwards), submits a contract with its file hashed in the browser (a
/// contract whose voucher amount exceeds its total is refused with the rule's message), requests redemption
/// of a completed contract with three documents hashed in the browser, sees its ratings, signs out; axe-core
/// on every page; screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
async fn the_provider_applies_contracts_and_requests_redemption_in_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let client = Client::new(&server.base);
    let (first, _) = two_batches(&client).await;
    admitted(&client, &[30, 40]).await;
    let mut tokens = serde_json::Map::new();
    let mut fixture = serde_json::Map::new();
    for ((language, n), p) in LANGUAGES.into_iter().zip([30, 40]) {
        let provider = e2e::provider_token(GUIYANG, p);
        let code = credit_code(p);
        let (own, voucher) = holder(&client, &first, n).await;
        let redeemable = filed(&client, &provider, &own, &voucher, &code, "10000.00").await;
        e2e::complete(&client, &own, &redeemable).await.expect("complete");
        let rated = filed(&client, &provider, &own, &voucher, &code, "11000.00").await;
        e2e::complete(&client, &own, &rated).await.expect("complete");
        let rating = json!({ "quality": 5, "timeliness": 4, "professionalism": 5, "text": "good" });
        accept(
            &client,
            &format!("/v1/contracts/{rated}/rating"),
            Some(&own),
            &rating,
            200,
            &["ServiceRated"],
        )
        .await
        .expect("rating");
        tokens.insert(format!("provider-{language}"), json!(provider));
        tokens.insert(format!("provider-new-{language}"), json!(e2e::provider_token(GUIYANG, p + 1)));
        fixture.insert(
            language.to_owned(),
            json!({ "voucher": voucher, "redeemable": redeemable, "code": code, "new_code": credit_code(p + 1) }),
        );
    }
    run_script("provider.mjs", &server.base, &Value::Object(tokens), &Value::Object(fixture));
}

/// The auditor, in both languages: a voucher's and a contract's history with their records, hashes and the
/// chain check, one record's page; the ledger as of the day before the program (fewer records) and today; a
/// sample drawn, its contract seen and a finding recorded (a sample of size 0 is refused with the rule's
/// message); a CSV download; sign out; axe-core on every page; screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
async fn the_auditor_reads_histories_as_of_samples_and_downloads_in_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let client = Client::new(&server.base);
    let (first, _) = two_batches(&client).await;
    admitted(&client, &[50]).await;
    let provider = e2e::provider_token(GUIYANG, 50);
    let (own, voucher) = holder(&client, &first, 60).await;
    let body = contract_body(&voucher, &credit_code(50), "technology_innovation", "10000.00", "8000.00");
    let contract =
        e2e::filed_contract(&client, GUIYANG, &provider, &own, &body).await.expect("filed contract");
    e2e::complete(&client, &own, &contract).await.expect("complete");
    // An audit draw samples the previous year's contracts (SPEC: audits): the business date moves into 2026.
    e2e::set_clock(&client, &e2e::nine_am("2026-01-05")).await.expect("clock");
    let head = e2e::head_position(&client).await.expect("head");
    let tokens = json!({ "auditor": e2e::staff(Role::Auditor, GUIYANG) });
    let fixture = json!({
        "voucher": voucher, "contract": contract, "contract_sha256": body["document_sha256"], "head": head,
        "before": "2025-03-02",
    });
    run_script("auditor.mjs", &server.base, &tokens, &fixture);
}

/// The public page without sign-in, in both languages: a provider in its admission announcement with its
/// period in working days, an objection filed through the form, the language switch remembered, a bad
/// sign-in token refused with the API's message; axe-core; screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
async fn the_public_reads_announcements_and_objects_in_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let client = Client::new(&server.base);
    e2e::approved_provider(&client, GUIYANG, 7, &["technology_innovation"]).await.expect("approved provider");
    run_script("public.mjs", &server.base, &json!({}), &json!({ "provider": credit_code(7) }));
}

/// Applicant `n` registered (an enterprise in advanced equipment), waiting for the service center.
async fn registered(client: &Client, n: u32) {
    let code = credit_code(n);
    let registration = json!({ "credit_code": code, "name": format!("enterprise {n}"), "kind": "enterprise",
        "jurisdiction": "guiyang", "industry": "advanced_equipment",
        "independent_legal_person": true, "tax_compliant": true });
    accept(
        client,
        "/v1/applicants",
        Some(&applicant_token(n, false)),
        &registration,
        201,
        &["ApplicantRegistered"],
    )
    .await
    .expect("registration");
}

/// Provider `n` applied for admission, waiting for the bureau's decision.
async fn applied(client: &Client, n: u32) {
    let application = json!({
        "name": format!("provider {n}"), "categories": ["technology_innovation"],
        "qualifications": [e2e::document(&format!("provider {n} licence.pdf"))], "contact": "0851-7654321",
    });
    accept(
        client,
        "/v1/providers",
        Some(&e2e::provider_token(GUIYANG, n)),
        &application,
        201,
        &["ProviderApplied"],
    )
    .await
    .expect("application");
}

/// A contract of `provider` for `voucher`, submitted and signed by the applicant (waiting to be filed).
async fn signed(
    client: &Client,
    provider: &str,
    applicant: &str,
    voucher: &str,
    provider_code: &str,
    total: &str,
) -> String {
    let contract = submitted(client, provider, voucher, provider_code, total).await;
    let path = format!("/v1/contracts/{contract}/signature");
    accept(client, &path, Some(applicant), &json!({}), 200, &["ContractSigned"]).await.expect("signature");
    contract
}

/// A completed contract's redemption requested by its provider, with `invoice` as its invoice; its id.
async fn requested(client: &Client, provider: &str, contract: &str, invoice: &Value) -> String {
    let mut body = e2e::redemption_body(contract);
    body["invoice"] = invoice.clone();
    let answer = accept(client, "/v1/redemptions", Some(provider), &body, 201, &["RedemptionRequested"])
        .await
        .expect("redemption");
    answer.body["redemption_id"].as_str().expect("redemption_id").to_owned()
}

/// A record of the read side, as the auditor reads it.
async fn view(client: &Client, path: &str) -> Value {
    e2e::read(client, path, Some(&e2e::staff(Role::Auditor, GUIYANG))).await.expect(path)
}

/// The bureau, in both languages: the dashboard of the fiscal year; from the work queues a provider
/// application decided (a rejection without a reason is refused with the rule's message), an objection
/// dismissed with a reason, one language's approved redemption announced while the other's stays in the
/// queue, a redemption whose announcement ended paid; that payment clawed back (a clawback over what was paid
/// is refused with the rule's message) and recovered; a batch published with the issuance guide (one over
/// the budget is refused with the rule's message), seen in the batches and on the dashboard's budget, and
/// closed early; an applicant suspended and a provider referred to the authorities; lists filtered with their
/// forms and downloaded as CSV; sign out; axe-core on every page; screenshots. The ledger has what the browser did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
async fn the_bureau_decides_announces_pays_and_publishes_in_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let client = Client::new(&server.base);
    let (first, _) = two_batches(&client).await;
    admitted(&client, &[80]).await;
    let provider = e2e::provider_token(GUIYANG, 80);
    let approved = |n: u32| {
        let (client, provider, first) = (&client, &provider, &first);
        async move {
            let (own, voucher) = holder(client, first, n).await;
            let contract = filed(client, provider, &own, &voucher, &credit_code(80), "10000.00").await;
            e2e::complete(client, &own, &contract).await.expect("complete");
            e2e::approved_redemption(client, GUIYANG, provider, &contract).await.expect("redemption")
        }
    };
    // A redemption per language whose announcement has ended: payable.
    let mut payable = Vec::new();
    for (_, n) in LANGUAGES {
        payable.push(approved(n + 83).await);
    }
    let ids: Vec<&str> = payable.iter().map(String::as_str).collect();
    let (_, closes) = e2e::announce(&client, GUIYANG, &ids).await.expect("announce");
    e2e::set_clock(&client, &e2e::nine_am(&e2e::day_after(&closes))).await.expect("clock");
    let mut fixture = serde_json::Map::new();
    // What the dashboard shows once a language's flow has run (zh-CN first): allocated to batches, paid and
    // clawed back in 2025.
    let after = [("¥2,500,000.00", "¥8,000.00", "¥1,000.00"), ("¥3,000,000.00", "¥16,000.00", "¥2,000.00")];
    for (((language, n), (p, (allocated, paid, clawed_back))), to_pay) in
        LANGUAGES.into_iter().zip([81, 82].into_iter().zip(after)).zip(&payable)
    {
        applied(&client, p).await;
        let redemption = approved(n + 80).await;
        // An objection to a provider in its admission announcement.
        e2e::approved_provider(&client, GUIYANG, p + 10, &["technology_innovation"]).await.expect("approved");
        let objection = json!({ "target": { "kind": "provider", "provider": credit_code(p + 10) },
                                "text": format!("objection {language}") });
        let filed = accept(&client, "/v1/objections", None, &objection, 201, &["ObjectionFiled"])
            .await
            .expect("objection");
        fixture.insert(
            language.to_owned(),
            json!({ "provider": credit_code(p), "redemption": redemption, "batch": format!("batch {language}"),
                    "allocated": allocated, "paid": paid, "clawed_back": clawed_back, "to_pay": to_pay, "objection": filed.body["objection_id"],
                    "suspend": credit_code(n + 80) }),
        );
    }
    let tokens = json!({ "bureau": e2e::staff(Role::Bureau, GUIYANG) });
    run_script("bureau.mjs", &server.base, &tokens, &Value::Object(fixture.clone()));
    // What the browser did is in the ledger.
    for (language, _) in LANGUAGES {
        let mine = &fixture[language];
        let text = |key: &str| mine[key].as_str().expect(key).to_owned();
        let decided = view(&client, &format!("/v1/providers/{}", text("provider"))).await;
        assert_eq!(decided["status"], "announced", "{decided}");
        let announced = view(&client, &format!("/v1/redemptions/{}", text("redemption"))).await;
        assert_eq!(announced["status"], "announced", "{announced}");
        let paid = view(&client, &format!("/v1/redemptions/{}", text("to_pay"))).await;
        assert_eq!(paid["status"], "disbursed", "{paid}");
        assert_eq!(
            (&paid["disbursed"], &paid["clawed_back"]),
            (&json!("8000.00"), &json!("1000.00")),
            "{paid}"
        );
        let suspended = view(&client, &format!("/v1/applicants/{}", text("suspend"))).await;
        assert_eq!(suspended["status"], "suspended", "{suspended}");
        // The objection is ruled: another ruling is refused as one on a ruled objection.
        let ruling = format!("/v1/objections/{}/ruling", text("objection"));
        let again = json!({ "ruling": "upheld", "reason": "again" });
        let bureau = e2e::staff(Role::Bureau, GUIYANG);
        let refusal = e2e::refuse(&client, &ruling, Some(&bureau), &again, 409, "invalid_state")
            .await
            .expect("a second ruling is refused");
        assert!(refusal.body["detail"].to_string().contains("ruled"), "{language}: {}", refusal.body);
    }
    let budget = view(&client, "/v1/budgets/guiyang/2025").await;
    assert_eq!(budget["allocated_to_batches"], "3000000.00", "{budget}");
}

/// The service center, in both languages: an applicant verified and another rejected with a reason (a
/// rejection without one is refused with the rule's message), a signed contract filed and another rejected
/// with a reason, each leaving its queue, sign out; axe-core on every page; screenshots. The ledger has what
/// the browser did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
async fn the_service_center_verifies_files_and_rejects_in_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let client = Client::new(&server.base);
    let (first, _) = two_batches(&client).await;
    admitted(&client, &[90]).await;
    let provider = e2e::provider_token(GUIYANG, 90);
    let mut fixture = serde_json::Map::new();
    for (language, n) in LANGUAGES {
        let (to_verify, to_reject) = (n + 90, n + 91);
        registered(&client, to_verify).await;
        registered(&client, to_reject).await;
        let (own, voucher) = holder(&client, &first, n + 92).await;
        let to_file = signed(&client, &provider, &own, &voucher, &credit_code(90), "10000.00").await;
        let to_refuse = signed(&client, &provider, &own, &voucher, &credit_code(90), "11000.00").await;
        fixture.insert(
            language.to_owned(),
            json!({ "to_verify": credit_code(to_verify), "to_reject": credit_code(to_reject),
                    "to_file": to_file, "to_refuse": to_refuse }),
        );
    }
    let tokens = json!({ "service_center": e2e::staff(Role::ServiceCenter, GUIYANG) });
    run_script("service_center.mjs", &server.base, &tokens, &Value::Object(fixture.clone()));
    for (language, _) in LANGUAGES {
        let mine = &fixture[language];
        let text = |key: &str| mine[key].as_str().expect(key).to_owned();
        let verified = view(&client, &format!("/v1/applicants/{}", text("to_verify"))).await;
        assert_eq!(verified["status"], "verified", "{verified}");
        let rejected = view(&client, &format!("/v1/applicants/{}", text("to_reject"))).await;
        assert_eq!(rejected["status"], "rejected", "{rejected}");
        let filed = view(&client, &format!("/v1/contracts/{}", text("to_file"))).await;
        assert_eq!(filed["status"], "filed", "{filed}");
        let refused = view(&client, &format!("/v1/contracts/{}", text("to_refuse"))).await;
        assert_eq!(refused["status"], "rejected", "{refused}");
    }
}

/// SHA-256 of the three bytes `abc` and of `hello` (FIPS 180-2's example and a well-known digest): the
/// invoices whose files the reviewer picks in the browser to check them against the ledger.
const INVOICES: [(&str, &str); 2] = [
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("hello", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
];

/// The reviewer, in both languages: the redemptions to review with their documents' hashes (a picked file
/// hashed in the browser matches its invoice's), one approved in full, one reduced (a reduction not below
/// the amount requested is refused with the rule's message), one rejected with a reason, each leaving the
/// queue, sign out; axe-core on every page; screenshots. The ledger has what the browser did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(e2e_browser), ignore = "no chromium/node/npm packages: run scripts/test.sh")]
async fn the_reviewer_approves_reduces_and_rejects_in_the_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let client = Client::new(&server.base);
    let (first, _) = two_batches(&client).await;
    admitted(&client, &[100]).await;
    let provider = e2e::provider_token(GUIYANG, 100);
    let mut fixture = serde_json::Map::new();
    for ((language, n), (bytes, sha256)) in LANGUAGES.into_iter().zip(INVOICES) {
        let (own, voucher) = holder(&client, &first, n + 100).await;
        let mut ids = Vec::new();
        for (i, total) in ["10000.00", "11000.00", "12000.00"].into_iter().enumerate() {
            let contract = filed(&client, &provider, &own, &voucher, &credit_code(100), total).await;
            e2e::complete(&client, &own, &contract).await.expect("complete");
            let invoice = if i == 0 {
                json!({ "sha256": sha256, "name": format!("invoice-{language}.pdf"), "size_bytes": bytes.len() })
            } else {
                e2e::document(&format!("invoice {contract}.pdf"))
            };
            ids.push(requested(&client, &provider, &contract, &invoice).await);
        }
        fixture.insert(
            language.to_owned(),
            json!({ "full": ids[0], "reduced": ids[1], "rejected": ids[2], "invoice": bytes, "invoice_sha256": sha256 }),
        );
    }
    let tokens = json!({ "reviewer": e2e::staff(Role::Reviewer, GUIYANG) });
    run_script("reviewer.mjs", &server.base, &tokens, &Value::Object(fixture.clone()));
    for (language, _) in LANGUAGES {
        let mine = &fixture[language];
        let redemption = |key: &str| format!("/v1/redemptions/{}", mine[key].as_str().expect(key));
        let full = view(&client, &redemption("full")).await;
        assert_eq!((&full["status"], &full["approved"]), (&json!("approved"), &json!("8000.00")), "{full}");
        let reduced = view(&client, &redemption("reduced")).await;
        assert_eq!(
            (&reduced["status"], &reduced["approved"]),
            (&json!("approved"), &json!("5000.00")),
            "{reduced}"
        );
        let rejected = view(&client, &redemption("rejected")).await;
        assert_eq!(rejected["status"], "rejected", "{rejected}");
    }
}
