//! Serving a ledger: the App wiring (the writer the engine started, the authenticator, the metrics) and the
//! listener. Opening the store and loading the log are the engine's ([`engine::open`]).

use std::path::Path;
use std::sync::Arc;

use engine::open::{StartError, Started, StoreSpec};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use store::Recovery;

use crate::auth::Authenticator;
use crate::http::{App, router};
use engine::clock::Clock;

// The store and migration items moved to the engine; these names keep the old paths working.

/// An opened ledger, ready to serve.
pub struct Ledger {
    pub app: App,
    pub recovery: Recovery,
}

/// Installs the Prometheus recorder once per process and returns its handle. The latency histograms have
/// buckets (`_bucket`, `_sum`, `_count`: Prometheus aggregates them across instances and `histogram_quantile`
/// reads their quantiles), see [`engine::metrics`].
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            use engine::metrics::{
                APPEND_BATCH_RECORDS, APPEND_SECONDS, AS_OF_REBUILD_SECONDS, BATCH_BUCKETS,
                HTTP_REQUEST_DURATION_SECONDS, LATENCY_BUCKETS,
            };
            use metrics_exporter_prometheus::Matcher;
            let latency = [APPEND_SECONDS, HTTP_REQUEST_DURATION_SECONDS, AS_OF_REBUILD_SECONDS];
            let builder = latency
                .into_iter()
                .try_fold(PrometheusBuilder::new(), |builder, name| {
                    builder.set_buckets_for_metric(Matcher::Full(name.to_owned()), LATENCY_BUCKETS)
                })
                .and_then(|builder| {
                    builder
                        .set_buckets_for_metric(Matcher::Full(APPEND_BATCH_RECORDS.to_owned()), BATCH_BUCKETS)
                });
            match builder.and_then(PrometheusBuilder::install_recorder) {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

/// Describes every metric, zeroes it, reads the sampled gauges once and keeps reading them every
/// [`engine::metrics::SAMPLE_INTERVAL`] until the writer stops, so that `/metrics` serves every series from
/// the start.
pub(crate) async fn start_metrics(spec: &StoreSpec, role: engine::metrics::Role, app: &App) {
    let Some(handle) = app.metrics.clone() else { return };
    let data_dir = match spec {
        StoreSpec::File(dir) => Some(dir.clone()),
        StoreSpec::Postgres(_) | StoreSpec::Kurrent(_) => None,
    };
    engine::metrics::describe(data_dir.is_some());
    let sampler = engine::metrics::Sampler::new(
        data_dir,
        role,
        Arc::downgrade(&app.log),
        app.shared.head.clone(),
        app.writer.stopped_watch(),
    );
    sampler.sample().await;
    tokio::spawn(async move {
        sampler.run(|| handle.run_upkeep()).await;
    });
}

/// Opens the embedded log in `data_dir`, loads it and starts the writer.
///
/// # Errors
/// See [`open`].
pub async fn open_embedded(data_dir: &Path, auth: Authenticator, clock: Clock) -> Result<Ledger, StartError> {
    open(&StoreSpec::File(data_dir.to_owned()), auth, clock).await
}

/// Opens the store `spec` names for writing, loads it and starts the writer.
///
/// # Errors
/// The store is locked by another process or cannot be reached, the log is corrupt, or its chain does not
/// verify.
pub async fn open(spec: &StoreSpec, auth: Authenticator, clock: Clock) -> Result<Ledger, StartError> {
    open_signed(spec, auth, clock, None, None).await
}

/// Like [`open`], signing checkpoints with `signer` (its algorithm decides the Merkle tree's hash, see
/// `engine::transparency`), and refusing a log whose last record was recorded after `records_not_after`
/// (a manual clock's start: [`engine::open::check_last_record`], on the store as it is opened, so the log is
/// read once).
///
/// # Errors
/// See [`open`]; [`StartError::Clock`].
pub async fn open_signed(
    spec: &StoreSpec,
    auth: Authenticator,
    clock: Clock,
    signer: Option<engine::transparency::Signer>,
    records_not_after: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Ledger, StartError> {
    let tree_hash = signer
        .as_ref()
        .map_or_else(tlog::TreeHash::default, |s| engine::transparency::tree_hash_for(s.key.algorithm()));
    let Started { log, recovery, writer, shared } =
        engine::open::start_writer_hashed(spec, clock.clone(), tree_hash, records_not_after).await?;
    if let Some(signer) = signer {
        // Cannot fail: the tree was hashed for this key's algorithm just now.
        if let Err(error) = shared.transparency.set_signer(signer) {
            tracing::error!(%error, "the signing key was not set");
        }
    }
    // Nothing closes until `serve` runs: it replaces this receiver with one its shutdown signal drives.
    let (_never_closing, closing) = tokio::sync::watch::channel(false);
    let app = App {
        writer,
        shared,
        auth: Arc::new(auth),
        clock,
        metrics: metrics_handle(),
        log,
        as_of: Arc::new(engine::replay::AsOfCache::configured()),
        closing,
        follow_halted: Arc::default(),
    };
    start_metrics(spec, engine::metrics::Role::Writer, &app).await;
    Ok(Ledger { app, recovery })
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes in-flight requests. Endless
/// responses (event feeds that follow the log) are told to end when `shutdown` resolves, so that graceful
/// shutdown does not wait for their clients.
///
/// # Errors
/// When the server fails, or at once when the writer task stops (crash-only: the caller exits non-zero).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, ServeOptions::default(), shutdown).await
}

/// How [`serve_with`] serves: the limits at the door, and the listener of `/metrics` when it has its own
/// address (`serve --metrics-listen`; the public port then answers 404 for `/metrics`).
#[derive(Debug, Default)]
pub struct ServeOptions {
    pub limits: crate::edge::EdgeLimits,
    pub metrics_listener: Option<tokio::net::TcpListener>,
}

/// Serves `app` on `listener` under `options` until `shutdown` resolves (see [`crate::edge`]).
///
/// # Errors
/// When the server fails.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    mut app: App,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::middleware::{from_fn, from_fn_with_state};

    let (closing_sender, closing) = tokio::sync::watch::channel(false);
    app.closing = closing;
    let shutdown = async move {
        shutdown.await;
        closing_sender.send_replace(true);
    };
    let limits = options.limits;
    let mut public = router(app.clone());
    let mut metrics_task = None;
    if let Some(metrics_listener) = options.metrics_listener {
        public = public.layer(from_fn(crate::edge::metrics_elsewhere));
        let metrics = axum::Router::new()
            .route("/metrics", axum::routing::get(crate::http::metrics_text))
            .with_state(app.clone());
        let mut closing = app.closing.clone();
        let metrics_limits = limits.clone();
        metrics_task = Some(tokio::spawn(async move {
            let closed = async move {
                let _ = closing.wait_for(|closing| *closing).await;
            };
            crate::edge::serve_connections(metrics_listener, metrics, &metrics_limits, closed).await
        }));
    }
    let public = public
        .layer(from_fn_with_state(limits.request_timeout, crate::edge::request_deadline))
        .layer(axum::Extension(Arc::new(crate::edge::ObjectionLimiter::new(&limits))));
    // Crash-only: if the writer task stops, no command can be recorded any more; rather than serve 503s
    // while the process looks alive, end with an error (the process exits non-zero, a supervisor restarts it
    // and the writer starts again from the log).
    let writer = app.writer.clone();
    let log = Arc::downgrade(&app.log);
    drop(app);
    tokio::select! {
        served = crate::edge::serve_connections(listener, public, &limits, shutdown) => served?,
        reason = writer.wait_stopped() => return Err(std::io::Error::other(format!(
            "{reason}; exiting so that a supervisor restarts the service"
        ))),
    }
    if let Some(metrics_task) = metrics_task {
        let _ = metrics_task.await;
    }
    close(&writer, &log).await;
    Ok(())
}

/// How long a clean stop waits for the last reader of the log (an as-of rebuild, say) to let it go.
const LOG_RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The clean stop, once no request is left: the writer answers what it was handed and releases the log,
/// then the log closes as its last holder drops it (the file log cuts the space it wrote ahead and syncs).
async fn close(writer: &engine::writer::WriterHandle, log: &std::sync::Weak<dyn store::EventLog>) {
    writer.close().await;
    let deadline = tokio::time::Instant::now() + LOG_RELEASE_WAIT;
    while log.strong_count() > 0 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("the log is still held by a reader; it closes when the process exits");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tracing::info!("the writer answered what it was handed and the log is closed: a clean stop");
}
