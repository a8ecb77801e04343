//! The console over real HTTP (the binary, loopback): each of the bureau's, service center's, reviewer's and
//! the public pages renders in both languages with the ledger's rows; sign-in exchanges a token for a
//! session cookie with its attributes; a form POST without its CSRF token is refused and records nothing;
//! every answer carries the Content-Security-Policy; a refused action shows the rule's localised title and
//! guidance (what the rule is, what to do next) above the API's detail; the
//! API's problem titles follow Accept-Language; `serve --dev` prints sign-in links with the token in the
//! fragment. (The catalogue's own completeness is checked by `api`'s unit tests; here, that no page shows a
//! catalogue key instead of its text.) The clicking in a real browser is `console.rs`.

use std::collections::BTreeMap;

use domain::{Jurisdiction, Role};
use e2e::*;
use serde_json::json;

/// A browser without JavaScript: keeps cookies, follows no redirect, sends a language.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    accept_language: Option<&'static str>,
    host: Option<&'static str>,
}

/// An answer: status, headers, body.
struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The value of the first `name="csrf"` field.
    fn csrf(&self) -> String {
        field_value(&self.body, "csrf").unwrap_or_default()
    }
}

fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl Browser {
    fn new(base: &str, accept_language: Option<&'static str>) -> Browser {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client");
        Browser { base: base.to_owned(), http, cookies: BTreeMap::new(), accept_language, host: None }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request.header("cookie", self.cookie_header());
        if let Some(lang) = self.accept_language {
            request = request.header("accept-language", lang);
        }
        if let Some(host) = self.host {
            request = request.header("host", host);
        }
        let response = request.send().await.expect("the console answers");
        let page = Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: String::new(),
        };
        let body = response.text().await.unwrap_or_default();
        let page = Page { body, ..page };
        for cookie in page.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// Opens `/signin` and posts `token` with the form's CSRF token.
    async fn sign_in(&mut self, token: &str) -> Page {
        let form = self.get("/signin").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        assert!(!csrf.is_empty(), "the sign-in form carries a CSRF token");
        self.post("/signin", &[("token", token), ("csrf", &csrf)]).await
    }
}

/// What the scenario put in each queue.
struct Scenario {
    pending_applicant: String,
    applied_provider: String,
    signed_contract: String,
    requested_redemption: String,
}

/// A program in Guiyang with one row in each queue of the pages under test.
async fn populated(server: &ServerProcess) -> Scenario {
    let client = Client::new(&server.base);
    let j = Jurisdiction::Guiyang;
    let batch = publish_batch(&client, j, "10000000.00", "1000000.00", "100000.00").await.expect("batch");
    let provider = admitted_provider(&client, j, 1, &["technology_innovation"]).await.expect("provider 1");
    let (holder, voucher) = voucher_holder(&client, j, &batch, 10).await.expect("voucher");
    let body = contract_body(&voucher, &credit_code(1), "technology_innovation", "50000.00", "20000.00");
    let filed = filed_contract(&client, j, &provider, &holder, &body).await.expect("filed contract");
    complete(&client, &holder, &filed).await.expect("completion");
    let answer = accept(
        &client,
        "/v1/redemptions",
        Some(&provider),
        &redemption_body(&filed),
        201,
        &["RedemptionRequested"],
    )
    .await
    .expect("redemption");
    let requested_redemption = answer.body["redemption_id"].as_str().expect("redemption_id").to_owned();
    let body = contract_body(&voucher, &credit_code(1), "technology_innovation", "30000.00", "10000.00");
    let answer = accept(&client, "/v1/contracts", Some(&provider), &body, 201, &["ContractSubmitted"])
        .await
        .expect("contract");
    let signed_contract = answer.body["contract_id"].as_str().expect("contract_id").to_owned();
    let signature = format!("/v1/contracts/{signed_contract}/signature");
    accept(&client, &signature, Some(&holder), &json!({}), 200, &["ContractSigned"])
        .await
        .expect("signature");
    let pending_applicant = credit_code(20);
    let own = token(Role::Enterprise, j, "applicant-20", Some(&pending_applicant));
    let registration = json!({ "credit_code": pending_applicant, "name": "enterprise 20", "kind": "enterprise",
        "jurisdiction": j, "industry": "advanced_equipment", "independent_legal_person": true, "tax_compliant": true });
    accept(&client, "/v1/applicants", Some(&own), &registration, 201, &["ApplicantRegistered"])
        .await
        .expect("registration");
    let application = json!({ "name": "provider 2", "categories": ["inspection_testing"],
        "qualifications": [document("provider 2 licence.pdf")], "contact": "0851-0000002" });
    accept(&client, "/v1/providers", Some(&provider_token(j, 2)), &application, 201, &["ProviderApplied"])
        .await
        .expect("provider 2 applies");
    Scenario { pending_applicant, applied_provider: credit_code(2), signed_contract, requested_redemption }
}

