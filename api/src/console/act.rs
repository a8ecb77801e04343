//! Actions and downloads go through the API's own routes, called in-process with the session's token: the
//! same body parsing, rules, stable codes, idempotency and log records as a direct API call. A refusal comes
//! back as the API's problem document, its title already in the page's language.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tower::ServiceExt;

use crate::console::layout::Shown;
use crate::console::session::Ctx;
use crate::console::state::Console;

/// The largest API answer the console reads back (a CSV download is streamed, not read).
const ANSWER_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Calls the API route `method path` as the session (or the public, without one), in the page's language.
pub async fn call(
    console: &Console,
    ctx: &Ctx,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Response {
    call_with(console, ctx, method, path, body, None, "application/json").await
}

async fn call_with(
    console: &Console,
    ctx: &Ctx,
    method: Method,
    path: &str,
    body: Option<&Value>,
    idempotency_key: Option<&str>,
    accept: &str,
) -> Response {
    let body = body.map(|body| serde_json::to_vec(body).unwrap_or_default()).unwrap_or_default();
    let mut request = Request::builder().method(method).uri(path);
    if let Some(session) = &ctx.session {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", session.token));
    }
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    request = request
        .header(header::ACCEPT, accept)
        .header(header::ACCEPT_LANGUAGE, ctx.lang.tag())
        .header(header::CONTENT_TYPE, "application/json");
    let Ok(mut request) = request.body(Body::from(body)) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    request.extensions_mut().extend(ctx.forwarded.clone());
    match console.api.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Submits a command: `POST path` with `body` as JSON, with the form's idempotency key. The accepted
/// command's answer, or the refusal to show.
///
/// # Errors
/// The API's problem (its status, code, localised title and detail).
pub async fn command(
    console: &Console,
    ctx: &Ctx,
    path: &str,
    body: &Value,
    idempotency_key: Option<&str>,
) -> Result<Value, Shown> {
    let key = idempotency_key.filter(|key| !key.is_empty());
    let response = call_with(console, ctx, Method::POST, path, Some(body), key, "application/json").await;
    read_answer(ctx, response).await
}

/// Reads a JSON answer of the API (a query).
///
/// # Errors
/// The API's problem.
pub async fn query(console: &Console, ctx: &Ctx, path: &str) -> Result<Value, Shown> {
    let response = call(console, ctx, Method::GET, path, None).await;
    read_answer(ctx, response).await
}

async fn read_answer(ctx: &Ctx, response: Response) -> Result<Value, Shown> {
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), ANSWER_BYTES_MAX).await.unwrap_or_default();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    let text = |name: &str| value.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let code = text("code");
    let title = if code.is_empty() { ctx.t("problem.internal").to_owned() } else { text("title") };
    Err(Shown { status, code, title, detail: text("detail") })
}

/// The API's CSV of a query (`path` without `format`), streamed to the browser as a download named `name`.
pub async fn csv_download(console: &Console, ctx: &Ctx, path: &str, name: &str) -> Response {
    let mut response = call_with(console, ctx, Method::GET, path, None, None, "text/csv").await;
    if response.status().is_success() {
        let disposition = format!("attachment; filename=\"{name}.csv\"");
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}
