//! Cookies: reading a request's, writing `Set-Cookie` with the console's attributes (HttpOnly,
//! SameSite=Strict, Path=/, Secure unless the request came to a loopback host).

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_strict_and_secure_off_loopback_only() {
        let cookie = set_cookie("vl_session", "abc", Some(60), true);
        let text = cookie.to_str().unwrap_or_default();
        for attribute in ["vl_session=abc", "HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=60"] {
            assert!(text.contains(attribute), "{text}");
        }
        let mut headers = HeaderMap::new();
        for (host, loopback) in [
            ("127.0.0.1:8080", true),
            ("localhost:8080", true),
            ("[::1]:8080", true),
            ("ledger.example.gov.cn", false),
            ("10.0.0.5:8080", false),
            ("127.0.0.1.example.com", false),
        ] {
            headers.insert(header::HOST, HeaderValue::from_static(host));
            assert_eq!(on_loopback(&headers), loopback, "{host}");
        }
    }
}