fn start() -> (tempfile::TempDir, ServerProcess) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(dir.path(), MORNING).expect("server starts");
    (dir, server)
}

/// A text the page shows that looks like a catalogue key (`nav.signin`): a string missing from the catalogue.
fn raw_keys(html: &str) -> Vec<String> {
    const PREFIXES: &[&str] = &[
        "nav.",
        "field.",
        "list.",
        "public.",
        "bureau.",
        "service_center.",
        "reviewer.",
        "chart.",
        "dashboard.",
        "signin.",
        "problem.",
    ];
    html.split(['>', '<', '"'])
        .filter(|piece| PREFIXES.iter().any(|prefix| piece.starts_with(prefix)))
        .filter(|piece| piece.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'))
        .map(str::to_owned)
        .collect()
}

/// A page to open: the token to sign in with (none: the public), its path, texts it must show, its title in
/// zh-CN and en.
type PageCase<'a> = (Option<String>, &'a str, Vec<&'a str>, [&'a str; 2]);

#[tokio::test]
async fn each_roles_pages_render_in_both_languages_with_the_ledgers_rows() {
    let (_dir, server) = start();
    let scenario = populated(&server).await;
    let j = Jurisdiction::Guiyang;
    let provider_1 = credit_code(1);
    let pages: Vec<PageCase> = vec![
        (None, "/", vec![], ["公示", "Public announcements"]),
        (
            Some(staff(Role::Bureau, j)),
            "/bureau",
            vec!["chart-money-by-stage", "¥10,000,000.00"],
            ["概览", "Dashboard"],
        ),
        (
            Some(staff(Role::Bureau, j)),
            "/bureau/queues",
            vec![&scenario.applied_provider],
            ["待办", "Work queues"],
        ),
        (Some(staff(Role::Bureau, j)), "/bureau/providers", vec![&provider_1], ["服务机构", "Providers"]),
        (
            Some(staff(Role::Bureau, j)),
            "/bureau/batches",
            vec!["test batch", "¥1,000,000.00"],
            ["批次", "Batches"],
        ),
        (
            Some(staff(Role::Bureau, j)),
            "/bureau/enforcement",
            vec!["referral-form"],
            ["追回、暂停与移送", "Clawbacks, suspensions and referrals"],
        ),
        (
            Some(staff(Role::ServiceCenter, j)),
            "/service-center",
            vec![&scenario.pending_applicant],
            ["待核验申请人", "Applicants to verify"],
        ),
        (
            Some(staff(Role::ServiceCenter, j)),
            "/service-center/contracts",
            vec![&scenario.signed_contract],
            ["待备案合同", "Contracts to file"],
        ),
        (
            Some(staff(Role::Reviewer, j)),
            "/reviewer",
            vec![&scenario.requested_redemption, "invoice"],
            ["待审核兑付", "Redemptions to review"],
        ),
    ];
    for (index, lang) in ["zh-CN", "en"].into_iter().enumerate() {
        for (token, path, expected, titles) in &pages {
            let mut browser = Browser::new(
                &server.base,
                Some(if lang == "en" { "en-US,en;q=0.9" } else { "zh-CN,zh;q=0.9" }),
            );
            if let Some(token) = token {
                let signed_in = browser.sign_in(token).await;
                assert_eq!(signed_in.status, 303, "{path}: {}", signed_in.body);
            }
            let page = browser.get(path).await;
            assert_eq!(page.status, 200, "{path} in {lang}: {}", page.body);
            assert!(page.body.contains(&format!("<html lang=\"{lang}\">")), "{path} in {lang}");
            let title = titles[index];
            assert!(
                page.body.contains(&format!("data-testid=\"page-title\">{title}</h1>")),
                "{path} in {lang}: title {title}"
            );
            for text in expected {
                assert!(page.body.contains(text), "{path} in {lang} shows {text}");
            }
            assert!(
                raw_keys(&page.body).is_empty(),
                "{path} in {lang} shows catalogue keys {:?}",
                raw_keys(&page.body)
            );
        }
    }
    // The switch overrides Accept-Language and is remembered.
    let mut browser = Browser::new(&server.base, Some("en"));
    let switched = browser.get("/lang?to=zh-CN&back=/").await;
    assert_eq!(switched.status, 303);
    assert!(
        switched.set_cookies().iter().any(|cookie| cookie.starts_with("vl_lang=zh-CN")),
        "{:?}",
        switched.set_cookies()
    );
    let page = browser.get("/").await;
    assert!(page.body.contains("<html lang=\"zh-CN\">"), "the remembered switch wins over Accept-Language");
}

