//! The door of the service: the connection loop and its limits, and the per-address limit on objections.
//!
//! `axum::serve` reads request headers for as long as a client likes and accepts every connection, so a few
//! hundred half-sent requests hold the server's file descriptors. This loop serves HTTP/1 with hyper
//! directly: a header-read timeout closes a connection whose request head does not arrive in time, a
//! connection limit refuses (503 problem+json `too_many_connections`, then closed) every connection beyond
//! it at once, so the descriptors in use stay bounded and the backlog never fills, and a request timeout
//! answers 408 `request_timeout` when a handler (body read included) takes too long. The event feed's
//! stream is exempt from the request timeout (its body is streamed after the handler answered, and it ends
//! when its token expires). Each request carries its peer address (`ConnectInfo<SocketAddr>`), which the
//! objection route's limit reads.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::error::ApiError;

/// The default time a client has to send a request's head (request line and headers).
pub const HEADER_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// The default time a request may take from its head to its answer's head (body read included).
pub const REQUEST_TIMEOUT_DEFAULT: Duration = Duration::from_secs(60);
/// The default number of connections served at once; more are refused (503) until some close.
pub const CONNECTIONS_MAX_DEFAULT: usize = 512;
/// The default number of objections one client address may file per window.
pub const OBJECTIONS_PER_ADDRESS_DEFAULT: u32 = 20;
/// The default window of the objection limit.
pub const OBJECTION_WINDOW_DEFAULT: Duration = Duration::from_secs(3600);
/// How long a refused connection is given to take its 503 before it is closed anyway.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Addresses the objection limit remembers before it forgets the ones whose window has passed.
const LIMITER_ADDRESSES_PRUNE_AT: usize = 10_000;
/// The event feed's route: its stream is not cut by the request timeout.
const FEED_ROUTE: &str = "/v1/events";

