//! Opening a ledger and serving it: the store, the loaded state, the writer, the router, the listener.
//!
//! Every command that touches a ledger names its store with a [`StoreSpec`] (`--data DIR`, the default, or
//! `--store postgres://...`) and opens it with [`open_store`], the one place that knows the backends.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use store::file::FileLog;
use store::postgres::PgLog;
use store::{EventLog, Head, Recovery, StoreError, StoredRecord};

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::http::{App, router};
use crate::writer::{self, Loaded};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the log does not load: {0}")]
    Load(#[from] writer::LoadError),
    #[error("cannot listen on {address}: {source}")]
    Listen { address: SocketAddr, source: std::io::Error },
}

/// An opened ledger, ready to serve.
pub struct Ledger {
    pub app: App,
    pub recovery: Recovery,
}

/// Installs the Prometheus recorder once per process and returns its handle.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => Some(handle),
            Err(error) => {
                tracing::warn!(%error, "metrics recorder not installed");
                None
            }
        })
        .clone()
}

/// Where a ledger is kept: the embedded file log in a directory, or a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// The embedded file log in this directory (`--data DIR`).
    File(PathBuf),
    /// A PostgreSQL database: `postgres://user:password@host:port/dbname` (or `postgresql://`).
    Postgres(String),
    /// A KurrentDB (EventStoreDB) server: `kurrentdb://host:2113?tls=false&ledger=NAME` (also `esdb://`,
    /// `kurrent://`, `kdb://` and their `+discover` forms). Opening it needs the `kurrentdb` feature.
    Kurrent(String),
}

impl StoreSpec {
    /// Reads a store argument: a `postgres://` or `postgresql://` URL, `file:DIR`, or a directory.
    ///
    /// # Errors
    /// A URL of another scheme (the message names the scheme only, never the rest of the URL).
    pub fn parse(text: &str) -> Result<StoreSpec, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreSpec::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && KURRENT_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
        {
            return Ok(StoreSpec::Kurrent(text.to_owned()));
        }
        if let Some(path) = text.strip_prefix("file://").or_else(|| text.strip_prefix("file:")) {
            return Ok(StoreSpec::File(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "unknown store scheme {scheme:?}: use postgres://..., kurrentdb://... or a directory"
            ));
        }
        if text.is_empty() {
            return Err("empty store".into());
        }
        Ok(StoreSpec::File(PathBuf::from(text)))
    }

    /// The store for messages and logs, without a password.
    pub fn describe(&self) -> String {
        match self {
            StoreSpec::File(dir) => format!("file:{}", dir.display()),
            StoreSpec::Postgres(url) => store::postgres::describe_url(url),
            StoreSpec::Kurrent(url) => describe_kurrent_url(url),
        }
    }
}

impl FromStr for StoreSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        StoreSpec::parse(text)
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreSpec({})", self.describe())
    }
}

/// The URL schemes of a KurrentDB store (those the `kurrentdb` client accepts).
const KURRENT_SCHEMES: [&str; 8] = [
    "kurrentdb",
    "kurrentdb+discover",
    "kurrent",
    "kurrent+discover",
    "kdb",
    "kdb+discover",
    "esdb",
    "esdb+discover",
];

/// A KurrentDB URL without its user and password.
fn describe_kurrent_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |(_, hosts)| hosts))
        }
        None => "<invalid KurrentDB URL>".into(),
    }
}

#[cfg(feature = "kurrentdb")]
async fn open_kurrent(url: &str, access: Access) -> Result<OpenedStore, StoreError> {
    let log = match access {
        Access::Write => store::kurrent::KurrentLog::open(url).await?,
        Access::ReadOnly => store::kurrent::KurrentLog::open_read_only(url).await?,
    };
    Ok(OpenedStore { log: Arc::new(log), recovery: Recovery::default() })
}

