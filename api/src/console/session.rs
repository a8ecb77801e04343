//! Sign-in that fits a deployment: a token from the operator's identity system (what `voucher-ledger token`
//! mints, the JWT the API accepts) is exchanged once for a session cookie; every form carries a CSRF token,
//! checked on every POST; sign-out forgets the session; a session ends when its token expires.
//!
//! Sessions are kept in memory (a restart signs everyone out: they sign in again with a token). The cookie
//! holds only a random session id: the token stays on the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use cookie::{Cookie, SameSite};
use domain::Actor;

use super::Console;
use super::i18n::Lang;

/// The cookie of a signed-in session (a random id).
pub const SESSION_COOKIE: &str = "vl_session";
/// The cookie of the CSRF token of a visitor who is not signed in (the public's objection form, the
/// sign-in form): a random value the form must repeat.
pub const CSRF_COOKIE: &str = "vl_csrf";
/// The name of the CSRF field of every form.
pub const CSRF_FIELD: &str = "csrf";
/// The most sessions kept at once; beyond it the oldest expiring is dropped.
pub const SESSIONS_MAX: usize = 10_000;

/// A signed-in session.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who is signed in (the token's actor).
    pub actor: Actor,
    /// The token, handed to the API on the session's behalf (never sent back to the browser).
    pub token: String,
    /// When the token (and so the session) expires, Unix seconds.
    pub expires: i64,
    /// The session's CSRF token.
    pub csrf: String,
}

/// The sessions of one server.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for a verified token; returns its id.
    pub fn start(&self, actor: Actor, token: String, expires: i64, now: i64) -> String {
        let id = random_token();
        let session = Session { actor, token, expires, csrf: random_token() };
        let mut sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, session| session.expires > now);
        if sessions.len() >= SESSIONS_MAX
            && let Some(oldest) =
                sessions.iter().min_by_key(|(_, session)| session.expires).map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id.clone(), session);
        id
    }

    /// The live session `id` names (an expired one is forgotten and not answered).
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let mut sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        match sessions.get(id) {
            Some(session) if session.expires > now => Some(session.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    /// Forgets session `id` (sign-out).
    pub fn end(&self, id: &str) {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }
}

/// 32 random bytes, base64url without padding.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// Whether the request came to a loopback host (`localhost`, `127.0.0.1`, `[::1]`): only there are cookies
/// sent without `Secure` (a browser on the same machine over plain HTTP, as `serve --dev` is).
pub fn on_loopback(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure unless on loopback; `max_age` seconds
/// (`None`: a cookie of the browser session; `Some(0)`: delete it).
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure);
    if let Some(seconds) = max_age {
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds.max(0)));
    }
    HeaderValue::from_str(&cookie.build().to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// What every console page reads from its request: the language, the session (if signed in), the CSRF token
/// its forms carry, and whether cookies are `Secure`.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub lang: Lang,
    pub session: Option<Session>,
    /// The session's id (its cookie), when signed in.
    pub session_id: Option<String>,
    /// The CSRF token every form of this page carries in its `csrf` field.
    pub csrf: String,
    /// Cookies get `Secure` (the request did not come to a loopback host).
    pub secure: bool,
    /// The request's path and query (to come back to after switching the language).
    pub here: String,
    /// The query string's pairs.
    pub query: HashMap<String, String>,
    /// What the API needs of the request to decide as it would for a direct call: the peer address (the
    /// per-address objection limit) and the limiter.
    pub(crate) forwarded: axum::http::Extensions,
    /// The language for the API's problem titles (the console's language).
    pub headers: HeaderMap,
}

impl Ctx {
    /// The signed-in actor, if any.
    pub fn actor(&self) -> Option<&Actor> {
        self.session.as_ref().map(|session| &session.actor)
    }

    /// The catalogue's string `key` in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// This context as if the request had been `GET back` (a page shown again after a refused action: its
    /// links and forms point where the form came from).
    pub fn at(&self, back: &str) -> Ctx {
        let mut ctx = self.clone();
        ctx.here = back.to_owned();
        ctx.query = back
            .split_once('?')
            .map(|(_, query)| form_urlencoded::parse(query.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        ctx
    }

    /// A query parameter, when present and not empty.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }
}

/// The CSRF token of a visitor who is not signed in, set by [`csrf_cookie`] on the request it was missing
/// from.
#[derive(Clone, Debug)]
struct AnonymousCsrf(String);

impl FromRequestParts<Console> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Self::Rejection> {
        let now = chrono::Utc::now().timestamp();
        let session_id = cookie(&parts.headers, SESSION_COOKIE);
        let session = session_id.as_deref().and_then(|id| console.sessions.get(id, now));
        let session_id = session.as_ref().and(session_id);
        let anonymous = parts.extensions.get::<AnonymousCsrf>().map(|csrf| csrf.0.clone());
        let csrf = match &session {
            Some(session) => session.csrf.clone(),
            None => anonymous.or_else(|| cookie(&parts.headers, CSRF_COOKIE)).unwrap_or_default(),
        };
        let query = parts
            .uri
            .query()
            .map(|query| form_urlencoded::parse(query.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let mut forwarded = axum::http::Extensions::new();
        if let Some(peer) = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>() {
            forwarded.insert(*peer);
        }
        if let Some(limiter) = parts.extensions.get::<Arc<crate::edge::ObjectionLimiter>>() {
            forwarded.insert(limiter.clone());
        }
        Ok(Ctx {
            lang: Lang::for_console(&parts.headers),
            session,
            session_id,
            csrf,
            secure: !on_loopback(&parts.headers),
            here: parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
            query,
            forwarded,
            headers: parts.headers.clone(),
        })
    }
}

/// Gives a visitor without a CSRF cookie one (the forms of a page served without a session carry it), and
/// checks the CSRF field of every POST: the session's token when signed in, the visitor's cookie otherwise.
/// A POST without the right token is answered 403 and reaches no handler, so nothing is recorded.
pub async fn csrf_cookie(State(console): State<Console>, mut request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let anonymous = cookie(&headers, CSRF_COOKIE);
    if request.method() == Method::POST {
        let now = chrono::Utc::now().timestamp();
        let session = cookie(&headers, SESSION_COOKIE).and_then(|id| console.sessions.get(&id, now));
        let expected = match &session {
            Some(session) => Some(session.csrf.clone()),
            None => anonymous.clone(),
        };
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, crate::http::BODY_BYTES_MAX).await {
            Ok(bytes) => bytes,
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        };
        let sent = form_urlencoded::parse(&bytes)
            .find(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value.into_owned());
        let matches = match (expected, sent) {
            (Some(expected), Some(sent)) if !expected.is_empty() => {
                subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), sent.as_bytes()).into()
            }
            _ => false,
        };
        if !matches {
            let lang = Lang::for_console(&headers);
            return super::layout::refusal(
                lang,
                StatusCode::FORBIDDEN,
                lang.t("csrf.title"),
                lang.t("csrf.detail"),
            );
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    let fresh = if anonymous.is_none() { Some(random_token()) } else { None };
    if let Some(token) = &fresh {
        request.extensions_mut().insert(AnonymousCsrf(token.clone()));
    }
    let mut response = next.run(request).await;
    if let Some(token) = fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(CSRF_COOKIE, &token, None, !on_loopback(&headers)));
    }
    response
}