/// The limits at the door; `serve --header-timeout-secs`, `--request-timeout-secs`, `--max-connections`,
/// `--objections-per-address`, `--objection-window-secs`, `--trusted-proxy`.
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub connections_max: usize,
    pub objections_per_address: u32,
    pub objection_window: Duration,
    /// Peers (reverse proxies) whose `X-Forwarded-For` is believed; empty: the socket's peer is the client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for EdgeLimits {
    fn default() -> EdgeLimits {
        EdgeLimits {
            header_timeout: HEADER_TIMEOUT_DEFAULT,
            request_timeout: REQUEST_TIMEOUT_DEFAULT,
            connections_max: CONNECTIONS_MAX_DEFAULT,
            objections_per_address: OBJECTIONS_PER_ADDRESS_DEFAULT,
            objection_window: OBJECTION_WINDOW_DEFAULT,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` resolves, then lets the connections finish
/// their requests (graceful shutdown) and returns.
///
/// # Errors
/// None in practice: accept errors (out of descriptors, a connection reset before it was accepted) are
/// logged and accepting resumes after a short pause.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: &EdgeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(axum::middleware::from_fn(close_when_body_unread));
    let permits = Arc::new(Semaphore::new(limits.connections_max.max(1)));
    let (closing_sender, closing) = watch::channel(false);
    // Every connection task holds a clone; when all are dropped after shutdown, every connection is done.
    let (done_sender, mut done) = mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed; pausing");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics::counter!("http_connections_refused_total").increment(1);
            tokio::spawn(refuse(stream));
            continue;
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on a connection");
        }
        let service = tower::ServiceExt::map_request(router.clone(), move |mut request: Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let service = TowerToHyperService::new(service);
        let mut closing = closing.clone();
        let done_sender = done_sender.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let _done = done_sender;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                }
                () = async { drop(closing.wait_for(|closing| *closing).await) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    closing_sender.send_replace(true);
    drop(done_sender);
    let _ = done.recv().await;
    Ok(())
}

/// Answers a connection beyond the limit with 503 `too_many_connections` and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = serde_json::json!({
        "type": "/problems/too_many_connections",
        "title": "Service Unavailable",
        "status": 503,
        "code": "too_many_connections",
        "detail": "the server is serving as many connections as it takes; retry shortly",
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {}\r\nretry-after: 1\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        crate::error::PROBLEM_JSON,
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Says `Connection: close` on every answer given before the request's body was read to its end (a body
/// refused for its size, a request refused before its body was looked at). hyper closes such a connection
/// after the answer rather than read what is left of the body, but it only says so when it knew before
/// the answer's head went out; a client that was not told reuses the connection for its next request and
/// sees it closed under that request. Told, it opens a new one.
async fn close_when_body_unread(request: Request, next: Next) -> Response {
    use axum::body::{Body, HttpBody};
    use std::sync::atomic::{AtomicBool, Ordering};

    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let ended = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| Body::new(WatchedBody { body, ended: ended.clone() }));
    let mut response = next.run(request).await;
    if !ended.load(Ordering::Acquire) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that notes when it has been read to its end.
struct WatchedBody {
    body: axum::body::Body,
    ended: Arc<std::sync::atomic::AtomicBool>,
}

impl axum::body::HttpBody for WatchedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, std::task::Poll::Ready(None)) || self.body.is_end_stream() {
            self.ended.store(true, std::sync::atomic::Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The request timeout (a middleware): 408 `request_timeout` when the handler has not answered in time. The
/// event feed is exempt.
pub async fn request_deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if request.uri().path() == FEED_ROUTE {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("http_requests_timed_out_total").increment(1);
            let detail = format!("the request was not answered within {} s", limit.as_secs_f64());
            let mut response =
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", detail).into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// `/metrics` when it is served on its own address (`serve --metrics-listen`): not on the public port.
pub async fn metrics_elsewhere(request: Request, next: Next) -> Response {
    if request.uri().path() == "/metrics" {
        return ApiError::not_found("not_found", "no such route").into_response();
    }
    next.run(request).await
}

/// The objection limit of a request (an extractor for the objection route): takes one objection from the
/// client's count, or answers 429 `too_many_objections` with `Retry-After`. Without a limiter (a router
/// not served by [`serve_connections`]) or a peer address, nothing is limited.
#[derive(Debug, Clone, Copy)]
pub struct ObjectionAllowed;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ObjectionAllowed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Response> {
        let limiter = parts.extensions.get::<Arc<ObjectionLimiter>>();
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        if let (Some(limiter), Some(ConnectInfo(peer))) = (limiter, peer) {
            let client = limiter.client(peer.ip(), &parts.headers);
            limiter.take(client, Instant::now()).map_err(too_many_objections)?;
        }
        Ok(ObjectionAllowed)
    }
}

/// A limit on how many objections one client address files per window (fixed windows per address).
#[derive(Debug)]
pub struct ObjectionLimiter {
    per_window: u32,
    window: Duration,
    trusted_proxies: Vec<IpAddr>,
    counts: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl ObjectionLimiter {
    /// A limiter taking `limits.objections_per_address` per `limits.objection_window`.
    pub fn new(limits: &EdgeLimits) -> ObjectionLimiter {
        ObjectionLimiter {
            per_window: limits.objections_per_address,
            window: limits.objection_window,
            trusted_proxies: limits.trusted_proxies.clone(),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// The client's address: the socket's peer, or, when the peer is a trusted proxy, the rightmost
    /// `X-Forwarded-For` entry that is not itself a trusted proxy (the one the proxies saw).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        forwarded.into_iter().rev().find(|address| !self.trusted_proxies.contains(address)).unwrap_or(peer)
    }

    /// Counts one objection from `client` at `now`.
    ///
    /// # Errors
    /// The time until the client's window ends, when it has used its objections.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() >= LIMITER_ADDRESSES_PRUNE_AT {
            let window = self.window;
            counts.retain(|_, (started, _)| now.saturating_duration_since(*started) < window);
        }
        let entry = counts.entry(client).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            return Err(self.window.saturating_sub(now.saturating_duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// 429 `too_many_objections` with `Retry-After` (whole seconds, at least 1).
pub fn too_many_objections(retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs().max(1);
    let detail = format!("this address has filed as many objections as it may for now; retry in {seconds} s");
    let mut response =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_objections", detail).into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_window: u32, trusted: &[&str]) -> ObjectionLimiter {
        ObjectionLimiter::new(&EdgeLimits {
            objections_per_address: per_window,
            objection_window: Duration::from_secs(60),
            trusted_proxies: trusted.iter().map(|a| a.parse().expect("address")).collect(),
            ..EdgeLimits::default()
        })
    }

    #[test]
    fn an_address_gets_its_objections_per_window_and_no_more() {
        let limiter = limiter(2, &[]);
        let start = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().expect("address");
        let b: IpAddr = "192.0.2.2".parse().expect("address");
        assert_eq!(limiter.take(a, start), Ok(()));
        assert_eq!(limiter.take(a, start), Ok(()));
        let later = start + Duration::from_secs(15);
        assert_eq!(limiter.take(a, later), Err(Duration::from_secs(45)));
        assert_eq!(limiter.take(b, later), Ok(()), "another address has its own count");
        assert_eq!(limiter.take(a, start + Duration::from_secs(60)), Ok(()), "a new window");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let limiter = limiter(1, &["10.0.0.1"]);
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 198.51.100.7, 10.0.0.1"));
        let proxy: IpAddr = "10.0.0.1".parse().expect("address");
        let stranger: IpAddr = "192.0.2.3".parse().expect("address");
        assert_eq!(limiter.client(proxy, &headers), "198.51.100.7".parse::<IpAddr>().expect("address"));
        assert_eq!(limiter.client(stranger, &headers), stranger);
    }
}
