//! `voucher-bench console`: every console page's server time on a log (scripts/bench.sh runs it on its
//! largest, the in-process log of ~1.1 million events). The server is started on the log with its clock at
//! the workload's last day (nothing falls due: the log is not written); each role signs in as a browser
//! does (`GET /signin` for the CSRF cookie and field, `POST /signin` with a token for the session cookie),
//! then every page of the role's navigation (and the public page) is loaded `loads` times in a row over one
//! kept-alive loopback connection. A page's time is from sending the request to the last byte of the
//! answer; the figure `console_page_p99_ms` is the largest p99 among the pages (target: under 50 ms), and
//! every page's p50/p99 is in the JSON line.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, bail};
use api::auth::Authenticator;
use domain::{Actor, CreditCode, Jurisdiction, Role};
use serde_json::{Value, json};
use store::file::FileLog;

use super::{SECRET, start_server, wait_ready};

/// The roles whose pages are loaded, in this order.
const ROLES: [Role; 7] = [
    Role::Bureau,
    Role::ServiceCenter,
    Role::Reviewer,
    Role::Auditor,
    Role::Enterprise,
    Role::ProjectEntity,
    Role::Provider,
];

/// A browser-like client of one loopback connection that follows no redirect; cookies are kept by [`Jar`].
fn browser() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")
}

/// The cookies a browser would keep (the session and CSRF cookies), sent back on every request.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn keep(&mut self, answer: &reqwest::Response) {
        for value in answer.headers().get_all(reqwest::header::SET_COOKIE) {
            let Some((name, rest)) = value.to_str().ok().and_then(|text| text.split_once('=')) else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default();
            self.0.insert(name.trim().to_owned(), value.to_owned());
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }
}

/// The value of the hidden CSRF field in a page.
fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\"")?;
    let rest = &html[at..];
    let value = rest.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

/// A signed-in browser: its connection and the cookies it sends.
struct Browser {
    client: reqwest::Client,
    cookies: String,
}

/// Signs `actor` in on `base` as a browser does; returns the client holding the session cookie and the
/// page sign-in led to.
async fn sign_in(base: &str, auth: &Authenticator, actor: &Actor) -> anyhow::Result<(Browser, String)> {
    let client = browser()?;
    let mut jar = Jar::default();
    let form = client.get(format!("{base}/signin")).send().await?;
    jar.keep(&form);
    let csrf = csrf_field(&form.text().await?).context("the sign-in form has no CSRF field")?;
    let token = auth.mint(actor, chrono::Utc::now().timestamp(), 3600)?;
    let answer = client
        .post(format!("{base}/signin"))
        .header(reqwest::header::COOKIE, jar.header())
        .form(&[("token", token.as_str()), ("csrf", &csrf)])
        .send()
        .await?;
    jar.keep(&answer);
    if !answer.status().is_redirection() {
        bail!("signing in as {} answered {}", actor.role, answer.status());
    }
    let home = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("/")
        .to_owned();
    Ok((Browser { client, cookies: jar.header() }, home))
}

/// The first credit code in the `field` column of a query's rows (`GET path`, as `reader`).
async fn first_code(
    base: &str,
    token: &str,
    path: &str,
    rows: &str,
    field: &str,
) -> anyhow::Result<CreditCode> {
    let client = reqwest::Client::new();
    let body: Value = client.get(format!("{base}{path}")).bearer_auth(token).send().await?.json().await?;
    let code = body[rows]
        .as_array()
        .and_then(|rows| rows.iter().find_map(|row| row[field].as_str()))
        .with_context(|| format!("no {field} in GET {path}"))?;
    Ok(code.parse()?)
}

