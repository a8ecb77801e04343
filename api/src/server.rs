//! Opening a ledger and serving it: the store, the loaded state, the writer, the router, the listener.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use store::file::FileLog;
use store::{EventLog, Recovery};

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

/// Opens the embedded log in `data_dir`, loads it and starts the writer.
///
/// # Errors
/// The directory is locked by another process, the log is corrupt, or its chain does not verify.
pub async fn open_embedded(data_dir: &Path, auth: Authenticator, clock: Clock) -> Result<Ledger, StartError> {
    let (log, recovery) = FileLog::open(data_dir)?;
    if recovery.truncated_bytes > 0 {
        tracing::warn!(
            truncated_bytes = recovery.truncated_bytes,
            from_position = ?recovery.truncated_from_position,
            "a torn tail was cut from the log at open (an append that was never acknowledged)"
        );
    }
    let log: Arc<dyn EventLog> = Arc::new(log);
    let loaded = Loaded::from_log(log.as_ref()).await?;
    let (writer, shared) = writer::spawn(log, loaded, clock.clone());
    let app = App { writer, shared, auth: Arc::new(auth), clock, metrics: metrics_handle() };
    Ok(Ledger { app, recovery })
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes in-flight requests.
///
/// # Errors
/// When the server fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app)).with_graceful_shutdown(shutdown).await
}