#[tokio::test]
async fn lists_download_as_csv_and_page_sort_and_filter() {
    let (_dir, server) = start();
    let scenario = populated(&server).await;
    let mut browser = Browser::new(&server.base, Some("en"));
    browser.sign_in(&staff(Role::ServiceCenter, Jurisdiction::Guiyang)).await;
    let csv = browser.get("/service-center?applicants-to-verify_format=csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").starts_with("text/csv"), "{}", csv.header("content-type"));
    assert!(csv.header("content-disposition").contains("attachment"));
    let mut lines = csv.body.lines();
    // The API's CSV writer (projections::csv): the list's columns, sorted by name as in the API's exports.
    assert_eq!(
        lines.next(),
        Some(
            "\"credit_code\",\"independent_legal_person\",\"industry\",\"kind\",\"name\",\"project_code\",\"tax_compliant\""
        )
    );
    assert!(csv.body.contains(&scenario.pending_applicant), "{}", csv.body);
    let filtered = browser.get("/service-center?applicants-to-verify_kind=project_entity").await;
    assert!(
        !filtered.body.contains(&scenario.pending_applicant),
        "a filter that matches nothing hides the row"
    );
    assert!(filtered.body.contains("data-testid=\"applicants-to-verify-empty\""));
    let searched = browser
        .get(&format!("/service-center?applicants-to-verify_q={}", &scenario.pending_applicant[..10]))
        .await;
    assert!(searched.body.contains(&scenario.pending_applicant));
}

