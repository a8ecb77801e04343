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

use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream::BoxStream;
use ledger_proto::ChainVerifier;
use projections::Projections;
use store::{EventLog, Head, StoreError, StoredRecord};
use tokio::sync::watch;

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::http::App;
use crate::server::{Access, OpenedStore, StartError, StoreSpec, metrics_handle, open_store};
use crate::writer::{Loaded, Shared};

/// First wait after following failed.
pub const BACKOFF_MIN: Duration = Duration::from_millis(200);
/// Longest wait between attempts while the store is unreachable.
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Why a replica stopped following the log: the first record that did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowHalt {
    /// The position of the record that did not verify.
    pub position: u64,
    /// Why it did not (a broken chain, or a record that does not decode).
    pub reason: String,
}

/// The log as a replica's (idle) writer task sees it: reads pass through, appends are refused.
struct RefusingLog(Arc<dyn EventLog>);

#[async_trait]
impl EventLog for RefusingLog {
    async fn head(&self) -> Result<Head, StoreError> {
        self.0.head().await
    }

    async fn append(&self, _expected: Head, _records: Vec<StoredRecord>) -> Result<Head, StoreError> {
        Err(StoreError::Unavailable(std::io::Error::other("a read-only replica does not append")))
    }

    async fn read_batch(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.0.read_batch(from, max).await
    }

    fn follow(&self, from: u64) -> BoxStream<'_, Result<StoredRecord, StoreError>> {
        self.0.follow(from)
    }
}

/// Opens `spec` read-only, loads it and starts following it.
///
/// # Errors
/// A file log (its read-only open is a snapshot), the store cannot be reached, the log is corrupt, or its chain does not verify.
pub async fn open(spec: &StoreSpec, auth: Authenticator, clock: Clock) -> Result<App, StartError> {
    if let StoreSpec::File(dir) = spec {
        // The file log opened read-only is a snapshot: a replica on it would never see new records.
        return Err(StartError::Store(StoreError::Unavailable(std::io::Error::other(format!(
            "a read-only replica follows a shared store (--store postgres://... or kurrentdb://...), not the \
             file log in {} (one process's)",
            dir.display()
        )))));
    }
    let OpenedStore { log, .. } = open_store(spec, Access::ReadOnly).await?;
    let loaded = Loaded::from_log(log.as_ref()).await?;
    let head = loaded.head;
    let projections = Arc::new(RwLock::new(loaded.projections));
    let (head_sender, head_receiver) = watch::channel(head);
    // The writer handle the HTTP layer needs: never reached (commands are refused before it), and it could
    // not append anyway.
    let (writer, _idle) =
        crate::writer::spawn(Arc::new(RefusingLog(log.clone())), Loaded::empty(), clock.clone());
    let follow_halted = Arc::new(OnceLock::new());
    tokio::spawn(follow(log.clone(), projections.clone(), head_sender, head, follow_halted.clone()));
    let (_never_closing, closing) = watch::channel(false);
    Ok(App {
        writer,
        shared: Shared { projections, head: head_receiver },
        auth: Arc::new(auth),
        clock,
        metrics: metrics_handle(),
        log,
        as_of: Arc::new(crate::replay::AsOfCache::configured()),
        closing,
        follow_halted,
    })
}

/// Follows the log after `head`, applying each whole command, until every receiver of the head is gone.
///
/// It reads [`EventLog::follow`] from its head; when that stream fails (or ends) it warns, waits a backoff
/// from [`BACKOFF_MIN`] doubling to [`BACKOFF_MAX`] (back to the minimum once records flow again, or after a
/// stream that lasted at least [`BACKOFF_MAX`]) and
/// follows again from its head, so the records of a command it had not completed are read again.
///
/// A record that does not verify ends it for good, with the reason set in `halted` (so `/readyz` turns 503).
async fn follow(
    log: Arc<dyn EventLog>,
    projections: Arc<RwLock<Projections>>,
    head_sender: watch::Sender<Head>,
    mut head: Head,
    halted: Arc<OnceLock<FollowHalt>>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let mut verifier = ChainVerifier::resume(head);
        let mut pending = Vec::new();
        let mut records = log.follow(head.position + 1);
        let started = Instant::now();
        let ended = loop {
            let next = tokio::select! {
                () = head_sender.closed() => return,
                next = records.next() => next,
            };
            let record = match next {
                Some(Ok(record)) => record,
                Some(Err(error)) => break error.to_string(),
                None => break "the store ended the stream".to_owned(),
            };
            backoff = BACKOFF_MIN;
            let decoded = verifier.check(&record).map_err(|e| e.to_string()).and_then(|envelope| {
                ledger_proto::decode_opened(&record, envelope).map_err(|e| e.to_string())
            });
            let recorded = match decoded {
                Ok(recorded) => recorded,
                Err(reason) => {
                    // Not trusted: stop here (the operator runs `verify`); the replica keeps serving what it has.
                    tracing::error!(position = record.position, %reason, "replica: the log does not verify; following stopped");
                    let _ = halted.set(FollowHalt { position: record.position, reason });
                    return;
                }
            };
            let ends_command = recorded.ends_command;
            pending.push(recorded);
            if ends_command {
                if let Ok(mut models) = projections.write() {
                    for recorded in pending.drain(..) {
                        models.apply(&recorded);
                    }
                }
                pending.clear();
                head = Head { position: record.position, hash: record.hash };
                head_sender.send_replace(head);
            }
        };
        drop(records);
        if started.elapsed() >= BACKOFF_MAX {
            // A stream that lived this long was a working subscription, not a failing retry.
            backoff = BACKOFF_MIN;
        }
        tracing::warn!(error = %ended, retry_in = ?backoff, head = head.position, "replica: following the log failed; serving what it has");
        tokio::select! {
            () = head_sender.closed() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
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