/// Milliseconds of each of `loads` sequential GETs of `path` (answer read to its end); fails on an answer
/// that is not 200.
async fn load(browser: &Browser, base: &str, path: &str, loads: usize) -> anyhow::Result<Vec<f64>> {
    let mut times = Vec::with_capacity(loads);
    for _ in 0..loads {
        let started = Instant::now();
        let answer = browser
            .client
            .get(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, &browser.cookies)
            .send()
            .await?;
        let status = answer.status();
        let body = answer.bytes().await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != reqwest::StatusCode::OK {
            bail!("GET {path} answered {status}: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
        }
    }
    Ok(times)
}

fn quantile(times: &[f64], q: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

/// Keeps a page's p50 and p99 under `path`.
fn measure(pages: &mut BTreeMap<String, Value>, path: String, times: &[f64]) {
    let p99 = quantile(times, 0.99);
    pages.insert(path, json!({ "p50_ms": quantile(times, 0.5), "p99_ms": p99, "loads": times.len() }));
}

/// The figure: serves `dir` with `server`, loads every page `loads` times.
pub async fn console(server: &Path, dir: &Path, loads: usize) -> anyhow::Result<Value> {
    let events = FileLog::open_read_only(dir)?.head_now().position;
    // The clock at the workload's last day, as the start-up figure: nothing falls due, nothing is written.
    let now = "2026-03-02T01:00:00Z";
    let output = dir.with_extension("console.log");
    let mut server = start_server(server, dir, now, &output)?;
    let base = server.base.clone();
    let probe = reqwest::Client::new();
    wait_ready(&probe, &mut server, &format!("{base}/readyz")).await?;

    let auth = Authenticator::new(SECRET.as_bytes())?;
    let jurisdiction = Jurisdiction::Guiyang;
    let auditor = engine::workload::staff(Role::Auditor, jurisdiction);
    let auditor_token = auth.mint(&auditor, chrono::Utc::now().timestamp(), 3600)?;
    // The parties whose pages are loaded: the first voucher holder, the first ranked provider.
    let holder =
        first_code(&base, &auditor_token, "/v1/vouchers?jurisdiction=guiyang", "vouchers", "applicant")
            .await?;
    let provider = first_code(&base, &auditor_token, "/v1/rankings/providers", "providers", "provider")
        .await
        .or_else(|_| -> anyhow::Result<CreditCode> { bail!("no ranked provider") });

    let mut pages: BTreeMap<String, Value> = BTreeMap::new();
    let public = Browser { client: browser()?, cookies: String::new() };
    measure(&mut pages, "/".into(), &load(&public, &base, "/", loads).await?);
    for role in ROLES {
        let actor = match role {
            Role::Enterprise | Role::ProjectEntity => engine::workload::party(role, jurisdiction, &holder),
            Role::Provider => match &provider {
                Ok(code) => engine::workload::party(role, jurisdiction, code),
                Err(error) => {
                    eprintln!("console: the provider's pages are not measured: {error}");
                    continue;
                }
            },
            _ => engine::workload::staff(role, jurisdiction),
        };
        let (client, home) = sign_in(&base, &auth, &actor).await?;
        for (path, _) in api::console::layout::links(role) {
            let key = format!("{path} ({role})");
            if pages.contains_key(&key) {
                continue;
            }
            measure(&mut pages, key, &load(&client, &base, path, loads).await?);
        }
        if !pages.keys().any(|key| key.starts_with(&format!("{home} "))) {
            measure(&mut pages, format!("{home} ({role})"), &load(&client, &base, &home, loads).await?);
        }
    }
    drop(server);
    let worst = pages.values().filter_map(|page| page["p99_ms"].as_f64()).fold(0.0, f64::max);
    for (path, times) in &pages {
        eprintln!(
            "console: {path:<40} p50 {:>7.2} ms  p99 {:>7.2} ms",
            times["p50_ms"].as_f64().unwrap_or(0.0),
            times["p99_ms"].as_f64().unwrap_or(0.0)
        );
    }
    eprintln!("console: the slowest page's p99 {worst:.2} ms on {events} events ({loads} loads per page)");
    Ok(json!({
        "figure": "console",
        "events": events,
        "loads": loads,
        "console_page_p99_ms": worst,
        "pages": pages,
    }))
}
