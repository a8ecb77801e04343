//! What a console page reads of its request ([`Ctx`]). Sign-in that fits a deployment: a token from the operator's identity system (what `voucher-ledger token`
//! mints, the JWT the API accepts) is exchanged once for a session cookie; every form carries a CSRF token,
//! checked on every POST; sign-out forgets the session; a session ends when its token expires.
//!
//! Sessions are kept in memory (a restart signs everyone out: they sign in again with a token). The cookie
//! holds only a random session id: the token stays on the server.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use domain::Actor;

use crate::console::cookies::{cookie, on_loopback};
use crate::console::i18n::Lang;
use crate::console::sessions::Session;
use crate::console::state::Console;

/// The cookie of a signed-in session (a random id).
pub const SESSION_COOKIE: &str = "vl_session";
/// The cookie of the CSRF token of a visitor who is not signed in (the public's objection form, the
/// sign-in form): a random value the form must repeat.
pub const CSRF_COOKIE: &str = "vl_csrf";
/// The name of the CSRF field of every form.
pub const CSRF_FIELD: &str = "csrf";

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
pub(crate) struct AnonymousCsrf(pub(crate) String);

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
