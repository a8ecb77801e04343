//! A read-only replica (`serve --read-only`): opens the store read-only (no writer lock, no repair), folds
//! the log like the writer does at start, then follows it: a task reads the records after its head, verifies
//! the chain from there, and applies each whole command to the read models before publishing the new head
//! (so the event feed, as-of queries and `/readyz` work as on the writer). Commands are refused with 405
//! `read_only_replica` (problem+json); the one writer process lives elsewhere.
//!
//! Following reads [`EventLog::follow`]: on KurrentDB a gRPC catch-up subscription to the ledger's stream,
//! on PostgreSQL the default catch-up read loop (`read_batch` until the head, then again every
//! [`store::FOLLOW_POLL_INTERVAL`]). When the stream fails (the store is unreachable, a record is out of
//! place) the replica warns, keeps serving what it has, and follows again from its head after a backoff from
//! [`BACKOFF_MIN`] to [`BACKOFF_MAX`]. `/readyz` is false meanwhile, as it probes the store on every call.
//!
//! A record that does not verify (the chain breaks, or it does not decode) stops following for good: the
//! task records why in [`App::follow_halted`] and `/readyz` answers 503 `log_not_verified` from then on, so
//! that a load balancer stops sending reads to a replica that will not move again; the reads still answer
//! from what it has.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::follow::Follower;
use tokio::sync::watch;

use crate::auth::Authenticator;
use crate::http::App;
use crate::server::metrics_handle;
use engine::clock::Clock;
use engine::open::{StartError, StoreSpec};

// The follower moved to the engine; these names keep the old paths working.

/// Opens `spec` read-only, loads it and starts following it ([`engine::follow::start`]).
///
/// # Errors
/// A file log (its read-only open is a snapshot), the store cannot be reached, the log is corrupt, or its chain does not verify.
pub async fn open(spec: &StoreSpec, auth: Authenticator, clock: Clock) -> Result<App, StartError> {
    let Follower { log, writer, shared, follow_halted } = engine::follow::start(spec, clock.clone()).await?;
    let (_never_closing, closing) = watch::channel(false);
    let app = App {
        writer,
        shared,
        auth: Arc::new(auth),
        clock,
        metrics: metrics_handle(),
        log,
        as_of: Arc::new(engine::replay::AsOfCache::configured()),
        closing,
        follow_halted,
    };
    crate::server::start_metrics(spec, engine::metrics::Role::Replica, &app).await;
    Ok(app)
}

/// Refuses every request that is not a read: 405 `read_only_replica`, problem+json.
async fn refuse_writes(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let body = serde_json::json!({
        "type": "/problems/read_only_replica",
        "title": "read-only replica",
        "status": 405,
        "code": "read_only_replica",
        "detail": "this server is a read-only replica that follows the log; send commands to the writer",
    });
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::CONTENT_TYPE, crate::error::PROBLEM_JSON), (header::ALLOW, "GET, HEAD")],
        body.to_string(),
    )
        .into_response()
}

/// Serves a replica's `app` on `listener` until `shutdown` resolves (like [`crate::server::serve_with`],
/// with the same limits at the door, and commands refused).
///
/// # Errors
/// When the server fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    mut app: App,
    limits: &crate::edge::EdgeLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing_sender, closing) = watch::channel(false);
    app.closing = closing;
    let shutdown = async move {
        shutdown.await;
        closing_sender.send_replace(true);
    };
    let router = crate::http::router(app)
        .layer(axum::middleware::from_fn(refuse_writes))
        .layer(axum::middleware::from_fn_with_state(limits.request_timeout, crate::edge::request_deadline));
    crate::edge::serve_connections(listener, router, limits, shutdown).await
}