/// The names of the rows of one list's table in a page (its first column), in order.
fn first_cells(html: &str, list: &str) -> Vec<String> {
    let Some(section) = html.split(&format!("data-testid=\"{list}\"")).nth(1) else { return Vec::new() };
    let body = section.split("<tbody>").nth(1).and_then(|rest| rest.split("</tbody>").next()).unwrap_or("");
    body.split("<tr>")
        .skip(1)
        .filter_map(|row| row.split("<td class=\"text\">").nth(1)?.split("</td>").next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_list_longer_than_a_page_pages_sorts_filters_and_downloads_every_row() {
    let (_dir, server) = start();
    let client = Client::new(&server.base);
    let j = Jurisdiction::Guiyang;
    // 30 registrations waiting in Guiyang (more than a page of 25), one in Gui'an (not this service
    // center's).
    for n in 30..61u32 {
        let code = credit_code(n);
        let jurisdiction = if n == 60 { Jurisdiction::Guian } else { j };
        let own = token(Role::Enterprise, jurisdiction, &format!("applicant-{n}"), Some(&code));
        let industry = if n % 2 == 0 { "aluminum" } else { "advanced_equipment" };
        let registration = json!({ "credit_code": code, "name": format!("enterprise {n}"), "kind": "enterprise",
            "jurisdiction": jurisdiction, "industry": industry, "independent_legal_person": true, "tax_compliant": true });
        accept(&client, "/v1/applicants", Some(&own), &registration, 201, &["ApplicantRegistered"])
            .await
            .expect("registration");
    }
    let mut browser = Browser::new(&server.base, Some("en"));
    browser.sign_in(&staff(Role::ServiceCenter, j)).await;
    let names =
        |range: std::ops::Range<u32>| -> Vec<String> { range.map(|n| format!("enterprise {n}")).collect() };

    // Registration order, 25 on the first page, the rest on the second; the count is of every page.
    let first = browser.get("/service-center").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains("30 rows"), "{}", first.body);
    assert!(first.body.contains("Page 1 of 2"));
    assert_eq!(first_cells(&first.body, "applicants-to-verify"), names(30..55));
    let second = browser.get("/service-center?applicants-to-verify_page=2").await;
    assert!(second.body.contains("Page 2 of 2"));
    assert_eq!(first_cells(&second.body, "applicants-to-verify"), names(55..60));
    assert!(!second.body.contains(&credit_code(60)), "another jurisdiction's registration is not listed");
    let past = browser.get("/service-center?applicants-to-verify_page=9").await;
    assert_eq!(
        first_cells(&past.body, "applicants-to-verify"),
        names(55..60),
        "a page past the end is the last"
    );

    // Sorted by name, descending: the last name first, across the pages.
    let sorted =
        browser.get("/service-center?applicants-to-verify_sort=name&applicants-to-verify_dir=desc").await;
    let mut descending = names(30..60);
    descending.reverse();
    assert_eq!(first_cells(&sorted.body, "applicants-to-verify"), descending[..25].to_vec());
    let sorted_2 = browser
        .get("/service-center?applicants-to-verify_sort=name&applicants-to-verify_dir=desc&applicants-to-verify_page=2")
        .await;
    assert_eq!(first_cells(&sorted_2.body, "applicants-to-verify"), descending[25..].to_vec());

    // Filtered by industry: one page, the even ones; the select offers both industries.
    let filtered = browser.get("/service-center?applicants-to-verify_industry=aluminum").await;
    assert!(filtered.body.contains("15 rows"), "{}", filtered.body);
    assert!(!filtered.body.contains("data-testid=\"applicants-to-verify-pager\""), "one page, no pager");
    let even: Vec<String> = (30..60u32).filter(|n| n % 2 == 0).map(|n| format!("enterprise {n}")).collect();
    assert_eq!(first_cells(&filtered.body, "applicants-to-verify"), even);
    assert!(filtered.body.contains("<option value=\"advanced_equipment\">"), "{}", filtered.body);

    // The CSV has every selected row (not only a page's), filtered and sorted as the page.
    let csv = browser.get("/service-center?applicants-to-verify_format=csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.body.lines().count(), 31, "a header and 30 rows: {}", csv.body);
    let csv = browser
        .get("/service-center?applicants-to-verify_format=csv&applicants-to-verify_industry=advanced_equipment&applicants-to-verify_sort=name&applicants-to-verify_dir=desc")
        .await;
    let rows: Vec<&str> = csv.body.lines().skip(1).collect();
    assert_eq!(rows.len(), 15, "{}", csv.body);
    assert!(rows[0].contains(&credit_code(59)) && rows[14].contains(&credit_code(31)), "{}", csv.body);
}

#[tokio::test]
async fn a_form_post_without_its_csrf_token_is_refused_and_records_nothing() {
    let (_dir, server) = start();
    let scenario = populated(&server).await;
    let client = Client::new(&server.base);
    let mut browser = Browser::new(&server.base, Some("en"));
    browser.sign_in(&staff(Role::ServiceCenter, Jurisdiction::Guiyang)).await;
    let page = browser.get("/service-center").await;
    let csrf = page.csrf();
    let head = head_position(&client).await.expect("head");
    let code = scenario.pending_applicant.as_str();
    for forged in [vec![], vec![("csrf", "not-the-token")], vec![("csrf", "")]] {
        let mut form = vec![("credit_code", code), ("decision", "verified"), ("back", "/service-center")];
        form.extend(forged);
        let refused = browser.post("/service-center/act/verify", &form).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("data-testid=\"problem\""));
    }
    // Another visitor's (anonymous) CSRF cookie is not the session's token either.
    let mut stranger = Browser::new(&server.base, None);
    let public = stranger.get("/").await;
    let refused = browser
        .post(
            "/service-center/act/verify",
            &[("credit_code", code), ("decision", "verified"), ("csrf", &public.csrf())],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(head_position(&client).await.expect("head"), head, "a refused form appends nothing");
    let view = read(
        &client,
        &format!("/v1/applicants/{code}"),
        Some(&staff(Role::ServiceCenter, Jurisdiction::Guiyang)),
    )
    .await
    .expect("applicant");
    assert_eq!(view["status"], "pending");
    // The same form with the token is accepted: the refusal above was the token's doing.
    let done = browser
        .post(
            "/service-center/act/verify",
            &[("credit_code", code), ("decision", "verified"), ("csrf", &csrf), ("back", "/service-center")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), "/service-center?done=1");
    assert_eq!(head_position(&client).await.expect("head"), head + 1);
    let after = browser.get("/service-center?done=1").await;
    assert!(after.body.contains("data-testid=\"notice\""));
    assert!(!after.body.contains(code), "the verified applicant left the queue");
}

#[tokio::test]
async fn a_refused_action_shows_the_rules_code_and_localised_title_and_records_nothing() {
    let (_dir, server) = start();
    let scenario = populated(&server).await;
    let client = Client::new(&server.base);
    let reviewer = staff(Role::Reviewer, Jurisdiction::Guiyang);
    let review = format!("/v1/redemptions/{}/review", scenario.requested_redemption);
    let too_much = json!({"decision": "reduced", "approved": "999999.00", "reason": "too much"});
    for lang in ["zh-CN", "en"] {
        let mut browser = Browser::new(&server.base, Some(lang));
        browser.sign_in(&reviewer).await;
        let page = browser.get("/reviewer").await;
        let head = head_position(&client).await.expect("head");
        // Reduced to more than was requested: the rule refuses it.
        let form = [
            ("redemption_id", scenario.requested_redemption.as_str()),
            ("decision", "reduced"),
            ("approved", "999999.00"),
            ("reason", "too much"),
            ("csrf", &page.csrf()),
            ("back", "/reviewer"),
        ];
        let refused = browser.post("/reviewer/act/review", &form).await;
        assert!((400..500).contains(&refused.status), "{}: {}", refused.status, refused.body);
        let code = between(&refused.body, "data-code=\"", "\"").expect("the problem's code is on the page");
        let shown_title = between(&refused.body, "data-testid=\"problem-title\">", "<").expect("a title");
        assert!(refused.body.contains("data-testid=\"problem-detail\""));
        assert!(
            refused.body.contains(&scenario.requested_redemption),
            "the page is shown again with its queue"
        );
        assert_eq!(head_position(&client).await.expect("head"), head, "a refused action appends nothing");
        // The same command over the API: the same status, code and (localised) title.
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}{review}", server.base))
            .bearer_auth(&reviewer)
            .header("accept-language", lang)
            .json(&too_much)
            .send()
            .await
            .expect("api");
        assert_eq!(response.status().as_u16(), refused.status);
        let problem: serde_json::Value = response.json().await.expect("problem+json");
        assert_eq!(problem["code"].as_str(), Some(code.as_str()));
        assert_eq!(problem["title"].as_str(), Some(shown_title.as_str()), "{lang}");
        let page_lang = api::console::i18n::Lang::from_tag(lang).expect("lang");
        let expected = page_lang.t(&format!("problem.{code}"));
        assert_eq!(shown_title, expected, "the catalogue's title in {lang}");
        // Under the title, what the rule is and what to do next, in the page's language; then the API's
        // detail under a localised label.
        let shown_hint = between(&refused.body, "data-testid=\"problem-hint\">", "<").expect("a hint");
        let expected_hint = api::console::layout::hint(page_lang, &code).expect("the code has a hint");
        assert_eq!(unescape(&shown_hint), expected_hint, "the catalogue's hint in {lang}");
        let chinese = shown_hint.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        assert_eq!(chinese, lang == "zh-CN", "the hint is in the page's language: {shown_hint}");
        let hint_at = refused.body.find("data-testid=\"problem-hint\"").expect("hint");
        let detail_at = refused.body.find("data-testid=\"problem-detail\"").expect("detail");
        assert!(hint_at < detail_at, "the hint comes before the detail");
        assert!(
            refused.body[hint_at..detail_at].contains(page_lang.t("label.problem_detail")),
            "the detail's label"
        );
        let shown_detail = between(&refused.body, "data-testid=\"problem-detail\">", "<").expect("a detail");
        assert_eq!(
            problem["detail"].as_str(),
            Some(unescape(&shown_detail).as_str()),
            "the API's detail, as it is"
        );
    }
}

/// Text of an HTML element as written (the escapes maud writes).
fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn between(html: &str, start: &str, end: &str) -> Option<String> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(html[from..to].to_owned())
}

