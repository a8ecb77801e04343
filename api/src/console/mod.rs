//! The console: the ledger in a browser, in Chinese and English, served by the same binary at `/`.
//!
//! Server-rendered HTML (maud) that works without JavaScript; one small embedded script adds what only a
//! script can (SHA-256 of a picked document file in the browser; posting the sign-in link's token). Every
//! asset is embedded in the binary and served from `/assets/`, so nothing is loaded from elsewhere.
//!
//! - `i18n`: the catalogue (zh-CN, en), the language of a request, amounts and dates;
//! - `session`: token → session cookie, CSRF on every POST, sign-out;
//! - `layout`: the page around every page, forms' hidden fields, notices and refusals;
//! - `act`: actions go through the API's own routes (same parsing, rules, codes, log records);
//! - `list`: paging, sorting, filtering and CSV of every list;
//! - `svg`: pictures drawn on the server;
//! - `pages/`: one module per role (`pages/mod.rs` says how one is written).
//!
//! The modules import one another one way (`tests/tests/it/layout.rs`): cookies ← i18n ← sessions ← state ←
//! session (Ctx) ← layout ← guard, csrf, list, act ← pages; this file only assembles them.

pub mod act;
pub mod assets;
pub mod cookies;
pub mod csrf;
pub mod guard;
pub mod i18n;
pub mod layout;
pub mod list;
pub mod pages;
pub mod session;
pub mod sessions;
pub mod state;
pub mod svg;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::console::guard::is_local_path;
use crate::console::session::Ctx;
use crate::console::sessions::Sessions;
use crate::console::state::Console;
use crate::http::app::App;

/// The Content-Security-Policy of every console answer: nothing inline, nothing from elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// The console's routes, with its state, merged beside the API's (`api` is the API's router, without the
/// console).
pub fn router(app: App, api: Router) -> Router {
    let console = Console { app, api, sessions: Arc::new(Sessions::default()) };
    Router::new()
        .route("/lang", get(switch_language))
        .route("/signin", get(pages::signin::form).post(pages::signin::exchange))
        .route("/signout", post(pages::signin::sign_out))
        .merge(pages::routes())
        .layer(middleware::from_fn_with_state(console.clone(), csrf::csrf_cookie))
        .route("/assets/{file}", get(assets::serve))
        .layer(middleware::from_fn(security_headers))
        .with_state(console)
}

/// The usual security headers, on every console answer.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
        (HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// `GET /lang?to=en&back=/path`: remembers the language (a cookie for a year) and goes back.
async fn switch_language(ctx: Ctx) -> Response {
    let lang = ctx.param("to").and_then(i18n::Lang::from_tag).unwrap_or(ctx.lang);
    let back = ctx.param("back").filter(|back| is_local_path(back)).unwrap_or("/");
    let mut response = Redirect::to(back).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set_cookie(i18n::LANG_COOKIE, lang.tag(), Some(365 * 86_400), ctx.secure),
    );
    response
}

