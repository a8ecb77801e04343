//! The state every request handler shares: what `server` and `replica` build and each resource's handlers
//! read. Its own module so that the resources import it without importing the module that routes them.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::Authenticator;
use engine::clock::Clock;
use engine::writer::{Shared, WriterHandle};

/// The largest request body accepted.
pub const BODY_BYTES_MAX: usize = 256 * 1024;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct App {
    pub writer: WriterHandle,
    pub shared: Shared,
    pub auth: Arc<Authenticator>,
    pub clock: Clock,
    pub metrics: Option<PrometheusHandle>,
    /// The log, read (never written) by as-of rebuilds and the event feed.
    pub log: Arc<dyn store::EventLog>,
    /// Past states of the read models that as-of queries rebuilt.
    pub as_of: Arc<engine::replay::AsOfCache>,
    /// Becomes true when the server starts shutting down, so that endless responses (the event feed) end
    /// and graceful shutdown can finish.
    pub closing: tokio::sync::watch::Receiver<bool>,
    /// Set once by a read-only replica's follower when a record does not verify and it stops following:
    /// `/readyz` answers 503 `log_not_verified` from then on. Never set on the writer.
    pub follow_halted: Arc<std::sync::OnceLock<engine::follow::FollowHalt>>,
}
