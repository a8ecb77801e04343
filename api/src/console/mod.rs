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
//! - `pages/`: one module per role (see `CONSOLE_API.md` at the repository's root... and `pages/mod.rs`).

pub mod act;
pub mod assets;
pub mod i18n;
pub mod layout;
pub mod list;
pub mod pages;
pub mod session;
pub mod svg;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::http::App;
use session::{Ctx, Sessions};

/// What every console handler shares: the API's state, the API's own router (the path every action and
/// CSV download goes through), and the sessions.
#[derive(Clone)]
pub struct Console {
    pub app: App,
    /// The API's router, called in-process with the session's token.
    pub api: Router,
    pub sessions: Arc<Sessions>,
}

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
        .layer(middleware::from_fn_with_state(console.clone(), session::csrf_cookie))
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
        session::set_cookie(i18n::LANG_COOKIE, lang.tag(), Some(365 * 86_400), ctx.secure),
    );
    response
}

/// A path on this site (`/...`, not `//host` or a scheme): where a redirect may go.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.contains(['\r', '\n'])
}

/// Why a role's page is not shown: no session (go and sign in) or another role (403).
#[derive(Clone, Copy, Debug)]
pub enum Refusal {
    SignIn,
    Forbidden(i18n::Lang),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn => Redirect::to("/signin").into_response(),
            Refusal::Forbidden(lang) => layout::refusal(
                lang,
                StatusCode::FORBIDDEN,
                lang.t("forbidden.title"),
                lang.t("forbidden.detail"),
            ),
        }
    }
}

/// The signed-in actor when its role is one of `roles`.
///
/// # Errors
/// [`Refusal::SignIn`] without a session, [`Refusal::Forbidden`] for another role.
pub fn require_role(ctx: &Ctx, roles: &[domain::Role]) -> Result<domain::Actor, Refusal> {
    match ctx.actor() {
        Some(actor) if roles.contains(&actor.role) => Ok(actor.clone()),
        Some(_) => Err(Refusal::Forbidden(ctx.lang)),
        None => Err(Refusal::SignIn),
    }
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