#[cfg(not(feature = "kurrentdb"))]
async fn open_kurrent(url: &str, _access: Access) -> Result<OpenedStore, StoreError> {
    Err(StoreError::Unavailable(std::io::Error::other(format!(
        "{}: this build has no KurrentDB support; rebuild with `cargo build --features kurrentdb`",
        describe_kurrent_url(url)
    ))))
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The one writer process: takes the store's writer lock (`DIR/LOCK`, or PostgreSQL's advisory lock),
    /// repairs a torn tail (file) or applies pending schema migrations (PostgreSQL).
    Write,
    /// A reader beside a running writer (`verify`, the source of `migrate-store`): no lock, no repair.
    ReadOnly,
}

/// An opened store.
pub struct OpenedStore {
    pub log: Arc<dyn EventLog>,
    /// What opening the file log repaired (always empty for PostgreSQL and read-only opens).
    pub recovery: Recovery,
}

/// Opens the store `spec` names: the one function that knows the backends.
///
/// # Errors
/// `Locked` when another writer holds the store (for `Write`), `Corrupt` for damage the file log cannot
/// repair, `Unavailable` when the directory or server cannot be reached.
pub async fn open_store(spec: &StoreSpec, access: Access) -> Result<OpenedStore, StoreError> {
    match (spec, access) {
        (StoreSpec::File(dir), Access::Write) => {
            let dir = dir.clone();
            let (log, recovery) = tokio::task::spawn_blocking(move || FileLog::open(&dir))
                .await
                .map_err(|e| StoreError::Unavailable(std::io::Error::other(e)))??;
            if recovery.truncated_bytes > 0 {
                tracing::warn!(
                    truncated_bytes = recovery.truncated_bytes,
                    from_position = ?recovery.truncated_from_position,
                    quarantine = ?recovery.quarantine.as_ref().map(|q| q.path.display().to_string()),
                    "a torn tail (an interrupted append) was moved to quarantine and cut from the log at open"
                );
            }
            Ok(OpenedStore { log: Arc::new(log), recovery })
        }
        (StoreSpec::File(dir), Access::ReadOnly) => {
            let dir = dir.clone();
            let log = tokio::task::spawn_blocking(move || FileLog::open_read_only(&dir))
                .await
                .map_err(|e| StoreError::Unavailable(std::io::Error::other(e)))??;
            Ok(OpenedStore { log: Arc::new(log), recovery: Recovery::default() })
        }
        (StoreSpec::Postgres(url), Access::Write) => {
            Ok(OpenedStore { log: Arc::new(PgLog::open(url).await?), recovery: Recovery::default() })
        }
        (StoreSpec::Postgres(url), Access::ReadOnly) => Ok(OpenedStore {
            log: Arc::new(PgLog::open_read_only(url).await?),
            recovery: Recovery::default(),
        }),
        (StoreSpec::Kurrent(url), access) => open_kurrent(url, access).await,
    }
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
    let OpenedStore { log, recovery } = open_store(spec, Access::Write).await?;
    let loaded = Loaded::from_log(log.as_ref()).await?;
    let (writer, shared) = writer::spawn(log.clone(), loaded, clock.clone());
    // Nothing closes until `serve` runs: it replaces this receiver with one its shutdown signal drives.
    let (_never_closing, closing) = tokio::sync::watch::channel(false);
    let app = App {
        writer,
        shared,
        auth: Arc::new(auth),
        clock,
        metrics: metrics_handle(),
        log,
        as_of: Arc::new(crate::replay::AsOfCache::configured()),
        closing,
        follow_halted: Arc::default(),
    };
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
    if let Some(metrics_listener) = options.metrics_listener {
        public = public.layer(from_fn(crate::edge::metrics_elsewhere));
        let metrics = axum::Router::new()
            .route("/metrics", axum::routing::get(crate::http::metrics_text))
            .with_state(app.clone());
        let mut closing = app.closing.clone();
        let metrics_limits = limits.clone();
        tokio::spawn(async move {
            let closed = async move {
                let _ = closing.wait_for(|closing| *closing).await;
            };
            crate::edge::serve_connections(metrics_listener, metrics, &metrics_limits, closed).await
        });
    }
    let public = public
        .layer(from_fn_with_state(limits.request_timeout, crate::edge::request_deadline))
        .layer(axum::Extension(Arc::new(crate::edge::ObjectionLimiter::new(&limits))));
    // Crash-only: if the writer task stops, no command can be recorded any more; rather than serve 503s
    // while the process looks alive, end with an error (the process exits non-zero, a supervisor restarts it
    // and the writer starts again from the log).
    let writer = app.writer.clone();
    tokio::select! {
        served = crate::edge::serve_connections(listener, public, &limits, shutdown) => served,
        reason = writer.wait_stopped() => Err(std::io::Error::other(format!(
            "{reason}; exiting so that a supervisor restarts the service"
        ))),
    }
}

