//! CSRF: every form carries a token in its `csrf` field; this middleware checks it on every POST before
//! any handler runs (the session's token when signed in; the visitor's `vl_csrf` cookie otherwise, which it
//! sets on the first answer to a visitor without one).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::console::cookies::{cookie, on_loopback, set_cookie};
use crate::console::i18n::Lang;
use crate::console::layout;
use crate::console::session::{AnonymousCsrf, CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE};
use crate::console::sessions::random_token;
use crate::console::state::Console;

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
        let bytes = match axum::body::to_bytes(body, crate::http::app::BODY_BYTES_MAX).await {
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
            return layout::refusal(lang, StatusCode::FORBIDDEN, lang.t("csrf.title"), lang.t("csrf.detail"));
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