/// The sign-in links `serve --dev` prints: one per role, for the demo ledger's parties (the first verified
/// enterprise and project entity and the first admitted provider of Guiyang, when the ledger has them),
/// each with a fresh token in the URL's fragment (`/signin#token=...`: a browser sends no fragment to a
/// server, so the token reaches no request line and no log).
pub fn dev_links(app: &App, base: &str) -> Vec<(domain::Role, String)> {
    use domain::{Jurisdiction, Role};
    let jurisdiction = Jurisdiction::Guiyang;
    let party = |table: &str, status: &str, kind: Option<&str>| -> Option<domain::CreditCode> {
        let projections = app.shared.projections.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let rows = crate::views::rows(&projections, table)?;
        let code_field = if table == "providers" { "provider" } else { "credit_code" };
        rows.iter()
            .find(|row| {
                row["status"] == status
                    && row["jurisdiction"] == jurisdiction.as_str()
                    && kind.is_none_or(|kind| row["kind"] == kind)
            })
            .and_then(|row| row[code_field].as_str()?.parse().ok())
    };
    let now = chrono::Utc::now().timestamp();
    let ttl = app.auth.lifetime_max_seconds();
    let mut actors = Vec::new();
    for role in [Role::Bureau, Role::ServiceCenter, Role::Reviewer, Role::Auditor, Role::Finance] {
        actors.push(engine::workload::staff(role, jurisdiction));
    }
    for (role, table, status, kind) in [
        (Role::Enterprise, "applicants", "verified", Some("enterprise")),
        (Role::ProjectEntity, "applicants", "verified", Some("project_entity")),
        (Role::Provider, "providers", "admitted", None),
    ] {
        if let Some(code) = party(table, status, kind) {
            actors.push(engine::workload::party(role, jurisdiction, &code));
        }
    }
    actors
        .into_iter()
        .filter_map(|actor| {
            let token = app.auth.mint(&actor, now, ttl).ok()?;
            Some((actor.role, format!("{base}/signin#token={token}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::i18n::{CATALOGUE, Catalogue, Lang};
    use std::collections::BTreeSet;

    /// The prefixes of catalogue keys: a string literal of the console's sources that starts with one and
    /// looks like a key (`a.b_c`) is a key the pages look up.
    const PREFIXES: &[&str] = &[
        "app.",
        "nav.",
        "field.",
        "value.",
        "problem.",
        "list.",
        "public.",
        "signin.",
        "csrf.",
        "forbidden.",
        "notice.",
        "period.",
        "role.",
        "footer.",
        "bureau.",
        "service_center.",
        "reviewer.",
        "auditor.",
        "applicant.",
        "provider.",
        "chart.",
        "dashboard.",
    ];

    fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }

    /// Every string literal of `text` that looks like a catalogue key.
    fn keys_used(text: &str) -> BTreeSet<String> {
        text.split('"')
            .skip(1)
            .step_by(2)
            .filter(|literal| PREFIXES.iter().any(|prefix| literal.starts_with(prefix)))
            .filter(|literal| {
                literal.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                    && !literal.ends_with('.')
            })
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn catalogue_files_parse_and_have_the_same_keys_with_no_empty_string() {
        let catalogue = Catalogue::parse().expect("both catalogue files parse as flat tables of strings");
        let zh: BTreeSet<&str> = catalogue.keys(Lang::Zh).collect();
        let en: BTreeSet<&str> = catalogue.keys(Lang::En).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "missing in en: {only_zh:?}; missing in zh-CN: {only_en:?}"
        );
        assert!(zh.len() > 100, "the catalogue has its strings ({})", zh.len());
        for lang in Lang::ALL {
            for key in catalogue.keys(lang) {
                let text = catalogue.get(lang, key).unwrap_or_default();
                assert!(!text.trim().is_empty(), "{key} is empty in {}", lang.tag());
            }
        }
    }

    #[test]
    fn catalogue_has_every_key_the_console_uses_in_both_languages() {
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console"), &mut files);
        assert!(files.len() >= 10, "the console's sources are found ({})", files.len());
        let mut missing = Vec::new();
        for (path, text) in &files {
            for key in keys_used(text) {
                for lang in Lang::ALL {
                    if CATALOGUE.get(lang, &key).is_none() {
                        missing.push(format!("{key} ({}) used in {path}", lang.tag()));
                    }
                }
            }
        }
        for role in domain::Role::AUTHENTICATED.iter().chain([&domain::Role::Public]) {
            for lang in Lang::ALL {
                if CATALOGUE.get(lang, &format!("role.{}", role.as_str())).is_none() {
                    missing.push(format!("role.{} ({})", role.as_str(), lang.tag()));
                }
            }
        }
        assert!(missing.is_empty(), "strings missing from the catalogue:\n{}", missing.join("\n"));
    }

    #[test]
    fn a_key_missing_from_one_file_is_caught() {
        // The check above reads the files as they are; here, that it can fail: drop one key from en.
        let en = super::i18n::FILES[1]
            .1
            .lines()
            .filter(|line| !line.starts_with("\"nav.signin\""))
            .collect::<Vec<_>>()
            .join("\n");
        let en: std::collections::BTreeMap<String, String> = toml::from_str(&en).expect("parses");
        assert!(CATALOGUE.get(Lang::Zh, "nav.signin").is_some());
        assert!(!en.contains_key("nav.signin"));
        assert!(keys_used("ctx.t(\"nav.signin\"); col(\"a\", \"field.name\", x)").contains("field.name"));
    }

    /// The names a page shows from the domain's data (the shipped Measures' service categories and eligible
    /// industries, the ledger's account kinds, the anomaly kinds) are not in the console's sources, so the key scan above cannot
    /// see them: each must be in both catalogues, or a page shows the raw name.
    #[test]
    fn every_name_of_the_shipped_policy_and_the_ledger_has_a_label_in_both_languages() {
        let book = domain::PolicyBook::shipped();
        let accounts = domain::AccountKind::ALL.iter().map(|kind| kind.as_str());
        let anomalies = projections::anomalies::Kind::ALL.iter().map(|kind| kind.as_str());
        let names: Vec<String> = accounts.chain(anomalies).map(str::to_owned).collect();
        let mut missing = Vec::new();
        for version in book.versions() {
            for name in version.service_categories.iter().chain(&version.eligible_industries).chain(&names) {
                for lang in [Lang::Zh, Lang::En] {
                    if CATALOGUE.get(lang, &format!("value.{name}")).is_none() {
                        missing.push(format!("{lang:?}: value.{name}"));
                    }
                }
            }
        }
        assert!(!book.versions().is_empty(), "the shipped policy is in force");
        assert!(missing.is_empty(), "names without a label: {missing:?}");
    }

    #[test]
    fn every_problem_code_has_a_title_in_both_languages() {
        let mut missing = Vec::new();
        for code in domain::Rejection::CODES.iter().chain(crate::error::API_CODES) {
            for lang in Lang::ALL {
                if CATALOGUE.get(lang, &format!("problem.{code}")).is_none() {
                    missing.push(format!("problem.{code} ({})", lang.tag()));
                }
            }
        }
        assert!(missing.is_empty(), "problem titles missing: {missing:?}");
    }

    #[test]
    fn amounts_and_dates_are_written_as_each_language_writes_them() {
        use rust_decimal::Decimal;
        let amount: Decimal = "1250.5".parse().expect("decimal");
        assert_eq!(super::i18n::money(amount), "¥1,250.50");
        assert_eq!(super::i18n::money("-1234567.891".parse().expect("decimal")), "-¥1,234,567.89");
        assert_eq!(super::i18n::money(Decimal::ZERO), "¥0.00");
        assert_eq!(Lang::En.money_text("100"), "¥100.00");
        assert_eq!(Lang::Zh.date_text("2025-03-12"), "2025年3月12日");
        assert_eq!(Lang::En.date_text("2025-03-12"), "12 Mar 2025");
        let instant = chrono::DateTime::parse_from_rfc3339("2025-03-11T17:30:00Z").expect("instant").to_utc();
        // 17:30 UTC is 01:30 the next day in Asia/Shanghai.
        assert_eq!(Lang::Zh.instant(instant), "2025年3月12日 01:30");
        assert_eq!(super::i18n::business_date(instant).to_string(), "2025-03-12");
    }

    #[test]
    fn accept_language_picks_by_quality_and_the_api_defaults_to_english() {
        let headers = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::ACCEPT_LANGUAGE, value.parse().expect("header"));
            headers
        };
        assert_eq!(Lang::from_accept_language(&headers("en-US,en;q=0.9,zh-CN;q=0.8")), Some(Lang::En));
        assert_eq!(Lang::from_accept_language(&headers("fr, zh-Hans;q=0.5, en;q=0.4")), Some(Lang::Zh));
        assert_eq!(Lang::from_accept_language(&headers("zh;q=0, en;q=0.1")), Some(Lang::En));
        assert_eq!(Lang::for_api(&headers("fr")), Lang::En);
        assert_eq!(Lang::for_api(&axum::http::HeaderMap::new()), Lang::En);
        assert_eq!(Lang::for_console(&axum::http::HeaderMap::new()), Lang::Zh);
        let mut switched = headers("en");
        switched.insert(axum::http::header::COOKIE, "a=b; vl_lang=zh-CN".parse().expect("header"));
        assert_eq!(Lang::for_console(&switched), Lang::Zh, "the remembered switch overrides Accept-Language");
    }

    #[test]
    fn redirects_stay_on_this_site() {
        assert!(super::guard::is_local_path("/bureau?x=1"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil", "/a\r\nSet-Cookie: x"] {
            assert!(!super::guard::is_local_path(bad), "{bad}");
        }
    }
}