#[tokio::test]
async fn problem_titles_follow_accept_language_and_the_code_stays() {
    let (_dir, server) = start();
    let http = reqwest::Client::new();
    let center = staff(Role::ServiceCenter, Jurisdiction::Guiyang);
    let path = format!("{}/v1/applicants/{}/verification", server.base, credit_code(99));
    let mut titles = Vec::new();
    for lang in [Some("zh-CN,zh;q=0.9,en;q=0.5"), Some("en-GB"), None, Some("fr")] {
        let mut request = http.post(&path).bearer_auth(&center).json(&json!({"decision": "verified"}));
        if let Some(lang) = lang {
            request = request.header("accept-language", lang);
        }
        let response = request.send().await.expect("answer");
        assert_eq!(response.status().as_u16(), 404);
        let body: serde_json::Value = response.json().await.expect("problem+json");
        assert_eq!(body["code"], "applicant_not_found", "the stable code does not change with the language");
        titles.push(body["title"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(titles, ["没有此申请人", "No such applicant", "No such applicant", "No such applicant"]);
    // An error answered by the framework (no route) is titled too.
    let response = http
        .get(format!("{}/v1/nowhere", server.base))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .expect("answer");
    let body: serde_json::Value = response.json().await.expect("problem+json");
    assert_eq!((body["code"].as_str(), body["title"].as_str()), (Some("not_found"), Some("未找到")));
}

#[tokio::test]
async fn sign_in_gives_a_strict_session_cookie_that_ends_with_sign_out() {
    let (_dir, server) = start();
    let mut browser = Browser::new(&server.base, Some("en"));
    let signed_in = browser.sign_in(&staff(Role::Bureau, Jurisdiction::Guiyang)).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.header("location"), "/bureau", "sign-in leads to the role's first page");
    let cookie =
        signed_in.set_cookies().into_iter().find(|c| c.starts_with("vl_session=")).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} has {attribute}");
    }
    assert!(!cookie.contains("Secure"), "no Secure on loopback (plain HTTP): {cookie}");
    let max_age: i64 = between(&cookie, "Max-Age=", ";")
        .or_else(|| cookie.split("Max-Age=").nth(1).map(str::to_owned))
        .and_then(|age| age.trim().parse().ok())
        .expect("Max-Age");
    assert!((3500..=3600).contains(&max_age), "the session expires with the token (3600 s): {max_age}");
    assert!(!cookie.contains("eyJ"), "the cookie holds a session id, not the token");
    let page = browser.get("/bureau").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"signed-in-as\""));
    // Another role's page: 403; no session: to sign-in.
    assert_eq!(browser.get("/reviewer").await.status, 403);
    let mut anonymous = Browser::new(&server.base, Some("en"));
    let redirected = anonymous.get("/bureau").await;
    assert_eq!((redirected.status, redirected.header("location").as_str()), (303, "/signin"));
    // Sign-out forgets the session on the server too: the old cookie no longer works.
    let old = browser.cookies.get("vl_session").cloned().expect("session id");
    let signed_out = browser.post("/signout", &[("csrf", &page.csrf())]).await;
    assert_eq!(signed_out.status, 303);
    assert!(signed_out.set_cookies().iter().any(|c| c.starts_with("vl_session=") && c.contains("Max-Age=0")));
    let mut replay = Browser::new(&server.base, Some("en"));
    replay.cookies.insert("vl_session".into(), old);
    assert_eq!(replay.get("/bureau").await.status, 303, "a signed-out session id is refused");
    // Behind a name (not loopback) the cookies are Secure.
    let mut remote = Browser::new(&server.base, Some("en"));
    remote.host = Some("console.example.gov.cn");
    let signed_in = remote.sign_in(&staff(Role::Bureau, Jurisdiction::Guiyang)).await;
    let cookie =
        signed_in.set_cookies().into_iter().find(|c| c.starts_with("vl_session=")).expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    // A bad token is refused with the API's code and starts no session.
    let mut bad = Browser::new(&server.base, Some("en"));
    let refused = bad.sign_in("not-a-token").await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("data-code=\"invalid_token\""));
    assert!(!bad.cookies.contains_key("vl_session"));
}

