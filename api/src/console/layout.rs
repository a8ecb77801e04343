//! The page around every console page: `<head>` with the embedded stylesheet and script (files, never inline:
//! the Content-Security-Policy allows no inline script or style), the header with the role's navigation,
//! the language switch and sign-out, and the notice or refusal of the last action.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Role;
use maud::{DOCTYPE, Markup, html};

use crate::console::assets;
use crate::console::i18n::{CATALOGUE, Lang};
use crate::console::session::{CSRF_FIELD, Ctx};

/// A problem the API answered to an action (its stable code, localised title and detail), shown on the
/// page in `#problem`.
#[derive(Clone, Debug)]
pub struct Shown {
    pub status: StatusCode,
    pub code: String,
    pub title: String,
    pub detail: String,
}

/// A whole page: `title` (a catalogue string already looked up) and the `main` content.
pub fn page(ctx: &Ctx, title: &str, main: Markup) -> Markup {
    page_with(ctx.lang, title, nav(ctx), main)
}

fn page_with(lang: Lang, title: &str, nav: Markup, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t("app.name")) }
                link rel="stylesheet" href=(assets::CSS_PATH);
                script src=(assets::JS_PATH) defer {}
            }
            body {
                a.skip href="#main" { (lang.t("nav.skip")) }
                header.top {
                    a.brand href="/" data-testid="brand" { (lang.t("app.name")) }
                    (nav)
                }
                main #main tabindex="-1" {
                    h1 data-testid="page-title" { (title) }
                    (main)
                }
                footer {
                    p { (lang.t("footer.note")) }
                }
            }
        }
    }
}

/// The role's links, the language switch, and sign-in or sign-out.
fn nav(ctx: &Ctx) -> Markup {
    let lang = ctx.lang;
    let links = ctx.actor().map(|actor| links(actor.role)).unwrap_or_default();
    let other = match lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    };
    html! {
        nav aria-label=(lang.t("nav.label")) {
            ul {
                li { a href="/" { (lang.t("nav.public")) } }
                @for (href, key) in links {
                    li { a href=(href) { (lang.t(key)) } }
                }
            }
        }
        div.tools {
            form.inline method="get" action="/lang" id="lang-switch" data-testid="lang-switch" {
                input type="hidden" name="back" value=(ctx.here);
                button type="submit" name="to" value=(other.tag()) lang=(other.tag()) data-testid="lang-switch-button" {
                    (other_label(other))
                }
            }
            @if let Some(actor) = ctx.actor() {
                span.who data-testid="signed-in-as" {
                    (lang.t(&format!("role.{}", actor.role.as_str()))) " · " (actor.subject)
                }
                form.inline method="post" action="/signout" id="signout" {
                    (csrf_field(ctx))
                    button type="submit" data-testid="signout" { (lang.t("nav.signout")) }
                }
            } @else {
                a href="/signin" data-testid="signin-link" { (lang.t("nav.signin")) }
            }
        }
    }
}

fn other_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "中文",
        Lang::En => "English",
    }
}

/// The pages of a role, in its navigation: (path, catalogue key). A role's first page is where sign-in
/// leads. Pages of roles added later are listed here too.
pub fn links(role: Role) -> Vec<(&'static str, &'static str)> {
    match role {
        Role::Bureau => vec![
            ("/bureau", "nav.bureau.dashboard"),
            ("/bureau/queues", "nav.bureau.queues"),
            ("/bureau/providers", "nav.bureau.providers"),
            ("/bureau/batches", "nav.bureau.batches"),
            ("/bureau/enforcement", "nav.bureau.enforcement"),
        ],
        Role::ServiceCenter => {
            vec![
                ("/service-center", "nav.service_center.applicants"),
                ("/service-center/contracts", "nav.service_center.contracts"),
            ]
        }
        Role::Reviewer => vec![("/reviewer", "nav.reviewer.redemptions")],
        Role::Auditor => vec![("/auditor", "nav.auditor.home")],
        Role::Enterprise | Role::ProjectEntity => vec![("/applicant", "nav.applicant.home")],
        Role::Provider => vec![("/provider", "nav.provider.home")],
        Role::Finance | Role::Public | Role::System | Role::Operator => vec![],
    }
}

/// Where a role lands after signing in.
pub fn home(role: Role) -> &'static str {
    links(role).first().map_or("/", |(href, _)| href)
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(ctx.csrf); }
}

/// The hidden idempotency key of an action's form: submitting the same form twice records the action once
/// (the API's `Idempotency-Key`).
pub fn idempotency_field() -> Markup {
    html! { input type="hidden" name="idempotency_key" value=(uuid::Uuid::now_v7().to_string()); }
}

/// The hidden field naming the page a form goes back to (this page, without `done`).
pub fn back_field(ctx: &Ctx) -> Markup {
    let back = with_done(&ctx.here);
    let back = back.trim_end_matches("done=1").trim_end_matches(['&', '?']);
    html! { input type="hidden" name="back" value=(back); }
}

/// The notice of a done action (`?done=1` after the redirect) or the refusal of one: the problem's
/// localised title, then what the rule is and what to do next in the page's language (the catalogue's
/// `hint.<code>`; none for a code without one), then the API's detail (the specifics, in English) under a
/// localised label.
pub fn outcome(ctx: &Ctx, refused: Option<&Shown>) -> Markup {
    html! {
        @if let Some(problem) = refused {
            div.problem role="alert" id="problem" data-testid="problem" data-code=(problem.code) {
                strong data-testid="problem-title" { (problem.title) }
                @if let Some(hint) = hint(ctx.lang, &problem.code) {
                    p.hint data-testid="problem-hint" { (hint) }
                }
                (detail(ctx.lang, &problem.detail))
            }
        } @else if ctx.param("done").is_some() {
            div.notice role="status" id="notice" data-testid="notice" { (ctx.t("notice.done")) }
        }
    }
}

/// The catalogue's guidance for a problem code in `lang` (`hint.<code>`), if it has one.
pub fn hint(lang: Lang, code: &str) -> Option<&'static str> {
    CATALOGUE.get(lang, &format!("hint.{code}"))
}

/// The API's detail of a problem, smaller, after a localised label.
fn detail(lang: Lang, detail: &str) -> Markup {
    html! {
        p.detail {
            span.label { (lang.t("label.problem_detail")) (label_colon(lang)) }
            span data-testid="problem-detail" { (detail) }
        }
    }
}

/// The colon after a label: full width in Chinese.
fn label_colon(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "：",
        Lang::En => ": ",
    }
}

/// An HTML answer with `status`.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], markup.into_string()).into_response()
}

/// A refusal page with no navigation (a forged form, a page the role may not see).
pub fn refusal(lang: Lang, status: StatusCode, title: &str, detail: &str) -> Response {
    let main = html! {
        div.problem role="alert" id="problem" data-testid="problem" {
            p data-testid="problem-detail" { (detail) }
        }
        p { a href="/" { (lang.t("nav.public")) } }
    };
    respond(status, page_with(lang, title, html! {}, main))
}

/// `back` with `done=1` in its query (and no other `done`).
pub fn with_done(back: &str) -> String {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.as_bytes()).into_owned().filter(|(name, _)| name != "done").collect();
    pairs.push(("done".into(), "1".into()));
    format!("{path}?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
}