/// What `migrate-store` copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Records copied (the source's head position).
    pub records: u64,
    /// Appends (transactions) the copy took.
    pub appends: u64,
    /// The head of the copy, verified equal to the source's.
    pub head: Head,
}

/// Why `migrate-store` refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the source {store} does not verify, nothing was copied: {verdict}")]
    SourceBroken { store: String, verdict: String },
    #[error(
        "the target {store} is not empty (its head is at position {position}): migrate-store only fills an empty store"
    )]
    TargetNotEmpty { store: String, position: u64 },
    #[error("the copy in {store} does not verify: {verdict}")]
    CopyBroken { store: String, verdict: String },
}

/// Records per append while copying (cut at the next command boundary).
const MIGRATE_BATCH_RECORDS: usize = 4096;

/// Copies the ledger in `from` into the empty store `to`, record for record (the same bytes and hashes), then
/// verifies the copy: chain, decoding, invariants, and the same head as the source.
///
/// The source is verified first and only what was verified is copied (a writer may keep appending to it
/// meanwhile). The target is opened for writing, so it holds the writer lock throughout; a copy that fails
/// half way leaves a prefix of the ledger that ends on a command boundary, and a rerun refuses it as not
/// empty.
///
/// # Errors
/// See [`MigrateError`].
pub async fn migrate_store(from: &StoreSpec, to: &StoreSpec) -> Result<MigrationReport, MigrateError> {
    use futures::StreamExt;

    let source = open_store(from, Access::ReadOnly).await?.log;
    let (records, head) = match crate::verify::verify_log(source.as_ref()).await? {
        crate::verify::Verdict::Intact { records, head_position, head_hash } => {
            (records, Head { position: head_position, hash: head_hash })
        }
        verdict => {
            return Err(MigrateError::SourceBroken { store: from.describe(), verdict: verdict.to_string() });
        }
    };
    let target = open_store(to, Access::Write).await?.log;
    let target_head = target.head().await?;
    if target_head != Head::GENESIS {
        return Err(MigrateError::TargetNotEmpty { store: to.describe(), position: target_head.position });
    }

    let mut expected = Head::GENESIS;
    let mut appends = 0u64;
    let mut batch: Vec<StoredRecord> = Vec::with_capacity(MIGRATE_BATCH_RECORDS);
    let mut stream = source.read_from(1);
    while expected.position + (batch.len() as u64) < head.position {
        let Some(record) = stream.next().await else { break };
        let record = record?;
        let flush = record.ends_command && batch.len() + 1 >= MIGRATE_BATCH_RECORDS;
        batch.push(record);
        if flush || expected.position + (batch.len() as u64) == head.position {
            expected = target.append(expected, std::mem::take(&mut batch)).await?;
            appends += 1;
        }
    }
    drop(stream);
    if expected != head {
        return Err(MigrateError::CopyBroken {
            store: to.describe(),
            verdict: format!("copied up to {expected:?} but the verified source head is {head:?}"),
        });
    }
    match crate::verify::verify_log(target.as_ref()).await? {
        crate::verify::Verdict::Intact { records: copied, head_position, head_hash }
            if copied == records && head_position == head.position && head_hash == head.hash => {}
        verdict => {
            return Err(MigrateError::CopyBroken { store: to.describe(), verdict: verdict.to_string() });
        }
    }
    Ok(MigrationReport { records, appends, head })
}