#[tokio::test]
async fn every_console_answer_carries_a_strict_csp_and_the_security_headers() {
    let (_dir, server) = start();
    let mut browser = Browser::new(&server.base, None);
    for path in ["/", "/signin", "/assets/console.js", "/assets/console.css", "/bureau"] {
        let page = browser.get(path).await;
        let csp = page.header("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp} lacks {directive}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(page.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(page.header("x-frame-options"), "DENY", "{path}");
    }
    let home = browser.get("/").await;
    assert!(!home.body.contains("<script>") && !home.body.contains(" style="), "no inline script or style");
    assert!(home.body.contains("<script src=\"/assets/console.js\""));
    assert!(
        !home.body.contains("http://") && !home.body.contains("https://"),
        "nothing is loaded from elsewhere"
    );
    let js = browser.get("/assets/console.js").await;
    assert!(js.header("content-type").starts_with("text/javascript"));
    assert!(js.body.contains("crypto.subtle.digest(\"SHA-256\""));
}

#[tokio::test]
async fn serve_dev_prints_a_sign_in_link_per_role_with_the_token_in_the_fragment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = engine::open::StoreSpec::File(dir.path().to_owned());
    let server = ServerProcess::try_start_with(&store, MORNING, &["--dev"]).expect("serve --dev");
    let stderr = server.stderr();
    let links: Vec<&str> = stderr.lines().filter(|line| line.contains("/signin#token=")).collect();
    for role in ["bureau", "service_center", "reviewer", "auditor"] {
        assert!(links.iter().any(|line| line.trim_start().starts_with(role)), "a link for {role}:\n{stderr}");
    }
    assert!(!stderr.contains("?token="), "never in a query string");
    let line = links.iter().find(|line| line.trim_start().starts_with("bureau")).expect("bureau link");
    let token = line.split("#token=").nth(1).expect("token").trim();
    let mut browser = Browser::new(&server.base, Some("en"));
    let signed_in = browser.sign_in(token).await;
    assert_eq!(
        (signed_in.status, signed_in.header("location").as_str()),
        (303, "/bureau"),
        "{}",
        signed_in.body
    );
}
